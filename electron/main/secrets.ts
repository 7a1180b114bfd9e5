/**
 * Secrets the shell keeps (the agent's data-protection key, see data-key.ts) are stored only
 * as safeStorage ciphertext, so the settings files alone reveal nothing. safeStorage is as
 * strong as the OS key store behind it: Keychain on macOS, DPAPI on Windows, libsecret or
 * KWallet on Linux. Where Linux has none, Electron falls back to `basic_text`, a key baked
 * into Chromium: the data is then only obfuscated, and `secureStorage: false` makes the UI
 * say so.
 *
 * No `electron` import: main.ts hands in `safeStorage`.
 */
import { ErrorCode } from '../../shared/errors.js';
import { ShellError } from './shell-error.js';

/** The part of Electron's safeStorage used here (the async API; the sync one is deprecated in 45). */
export interface SafeStorageLike {
  isAsyncEncryptionAvailable(): Promise<boolean>;
  encryptStringAsync(plainText: string): Promise<Buffer>;
  decryptStringAsync(encrypted: Buffer): Promise<{ result: string; shouldReEncrypt: boolean }>;
  /** Linux only. */
  getSelectedStorageBackend(): string;
}

export interface StorageStatus {
  /** True when secrets are protected by a real OS key store. */
  secureStorage: boolean;
  /** Which one: keychain, dpapi, gnome_libsecret, kwallet5…, or basic_text / unavailable. */
  secureStorageBackend: string;
  /** Set when the agent's data-protection key cannot be had (data-key.ts): what is wrong and what to do. */
  keyStoreError?: string;
}

/** Linux back ends that are not a key store: `basic_text` (hard-coded key) and `unknown` (asked too early). */
const WEAK_LINUX_BACKENDS = new Set(['basic_text', 'unknown']);

export async function storageStatus(safe: SafeStorageLike, platform: NodeJS.Platform): Promise<StorageStatus> {
  let available: boolean;
  try {
    available = await safe.isAsyncEncryptionAvailable();
  } catch {
    available = false;
  }
  if (!available) return { secureStorage: false, secureStorageBackend: 'unavailable' };
  if (platform === 'linux') {
    const backend = safe.getSelectedStorageBackend();
    return { secureStorage: !WEAK_LINUX_BACKENDS.has(backend), secureStorageBackend: backend };
  }
  if (platform === 'darwin') return { secureStorage: true, secureStorageBackend: 'keychain' };
  if (platform === 'win32') return { secureStorage: true, secureStorageBackend: 'dpapi' };
  return { secureStorage: false, secureStorageBackend: 'unknown' };
}

/** Where the ciphertext goes (ShellSettingsStore in the app). */
export interface CiphertextStore {
  getSecretCiphertext(name: string): string | undefined;
  setSecretCiphertext(name: string, ciphertext: string | undefined): void;
}

export class SecretBox {
  readonly #safe: SafeStorageLike;
  readonly #store: CiphertextStore;

  constructor(safe: SafeStorageLike, store: CiphertextStore) {
    this.#safe = safe;
    this.#store = store;
  }

  /**
   * Refuses when there is no encryption at all rather than writing the secret in clear;
   * `basic_text` is accepted (the UI warns about it).
   */
  async set(name: string, value: string): Promise<void> {
    if (!(await this.#available())) {
      throw new ShellError(
        ErrorCode.ConfigInvalid,
        'This computer offers no way to encrypt secrets for Skybridge, so the secret was not saved. On Linux, install and unlock a key store (GNOME Keyring or KWallet) and try again.',
      );
    }
    const encrypted = await this.#safe.encryptStringAsync(value);
    this.#store.setSecretCiphertext(name, encrypted.toString('base64'));
  }

  /** Undefined when none is saved, or it can no longer be decrypted (the key store was reset). */
  async get(name: string): Promise<string | undefined> {
    const stored = this.#store.getSecretCiphertext(name);
    if (stored === undefined) return undefined;
    let decrypted: { result: string; shouldReEncrypt: boolean };
    try {
      decrypted = await this.#safe.decryptStringAsync(Buffer.from(stored, 'base64'));
    } catch {
      return undefined;
    }
    if (decrypted.shouldReEncrypt) {
      try {
        await this.set(name, decrypted.result);
      } catch {
        // The old ciphertext still decrypts: a failed refresh must not read as a lost secret.
      }
    }
    return decrypted.result;
  }

  has(name: string): boolean {
    return this.#store.getSecretCiphertext(name) !== undefined;
  }

  delete(name: string): void {
    this.#store.setSecretCiphertext(name, undefined);
  }

  async #available(): Promise<boolean> {
    try {
      return await this.#safe.isAsyncEncryptionAvailable();
    } catch {
      return false;
    }
  }
}
