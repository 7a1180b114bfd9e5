/**
 * The shell's own settings (not the agent's: those live in its config). One zod schema is the
 * source: electron-store gets its JSON-schema form, so a bad write is refused on the way in,
 * and reads go through zod again, so a hand-edited file cannot hand the shell a wrong type.
 *
 * No `electron` import: main.ts builds the electron-store with `settingsStoreOptions()` and
 * hands it in as a plain get/set store.
 */
// Type only (erased): the module itself needs Electron and is loaded by main.ts alone.
import type { Schema } from 'electron-store';
import { z } from 'zod';

export const windowBoundsSchema = z.object({
  x: z.int(),
  y: z.int(),
  width: z.int().min(200).max(20_000),
  height: z.int().min(200).max(20_000),
  maximized: z.boolean(),
});
export type WindowBounds = z.infer<typeof windowBoundsSchema>;

/** Names of secrets the shell keeps (e.g. `proxy-password`); the values are safeStorage ciphertext, base64. */
export const SECRET_NAME = /^[a-z][a-z0-9-]{0,63}$/;

export const storedSettingsSchema = z.object({
  startAtLogin: z.boolean(),
  notifications: z.boolean(),
  /** The "still running in the tray" notice is shown once, the first time the window is closed. */
  closeToTrayNoticeShown: z.boolean(),
  windowBounds: windowBoundsSchema.optional(),
  secrets: z.record(z.string().regex(SECRET_NAME), z.string().max(65_536)),
});
export type StoredSettings = z.infer<typeof storedSettingsSchema>;
type SettingKey = keyof StoredSettings;

export const SETTINGS_DEFAULTS: Readonly<Omit<StoredSettings, 'windowBounds'>> = Object.freeze({
  startAtLogin: false,
  notifications: true,
  closeToTrayNoticeShown: false,
  secrets: {},
});

/** electron-store's `schema` option: the JSON schema of each top-level key. */
export function settingsJsonSchema(): Schema<Record<string, unknown>> {
  const { properties } = z.toJSONSchema(storedSettingsSchema) as { properties: Schema<Record<string, unknown>> };
  return properties;
}

/** Options for `new Store(...)` (electron-store 12). */
export function settingsStoreOptions() {
  return {
    name: 'shell-settings',
    schema: settingsJsonSchema(),
    defaults: { ...SETTINGS_DEFAULTS },
    // A damaged file would otherwise stop the app at start; the settings are cheap to redo.
    clearInvalidConfig: true,
  };
}

/** The part of electron-store the shell uses. */
export interface KeyValueStore {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  delete(key: string): void;
}

const fieldSchemas = storedSettingsSchema.shape;

export class ShellSettingsStore {
  readonly #store: KeyValueStore;

  constructor(store: KeyValueStore) {
    this.#store = store;
  }

  read<K extends SettingKey>(key: K): StoredSettings[K] {
    const parsed = fieldSchemas[key].safeParse(this.#store.get(key));
    if (parsed.success) return parsed.data as StoredSettings[K];
    return (key === 'windowBounds' ? undefined : SETTINGS_DEFAULTS[key as Exclude<SettingKey, 'windowBounds'>]) as StoredSettings[K];
  }

  write<K extends SettingKey>(key: K, value: StoredSettings[K]): void {
    const parsed = fieldSchemas[key].parse(value);
    if (parsed === undefined) this.#store.delete(key);
    else this.#store.set(key, parsed);
  }

  getSecretCiphertext(name: string): string | undefined {
    return this.read('secrets')[name];
  }

  setSecretCiphertext(name: string, ciphertext: string | undefined): void {
    if (!SECRET_NAME.test(name)) throw new Error(`not a secret name: ${name}`);
    const secrets = { ...this.read('secrets') };
    if (ciphertext === undefined) delete secrets[name];
    else secrets[name] = ciphertext;
    this.write('secrets', secrets);
  }
}

/**
 * The agent's data-protection key (safeStorage ciphertext) lives in a file of its own,
 * `shell-keys.json`, not in the settings: the settings file is cleared when it is damaged or
 * fails its schema (cheap to redo), and losing this one would lock every private key for good.
 * So no `clearInvalidConfig` here: a damaged file stops the key from loading and is reported,
 * and is never replaced.
 */
export const keyStoreSchema = z.object({
  secrets: z.record(z.string().regex(SECRET_NAME), z.string().max(65_536)),
});

export const KEY_STORE_NAME = 'shell-keys';

export function keyStoreOptions() {
  const { properties } = z.toJSONSchema(keyStoreSchema) as { properties: Schema<Record<string, unknown>> };
  return { name: KEY_STORE_NAME, schema: properties, defaults: { secrets: {} }, clearInvalidConfig: false };
}

/** The key file as a CiphertextStore (secrets.ts). */
export class KeyFileStore {
  readonly #store: KeyValueStore;

  constructor(store: KeyValueStore) {
    this.#store = store;
  }

  #all(): Record<string, string> {
    const parsed = keyStoreSchema.shape.secrets.safeParse(this.#store.get('secrets'));
    return parsed.success ? parsed.data : {};
  }

  getSecretCiphertext(name: string): string | undefined {
    return this.#all()[name];
  }

  setSecretCiphertext(name: string, ciphertext: string | undefined): void {
    if (!SECRET_NAME.test(name)) throw new Error(`not a secret name: ${name}`);
    const secrets = { ...this.#all() };
    if (ciphertext === undefined) delete secrets[name];
    else secrets[name] = ciphertext;
    this.#store.set('secrets', keyStoreSchema.shape.secrets.parse(secrets));
  }
}
