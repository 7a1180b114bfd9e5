/**
 * The key that encrypts the agent's private keys and proxy passwords at rest. The shell makes
 * it once (32 random bytes), keeps it only as safeStorage ciphertext, and hands it to each
 * agent process it forks as the first message on the port (`unlock`): never on the command
 * line, in the environment or in a log. The agent cannot call safeStorage itself (it is pure
 * Node and also runs headless).
 *
 * A key that can no longer be decrypted (the OS key store was reset, or this is another user
 * account) is never replaced while files encrypted with it exist: the shell reports it, and
 * the agent keeps those files untouched and says which subaccounts cannot connect.
 *
 * No `electron` import: main.ts hands in safeStorage and the key file.
 */
import { randomBytes } from 'node:crypto';
import type { ShellToAgent } from '../../shared/agent-messages.js';
import { SecretBox, type CiphertextStore, type SafeStorageLike } from './secrets.js';
import type { AgentProcess } from './supervisor.js';

export const DATA_KEY_NAME = 'agent-data-key';
/** Where an unreadable key goes when a new one replaces it (only when nothing on disk needs it). */
export const PREVIOUS_DATA_KEY_NAME = 'agent-data-key-previous';
const KEY_BYTES = 32;

export type DataKeyState =
  | { status: 'ready'; key: Buffer; created: boolean }
  /** Nothing can encrypt here: the agent keeps owner-only files, and the UI's key-store warning says so. */
  | { status: 'no-key-store' }
  /** A key exists (or must) but cannot be had: the UI shows `message`. */
  | { status: 'unreadable'; message: string };

export interface OpenDataKeyOptions {
  safe: SafeStorageLike;
  /** The key file (KeyFileStore over electron-store). */
  store: CiphertextStore;
  /** Its path, for messages. */
  file: string;
  /** Whether any secret in the agent's data dir is encrypted; may throw when it cannot tell. */
  hasEncryptedSecrets: () => boolean;
  randomKey?: () => Buffer;
}

function unreadableMessage(file: string): string {
  return `Skybridge could not read the key that protects its private keys and passwords from the OS key store (it was reset or is locked, or this is another user account), so subaccounts whose keys are encrypted cannot connect. Restore or unlock the key store and restart Skybridge, or pair those subaccounts again. The encrypted files and the stored key (${file}) are left as they are.`;
}

function missingMessage(file: string): string {
  return `The key that protects Skybridge's private keys and passwords is missing from ${file}, but encrypted keys exist, so the subaccounts that use them cannot connect. Restore that file from a backup and restart Skybridge, or pair those subaccounts again. No new key was made, so nothing encrypted was overwritten.`;
}

/** The key file itself could not be opened (damaged JSON, wrong schema, no permission). */
export function keyFileFailure(file: string, error: unknown): DataKeyState {
  const reason = error instanceof Error ? error.message.split('\n')[0]!.slice(0, 200) : String(error);
  return {
    status: 'unreadable',
    message: `The file that holds the key protecting Skybridge's private keys and passwords (${file}) cannot be read: ${reason}. Restore it from a backup and restart Skybridge; it was left as it is. Until then encrypted keys cannot be used, and new ones are kept as files only your user account can read.`,
  };
}

function decodeKey(text: string | undefined): Buffer | undefined {
  if (text === undefined) return undefined;
  const key = Buffer.from(text, 'base64');
  return key.length === KEY_BYTES && key.toString('base64') === text ? key : undefined;
}

/** Unknown counts as yes: an old key is only ever given up when nothing can need it. */
function encryptedSecretsMayExist(options: OpenDataKeyOptions): boolean {
  try {
    return options.hasEncryptedSecrets();
  } catch {
    return true;
  }
}

async function canEncrypt(safe: SafeStorageLike): Promise<boolean> {
  try {
    return await safe.isAsyncEncryptionAvailable();
  } catch {
    return false;
  }
}

/**
 * Loads the key, or makes it the first time. Call once per shell run (after app 'ready', which
 * safeStorage needs) and reuse the result for every agent fork, restarts included.
 */
export async function openDataKey(options: OpenDataKeyOptions): Promise<DataKeyState> {
  const box = new SecretBox(options.safe, options.store);
  if (box.has(DATA_KEY_NAME)) {
    const key = decodeKey(await box.get(DATA_KEY_NAME));
    if (key) return { status: 'ready', key, created: false };
    if (encryptedSecretsMayExist(options)) return { status: 'unreadable', message: unreadableMessage(options.file) };
    // Nothing on disk is encrypted with the lost key (never paired, or paired again since):
    // a new one is safe, and the old ciphertext is kept aside in case the key store comes back.
    return createKey(options, true);
  }
  if (encryptedSecretsMayExist(options)) return { status: 'unreadable', message: missingMessage(options.file) };
  return createKey(options, false);
}

async function createKey(options: OpenDataKeyOptions, retireOld: boolean): Promise<DataKeyState> {
  if (!(await canEncrypt(options.safe))) return { status: 'no-key-store' };
  const key = (options.randomKey ?? (() => randomBytes(KEY_BYTES)))();
  const encoded = key.toString('base64');
  let ciphertext: Buffer;
  try {
    ciphertext = await options.safe.encryptStringAsync(encoded);
    // Only a key this key store gives back is worth encrypting files with.
    if ((await options.safe.decryptStringAsync(ciphertext)).result !== encoded) return { status: 'no-key-store' };
  } catch {
    return { status: 'no-key-store' };
  }
  try {
    if (retireOld) options.store.setSecretCiphertext(PREVIOUS_DATA_KEY_NAME, options.store.getSecretCiphertext(DATA_KEY_NAME));
    options.store.setSecretCiphertext(DATA_KEY_NAME, ciphertext.toString('base64'));
  } catch (error) {
    return keyFileFailure(options.file, error);
  }
  return { status: 'ready', key, created: true };
}

/** The first message to every agent the shell forks. */
export function unlockMessage(state: DataKeyState): Extract<ShellToAgent, { type: 'unlock' }> {
  switch (state.status) {
    case 'ready':
      return { type: 'unlock', key: state.key.toString('base64') };
    case 'no-key-store':
      return { type: 'unlock', key: null, reason: 'no-key-store' };
    case 'unreadable':
      return { type: 'unlock', key: null, reason: 'key-unreadable' };
  }
}

/** What the Settings page shows beside the key-store report; undefined when all is well. */
export function keyStoreError(state: DataKeyState): string | undefined {
  return state.status === 'unreadable' ? state.message : undefined;
}

/**
 * Wraps the supervisor's fork: each new agent gets exactly one `unlock`, posted at once
 * (parentPort queues it until the agent listens). An agent that cannot be sent its key is
 * killed, so none is left waiting for ever; the supervisor then retries as for a failed fork.
 */
export function forkWithUnlock(fork: () => AgentProcess, message: () => ShellToAgent): () => AgentProcess {
  return () => {
    const child = fork();
    try {
      child.postMessage(message());
    } catch (error) {
      child.kill();
      throw new Error(`could not hand the agent its key: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    return child;
  };
}
