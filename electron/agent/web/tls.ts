import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { KeyObject, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import { isIP } from 'node:net';
import os from 'node:os';
import { ErrorCode, SkybridgeError } from '../../../shared/errors.js';
import { certificateInfo, publicKeyMatches, writeSecretFile } from '../pki.js';
import { uiPaths } from './ui-paths.js';

export interface UiCertificate {
  certPem: string;
  keyPem: string;
  /** SHA-256 of the DER as browsers show it: upper-case hex pairs joined by colons. */
  fingerprint: string;
  notAfter: string;
  /** Host names and addresses the certificate is valid for. */
  names: string[];
  /** The certificate file, for `curl --cacert` and for people who want to trust it. */
  certFile: string;
  /** True when this start made a new self-signed certificate (its fingerprint changed). */
  generated: boolean;
  /** True for the certificate the agent made itself; false for --ui-cert/--ui-key. */
  selfSigned: boolean;
}

export interface UiCertificateOptions {
  dataDir: string;
  /** The address the UI listens on; named in the self-signed certificate unless it is a wildcard. */
  host: string;
  certFile?: string;
  keyFile?: string;
  now?: () => number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** Browsers refuse server certificates valid for longer than 398 days. */
const VALIDITY_DAYS = 397;
const RENEW_BEFORE_DAYS = 30;
const CLOCK_SKEW_MS = 5 * 60 * 1000;
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];

export function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

export function colonFingerprint(hexLower: string): string {
  return hexLower.toUpperCase().match(/../g)!.join(':');
}

/** The names a self-signed certificate for this listen address should carry. */
export function namesFor(host: string): string[] {
  const names = new Set(LOOPBACK_NAMES);
  if (isWildcard(host)) names.add(os.hostname().toLowerCase());
  else names.add(canonical(host));
  return [...names];
}

function canonical(name: string): string {
  if (isIP(name) === 6) return new URL(`http://[${name}]`).hostname.replace(/^\[|\]$/g, '');
  return name.toLowerCase();
}

function sanNames(cert: X509Certificate): string[] {
  // Node spells them "DNS:a, IP Address:1.2.3.4"; IPv6 comes out expanded, so canonicalise.
  return (cert.subjectAltName ?? '')
    .split(/,\s*/)
    .map((entry) => /^(?:DNS|IP Address):(.+)$/.exec(entry)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(canonical);
}

function describe(certPem: string, keyPem: string, certFile: string, generated: boolean, selfSigned: boolean): UiCertificate {
  const info = certificateInfo(certPem);
  return { certPem, keyPem, fingerprint: colonFingerprint(info.fingerprint), notAfter: info.notAfter, names: sanNames(new X509Certificate(certPem)), certFile, generated, selfSigned };
}

function usable(certPem: string, keyPem: string, names: string[], now: number): boolean {
  try {
    const cert = new X509Certificate(certPem);
    if (Date.parse(cert.validTo) - now < RENEW_BEFORE_DAYS * DAY_MS) return false;
    const covered = new Set(sanNames(cert));
    return names.every((n) => covered.has(canonical(n))) && publicKeyMatches(certPem, keyPem);
  } catch {
    return false;
  }
}

async function selfSigned(names: string[], now: number): Promise<{ certPem: string; keyPem: string }> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256' } as const;
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString('hex'),
    name: [{ CN: [`Skybridge connector UI (${os.hostname().slice(0, 40)})`] }],
    notBefore: new Date(now - CLOCK_SKEW_MS),
    notAfter: new Date(now + VALIDITY_DAYS * DAY_MS),
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names.map((n) => (isIP(n) ? { type: 'ip', value: n } : { type: 'dns', value: n }))),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: `${cert.toString('pem')}\n`, keyPem: KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/**
 * The UI's TLS certificate. An operator's own pair (--ui-cert/--ui-key) is used as given
 * after checking that key and certificate belong together. Otherwise the agent makes a
 * self-signed one on first start and keeps it in <dataDir>/ui/, so the fingerprint a person
 * compared in the browser stays the same across restarts; it is remade only when it nears
 * expiry or does not name the address the UI listens on.
 */
export async function loadUiCertificate(opts: UiCertificateOptions): Promise<UiCertificate> {
  if (opts.certFile || opts.keyFile) {
    if (!opts.certFile || !opts.keyFile) throw new SkybridgeError(ErrorCode.InvalidInput, 'Give both --ui-cert and --ui-key, or neither (the agent then makes a self-signed certificate).');
    const read = (file: string, what: string) => {
      try {
        return fs.readFileSync(file, 'utf8');
      } catch (err) {
        throw new SkybridgeError(ErrorCode.InvalidInput, `Cannot read the UI ${what} ${file}: ${(err as Error).message}.`);
      }
    };
    const certPem = read(opts.certFile, 'certificate');
    const keyPem = read(opts.keyFile, 'key');
    try {
      new X509Certificate(certPem);
    } catch {
      throw new SkybridgeError(ErrorCode.CertificateInvalid, `${opts.certFile} is not a PEM certificate.`);
    }
    if (!publicKeyMatches(certPem, keyPem)) throw new SkybridgeError(ErrorCode.CertificateInvalid, `${opts.keyFile} is not the private key of ${opts.certFile}.`);
    return describe(certPem, keyPem, opts.certFile, false, false);
  }
  const paths = uiPaths(opts.dataDir);
  const now = (opts.now ?? Date.now)();
  const names = namesFor(opts.host);
  let certPem: string | undefined;
  let keyPem: string | undefined;
  try {
    certPem = fs.readFileSync(paths.cert, 'utf8');
    keyPem = fs.readFileSync(paths.key, 'utf8');
  } catch {
    // first start, or half a pair: make a new one
  }
  if (certPem && keyPem && usable(certPem, keyPem, names, now)) return describe(certPem, keyPem, paths.cert, false, true);
  const made = await selfSigned(names, now);
  // Key first: a crash in between leaves a key without its certificate, which the next start replaces.
  await writeSecretFile(paths.key, made.keyPem);
  await writeSecretFile(paths.cert, made.certPem);
  fs.chmodSync(paths.cert, 0o644);
  return describe(made.certPem, made.keyPem, paths.cert, true, true);
}
