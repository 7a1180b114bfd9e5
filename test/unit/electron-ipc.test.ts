import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  handleInvoke,
  isTrustedSender,
  pushEvent,
  registerIpc,
  type InvokeEventLike,
  type IpcHandlers,
  type RegisterIpcOptions,
} from '../../electron/main/ipc.js';
import { ShellError } from '../../electron/main/shell-error.js';
import { BundleExporter, createShellHandlers, ShellSettingsService } from '../../electron/main/shell-handlers.js';
import { ShellSettingsStore } from '../../electron/main/settings-store.js';
import type { ConnectorApiMethod } from '../../shared/api.js';
import { IPC_CHANNELS, type IpcChannel, type IpcResult } from '../../shared/ipc.js';

const APP_URL = 'file:///opt/Skybridge/resources/app.asar/dist/renderer/index.html';
const appWindow = { id: 'main-window-webcontents' };

function fromApp(url = `${APP_URL}#/systems`): InvokeEventLike {
  return { sender: appWindow, senderFrame: { url, parent: null } };
}

const subaccount = {
  id: 'erp',
  name: 'ERP production',
  relayUrl: 'https://relay.example:8443',
  tenantId: 't1',
  location: '',
  connectorId: 'c1',
  enabled: true,
  systemCount: 1,
  status: { state: 'connected', reconnects: 0 },
};

function memoryStore() {
  const data = new Map<string, unknown>();
  return { get: (k: string) => data.get(k), set: (k: string, v: unknown) => void data.set(k, v), delete: (k: string) => void data.delete(k), data };
}

function harness(apiImpl?: (method: ConnectorApiMethod, input: unknown) => Promise<unknown>) {
  const apiCalls: { method: string; input: unknown }[] = [];
  const refused: string[] = [];
  const faults: unknown[] = [];
  let loginItem = false;
  const exportCalls: unknown[] = [];
  let dialogAnswer: string | undefined = path.join(os.tmpdir(), 'bundle');
  const shown: string[] = [];
  const settings = new ShellSettingsService({
    store: new ShellSettingsStore(memoryStore()),
    loginItem: { isEnabled: () => loginItem, setEnabled: (on) => void (loginItem = on) },
    storage: async () => ({ secureStorage: false, secureStorageBackend: 'basic_text' }),
  });
  const bundles = new BundleExporter({
    askWhere: async () => dialogAnswer,
    callAgent: async (method, input) => {
      exportCalls.push({ method, input });
      const out = (input as { out: string }).out;
      return { file: out, bytes: 1234, files: ['manifest.json'], auditEntries: 7 };
    },
    now: () => new Date(2025, 0, 2, 3, 4),
  });
  const handlers: IpcHandlers = {
    api: async (method, input) => {
      apiCalls.push({ method, input });
      return apiImpl ? apiImpl(method, input) : [subaccount];
    },
    shell: createShellHandlers({
      state: () => ({ overall: 'connected', agent: 'running' }),
      settings,
      bundles,
      showItemInFolder: (file) => shown.push(file),
    }),
  };
  const options: RegisterIpcOptions = {
    handlers,
    senders: { appUrl: () => APP_URL, isAppWindow: (sender) => sender === appWindow },
    onRefused: (channel, code) => refused.push(`${channel} ${code}`),
    onFault: (_channel, error) => faults.push(error),
  };
  const invoke = (channel: IpcChannel, args: unknown[], event: InvokeEventLike = fromApp()) => handleInvoke(channel, event, args, options);
  return {
    invoke,
    options,
    apiCalls,
    refused,
    faults,
    exportCalls,
    shown,
    setDialogAnswer: (a: string | undefined) => (dialogAnswer = a),
    loginItem: () => loginItem,
  };
}

function assertRefused(result: IpcResult<unknown>, code: string): string {
  assert.equal(result.ok, false, `expected a refusal, got ${JSON.stringify(result)}`);
  if (result.ok) throw new Error('unreachable');
  assert.equal(result.error.code, code);
  return result.error.message;
}

describe('IPC registration', () => {
  it('registers exactly the contract channels, one handler each', () => {
    const registered: string[] = [];
    registerIpc({ handle: (channel) => void registered.push(channel) }, harness().options);
    assert.deepEqual(registered, [...IPC_CHANNELS]);
    assert.equal(new Set(registered).size, registered.length);
  });

  it('pushes events only to a window that is still there', () => {
    const sent: unknown[] = [];
    const alive = { isDestroyed: () => false, send: (channel: string, payload: unknown) => void sent.push([channel, payload]) };
    assert.equal(pushEvent(alive, 'event:shell', { overall: 'idle' }), true);
    assert.equal(pushEvent({ ...alive, isDestroyed: () => true }, 'event:shell', {}), false);
    assert.equal(pushEvent(undefined, 'event:agent', {}), false);
    assert.deepEqual(sent, [['event:shell', { overall: 'idle' }]]);
  });
});

describe('IPC validation', () => {
  it('forwards a valid call and returns the agent value', async () => {
    const h = harness();
    const result = await h.invoke('api:listSubaccounts', [{}]);
    assert.deepEqual(result, { ok: true, value: [subaccount] });
    assert.deepEqual(h.apiCalls, [{ method: 'listSubaccounts', input: {} }]);
  });

  it('refuses a bad payload with INVALID_INPUT naming the field, and forwards nothing', async () => {
    const h = harness();
    const message = assertRefused(
      await h.invoke('api:addSystem', [{ system: { virtualHost: 'erp.internal', virtualPort: 70000, internalHost: 'erp', internalPort: 443, protocol: 'https' } }]),
      'INVALID_INPUT',
    );
    assert.match(message, /virtualPort/);
    assertRefused(await h.invoke('api:setSubaccountEnabled', [{ subaccount: 'erp', enabled: 'yes' }]), 'INVALID_INPUT');
    assertRefused(await h.invoke('api:dashboard', ['not an object']), 'INVALID_INPUT');
    assertRefused(await h.invoke('api:dashboard', [{}, { extra: true }]), 'INVALID_INPUT');
    assertRefused(await h.invoke('shell:setSettings', [{ startAtLogin: 1 }]), 'INVALID_INPUT');
    assert.deepEqual(h.apiCalls, [], 'an invalid payload reached the agent');
    assert.equal(h.loginItem(), false, 'an invalid settings payload changed the login item');
  });

  it('passes the agent refusal through as code and sentence', async () => {
    const h = harness(async () => {
      throw new ShellError('NOT_FOUND', 'There is no system erp.internal:443.');
    });
    const message = assertRefused(await h.invoke('api:removeSystem', [{ system: 'erp.internal:443' }]), 'NOT_FOUND');
    assert.equal(message, 'There is no system erp.internal:443.');
  });

  it('hides the text and stack of unexpected errors', async () => {
    const h = harness(async () => {
      throw new Error("ENOENT: no such file or directory, open '/home/admin/secret/key.pem'");
    });
    const result = await h.invoke('api:dashboard', [{}]);
    const message = assertRefused(result, 'INTERNAL');
    assert.doesNotMatch(JSON.stringify(result), /secret|key\.pem|ENOENT|\bat .*:\d+:\d+/);
    assert.match(message, /log/);
    assert.equal(h.faults.length, 1, 'the fault was not logged');
  });

  it('strips reply fields the contract does not name, and refuses replies that do not fit', async () => {
    const leaky = harness(async () => [{ ...subaccount, privateKeyPem: '-----BEGIN PRIVATE KEY-----' }]);
    const result = await leaky.invoke('api:listSubaccounts', [{}]);
    assert.equal(result.ok, true);
    assert.doesNotMatch(JSON.stringify(result), /PRIVATE KEY/);

    const broken = harness(async () => ({ nonsense: true }));
    assertRefused(await broken.invoke('api:dashboard', [{}]), 'INTERNAL');
  });
});

describe('IPC sender checks', () => {
  const cases: [string, InvokeEventLike][] = [
    ['another page in our window', fromApp('https://evil.example/')],
    ['another local file', fromApp('file:///home/admin/Downloads/evil.html')],
    ['a subframe of our page', { sender: appWindow, senderFrame: { url: APP_URL, parent: {} } }],
    ['a frame that is gone', { sender: appWindow, senderFrame: null }],
    ['our page in some other webContents', { sender: { id: 'devtools-or-other' }, senderFrame: { url: APP_URL, parent: null } }],
  ];

  for (const [name, event] of cases) {
    it(`refuses ${name}, before looking at the payload`, async () => {
      const h = harness();
      assert.equal(isTrustedSender(event, h.options.senders), false);
      assertRefused(await h.invoke('api:setSubaccountEnabled', [{ subaccount: 'erp', enabled: false }], event), 'ACCESS_DENIED');
      assert.deepEqual(h.apiCalls, []);
      assert.deepEqual(h.refused, ['api:setSubaccountEnabled ACCESS_DENIED']);
    });
  }

  it('accepts our page at any route', () => {
    assert.equal(isTrustedSender(fromApp(`${APP_URL}#/audit`), harness().options.senders), true);
  });
});

describe('support bundle export over IPC', () => {
  it('refuses api:exportSupportBundle from the renderer: it must not pick the path', async () => {
    const h = harness();
    const message = assertRefused(await h.invoke('api:exportSupportBundle', [{ out: '/home/admin/.bashrc' }]), 'ACCESS_DENIED');
    assert.match(message, /shell:exportBundle/);
    assert.deepEqual(h.apiCalls, []);
  });

  it('shell:exportBundle saves where the user chose in the dialog, with .zip added', async () => {
    const h = harness();
    const result = await h.invoke('shell:exportBundle', [{ from: '2025-01-01T00:00:00Z' }]);
    const file = path.join(os.tmpdir(), 'bundle.zip');
    assert.deepEqual(result, { ok: true, value: { file, bytes: 1234, auditEntries: 7 } });
    assert.deepEqual(h.exportCalls, [{ method: 'exportSupportBundle', input: { out: file, from: '2025-01-01T00:00:00Z' } }]);

    // Only files the shell wrote can be shown in the folder.
    assert.deepEqual(await h.invoke('shell:showItemInFolder', [{ file }]), { ok: true, value: { shown: true } });
    assertRefused(await h.invoke('shell:showItemInFolder', [{ file: '/etc/passwd' }]), 'INVALID_INPUT');
    assertRefused(await h.invoke('shell:showItemInFolder', [{ file: 'bundle.zip' }]), 'INVALID_INPUT');
    assert.deepEqual(h.shown, [file]);
  });

  it('returns null and exports nothing when the dialog is cancelled', async () => {
    const h = harness();
    h.setDialogAnswer(undefined);
    assert.deepEqual(await h.invoke('shell:exportBundle', [{}]), { ok: true, value: null });
    assert.deepEqual(h.exportCalls, []);
  });
});

describe('shell settings over IPC', () => {
  it('reports the key store, and applies start at login through the OS login item', async () => {
    const h = harness();
    assert.deepEqual(await h.invoke('shell:getSettings', [{}]), {
      ok: true,
      value: { startAtLogin: false, notifications: true, secureStorage: false, secureStorageBackend: 'basic_text' },
    });
    const result = await h.invoke('shell:setSettings', [{ startAtLogin: true, notifications: false }]);
    assert.deepEqual(result, { ok: true, value: { startAtLogin: true, notifications: false, secureStorage: false, secureStorageBackend: 'basic_text' } });
    assert.equal(h.loginItem(), true);
  });

  it('says so when the OS refuses the login item', async () => {
    const store = new ShellSettingsStore(memoryStore());
    const settings = new ShellSettingsService({
      store,
      loginItem: {
        isEnabled: () => false,
        setEnabled: () => {
          throw new Error('EACCES /home/admin/.config/autostart');
        },
      },
      storage: async () => ({ secureStorage: true, secureStorageBackend: 'gnome_libsecret' }),
    });
    await assert.rejects(settings.set({ startAtLogin: true }), (e: ShellError) => e.code === 'CONFIG_INVALID' && !/EACCES/.test(e.message));
    assert.equal(store.read('startAtLogin'), false, 'the file claims a login item the OS refused');
  });

  it('answers shell:getState with the shell state', async () => {
    assert.deepEqual(await harness().invoke('shell:getState', [{}]), { ok: true, value: { overall: 'connected', agent: 'running' } });
  });
});

