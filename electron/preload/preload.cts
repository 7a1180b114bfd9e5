/**
 * The only bridge between the sandboxed UI and the shell. It puts `window.skybridge` on the
 * page: one function per IPC channel, each bound to its fixed channel name, and `on()` for the
 * two event channels. Never ipcRenderer itself, and no generic invoke: a compromised page can
 * call nothing that is not on the list, and main validates every payload anyway.
 *
 * Sandboxed preloads are CommonJS and may require only 'electron' (hence .cts), so the channel
 * list cannot be imported from shared/ipc.ts and is written out here; a unit test
 * (test/unit/electron-preload.test.ts) runs this file and compares it with IPC_CHANNELS.
 */
import { contextBridge, ipcRenderer } from 'electron';
import type { IpcChannel, IpcEventChannel } from '../../shared/ipc.js';

// Keep in step with VERSION_ARG_PREFIX in electron/main/web-security.ts.
const VERSION_ARG_PREFIX = '--skybridge-version=';

// Keep in step with IPC_CHANNELS in shared/ipc.ts (same order); the unit test fails otherwise.
const CHANNELS = [
  'api:listSubaccounts',
  'api:listSystems',
  'api:addSystem',
  'api:updateSystem',
  'api:removeSystem',
  'api:addResource',
  'api:removeResource',
  'api:updateResource',
  'api:checkAvailability',
  'api:testAccess',
  'api:importCaCertificate',
  'api:pairSubaccount',
  'api:certificateDetails',
  'api:renewCertificate',
  'api:dashboard',
  'api:getSettings',
  'api:setAuditLevel',
  'api:setAuditRetention',
  'api:setSubaccountEnabled',
  'api:removeSubaccount',
  'api:listAudit',
  'api:verifyAudit',
  'api:recentTraffic',
  'api:trafficStats',
  'api:usageStats',
  'api:exportSupportBundle',
  'shell:getState',
  'shell:getSettings',
  'shell:setSettings',
  'shell:exportBundle',
  'shell:showItemInFolder',
] as const satisfies readonly IpcChannel[];

const EVENT_CHANNELS: ReadonlySet<string> = new Set(['event:agent', 'event:shell'] satisfies IpcEventChannel[]);

type Invoker = (input?: unknown) => Promise<unknown>;

function invoker(channel: string): Invoker {
  // Calls that take no input may be written api.dashboard(); main still gets the one object it expects.
  return (input) => ipcRenderer.invoke(channel, input === undefined ? {} : input);
}

function group(prefix: 'api:' | 'shell:'): Record<string, Invoker> {
  const out: Record<string, Invoker> = {};
  for (const channel of CHANNELS) if (channel.startsWith(prefix)) out[channel.slice(prefix.length)] = invoker(channel);
  return Object.freeze(out);
}

function on(channel: string, listener: (payload: unknown) => void): () => void {
  if (!EVENT_CHANNELS.has(channel)) throw new TypeError(`skybridge.on: unknown event channel ${String(channel)}`);
  if (typeof listener !== 'function') throw new TypeError('skybridge.on: the listener must be a function');
  // The page gets the payload only, never the IpcRendererEvent (its `sender` is ipcRenderer).
  const relay = (_event: unknown, payload: unknown) => listener(payload);
  ipcRenderer.on(channel, relay);
  return () => {
    ipcRenderer.removeListener(channel, relay);
  };
}

const versionArg = process.argv.find((arg) => arg.startsWith(VERSION_ARG_PREFIX));
const version = versionArg?.slice(VERSION_ARG_PREFIX.length) ?? '';

const bridge = {
  version: /^\d+\.\d+\.\d+[\w.+-]*$/.test(version) ? version : 'unknown',
  platform: process.platform,
  api: group('api:'),
  shell: group('shell:'),
  on,
};

// Shaped as DesktopBridge (shared/ipc.ts); contextBridge copies it, so the page cannot change what main sees.
contextBridge.exposeInMainWorld('skybridge', Object.freeze(bridge));
