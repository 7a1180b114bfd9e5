import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../common/logger.js';
import { agentConfigSchema, type AgentConfig } from '../../shared/config.js';
import type { AgentEvent } from '../../shared/api.js';
import { noteAdminChange } from '../../electron/agent/audit/actor.js';
import { diffConfigs, maskSecrets, MASK } from '../../electron/agent/audit/config-diff.js';
import { AuditLog } from '../../electron/agent/audit/log.js';
import { queryAudit } from '../../electron/agent/audit/query.js';
import { AuditRecorder } from '../../electron/agent/audit/recorder.js';

type RequestEvent = Extract<AgentEvent, { type: 'request' }>;

function config(level: 'security' | 'all' | 'off', internalPort = 8080): AgentConfig {
  return agentConfigSchema.parse({
    subaccounts: [
      {
        id: 'acme',
        relayUrl: 'https://relay.example',
        tenantId: 't-1',
        connectorId: 'c-1',
        audit: level,
        systems: [{ virtualHost: 'erp.virtual', virtualPort: 443, internalHost: '10.0.0.5', internalPort, protocol: 'http', resources: [{ path: '/api', subPaths: true }] }],
      },
    ],
  });
}

function request(outcome: RequestEvent['outcome']): RequestEvent {
  return {
    type: 'request',
    at: new Date().toISOString(),
    subaccountId: 'acme',
    requestId: 'rq-1',
    app: 'billing',
    method: 'GET',
    virtualHost: 'erp.virtual',
    virtualPort: 443,
    path: outcome === 'denied' ? '/admin' : '/api/x',
    status: outcome === 'denied' ? 403 : 200,
    outcome,
    reason: outcome === 'denied' ? 'access denied to system erp.virtual:443: no resource allows /admin' : undefined,
    durationMs: 1,
  };
}

async function withRecorder(level: 'security' | 'all' | 'off', fn: (r: AuditRecorder, dir: string, cfg: { current: AgentConfig }) => Promise<void>) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skybridge-rec-'));
  const cfg = { current: config(level) };
  const log = AuditLog.open(dir, { logger: silentLogger(), retentionDays: () => 0 });
  const r = new AuditRecorder({ dataDir: dir, log, config: () => cfg.current, logger: silentLogger() });
  await fn(r, dir, cfg);
  await log.close();
  return (await queryAudit(dir, {})).map((s) => s.entry);
}

test('level security records denials (before they are answered) but not allowed requests', async () => {
  const entries = await withRecorder('security', async (r) => {
    await r.denial(request('denied'));
    r.onEvent(request('allowed'));
  });
  assert.deepEqual(entries.map((e) => e.type), ['access-denied']);
  const d = entries[0]!;
  assert.deepEqual(d.actor, { kind: 'cloud-app', app: 'billing' });
  assert.equal(d.target.virtual, 'erp.virtual:443');
  assert.equal(d.target.path, '/admin');
  assert.match(d.reason!, /no resource allows \/admin/);
  assert.equal(d.status, 403);
});

test('level all adds every allowed request; level off records nothing for the subaccount', async () => {
  const all = await withRecorder('all', async (r) => {
    await r.denial(request('denied'));
    r.onEvent(request('allowed'));
  });
  assert.deepEqual(all.map((e) => e.type), ['access-denied', 'request']);
  const off = await withRecorder('off', async (r) => {
    await r.denial(request('denied'));
    r.onEvent(request('allowed'));
    r.onEvent({ type: 'subaccount-state', subaccountId: 'acme', status: { state: 'connected', reconnects: 0 } });
  });
  assert.deepEqual(off, []);
});

test('tunnel up and down are recorded once per edge, not for every reconnect attempt', async () => {
  const entries = await withRecorder('security', async (r) => {
    const state = (s: 'connected' | 'reconnecting' | 'connecting', lastError?: string) =>
      r.onEvent({ type: 'subaccount-state', subaccountId: 'acme', status: { state: s, reconnects: 0, ...(lastError ? { lastError } : {}) } });
    state('connecting');
    state('connected');
    state('reconnecting', 'the tunnel to the relay was lost');
    state('reconnecting', 'the relay refused the connection');
    state('connected');
  });
  assert.deepEqual(entries.map((e) => `${e.type}:${e.outcome}`), ['tunnel-connected:success', 'tunnel-disconnected:failure', 'tunnel-connected:success']);
  assert.equal(entries[1]!.reason, 'the tunnel to the relay was lost');
});

test('a configuration change names the administrator, what changed, before and after', async () => {
  const entries = await withRecorder('security', async (r, dir, cfg) => {
    r.started(cfg.current, 'test');
    await new Promise((res) => setTimeout(res, 5));
    noteAdminChange(dir, 'cli', 'alice');
    const before = cfg.current;
    cfg.current = config('security', 9090);
    r.configChanged(before, cfg.current);
  });
  const change = entries.find((e) => e.type === 'config-change')!;
  assert.ok(change, JSON.stringify(entries));
  assert.deepEqual(change.actor, { kind: 'local-admin', user: 'alice', via: 'cli' });
  assert.deepEqual(change.changes, [{ path: 'systems[erp.virtual:443].internalPort', before: 8080, after: 9090 }]);
  assert.equal(change.subaccount, 'acme');
});

test('a change nobody announced is recorded as a hand edit of the file', async () => {
  const entries = await withRecorder('security', async (r, _dir, cfg) => {
    r.started(cfg.current, 'test');
    const before = cfg.current;
    cfg.current = config('all');
    r.configChanged(before, cfg.current);
  });
  const change = entries.find((e) => e.type === 'config-change')!;
  assert.equal(change.actor.kind, 'local-admin');
  assert.equal((change.actor as { via: string }).via, 'file');
  assert.deepEqual(change.changes, [{ path: 'audit', before: 'security', after: 'all' }]);
});

test('diffs mask anything secret, at any depth', () => {
  const masked = maskSecrets({ proxy: { url: 'http://p:3128', password: 'hunter2' }, note: 'Bearer abcdefgh123', token: 'x', nested: [{ keyPem: '-----BEGIN PRIVATE KEY-----\nAAA\n-----END PRIVATE KEY-----' }] });
  assert.deepEqual(masked, { proxy: { url: 'http://p:3128', password: MASK }, note: MASK, token: MASK, nested: [{ keyPem: MASK }] });
  const a = config('security');
  const b = { ...a, subaccounts: [{ ...a.subaccounts[0]!, systems: [] }] };
  const groups = diffConfigs(a, b);
  assert.equal(groups.length, 1);
  assert.equal(groups[0]!.changes[0]!.path, 'systems[erp.virtual:443]');
  assert.equal(groups[0]!.changes[0]!.after, undefined);
});

test('pairing a new subaccount is its own entry type', () => {
  const empty = agentConfigSchema.parse({});
  const groups = diffConfigs(empty, config('security'));
  assert.deepEqual(groups.map((g) => [g.type, g.subaccount]), [['pairing', 'acme']]);
  assert.match(groups[0]!.reason, /paired with https:\/\/relay\.example as connector c-1/);
});

test('switching a subaccount\'s auditing off is itself recorded, and then nothing more', async () => {
  const entries = await withRecorder('security', async (r, _dir, cfg) => {
    const before = cfg.current;
    cfg.current = config('off');
    r.configChanged(before, cfg.current);
    await r.denial(request('denied'));
  });
  assert.deepEqual(entries.map((e) => e.type), ['config-change']);
  assert.deepEqual(entries[0]!.changes, [{ path: 'audit', before: 'security', after: 'off' }]);
});
