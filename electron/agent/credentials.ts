import fs from 'node:fs';
import path from 'node:path';
import type { TunnelCredentials } from './tunnel-client.js';
import { publicKeyMatches, writeSecretFile } from './pki.js';

/**
 * Where a subaccount's key material lives: `<dataDir>/subaccounts/<id>/`,
 * directory 0700, files 0600. The config file never holds any of it.
 */
export function credentialsDir(dataDir: string, subaccountId: string): string {
  return path.join(dataDir, 'subaccounts', subaccountId);
}

export const KEY_FILE = 'key.pem';
export const CERT_FILE = 'cert.pem';
/** The relay's TLS trust anchor pinned at pairing. */
export const TRUST_FILE = 'ca.pem';

/** Suffix of a renewed key and certificate written next to the live ones before they are swapped in. */
const NEXT = '.next';

export function readCredentials(dataDir: string, subaccountId: string): TunnelCredentials {
  const dir = credentialsDir(dataDir, subaccountId);
  finishSwap(dir);
  return {
    keyPem: fs.readFileSync(path.join(dir, KEY_FILE), 'utf8'),
    certPem: fs.readFileSync(path.join(dir, CERT_FILE), 'utf8'),
    trustAnchorPem: fs.readFileSync(path.join(dir, TRUST_FILE), 'utf8'),
  };
}

export async function writeCredentials(dataDir: string, subaccountId: string, creds: TunnelCredentials): Promise<void> {
  const dir = credentialsDir(dataDir, subaccountId);
  // Certificates are not secret, but one mode for the whole folder keeps it simple to audit.
  await writeSecretFile(path.join(dir, KEY_FILE), creds.keyPem);
  await writeSecretFile(path.join(dir, CERT_FILE), creds.certPem);
  await writeSecretFile(path.join(dir, TRUST_FILE), creds.trustAnchorPem);
}

/**
 * Swaps in a renewed key and certificate. Both are written beside the live
 * files first; the certificate is renamed into place, then the key. A crash in
 * between leaves `key.pem.next` matching `cert.pem`, which finishSwap completes
 * on the next read, so the pair on disk always belongs together.
 */
export async function swapInRenewed(dataDir: string, subaccountId: string, keyPem: string, certPem: string): Promise<void> {
  const dir = credentialsDir(dataDir, subaccountId);
  await writeSecretFile(path.join(dir, KEY_FILE + NEXT), keyPem);
  await writeSecretFile(path.join(dir, CERT_FILE + NEXT), certPem);
  fs.renameSync(path.join(dir, CERT_FILE + NEXT), path.join(dir, CERT_FILE));
  fs.renameSync(path.join(dir, KEY_FILE + NEXT), path.join(dir, KEY_FILE));
}

function finishSwap(dir: string): void {
  const nextKey = path.join(dir, KEY_FILE + NEXT);
  if (!fs.existsSync(nextKey)) return;
  const nextCert = path.join(dir, CERT_FILE + NEXT);
  if (fs.existsSync(nextCert)) {
    // Crashed before the certificate moved: the live pair is still consistent; drop the half-written renewal.
    fs.rmSync(nextCert, { force: true });
    fs.rmSync(nextKey, { force: true });
    return;
  }
  if (publicKeyMatches(fs.readFileSync(path.join(dir, CERT_FILE), 'utf8'), fs.readFileSync(nextKey, 'utf8'))) {
    fs.renameSync(nextKey, path.join(dir, KEY_FILE));
  } else {
    fs.rmSync(nextKey, { force: true });
  }
}
