/**
 * Runs the compiled preload (dist/electron/preload/preload.cjs, built by `npm run build`) the
 * way a sandboxed renderer does: CommonJS, with only `require('electron')`, here a fake that
 * records what is exposed and what is invoked.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { API_METHODS, IPC_CHANNELS, IPC_EVENT_CHANNELS, SHELL_CHANNELS } from '../../shared/ipc.js';

// This file runs as dist/test/unit/electron-preload.test.js; the preload is built beside it.
const PRELOAD = path.resolve(import.meta.dirname, '..', '..', 'electron', 'preload', 'preload.cjs');

interface Loaded {
  exposed: Map<string, unknown>;
  invoked: { channel: string; args: unknown[] }[];
  listeners: Map<string, Set<(...args: unknown[]) => void>>;
  required: string[];
}

function loadPreload(argv: string[] = ['electron', '--skybridge-version=1.2.3']): Loaded {
  assert.ok(existsSync(PRELOAD), `${PRELOAD} is missing: run npm run build (it compiles electron/tsconfig.json)`);
  const loaded: Loaded = { exposed: new Map(), invoked: [], listeners: new Map(), required: [] };
  const ipcRenderer = {
    invoke: (channel: string, ...args: unknown[]) => {
      loaded.invoked.push({ channel, args });
      return Promise.resolve({ ok: true, value: channel });
    },
    on: (channel: string, listener: (...args: unknown[]) => void) => {
      const set = loaded.listeners.get(channel) ?? new Set();
      set.add(listener);
      loaded.listeners.set(channel, set);
    },
    removeListener: (channel: string, listener: (...args: unknown[]) => void) => {
      loaded.listeners.get(channel)?.delete(listener);
    },
  };
  const contextBridge = { exposeInMainWorld: (key: string, value: unknown) => loaded.exposed.set(key, value) };
  const module = { exports: {} };
  const sandboxRequire = (name: string) => {
    loaded.required.push(name);
    if (name === 'electron') return { contextBridge, ipcRenderer };
    throw new Error(`a sandboxed preload cannot require ${name}`);
  };
  const code = readFileSync(PRELOAD, 'utf8');
  vm.runInNewContext(code, { require: sandboxRequire, module, exports: module.exports, process: { argv, platform: 'linux' } }, { filename: PRELOAD });
  return loaded;
}

type Bridge = {
  version: string;
  platform: string;
  api: Record<string, (input?: unknown) => Promise<unknown>>;
  shell: Record<string, (input?: unknown) => Promise<unknown>>;
  on: (channel: string, listener: (payload: unknown) => void) => () => void;
};

function bridgeOf(loaded: Loaded): Bridge {
  assert.deepEqual([...loaded.exposed.keys()], ['skybridge'], 'the preload must expose window.skybridge and nothing else');
  return loaded.exposed.get('skybridge') as Bridge;
}

describe('preload', () => {
  it('requires nothing but electron', () => {
    assert.deepEqual([...new Set(loadPreload().required)], ['electron']);
  });

  it('has one function per channel of IPC_CHANNELS, no more, no fewer', () => {
    const bridge = bridgeOf(loadPreload());
    const exposedChannels = [...Object.keys(bridge.api).map((m) => `api:${m}`), ...Object.keys(bridge.shell).map((n) => `shell:${n}`)];
    assert.deepEqual(exposedChannels, [...IPC_CHANNELS], 'the preload channel list has drifted from shared/ipc.ts');
    assert.equal(Object.keys(bridge.api).length, API_METHODS.length);
    assert.equal(Object.keys(bridge.shell).length, SHELL_CHANNELS.length);
  });

  it('calls each channel by its fixed name with the one input given', async () => {
    const loaded = loadPreload();
    const bridge = bridgeOf(loaded);
    for (const channel of IPC_CHANNELS) {
      const [prefix, name] = channel.split(':') as ['api' | 'shell', string];
      const fn = bridge[prefix][name];
      assert.ok(fn, channel);
      assert.deepEqual(await fn({ probe: channel }), { ok: true, value: channel });
    }
    assert.deepEqual(
      loaded.invoked,
      IPC_CHANNELS.map((channel) => ({ channel, args: [{ probe: channel }] })),
    );
    loaded.invoked.length = 0;
    await bridge.api.dashboard?.();
    // JSON round trip: the {} is made inside the preload's realm, with its own Object.prototype.
    assert.deepEqual(JSON.parse(JSON.stringify(loaded.invoked)), [{ channel: 'api:dashboard', args: [{}] }], 'a call without input must send {}');
  });

  it('exposes only plain values and functions: no ipcRenderer, no generic invoke or send', () => {
    const bridge = bridgeOf(loadPreload());
    assert.deepEqual(Object.keys(bridge).sort(), ['api', 'on', 'platform', 'shell', 'version']);
    assert.equal(bridge.version, '1.2.3');
    assert.equal(bridge.platform, 'linux');
    assert.ok(Object.isFrozen(bridge) && Object.isFrozen(bridge.api) && Object.isFrozen(bridge.shell));
    const reachable = JSON.stringify(Object.keys(bridge.api)) + JSON.stringify(Object.keys(bridge.shell));
    assert.doesNotMatch(reachable, /invoke|send|ipcRenderer/);
    assert.equal(bridgeOf(loadPreload(['electron', '--skybridge-version=<script>'])).version, 'unknown');
  });

  it('subscribes only to the event channels, hands over the payload alone, and unsubscribes', () => {
    const loaded = loadPreload();
    const bridge = bridgeOf(loaded);
    assert.deepEqual(Object.keys(IPC_EVENT_CHANNELS), ['event:agent', 'event:shell']);
    const got: unknown[] = [];
    const off = bridge.on('event:agent', (payload) => got.push(payload));
    const relay = [...(loaded.listeners.get('event:agent') ?? [])][0];
    assert.ok(relay);
    relay({ sender: 'the IpcRendererEvent' }, { type: 'config-reloaded', at: 'now' });
    assert.deepEqual(got, [{ type: 'config-reloaded', at: 'now' }], 'the page must get the payload, never the event (its sender is ipcRenderer)');
    off();
    assert.equal(loaded.listeners.get('event:agent')?.size, 0);

    // The TypeError comes from the preload's realm, so match it by name, not instanceof.
    const typeError = (e: unknown) => (e as Error).name === 'TypeError';
    for (const channel of ['api:dashboard', 'shell:getState', 'electron-store-get-data', 'ELECTRON_BROWSER_WINDOW_ALERT']) {
      assert.throws(() => bridge.on(channel, () => {}), typeError, channel);
    }
    assert.throws(() => bridge.on('event:shell', 'not a function' as never), typeError);
    assert.equal(loaded.listeners.get('event:shell'), undefined, 'a refused subscription was registered');
  });
});
