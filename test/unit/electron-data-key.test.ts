import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
// The validator electron-store (through conf) checks its schema with.
import { Ajv2020 } from 'ajv/dist/2020.js';
import { shellToAgentSchema } from '../../shared/agent-messages.js';
import { shellSettingsSchema } from '../../shared/ipc.js';
import { DATA_KEY_NAME, forkWithUnlock, keyFileFailure, keyStoreError, openDataKey, PREVIOUS_DATA_KEY_NAME, unlockMessage, type OpenDataKeyOptions } from '../../electron/main/data-key.js';
import type { SafeStorageLike } from '../../electron/main/secrets.js';
import { KeyFileStore, keyStoreOptions } from '../../electron/main/settings-store.js';
import { ShellSettingsService } from '../../electron/main/shell-handlers.js';
import { ShellSettingsStore } from '../../electron/main/settings-store.js';
import { AgentSupervisor } from '../../electron/main/supervisor.js';
import { FakeChild, FakeClock } from './electron-fakes.js';

function memoryStore(initial: Record<string, unknown> = {}) {
  const data = new Map<string, unknown>(Object.entries(initial));
  return { get: (k: string) => data.get(k), set: (k: string, v: unknown) => void data.set(k, v), delete: (k: string) => void data.delete(k), data };
}

/**
 * safeStorage stand-in: "encrypts" with a per-instance secret so a different instance (a reset
 * key store) cannot decrypt, and counts calls.
 */
function fakeSafeStorage(options: { available?: boolean; secret?: string } = {}) {
  const secret = options.secret ?? 'store-1';
  const calls = { encrypt: 0, decrypt: 0 };
  const safe: SafeStorageLike = {
    isAsyncEncryptionAvailable: async () => options.available ?? true,
    async encryptStringAsync(plain) {
      calls.encrypt += 1;
      return Buffer.from(`${secret}|${Buffer.from(plain).reverse().toString('hex')}`);
    },
    async decryptStringAsync(encrypted) {
      calls.decrypt += 1;
      const [tag, hex] = encrypted.toString().split('|');
      if (tag !== secret || hex === undefined) throw new Error('Error while decrypting the ciphertext provided to safeStorage.decryptString.');
      return { result: Buffer.from(hex, 'hex').reverse().toString(), shouldReEncrypt: false };
    },
    getSelectedStorageBackend: () => 'gnome_libsecret',
  };
  return { safe, calls };
}

function options(over: Partial<OpenDataKeyOptions> & { raw?: ReturnType<typeof memoryStore> } = {}) {
  const raw = over.raw ?? memoryStore({ secrets: {} });
  return {
    raw,
    store: new KeyFileStore(raw),
    options: {
      safe: fakeSafeStorage().safe,
      store: new KeyFileStore(raw),
      file: '/home/admin/.config/Skybridge/shell-keys.json',
      hasEncryptedSecrets: () => false,
      ...over,
    } satisfies OpenDataKeyOptions,
  };
}

describe('the data-protection key', () => {
  it('is made once, kept only as safeStorage ciphertext, and the same key comes back next time', async () => {
    const { safe, calls } = fakeSafeStorage();
    const { raw, options: o } = options({ safe });
    const first = await openDataKey(o);
    assert.equal(first.status, 'ready');
    assert.ok(first.status === 'ready' && first.created && first.key.length === 32);
    const stored = JSON.stringify([...raw.data]);
    assert.ok(!stored.includes(first.key.toString('base64')), 'the key is in the file in clear');
    assert.ok(!stored.includes(first.key.toString('hex')));
    assert.equal(calls.encrypt, 1);

    const second = await openDataKey(o);
    assert.ok(second.status === 'ready' && !second.created);
    assert.ok(second.key.equals(first.key));
    assert.equal(calls.encrypt, 1, 'a second start made another key');
  });

  it('is handed to each forked agent exactly once, as its first message, the same key after a restart', async () => {
    const state = await openDataKey(options().options);
    assert.equal(state.status, 'ready');
    const clock = new FakeClock();
    const children: FakeChild[] = [];
    let forks = 0;
    const supervisor = new AgentSupervisor({
      fork: forkWithUnlock(
        () => {
          forks += 1;
          const child = new FakeChild();
          children.push(child);
          return child;
        },
        () => unlockMessage(state),
      ),
      timers: clock.timers,
      now: () => clock.now,
      initialDelayMs: 1_000,
    });
    supervisor.start();
    children[0]!.exit(1);
    clock.advance(1_000);
    assert.equal(forks, 2);
    const expected = { type: 'unlock', key: state.status === 'ready' ? state.key.toString('base64') : '' };
    for (const child of children) assert.deepEqual(child.posted, [expected]);
    assert.equal(shellToAgentSchema.safeParse(expected).success, true);
    // Calls and shutdown come after it, never before.
    supervisor.postMessage({ type: 'api-call', id: 1, method: 'listSubaccounts', input: {} });
    assert.deepEqual(children[1]!.posted[0], expected);
  });

  it('an agent that cannot be sent its key is killed, and the fork counts as failed', () => {
    const child = new FakeChild();
    child.postMessage = () => {
      throw new Error('port closed');
    };
    const fork = forkWithUnlock(() => child, () => ({ type: 'unlock', key: null, reason: 'no-key-store' }));
    assert.throws(fork, /could not hand the agent its key: port closed/);
    assert.equal(child.killed, 1);
  });

  it('that can no longer be decrypted is an error state: no new key, nothing overwritten', async () => {
    const { raw, options: o } = options();
    const made = await openDataKey(o);
    assert.equal(made.status, 'ready');
    const before = JSON.stringify([...raw.data]);
    const reset = fakeSafeStorage({ secret: 'store-2' }); // the OS key store was reset
    const state = await openDataKey({ ...o, safe: reset.safe, hasEncryptedSecrets: () => true });
    assert.equal(state.status, 'unreadable');
    assert.match(keyStoreError(state) ?? '', /could not read the key .* from the OS key store/);
    assert.match(keyStoreError(state) ?? '', /Restore or unlock the key store and restart Skybridge, or pair those subaccounts again/);
    assert.equal(reset.calls.encrypt, 0, 'a new key was made');
    assert.equal(JSON.stringify([...raw.data]), before, 'the stored key was touched');
    assert.deepEqual(unlockMessage(state), { type: 'unlock', key: null, reason: 'key-unreadable' });
  });

  it('missing while encrypted files exist (key file deleted) is an error state, not a fresh key', async () => {
    const { raw, options: o } = options({ hasEncryptedSecrets: () => true });
    const state = await openDataKey(o);
    assert.equal(state.status, 'unreadable');
    assert.match(keyStoreError(state) ?? '', /missing from \/home\/admin\/.config\/Skybridge\/shell-keys.json, but encrypted keys exist/);
    assert.deepEqual(raw.data.get('secrets'), {});
  });

  it('when it cannot tell whether encrypted files exist, it assumes they do', async () => {
    const { raw, options: o } = options({
      hasEncryptedSecrets: () => {
        throw new Error('EACCES');
      },
    });
    assert.equal((await openDataKey(o)).status, 'unreadable');
    assert.deepEqual(raw.data.get('secrets'), {});
  });

  it('unreadable but needed by no file: a new key, with the old ciphertext kept aside', async () => {
    const { raw, options: o } = options();
    await openDataKey(o);
    const old = new KeyFileStore(raw).getSecretCiphertext(DATA_KEY_NAME);
    const reset = fakeSafeStorage({ secret: 'store-2' });
    const state = await openDataKey({ ...o, safe: reset.safe });
    assert.ok(state.status === 'ready' && state.created);
    assert.equal(new KeyFileStore(raw).getSecretCiphertext(PREVIOUS_DATA_KEY_NAME), old);
    assert.notEqual(new KeyFileStore(raw).getSecretCiphertext(DATA_KEY_NAME), old);
  });

  it('with no key store at all: no key, nothing stored, the agent is told why', async () => {
    const { raw, options: o } = options({ safe: fakeSafeStorage({ available: false }).safe });
    const state = await openDataKey(o);
    assert.deepEqual(state, { status: 'no-key-store' });
    assert.deepEqual(raw.data.get('secrets'), {});
    assert.deepEqual(unlockMessage(state), { type: 'unlock', key: null, reason: 'no-key-store' });
    assert.equal(keyStoreError(state), undefined, 'the key-store warning already covers this');
  });

  it('is not kept when the key store cannot give it back', async () => {
    const { safe } = fakeSafeStorage();
    safe.decryptStringAsync = async () => ({ result: 'something else', shouldReEncrypt: false });
    const { raw, options: o } = options({ safe });
    assert.deepEqual(await openDataKey(o), { status: 'no-key-store' });
    assert.deepEqual(raw.data.get('secrets'), {});
  });
});

describe('the key file', () => {
  it('is a store of its own that is never cleared when damaged, with a schema electron-store enforces', () => {
    const opts = keyStoreOptions();
    assert.equal(opts.name, 'shell-keys');
    assert.equal(opts.clearInvalidConfig, false);
    const validate = new Ajv2020({ allErrors: true }).compile({ type: 'object', properties: opts.schema });
    assert.equal(validate({ secrets: { [DATA_KEY_NAME]: 'abc' } }), true);
    assert.equal(validate({ secrets: { [DATA_KEY_NAME]: 42 } }), false);
  });

  it('a damaged key file is reported with its path and left alone', () => {
    const state = keyFileFailure('/x/shell-keys.json', new SyntaxError('The config file `/x/shell-keys.json` is not valid JSON.'));
    assert.equal(state.status, 'unreadable');
    assert.match(keyStoreError(state) ?? '', /\(\/x\/shell-keys.json\) cannot be read: .*not valid JSON.*it was left as it is/);
  });
});

describe('the Settings page report', () => {
  it('carries the key error through shell:getSettings', async () => {
    const { options: o } = options({ hasEncryptedSecrets: () => true });
    const state = await openDataKey({ ...o, safe: fakeSafeStorage({ secret: 'other' }).safe });
    const service = new ShellSettingsService({
      store: new ShellSettingsStore(memoryStore()),
      loginItem: { isEnabled: () => false, setEnabled: () => undefined },
      storage: async () => ({ secureStorage: true, secureStorageBackend: 'gnome_libsecret', keyStoreError: keyStoreError(state) }),
    });
    const settings = shellSettingsSchema.parse(await service.get());
    assert.match(settings.keyStoreError ?? '', /missing from/);
  });
});
