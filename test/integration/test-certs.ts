/** Certificates made with openssl for the TLS tests: a root CA and certificates it issues. */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

function runOpenssl(args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile('openssl', args, { cwd, timeout: 20_000 }, (err, _stdout, stderr) =>
      err ? reject(new Error(`openssl ${args[0]} failed: ${String(stderr).trim() || err.message}`)) : resolve(),
    ),
  );
}

export interface TestCert {
  /** The certificate alone (PEM file). */
  certFile: string;
  keyFile: string;
  /** The certificate followed by its issuer when that is an intermediate (PEM file); else the certificate alone. */
  chainFile: string;
  pem: string;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** A self-signed root CA in `dir` as `<name>.pem` / `<name>.key`. */
export async function makeRootCa(dir: string, name: string, cn = `Skybridge test ${name}`): Promise<TestCert> {
  const certFile = path.join(dir, `${name}.pem`);
  const keyFile = path.join(dir, `${name}.key`);
  await runOpenssl(
    ['req', '-x509', ...EC_KEY, '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=${cn}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  );
  return { certFile, keyFile, chainFile: certFile, pem: await readFile(certFile, 'utf8') };
}

/**
 * A certificate signed by `issuer`: a server certificate with the given SANs
 * (e.g. `IP:127.0.0.1`, `DNS:other.example`), or an intermediate CA with `ca: true`.
 */
export async function issueCert(
  dir: string,
  name: string,
  issuer: TestCert,
  opts: { san?: string[]; ca?: boolean; cn?: string } = {},
): Promise<TestCert> {
  const certFile = path.join(dir, `${name}.pem`);
  const keyFile = path.join(dir, `${name}.key`);
  const csrFile = path.join(dir, `${name}.csr`);
  const extFile = path.join(dir, `${name}.ext`);
  const ext = opts.ca
    ? ['basicConstraints=critical,CA:TRUE,pathlen:0', 'keyUsage=critical,keyCertSign,cRLSign']
    : ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth', `subjectAltName=${(opts.san ?? []).join(',')}`];
  await writeFile(extFile, ext.join('\n') + '\n');
  await runOpenssl(['req', '-new', ...EC_KEY, '-keyout', keyFile, '-out', csrFile, '-subj', `/CN=${opts.cn ?? name}`], dir);
  await runOpenssl(
    ['x509', '-req', '-in', csrFile, '-CA', issuer.certFile, '-CAkey', issuer.keyFile, '-set_serial', `0x${randomBytes(8).toString('hex')}`,
      '-days', '2', '-sha256', '-extfile', extFile, '-out', certFile],
    dir,
  );
  const pem = await readFile(certFile, 'utf8');
  let chainFile = certFile;
  if (!(await isSelfSigned(issuer.pem))) {
    // Issued by an intermediate: servers must send it along, as operators do with a real chain.
    chainFile = path.join(dir, `${name}-chain.pem`);
    await writeFile(chainFile, pem + issuer.pem);
  }
  return { certFile, keyFile, chainFile, pem };
}

async function isSelfSigned(pem: string): Promise<boolean> {
  const { X509Certificate } = await import('node:crypto');
  const x = new X509Certificate(pem);
  return x.checkIssued(x);
}
