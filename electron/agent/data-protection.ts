/**
 * Encryption at rest of the agent's secrets (private keys, proxy passwords) under a
 * data-protection key that only the desktop shell can unlock from the OS key store
 * (safeStorage) and hands over its message port at start.
 *
 * Without that key (a headless agent from the CLI, or a shell with no usable key store)
 * secrets are written as they always were: owner-only (0600) files, like ssh keys. A file
 * encrypted earlier stays encrypted and is refused with a sentence saying why, never
 * overwritten.
 *
 * The key is kept per data dir in this module rather than passed through every reader:
 * one agent process serves one data dir, and every key or password read (tunnel, renewal,
 * audit heads, diagnostics, CLI) already goes through credentials.ts or outbound.ts.
 */
import { createCipheriv, createDecipheriv, createPrivateKey, hkdfSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ErrorCode, SkybridgeError } from '../../shared/errors.js';
import { writeSecretFile } from './pki.js';
import { isEncryptedKeyPem, isSealed, listSecretFiles, PROXY_PASSWORD_FILE, SEALED_PREFIX, subaccountsWithEncryptedSecrets } from './secret-format.js';

export const DATA_KEY_BYTES = 32;

/** Why a process has no key: it runs headless, the OS offers no key store, or the stored key cannot be decrypted. */
export type NoKeyReason = 'headless' | 'no-key-store' | 'key-unreadable';
export type Protection = { kind: 'key'; key: Buffer } | { kind: 'none'; reason: NoKeyReason };

const HEADLESS: Protection = Object.freeze({ kind: 'none', reason: 'headless' });
const byDataDir = new Map<string, Protection>();

export function setProtection(dataDir: string, protection: Protection): void {
  if (protection.kind === 'key' && protection.key.length !== DATA_KEY_BYTES) {
    throw new SkybridgeError(ErrorCode.InvalidInput, `the data-protection key must be ${DATA_KEY_BYTES} bytes`);
  }
  byDataDir.set(path.resolve(dataDir), protection);
}

export function protectionOf(dataDir: string): Protection {
  return byDataDir.get(path.resolve(dataDir)) ?? HEADLESS;
}

/** Back to the headless default (tests; a process that hands the data dir on). */
export function forgetProtection(dataDir: string): void {
  byDataDir.delete(path.resolve(dataDir));
}

// One key, two uses: separate subkeys, so the PEM passphrase and the AES-GCM key never coincide.
function subkey(key: Buffer, use: string): Buffer {
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `skybridge/${use}/v1`, 32));
}

function pemPassphrase(key: Buffer): string {
  // Hex text: tls and openssl take it as typed, should someone need to open a key by hand.
  return subkey(key, 'private-key-pem').toString('hex');
}

/** The sentence for an encrypted secret (or several, `many`) this process has no key for. */
export function lockedMessage(what: string, reason: NoKeyReason, many = false): string {
  const is = many ? 'are' : 'is';
  const it = many ? 'them' : 'it';
  const sub = many ? 'these subaccounts' : 'this subaccount';
  switch (reason) {
    case 'headless':
      return `${what} ${is} encrypted by the Skybridge desktop app, whose key is kept in the OS key store of the user running the app, so an agent started from the command line cannot read ${it}. Run Skybridge from the desktop app, or pair ${sub} again from here with a new pairing code.`;
    case 'key-unreadable':
      return `${what} ${is} encrypted, and the key that opens ${it} could not be read from the OS key store (it was reset or is locked, or this is another user account). Restore or unlock the key store and restart Skybridge, or pair ${sub} again.`;
    case 'no-key-store':
      return `${what} ${is} encrypted, but this computer offers Skybridge no OS key store now, so the key that opens ${it} is out of reach. Unlock or install a key store (GNOME Keyring or KWallet) and restart Skybridge, or pair ${sub} again.`;
  }
}

function wrongKeyMessage(what: string): string {
  return `${what} was encrypted with a different key than the one in this computer's key store (the data folder comes from another computer or user account, or the key store was replaced). Restore the original key store, or pair this subaccount again.`;
}

/** A private key as it goes to disk: encrypted PKCS#8 under the data-protection key, or as it is without one. */
export function sealPrivateKey(pem: string, protection: Protection): string {
  if (protection.kind === 'none') return pem;
  return createPrivateKey(pem).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: pemPassphrase(protection.key) }).toString();
}

/** A private key from disk, decrypted in memory when it is encrypted. `what` names it in errors. */
export function openPrivateKey(stored: string, protection: Protection, what: string): string {
  if (!isEncryptedKeyPem(stored)) return stored;
  if (protection.kind === 'none') throw new SkybridgeError(ErrorCode.SecretLocked, lockedMessage(what, protection.reason));
  try {
    return createPrivateKey({ key: stored, format: 'pem', passphrase: pemPassphrase(protection.key) }).export({ type: 'pkcs8', format: 'pem' }).toString();
  } catch {
    throw new SkybridgeError(ErrorCode.SecretLocked, wrongKeyMessage(what));
  }
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * A text secret as it goes to disk: `skybridge-sealed:v1:` and base64 of IV, GCM tag and
 * ciphertext, with `purpose` as associated data so a sealed value cannot stand in for another
 * kind. Without a key, the text as it is.
 */
export function sealSecret(text: string, protection: Protection, purpose: string): string {
  if (protection.kind === 'none') return text;
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', subkey(protection.key, 'sealed-secret'), iv);
  cipher.setAAD(Buffer.from(purpose, 'utf8'));
  const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
  return `${SEALED_PREFIX}${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}\n`;
}

export function openSecret(stored: string, protection: Protection, purpose: string, what: string): string {
  if (!isSealed(stored)) return stored;
  if (protection.kind === 'none') throw new SkybridgeError(ErrorCode.SecretLocked, lockedMessage(what, protection.reason));
  const raw = Buffer.from(stored.slice(SEALED_PREFIX.length).trim(), 'base64');
  try {
    if (raw.length < IV_BYTES + TAG_BYTES) throw new Error('too short');
    const decipher = createDecipheriv('aes-256-gcm', subkey(protection.key, 'sealed-secret'), raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(purpose, 'utf8'));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw new SkybridgeError(ErrorCode.SecretLocked, wrongKeyMessage(what));
  }
}

export const PROXY_PASSWORD_PURPOSE = 'proxy-password';

export function describeSecret(subaccountId: string, fileName: string): string {
  return fileName === PROXY_PASSWORD_FILE ? `the proxy password of subaccount "${subaccountId}"` : `the private key of subaccount "${subaccountId}"`;
}

export interface ProtectReport {
  /** Plain files now written encrypted. */
  encrypted: number;
  /** Files that were encrypted with this key already. */
  alreadyEncrypted: number;
  /** Plain files left as they were because they are not a usable key (damaged): named, never shown. */
  skipped: string[];
}

function sealFile(name: string, stored: string, protection: Protection): string {
  return name === PROXY_PASSWORD_FILE ? sealSecret(stripNewline(stored), protection, PROXY_PASSWORD_PURPOSE) : sealPrivateKey(stored, protection);
}

function openFile(name: string, stored: string, protection: Protection, what: string): string {
  return name === PROXY_PASSWORD_FILE ? openSecret(stored, protection, PROXY_PASSWORD_PURPOSE, what) : openPrivateKey(stored, protection, what);
}

/** Same secret: the same text for a password, the same key material for a PEM (its text may differ). */
function sameSecret(name: string, a: string, b: string): boolean {
  if (name === PROXY_PASSWORD_FILE) return stripNewline(a) === stripNewline(b);
  const der = (pem: string) => createPrivateKey(pem).export({ type: 'pkcs8', format: 'der' });
  return der(a).equals(der(b));
}

function stripNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}

/**
 * Encrypts every plain secret file under the data dir with `key` (atomically, file by file).
 * Every file already encrypted is opened first: if one was encrypted with another key, this
 * refuses and changes nothing, so one data dir never ends up under two keys.
 */
export async function protectSecrets(dataDir: string, key: Buffer): Promise<ProtectReport> {
  const protection: Protection = { kind: 'key', key };
  const pending: { path: string; sealed: string }[] = [];
  const foreign = new Set<string>();
  const skipped: string[] = [];
  let alreadyEncrypted = 0;
  for (const f of listSecretFiles(dataDir)) {
    const stored = fs.readFileSync(f.path, 'utf8');
    const what = describeSecret(f.subaccountId, f.name);
    const encrypted = f.name === PROXY_PASSWORD_FILE ? isSealed(stored) : isEncryptedKeyPem(stored);
    if (encrypted) {
      try {
        openFile(f.name, stored, protection, what);
        alreadyEncrypted += 1;
      } catch {
        foreign.add(f.subaccountId);
      }
      continue;
    }
    try {
      const sealed = sealFile(f.name, stored, protection);
      // Read back before anything is replaced: a secret is never swapped for something that does not open.
      if (!sameSecret(f.name, openFile(f.name, sealed, protection, what), stored)) throw new Error('read back differs');
      pending.push({ path: f.path, sealed });
    } catch {
      skipped.push(what);
    }
  }
  if (foreign.size > 0) {
    const ids = [...foreign].map((id) => `"${id}"`).join(', ');
    throw new SkybridgeError(
      ErrorCode.SecretLocked,
      `The private keys or passwords of subaccount ${ids} were encrypted with a different key than the one in this computer's key store (the data folder comes from another computer or user account, or the key store was replaced), so no secret was encrypted or changed. Restore the original key store, or pair ${foreign.size === 1 ? 'that subaccount' : 'those subaccounts'} again.`,
    );
  }
  for (const f of pending) await writeSecretFile(f.path, f.sealed);
  return { encrypted: pending.length, alreadyEncrypted, skipped };
}

/**
 * For an agent without the key: one sentence naming the subaccounts whose secrets are
 * encrypted and so cannot be used here, or undefined when there are none (or the key is there).
 */
export function lockedSecretsMessage(dataDir: string): string | undefined {
  const protection = protectionOf(dataDir);
  if (protection.kind === 'key') return undefined;
  let ids: string[];
  try {
    ids = subaccountsWithEncryptedSecrets(dataDir);
  } catch {
    return undefined; // the tunnels name the unreadable file themselves
  }
  if (ids.length === 0) return undefined;
  const many = ids.length > 1;
  const which = many ? `The private keys or passwords of subaccounts ${ids.map((id) => `"${id}"`).join(', ')}` : `The private key or password of subaccount "${ids[0]}"`;
  return lockedMessage(which, protection.reason, many);
}
