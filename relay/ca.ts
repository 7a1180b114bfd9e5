import 'reflect-metadata';
import { publicKeyMatches } from '../common/key-match.js';
import * as x509 from '@peculiar/x509';
import { createHash, createPrivateKey, createPublicKey, KeyObject, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { ErrorCode, SkybridgeError } from '../shared/errors.js';

x509.cryptoProvider.set(webcrypto);

type CryptoKey = webcrypto.CryptoKey;

export interface RelayCa {
  certPem: string;
  keyPem: string;
  /** SHA-256 of the certificate's DER, lowercase hex: what pairing codes pin. */
  fingerprint: string;
  signer: CryptoKey;
  cert: x509.X509Certificate;
}

export interface ConnectorIdentity {
  connectorId: string;
  tenantId: string;
  location: string;
}

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;
const CA_VALIDITY_DAYS = 3650;
/** Browsers refuse server certificates valid for longer than 398 days. */
const SERVER_VALIDITY_DAYS = 397;
const SERVER_RENEW_BEFORE_DAYS = 30;
/** Connectors' clocks may run behind the relay's. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;
const URN_CONNECTOR = 'urn:skybridge:connector:';
const URN_TENANT = 'urn:skybridge:tenant:';
const URN_LOCATION = 'urn:skybridge:location:';

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/** Temp file plus rename, so a crash never leaves half a key behind. */
async function writeAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, data, { mode, flag: 'wx' });
  await rename(tmp, path);
}

async function privateDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 });
  await chmod(path, 0o700);
}

function randomSerial(): string {
  const bytes = randomBytes(16);
  // Keep it positive and exactly 16 bytes long in DER (RFC 5280 §4.1.2.2).
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return bytes.toString('hex');
}

function exportKeyPem(key: CryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }).toString();
}

async function importSigner(keyPem: string): Promise<CryptoKey> {
  const der = createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'der' });
  return webcrypto.subtle.importKey('pkcs8', der, EC_P256, false, ['sign']);
}

function toDer(pemOrDer: string | Uint8Array): Buffer {
  return new X509Certificate(typeof pemOrDer === 'string' ? pemOrDer : Buffer.from(pemOrDer)).raw;
}

/** SHA-256 of the certificate's DER encoding, lowercase hex. */
export function certFingerprint(pemOrDer: string | Uint8Array): string {
  return createHash('sha256').update(toDer(pemOrDer)).digest('hex');
}

async function createCaFiles(dir: string): Promise<void> {
  const keys = await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [`Skybridge Relay CA ${randomBytes(4).toString('hex')}`] }],
    notBefore: new Date(now - CLOCK_SKEW_MS),
    notAfter: new Date(now + CA_VALIDITY_DAYS * DAY_MS),
    keys,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      // Path length 0: the CA signs end-entity certificates only.
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  await writeFile(join(dir, 'ca.key'), exportKeyPem(keys.privateKey), { mode: 0o600, flag: 'wx' });
  await writeFile(join(dir, 'ca.pem'), cert.toString('pem') + '\n', { mode: 0o644, flag: 'wx' });
}

/**
 * Creates the relay's CA on first use, and loads it afterwards. The relay and
 * the CLI may both get here first, so the pair is built in a scratch directory
 * and renamed into place: whoever renames second keeps the winner's CA.
 */
export async function ensureRelayCa(dataDir: string): Promise<RelayCa> {
  const dir = join(dataDir, 'ca');
  const certPath = join(dir, 'ca.pem');
  const keyPath = join(dir, 'ca.key');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (!(await exists(certPath))) {
    if (await exists(keyPath)) {
      // Never silently replace a trust anchor that connectors may have pinned.
      throw new SkybridgeError(ErrorCode.ConfigInvalid, `${keyPath} exists but ${certPath} is missing; restore the certificate, or remove both to create a new CA.`);
    }
    const scratch = await mkdtemp(join(dataDir, '.ca-'));
    try {
      await chmod(scratch, 0o700);
      await createCaFiles(scratch);
      // rename(2) replaces an empty directory but fails on a populated one.
      await rename(scratch, dir).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOTEMPTY' && e.code !== 'EEXIST') throw e;
      });
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }
  await chmod(dir, 0o700);
  await chmod(keyPath, 0o600);
  const certPem = await readFile(certPath, 'utf8');
  const keyPem = await readFile(keyPath, 'utf8');
  if (!publicKeyMatches(certPem, keyPem)) {
    throw new SkybridgeError(ErrorCode.ConfigInvalid, `${keyPath} does not belong to ${certPath}; restore the matching pair.`);
  }
  const cert = new x509.X509Certificate(certPem);
  return { certPem, keyPem, fingerprint: certFingerprint(certPem), signer: await importSigner(keyPem), cert };
}

function sanOf(name: string): x509.JsonGeneralName {
  return isIP(name) ? { type: 'ip', value: name } : { type: 'dns', value: name.toLowerCase() };
}

/** One spelling per name, so `::1` and `0:0:0:0:0:0:0:1` compare equal. */
function canonicalName(name: string): string {
  if (isIP(name) === 6) return new URL(`http://[${name}]`).hostname;
  return name.toLowerCase();
}

function serverCertUsable(certPem: string, ca: RelayCa, names: string[], now: number): boolean {
  try {
    const node = new X509Certificate(certPem);
    const caNode = new X509Certificate(ca.certPem);
    if (!node.checkIssued(caNode) || !node.verify(caNode.publicKey)) return false;
    if (Date.parse(node.validTo) - now < SERVER_RENEW_BEFORE_DAYS * DAY_MS) return false;
    const san = new x509.X509Certificate(certPem).getExtension(x509.SubjectAlternativeNameExtension);
    const covered = new Set((san?.names.items ?? []).map((n) => canonicalName(n.value)));
    return names.every((n) => covered.has(canonicalName(n)));
  } catch {
    return false;
  }
}

/**
 * The relay's TLS certificate, issued by its own CA. Reissued when missing,
 * when it does not name every address the relay is reached by, when the CA
 * changed, or within 30 days of expiry.
 */
export async function ensureServerCertificate(dataDir: string, ca: RelayCa, names: string[]): Promise<{ certPem: string; keyPem: string }> {
  if (names.length === 0) throw new SkybridgeError(ErrorCode.InvalidInput, 'The relay needs at least one host name or address for its TLS certificate.');
  const dir = join(dataDir, 'tls');
  const certPath = join(dir, 'server.pem');
  const keyPath = join(dir, 'server.key');
  await privateDir(dir);
  if ((await exists(certPath)) && (await exists(keyPath))) {
    const certPem = await readFile(certPath, 'utf8');
    const keyPem = await readFile(keyPath, 'utf8');
    if (serverCertUsable(certPem, ca, names, Date.now()) && publicKeyMatches(certPem, keyPem)) return { certPem, keyPem };
  }
  const keys = await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
  const now = Date.now();
  const firstDns = names.find((n) => !isIP(n));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [{ CN: [firstDns ?? names[0]!] }],
    issuer: ca.cert.subjectName,
    notBefore: new Date(now - CLOCK_SKEW_MS),
    notAfter: new Date(now + SERVER_VALIDITY_DAYS * DAY_MS),
    publicKey: keys.publicKey,
    signingKey: ca.signer,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names.map(sanOf)),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
    ],
  });
  const certPem = cert.toString('pem') + '\n';
  const keyPem = exportKeyPem(keys.privateKey);
  await writeAtomic(keyPath, keyPem, 0o600);
  await writeAtomic(certPath, certPem, 0o644);
  return { certPem, keyPem };
}


/** Parses a CSR and checks its signature and key strength; the relay signs nothing weaker. */
export async function inspectCsr(csrPem: string): Promise<x509.Pkcs10CertificateRequest> {
  const invalid = (why: string) => new SkybridgeError(ErrorCode.CertificateInvalid, `The certificate request ${why}.`);
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch {
    throw invalid('is not a PEM-encoded PKCS#10 request');
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' });
  } catch {
    throw invalid('carries a public key this relay cannot read');
  }
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec') {
    if (details.namedCurve !== 'prime256v1' && details.namedCurve !== 'secp384r1') {
      throw invalid(`uses the elliptic curve ${details.namedCurve ?? 'unknown'}; use P-256 or P-384`);
    }
  } else if (key.asymmetricKeyType === 'rsa') {
    if ((details.modulusLength ?? 0) < 2048) throw invalid(`uses a ${details.modulusLength ?? 'short'}-bit RSA key; use at least 2048 bits`);
  } else {
    throw invalid(`uses a ${key.asymmetricKeyType ?? 'unknown'} key; use EC P-256, P-384 or RSA of at least 2048 bits`);
  }
  let signed: boolean;
  try {
    signed = await csr.verify();
  } catch {
    signed = false;
  }
  if (!signed) throw invalid('is not signed by the key it carries');
  return csr;
}

/**
 * Issues a connector's client certificate. The CSR's subject is ignored: who
 * the connector is comes from the pairing code, written into URI SANs.
 */
export async function signConnectorCsr(
  ca: RelayCa,
  csrPem: string,
  opts: { connectorId: string; tenantId: string; location: string; validityDays?: number },
): Promise<{ certPem: string; serial: string; fingerprint: string; notAfter: string }> {
  const csr = await inspectCsr(csrPem);
  const now = Date.now();
  const validityMs = (opts.validityDays ?? 90) * DAY_MS;
  const notAfter = new Date(now + validityMs);
  // Back-date for clock skew, but never by more than a tenth of the validity: the connector renews at two
  // thirds of notBefore..notAfter, which must stay in the future for short-lived certificates.
  const notBefore = new Date(now - Math.min(CLOCK_SKEW_MS, validityMs / 10));
  const serial = randomSerial();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial,
    subject: [{ CN: [opts.connectorId] }, { O: ['Skybridge connector'] }],
    issuer: ca.cert.subjectName,
    notBefore,
    notAfter,
    publicKey: csr.publicKey,
    signingKey: ca.signer,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'url', value: URN_CONNECTOR + opts.connectorId },
        { type: 'url', value: URN_TENANT + opts.tenantId },
        { type: 'url', value: URN_LOCATION + encodeURIComponent(opts.location) },
      ]),
      await x509.SubjectKeyIdentifierExtension.create(csr.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
    ],
  });
  const certPem = cert.toString('pem') + '\n';
  return { certPem, serial, fingerprint: certFingerprint(certPem), notAfter: cert.notAfter.toISOString() };
}

/** Reads who a connector certificate was issued to; undefined when it is not one of ours. Does not check the signature. */
export function parseConnectorIdentity(pemOrDer: string | Uint8Array): ConnectorIdentity | undefined {
  try {
    const cert = new x509.X509Certificate(typeof pemOrDer === 'string' ? pemOrDer : toDer(pemOrDer));
    const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
    const uris = (san?.names.items ?? []).filter((n) => n.type === 'url').map((n) => n.value);
    const pick = (prefix: string) => {
      const found = uris.filter((u) => u.startsWith(prefix));
      return found.length === 1 ? found[0]!.slice(prefix.length) : undefined;
    };
    const connectorId = pick(URN_CONNECTOR);
    const tenantId = pick(URN_TENANT);
    const location = pick(URN_LOCATION);
    if (!connectorId || !tenantId || location === undefined) return undefined;
    return { connectorId, tenantId, location: decodeURIComponent(location) };
  } catch {
    return undefined;
  }
}

