import fs from 'node:fs';
import path from 'node:path';
import type { TunnelCredentials } from './tunnel-client.js';
import { writeSecretFile } from './pki.js';

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

export function readCredentials(dataDir: string, subaccountId: string): TunnelCredentials {
  const dir = credentialsDir(dataDir, subaccountId);
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
