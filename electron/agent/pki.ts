import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createHash, KeyObject, randomBytes, webcrypto } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsyncDirSync } from '../../common/durable-fs.js';

x509.cryptoProvider.set(webcrypto);

export interface CertificateInfo {
  notBefore: string;
  notAfter: string;
  /** SHA-256 of the DER, lowercase hex. */
  fingerprint: string;
  subject: string;
}

/**
 * A fresh P-256 key and a CSR for it. The key never leaves this machine; the
 * relay ignores the CSR's subject, so the common name is only a hint for people.
 */
export async function generateKeyAndCsr(commonName: string): Promise<{ keyPem: string; csrPem: string }> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [commonName.slice(0, 64) || 'skybridge-connector'] }],
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
  });
  const keyPem = KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString();
  return { keyPem, csrPem: csr.toString('pem') + '\n' };
}

/**
 * Writes a private key or similar: readable by the owner only, and replaced in
 * one step so a crash leaves either the old file or the new one. Callers pass
 * what goes to disk: data-protection.ts encrypts first where there is a key.
 */
export async function writeSecretFile(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (e) {
    await handle.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await handle.close();
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  // The rename itself must survive a power cut too, or a key just encrypted could come back in clear.
  fsyncDirSync(dirname(path));
}

export function certificateInfo(pem: string): CertificateInfo {
  const cert = new x509.X509Certificate(pem);
  return {
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    fingerprint: createHash('sha256').update(new Uint8Array(cert.rawData)).digest('hex'),
    subject: cert.subject,
  };
}

export { publicKeyMatches } from '../../common/key-match.js';
