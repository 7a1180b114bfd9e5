/**
 * Which files under `<dataDir>/subaccounts/<id>/` are secret, and how an encrypted one is
 * recognised. Kept free of heavy imports because the desktop shell reads it too: before it
 * would make a new data-protection key, it checks that no file is encrypted with an old one.
 */
import fs from 'node:fs';
import path from 'node:path';

export const KEY_FILE = 'key.pem';
/** Suffix of a renewed key or certificate written beside the live one before it is swapped in. */
export const NEXT_SUFFIX = '.next';
export const PROXY_PASSWORD_FILE = 'proxy-password';

/** The files that hold secrets; certificates and the pinned CA are public. */
export const SECRET_FILES: readonly string[] = [KEY_FILE, KEY_FILE + NEXT_SUFFIX, PROXY_PASSWORD_FILE];

/** Start of a text secret encrypted with AES-256-GCM under the data-protection key. */
export const SEALED_PREFIX = 'skybridge-sealed:v1:';
const ENCRYPTED_PEM = '-----BEGIN ENCRYPTED PRIVATE KEY-----';

export function subaccountsRoot(dataDir: string): string {
  return path.join(dataDir, 'subaccounts');
}

export function isEncryptedKeyPem(text: string): boolean {
  return text.trimStart().startsWith(ENCRYPTED_PEM);
}

export function isSealed(text: string): boolean {
  return text.startsWith(SEALED_PREFIX);
}

/** Encrypted in one of the two forms, whichever the file uses. */
export function isEncryptedSecret(text: string): boolean {
  return isEncryptedKeyPem(text) || isSealed(text);
}

export interface SecretFile {
  subaccountId: string;
  name: string;
  path: string;
}

/** Every secret file present, subaccount by subaccount. A missing data dir has none. */
export function listSecretFiles(dataDir: string): SecretFile[] {
  const root = subaccountsRoot(dataDir);
  let ids: string[];
  try {
    ids = fs.readdirSync(root).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const found: SecretFile[] = [];
  for (const id of ids) {
    for (const name of SECRET_FILES) {
      const file = path.join(root, id, name);
      if (fs.existsSync(file)) found.push({ subaccountId: id, name, path: file });
    }
  }
  return found;
}

/**
 * Subaccounts with at least one encrypted secret on disk. Throws when the folder cannot be
 * read, so a caller deciding whether an old key still matters never takes "unreadable" for "none".
 */
export function subaccountsWithEncryptedSecrets(dataDir: string): string[] {
  const ids = new Set<string>();
  for (const f of listSecretFiles(dataDir)) {
    // The markers are in the first bytes; a whole key file is under a kilobyte anyway.
    if (isEncryptedSecret(fs.readFileSync(f.path, 'utf8'))) ids.add(f.subaccountId);
  }
  return [...ids];
}
