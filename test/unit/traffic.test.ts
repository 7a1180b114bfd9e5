import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { agentConfigSchema } from '../../shared/config.js';
import type { TrafficRecord } from '../../shared/evidence.js';
import { bucketLabels, bucketOf } from '../../electron/agent/traffic/histogram.js';
import { TrafficMonitor } from '../../electron/agent/traffic/monitor.js';
import { UsageStore } from '../../electron/agent/traffic/usage.js';

let n = 0;
function rec(over: Partial<TrafficRecord> = {}): TrafficRecord {
  n += 1;
  return {
    at: new Date(Date.UTC(2025, 0, 1, 0, 0, n)).toISOString(),
    subaccountId: 'acme',
    requestId: `r${n}`,
    app: 'billing',
    method: 'GET',
    virtualHost: 'erp.virtual',
    virtualPort: 443,
    path: `/api/orders/${n}`,
    status: 200,
    outcome: 'allowed',
    durationMs: 5,
    internalHost: '10.0.0.5',
    internalPort: 8080,
    resource: '/api',
    bytesIn: 10,
    bytesOut: 100,
    timing: { relayMs: 0.2, tunnelMs: 0.5, connectMs: 1, backendMs: 3, totalMs: 5.7 },
    ...over,
  };
}

test('latency buckets run from 10 ms to over 5 s', () => {
  assert.equal(bucketOf(0.3), 0);
  assert.equal(bucketOf(10), 0);
  assert.equal(bucketOf(10.01), 1);
  assert.equal(bucketOf(5000), 8);
  assert.equal(bucketOf(5001), 9);
  assert.deepEqual(bucketLabels(), ['≤10 ms', '≤25 ms', '≤50 ms', '≤100 ms', '≤250 ms', '≤500 ms', '≤1 s', '≤2.5 s', '≤5 s', '>5 s']);
});

test('the recent history keeps the last N, newest first, and filters', () => {
  const m = new TrafficMonitor(1000);
  for (let i = 0; i < 1200; i++) m.record(rec({ status: i % 10 === 0 ? 502 : 200, outcome: i % 10 === 0 ? 'error' : 'allowed', app: i % 2 ? 'billing' : 'hr' }));
  const all = m.recent();
  assert.equal(all.length, 1000, 'bounded to the capacity');
  assert.ok(all[0]!.at > all[999]!.at, 'newest first');
  assert.equal(m.recent({ status: 5 }).length, 100);
  assert.ok(m.recent({ status: 5 }).every((r) => r.status === 502));
  assert.ok(m.recent({ app: 'hr', limit: 7 }).every((r) => r.app === 'hr'));
  assert.equal(m.recent({ app: 'hr', limit: 7 }).length, 7);
  assert.equal(m.recent({ text: '/api/orders/1200' }).length, 1);
  assert.equal(m.recent({ system: 'other.virtual:80' }).length, 0);
});

test('aggregates per system and resource count, split errors, sum bytes, fill the histogram and rank time consumers', () => {
  const m = new TrafficMonitor(100);
  m.record(rec({ timing: { totalMs: 4 } }));
  m.record(rec({ timing: { totalMs: 300 } }));
  m.record(rec({ timing: { totalMs: 7000 }, status: 504, outcome: 'error' }));
  m.record(rec({ resource: '/reports', timing: { totalMs: 9000 } }));
  m.record(rec({ outcome: 'denied', status: 403, resource: undefined, internalHost: undefined, timing: { totalMs: 1 } }));
  const s = m.stats();
  assert.equal(s.systems.length, 1);
  const sys = s.systems[0]!;
  assert.equal(sys.count, 5);
  assert.equal(sys.errors, 1);
  assert.equal(sys.denied, 1);
  assert.equal(sys.bytesOut, 500);
  assert.deepEqual(sys.histogram, [2, 0, 0, 0, 0, 1, 0, 0, 0, 2]);
  const api = s.resources.find((r) => r.resource === '/api')!;
  assert.equal(api.count, 3);
  assert.equal(s.topConsumers[0]!.resource, '/reports', 'the resource with the most total time comes first');
  assert.equal(s.slowest[0]!.timing!.totalMs, 9000);
});

test('usage statistics survive a restart and show mappings nobody used', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skybridge-usage-'));
  const cfg = agentConfigSchema.parse({
    subaccounts: [
      {
        id: 'acme',
        relayUrl: 'https://relay.example',
        tenantId: 't',
        connectorId: 'c',
        systems: [
          { virtualHost: 'erp.virtual', virtualPort: 443, internalHost: '10.0.0.5', internalPort: 8080, protocol: 'http', resources: [{ path: '/api', subPaths: true }, { path: '/unused' }] },
          { virtualHost: 'idle.virtual', virtualPort: 80, internalHost: '10.0.0.6', internalPort: 80, protocol: 'http' },
        ],
      },
    ],
  });
  const first = UsageStore.load(dir);
  first.record(rec());
  first.record(rec({ bytesIn: 5, bytesOut: 7 }));
  await first.save();
  const again = UsageStore.load(dir);
  const rows = again.rows(cfg);
  const api = rows.find((r) => r.system === 'erp.virtual:443' && r.resource === '/api')!;
  assert.equal(api.calls, 2);
  assert.equal(api.bytesIn, 15);
  assert.ok(api.lastAccess);
  const unused = rows.filter((r) => r.calls === 0).map((r) => `${r.system}${r.resource ?? ''}`);
  assert.deepEqual(unused.sort(), ['erp.virtual:443/unused', 'idle.virtual:80']);
});
