import fs from 'node:fs';
import path from 'node:path';
import type { TunnelCredentials } from './tunnel-client.js';
import { describeSecret, openPrivateKey, protectionOf, sealPrivateKey, type Protection } from './data-protection.js';
import { publicKeyMatches, writeSecretFile } from './pki.js';
import { KEY_FILE, NEXT_SUFFIX, subaccountsRoot } from './secret-format.js';

export { KEY_FILE } from './secret-format.js';

/**
 * Where a subaccount's key material lives: `<dataDir>/subaccounts/<id>/`,
 * directory 0700, files 0600. The config file never holds any of it. In the
 * desktop app the private key is also encrypted under the data-protection key
 * (data-protection.ts).
 */
export function credentialsDir(dataDir: string, subaccountId: string): string {
  return path.join(subaccountsRoot(dataDir), subaccountId);
}

export const CERT_FILE = 'cert.pem';
/** The relay's TLS trust anchor pinned at pairing. */
export const TRUST_FILE = 'ca.pem';

function keyName(subaccountId: string): string {
  return describeSecret(subaccountId, KEY_FILE);
}

/**
 * The subaccount's key, certificate and pinned CA. The key is decrypted only when it is
 * used, so readers after the certificate alone (expiry, diagnostics, renewal planning)
 * still work where the key is locked; the one that needs the key gets the reason.
 */
export function readCredentials(dataDir: string, subaccountId: string): TunnelCredentials {
  const dir = credentialsDir(dataDir, subaccountId);
  const protection = protectionOf(dataDir);
  finishSwap(dir, protection, subaccountId);
  const storedKey = fs.readFileSync(path.join(dir, KEY_FILE), 'utf8');
  const certPem = fs.readFileSync(path.join(dir, CERT_FILE), 'utf8');
  const trustAnchorPem = fs.readFileSync(path.join(dir, TRUST_FILE), 'utf8');
  let keyPem: string | undefined;
  return {
    get keyPem() {
      keyPem ??= openPrivateKey(storedKey, protection, keyName(subaccountId));
      return keyPem;
    },
    certPem,
    trustAnchorPem,
  };
}

export async function writeCredentials(dataDir: string, subaccountId: string, creds: TunnelCredentials): Promise<void> {
  const dir = credentialsDir(dataDir, subaccountId);
  // Certificates are not secret, but one mode for the whole folder keeps it simple to audit.
  await writeSecretFile(path.join(dir, KEY_FILE), sealPrivateKey(creds.keyPem, protectionOf(dataDir)));
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
  await writeSecretFile(path.join(dir, KEY_FILE + NEXT_SUFFIX), sealPrivateKey(keyPem, protectionOf(dataDir)));
  await writeSecretFile(path.join(dir, CERT_FILE + NEXT_SUFFIX), certPem);
  fs.renameSync(path.join(dir, CERT_FILE + NEXT_SUFFIX), path.join(dir, CERT_FILE));
  fs.renameSync(path.join(dir, KEY_FILE + NEXT_SUFFIX), path.join(dir, KEY_FILE));
}

function finishSwap(dir: string, protection: Protection, subaccountId: string): void {
  const nextKey = path.join(dir, KEY_FILE + NEXT_SUFFIX);
  if (!fs.existsSync(nextKey)) return;
  const nextCert = path.join(dir, CERT_FILE + NEXT_SUFFIX);
  if (fs.existsSync(nextCert)) {
    // Crashed before the certificate moved: the live pair is still consistent; drop the half-written renewal.
    fs.rmSync(nextCert, { force: true });
    fs.rmSync(nextKey, { force: true });
    return;
  }
  let nextKeyPem: string;
  try {
    nextKeyPem = openPrivateKey(fs.readFileSync(nextKey, 'utf8'), protection, keyName(subaccountId));
  } catch {
    // Locked: whether it belongs to cert.pem cannot be told now, so it is kept for a process that has the key.
    return;
  }
  if (publicKeyMatches(fs.readFileSync(path.join(dir, CERT_FILE), 'utf8'), nextKeyPem)) {
    fs.renameSync(nextKey, path.join(dir, KEY_FILE));
  } else {
    fs.rmSync(nextKey, { force: true });
  }
}
