import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
// The validator electron-store (through conf) checks its schema with.
import { Ajv2020 } from 'ajv/dist/2020.js';
import { autostartEntry, desktopExecArg, electronLoginItem, HIDDEN_ARG, launchedHidden, linuxAutostart } from '../../electron/main/login-item.js';
import { SecretBox, storageStatus, type SafeStorageLike } from '../../electron/main/secrets.js';
import { SETTINGS_DEFAULTS, settingsJsonSchema, settingsStoreOptions, ShellSettingsStore } from '../../electron/main/settings-store.js';
import { ShellError } from '../../electron/main/shell-error.js';
import { CLOSE_TO_TRAY_NOTICE, DEFAULT_SIZE, initialBounds, onCloseRequested } from '../../electron/main/window-state.js';

function memoryStore(initial: Record<string, unknown> = {}) {
  const data = new Map<string, unknown>(Object.entries(initial));
  return { get: (k: string) => data.get(k), set: (k: string, v: unknown) => void data.set(k, v), delete: (k: string) => void data.delete(k), data };
}

describe('shell settings', () => {
  const validate = new Ajv2020({ allErrors: true }).compile({ type: 'object', properties: settingsJsonSchema() });

  it('has defaults that fit its own schema', () => {
    assert.equal(validate({ ...SETTINGS_DEFAULTS }), true, JSON.stringify(validate.errors));
    assert.deepEqual(settingsStoreOptions().defaults, { startAtLogin: false, notifications: true, closeToTrayNoticeShown: false, secrets: {} });
    assert.equal(settingsStoreOptions().clearInvalidConfig, true, 'a damaged settings file must not stop the app');
  });

  it('refuses wrong types and nonsense window bounds at the store', () => {
    for (const bad of [
      { notifications: 'yes' },
      { startAtLogin: 1 },
      { windowBounds: { x: 0, y: 0, width: 10, height: 10, maximized: false } },
      { windowBounds: { x: 0.5, y: 0, width: 800, height: 600, maximized: false } },
      { secrets: { 'Bad Name': 'abc' } },
      { secrets: { 'proxy-password': 42 } },
    ]) {
      assert.equal(validate({ ...SETTINGS_DEFAULTS, ...bad }), false, JSON.stringify(bad));
    }
    assert.equal(validate({ ...SETTINGS_DEFAULTS, windowBounds: { x: -1920, y: 0, width: 1100, height: 760, maximized: true } }), true);
  });

  it('reads defaults for missing or hand-broken values, and refuses bad writes', () => {
    const store = new ShellSettingsStore(memoryStore({ notifications: 'sure', windowBounds: { x: 'left' } }));
    assert.equal(store.read('notifications'), true);
    assert.equal(store.read('startAtLogin'), false);
    assert.equal(store.read('windowBounds'), undefined);
    assert.throws(() => store.write('windowBounds', { x: 0, y: 0, width: 1, height: 1, maximized: false }));
    store.write('closeToTrayNoticeShown', true);
    assert.equal(store.read('closeToTrayNoticeShown'), true);
  });
});

/** safeStorage stand-in: "encrypts" by reversing and tagging with a key version, so tests can see what was stored. */
function fakeSafeStorage(options: { available?: boolean; backend?: string } = {}): SafeStorageLike & { key: number } {
  return {
    key: 1,
    isAsyncEncryptionAvailable: async () => options.available ?? true,
    async encryptStringAsync(plain) {
      return Buffer.from(`enc${this.key}:${[...plain].reverse().join('')}`);
    },
    async decryptStringAsync(encrypted) {
      const match = /^enc(\d+):(.*)$/s.exec(encrypted.toString());
      if (!match) throw new Error('bad ciphertext');
      return { result: [...(match[2] ?? '')].reverse().join(''), shouldReEncrypt: Number(match[1]) !== this.key };
    },
    getSelectedStorageBackend: () => options.backend ?? 'gnome_libsecret',
  };
}

describe('secrets', () => {
  it('reports a real key store, and basic_text as none', async () => {
    assert.deepEqual(await storageStatus(fakeSafeStorage({ backend: 'gnome_libsecret' }), 'linux'), { secureStorage: true, secureStorageBackend: 'gnome_libsecret' });
    assert.deepEqual(await storageStatus(fakeSafeStorage({ backend: 'basic_text' }), 'linux'), { secureStorage: false, secureStorageBackend: 'basic_text' });
    assert.deepEqual(await storageStatus(fakeSafeStorage({ available: false }), 'linux'), { secureStorage: false, secureStorageBackend: 'unavailable' });
    assert.deepEqual(await storageStatus(fakeSafeStorage(), 'darwin'), { secureStorage: true, secureStorageBackend: 'keychain' });
    assert.deepEqual(await storageStatus(fakeSafeStorage(), 'win32'), { secureStorage: true, secureStorageBackend: 'dpapi' });
  });

  it('stores only ciphertext and reads the secret back', async () => {
    const raw = memoryStore();
    const store = new ShellSettingsStore(raw);
    const box = new SecretBox(fakeSafeStorage(), store);
    await box.set('proxy-password', 'hunter2');
    assert.doesNotMatch(JSON.stringify([...raw.data]), /hunter2/);
    assert.equal(await box.get('proxy-password'), 'hunter2');
    assert.equal(box.has('proxy-password'), true);
    box.delete('proxy-password');
    assert.equal(await box.get('proxy-password'), undefined);
  });

  it('refuses to save a secret in clear when nothing can encrypt it', async () => {
    const raw = memoryStore();
    const box = new SecretBox(fakeSafeStorage({ available: false }), new ShellSettingsStore(raw));
    await assert.rejects(box.set('proxy-password', 'hunter2'), (e: ShellError) => /key store/.test(e.message));
    assert.doesNotMatch(JSON.stringify([...raw.data]), /hunter2/);
  });

  it('gives nothing for ciphertext it can no longer decrypt, and re-encrypts when the key rotated', async () => {
    const store = new ShellSettingsStore(memoryStore({ secrets: { 'proxy-password': Buffer.from('garbage').toString('base64') } }));
    const safe = fakeSafeStorage();
    const box = new SecretBox(safe, store);
    assert.equal(await box.get('proxy-password'), undefined);
    await box.set('proxy-password', 'pw');
    safe.key = 2; // the OS key store rotated its key
    assert.equal(await box.get('proxy-password'), 'pw');
    assert.match(Buffer.from(store.getSecretCiphertext('proxy-password') ?? '', 'base64').toString(), /^enc2:/, 'not re-encrypted with the new key');
  });
});

describe('start at login', () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'skybridge-autostart-'));
  after(() => rmSync(home, { recursive: true, force: true }));

  it('writes and removes an XDG autostart entry on Linux that starts hidden', () => {
    const item = linuxAutostart({ configHome: home, command: ['/opt/Sky Bridge/skybridge'] });
    const file = path.join(home, 'autostart', 'skybridge.desktop');
    assert.equal(item.isEnabled(), false);
    item.setEnabled(true);
    assert.equal(item.isEnabled(), true);
    const text = readFileSync(file, 'utf8');
    assert.match(text, /^Exec="\/opt\/Sky Bridge\/skybridge" --hidden$/m);
    assert.match(text, /^\[Desktop Entry\]$/m);
    // The desktop's own settings switch entries off with Hidden=true.
    writeFileSync(file, `${text}Hidden=true\n`);
    assert.equal(item.isEnabled(), false);
    item.setEnabled(false);
    assert.equal(existsSync(file), false);
  });

  it('quotes Exec arguments as the Desktop Entry spec asks', () => {
    assert.equal(desktopExecArg('/usr/bin/skybridge'), '/usr/bin/skybridge');
    assert.equal(desktopExecArg('/a b/$HOME"`\\'), '"/a b/\\$HOME\\"\\`\\\\"');
    assert.match(autostartEntry(['/opt/100%/app']), /^Exec="\/opt\/100%%\/app"$/m);
  });

  it('uses the OS login item on Windows with the hidden flag, and asks with the same arguments', () => {
    const calls: unknown[] = [];
    const app = {
      getLoginItemSettings: (o?: { args?: string[] }) => (calls.push(['get', o]), { openAtLogin: true }),
      setLoginItemSettings: (s: { openAtLogin: boolean; args?: string[] }) => void calls.push(['set', s]),
    };
    const item = electronLoginItem(app, 'win32');
    item.setEnabled(true);
    assert.equal(item.isEnabled(), true);
    assert.deepEqual(calls, [
      ['set', { openAtLogin: true, args: [HIDDEN_ARG] }],
      ['get', { args: [HIDDEN_ARG] }],
    ]);
    assert.equal(launchedHidden(['electron', '.', HIDDEN_ARG], false), true);
    assert.equal(launchedHidden(['electron', '.'], true), true);
    assert.equal(launchedHidden(['electron', '.'], false), false);
  });
});

describe('window state', () => {
  const laptop = { x: 0, y: 0, width: 1440, height: 900 };
  const monitor = { x: 1440, y: 0, width: 2560, height: 1440 };

  it('restores the saved place when it is still on a screen, shrunk to fit', () => {
    assert.deepEqual(initialBounds({ x: 1600, y: 100, width: 1200, height: 800, maximized: false }, [laptop, monitor]), { x: 1600, y: 100, width: 1200, height: 800 });
    assert.deepEqual(initialBounds({ x: 100, y: 50, width: 3000, height: 2000, maximized: false }, [laptop]), { x: 0, y: 0, width: 1440, height: 900 });
  });

  it('falls back to the default size when the saved screen is gone', () => {
    assert.deepEqual(initialBounds({ x: 1600, y: 100, width: 1200, height: 800, maximized: false }, [laptop]), { ...DEFAULT_SIZE });
    assert.deepEqual(initialBounds(undefined, [laptop]), { ...DEFAULT_SIZE });
  });

  it('hides to the tray on close (telling the user once), and closes for real when quitting or trayless', () => {
    assert.deepEqual(onCloseRequested({ quitting: false, trayShown: true, noticeShown: false }), { action: 'hide', notice: true });
    assert.deepEqual(onCloseRequested({ quitting: false, trayShown: true, noticeShown: true }), { action: 'hide', notice: false });
    assert.deepEqual(onCloseRequested({ quitting: true, trayShown: true, noticeShown: false }), { action: 'close' });
    assert.deepEqual(onCloseRequested({ quitting: false, trayShown: false, noticeShown: false }), { action: 'close' });
    assert.match(CLOSE_TO_TRAY_NOTICE.body, /tray/);
  });
});
