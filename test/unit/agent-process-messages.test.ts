import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { handleShellMessage } from '../../electron/agent/api/shell-messages.js';
import { ConfigStore } from '../../electron/agent/config-store.js';
import { createConnectorApi } from '../../electron/agent/connector-api.js';
import { agentToShellSchema, type AgentToShell } from '../../shared/agent-messages.js';
import { forkAgentProcess } from './agent-process-fork.js';
import type { ConnectorApi } from '../../shared/api.js';
import { SkybridgeError, ErrorCode } from '../../shared/errors.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skybridge-agent-msg-'));
  dirs.push(dir);
  return dir;
}

function dataDir(): string {
  const dir = tempDir();
  const sub = {
    id: 'acme',
    relayUrl: 'https://127.0.0.1:1',
    tenantId: 'acme',
    connectorId: 'c-acme',
    enabled: false,
    systems: [{ virtualHost: 'erp.virtual', virtualPort: 443, internalHost: '10.0.0.5', internalPort: 8080, protocol: 'http', resources: [{ path: '/api', subPaths: true }] }],
  };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ version: 1, subaccounts: [sub] }));
  return dir;
}

/** A logger whose lines the test can read. */
function capturingLogger() {
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
  return { logger, lines };
}

/** Feeds one message through the handler and resolves with what it posted back. */
function exchange(api: ConnectorApi, data: unknown): Promise<{ posted: AgentToShell[]; shutdowns: number; logs: string[] }> {
  const posted: AgentToShell[] = [];
  let shutdowns = 0;
  const { logger, lines } = capturingLogger();
  handleShellMessage(data, { api, post: (m) => posted.push(m), shutdown: () => void (shutdowns += 1), logger });
  return new Promise((resolve) => setTimeout(() => resolve({ posted, shutdowns, logs: lines }), 50));
}

function realApi(): ConnectorApi {
  return createConnectorApi({ store: new ConfigStore(dataDir()), statusOf: () => ({ state: 'disconnected', reconnects: 0 }), subscribe: () => () => undefined });
}

/** Only the methods a test needs; anything else is a bug in the handler. */
function fakeApi(methods: Partial<ConnectorApi>): ConnectorApi {
  return methods as ConnectorApi;
}

describe('api-call messages from the desktop shell', () => {
  test('a call gets one api-result with the same id and the value', async () => {
    const { posted } = await exchange(realApi(), { type: 'api-call', id: 7, method: 'listSystems', input: {} });
    assert.equal(posted.length, 1);
    const m = agentToShellSchema.parse(posted[0]);
    assert.ok(m.type === 'api-result');
    assert.deepEqual([m.id, m.ok, m.error], [7, true, undefined]);
    assert.equal((m.value as { virtualHost: string }[])[0]!.virtualHost, 'erp.virtual');
  });

  test('a refused call carries the SkybridgeError code and sentence', async () => {
    const { posted } = await exchange(realApi(), { type: 'api-call', id: 8, method: 'removeSystem', input: { system: 'nope.virtual:1' } });
    assert.deepEqual(posted, [{ type: 'api-result', id: 8, ok: false, error: { code: 'NOT_FOUND', message: 'no system nope.virtual:1 is mapped in subaccount "acme"' } }]);
  });

  test('bad input is INVALID_INPUT naming the field', async () => {
    const { posted } = await exchange(realApi(), { type: 'api-call', id: 9, method: 'setAuditRetention', input: { days: 'ten' } });
    const m = posted[0] as Extract<AgentToShell, { type: 'api-result' }>;
    assert.equal(m.error?.code, 'INVALID_INPUT');
    assert.match(m.error?.message ?? '', /^days: /);
  });

  test('unknown methods, including ones every object has, are refused without calling anything', async () => {
    for (const method of ['deleteEverything', 'subscribe', 'constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const { posted } = await exchange(realApi(), { type: 'api-call', id: 10, method, input: {} });
      assert.equal(posted.length, 1, method);
      const m = posted[0] as Extract<AgentToShell, { type: 'api-result' }>;
      assert.deepEqual([m.ok, m.error?.code], [false, 'NOT_FOUND'], method);
      assert.match(m.error?.message ?? '', /has no API method/);
    }
  });

  test('an unexpected failure is INTERNAL with a fixed sentence: no stack, path or secret reaches the shell, the log has it', async () => {
    const api = fakeApi({
      listSubaccounts: () => Promise.reject(new Error('EACCES: open /secret/path/key.pem with password hunter2')),
    });
    const { posted, logs } = await exchange(api, { type: 'api-call', id: 11, method: 'listSubaccounts', input: {} });
    assert.deepEqual(posted, [{ type: 'api-result', id: 11, ok: false, error: { code: 'INTERNAL', message: 'The connector could not complete listSubaccounts; its log has the details.' } }]);
    assert.ok(logs.some((l) => l.includes('hunter2') && l.includes('API call failed')), 'the details are in the agent log');
  });

  test('the value carries only what the contract allows: extra fields are dropped', async () => {
    const api = fakeApi({
      getSettings: async () => ({ auditRetentionDays: 5, subaccounts: [{ id: 'a', name: 'A', audit: 'all' as const, keyPem: '-----BEGIN PRIVATE KEY-----' }] }),
    });
    const { posted } = await exchange(api, { type: 'api-call', id: 12, method: 'getSettings', input: {} });
    const m = posted[0] as Extract<AgentToShell, { type: 'api-result' }>;
    assert.equal(m.ok, true);
    assert.ok(!JSON.stringify(m.value).includes('PRIVATE KEY'));
    assert.deepEqual(m.value, { auditRetentionDays: 5, subaccounts: [{ id: 'a', name: 'A', audit: 'all' }] });
  });

  test('a result that breaks its own contract is INTERNAL, not passed on', async () => {
    const api = fakeApi({ getSettings: async () => ({ auditRetentionDays: 'many' }) as never });
    const { posted } = await exchange(api, { type: 'api-call', id: 13, method: 'getSettings', input: {} });
    assert.equal((posted[0] as Extract<AgentToShell, { type: 'api-result' }>).error?.code, 'INTERNAL');
  });

  test('a SkybridgeError thrown by a method keeps its code', async () => {
    const api = fakeApi({ dashboard: () => Promise.reject(new SkybridgeError(ErrorCode.AgentNotRunning, 'not now')) });
    const { posted } = await exchange(api, { type: 'api-call', id: 14, method: 'dashboard', input: {} });
    assert.deepEqual((posted[0] as Extract<AgentToShell, { type: 'api-result' }>).error, { code: 'AGENT_NOT_RUNNING', message: 'not now' });
  });

  test('a malformed call with an id still gets its one answer; one without an id is logged and dropped', async () => {
    let r = await exchange(realApi(), { type: 'api-call', id: 15, method: 42 });
    assert.deepEqual(r.posted.map((m) => [m.type, (m as { id?: number }).id, (m as { error?: { code: string } }).error?.code]), [['api-result', 15, 'INVALID_INPUT']]);
    r = await exchange(realApi(), { type: 'api-call', method: 'listSystems' });
    assert.deepEqual(r.posted, []);
    assert.ok(r.logs.some((l) => l.includes('malformed message')));
    r = await exchange(realApi(), 'not even an object');
    assert.deepEqual(r.posted, []);
  });

  test('shutdown stops the agent and answers nothing', async () => {
    const r = await exchange(realApi(), { type: 'shutdown' });
    assert.equal(r.shutdowns, 1);
    assert.deepEqual(r.posted, []);
  });
});

describe('agent-process.js over a parent port', () => {
  test('reports ready, answers calls by id, pushes events and exits 0 on shutdown', { timeout: 30_000 }, async () => {
    const dir = dataDir();
    const { child, messages, exited, waitFor } = forkAgentProcess(dir);
    try {
      const ready = await waitFor(() => messages.find((m) => m.type === 'agent-ready'), 'agent-ready');
      assert.equal((ready as { pid: number }).pid, child.pid);

      child.send({ type: 'api-call', id: 1, method: 'listSubaccounts', input: {} });
      child.send({ type: 'api-call', id: 2, method: 'noSuchMethod', input: {} });
      child.send({ type: 'api-call', id: 3, method: 'setAuditRetention', input: { days: 12 } });
      const results = await waitFor(() => {
        const r = messages.filter((m): m is Extract<AgentToShell, { type: 'api-result' }> => m.type === 'api-result');
        return r.length >= 3 ? r : undefined;
      }, 'three api-results');
      const byId = new Map(results.map((r) => [r.id, r]));
      assert.equal(byId.get(1)!.ok, true);
      assert.equal((byId.get(1)!.value as { id: string }[])[0]!.id, 'acme');
      assert.equal(byId.get(2)!.error?.code, 'NOT_FOUND');
      assert.equal(byId.get(3)!.ok, true);
      // The agent reloads its own change and says so as an event.
      await waitFor(() => messages.find((m) => m.type === 'agent-event' && m.event.type === 'config-reloaded'), 'a config-reloaded event');
      assert.equal(new ConfigStore(dir).load().audit?.retentionDays, 12);

      child.send({ type: 'shutdown' });
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
