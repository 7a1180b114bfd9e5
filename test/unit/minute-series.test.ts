import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TrafficRecord } from '../../shared/evidence.js';
import { MinuteSeries } from '../../electron/agent/traffic/minute-series.js';
import { TrafficMonitor } from '../../electron/agent/traffic/monitor.js';

const T0 = Date.UTC(2025, 5, 1, 12, 0, 0);
const MIN = 60_000;

function rec(atMs: number, over: Partial<TrafficRecord> = {}): TrafficRecord {
  return {
    at: new Date(atMs).toISOString(),
    subaccountId: 'acme',
    requestId: 'r',
    app: 'billing',
    method: 'GET',
    virtualHost: 'erp.virtual',
    virtualPort: 443,
    path: '/api/x',
    status: 200,
    outcome: 'allowed',
    durationMs: 3,
    bytesIn: 10,
    bytesOut: 100,
    ...over,
  };
}

test('the window is the last 30 minutes, oldest first, one sample per minute with zeros for quiet ones', () => {
  const s = new MinuteSeries();
  s.record(rec(T0 + 5_000));
  s.record(rec(T0 + 59_999));
  s.record(rec(T0 + 2 * MIN + 1));
  const w = s.window('acme', T0 + 2 * MIN + 30_000);
  assert.equal(w.length, 30);
  assert.equal(w[29]!.minute, new Date(T0 + 2 * MIN).toISOString(), 'the last sample is the current minute');
  assert.equal(w[0]!.minute, new Date(T0 - 27 * MIN).toISOString());
  assert.deepEqual(
    w.slice(27).map((m) => m.requests),
    [2, 0, 1],
  );
  assert.ok(w.slice(0, 27).every((m) => m.requests === 0 && m.bytesIn === 0));
});

test('errors (5xx or a connector failure), denials and bytes are counted per minute', () => {
  const s = new MinuteSeries();
  s.record(rec(T0, { status: 502, outcome: 'error', bytesIn: 1, bytesOut: 2 }));
  s.record(rec(T0, { status: 503, outcome: 'allowed', bytesIn: 1, bytesOut: 2 }));
  s.record(rec(T0, { status: 403, outcome: 'denied', bytesIn: 0, bytesOut: 0 }));
  s.record(rec(T0, { status: 0, outcome: 'error', bytesIn: 5, bytesOut: 7, method: 'CONNECT', kind: 'tcp' }));
  const last = s.window('acme', T0).at(-1)!;
  assert.deepEqual(
    { requests: last.requests, errors: last.errors, denied: last.denied, bytesIn: last.bytesIn, bytesOut: last.bytesOut },
    { requests: 4, errors: 3, denied: 1, bytesIn: 7, bytesOut: 11 },
  );
});

test('minutes older than the window drop out, and a reused slot starts from zero', () => {
  const s = new MinuteSeries();
  s.record(rec(T0));
  s.record(rec(T0));
  // 30 minutes later the same slot holds the new minute only.
  s.record(rec(T0 + 30 * MIN));
  const w = s.window('acme', T0 + 30 * MIN);
  assert.equal(w.reduce((n, m) => n + m.requests, 0), 1);
  assert.equal(w.at(-1)!.requests, 1);
  // Looking far ahead, nothing is left.
  assert.equal(s.window('acme', T0 + 120 * MIN).reduce((n, m) => n + m.requests, 0), 0);
});

test('a late record from a minute whose slot a newer minute holds is not added to the newer one', () => {
  const s = new MinuteSeries();
  s.record(rec(T0 + 30 * MIN));
  s.record(rec(T0)); // same slot, 30 minutes older
  const w = s.window('acme', T0 + 30 * MIN);
  assert.equal(w.at(-1)!.requests, 1);
});

test('each subaccount has its own series; an unknown one is all zeros', () => {
  const s = new MinuteSeries();
  s.record(rec(T0, { subaccountId: 'acme' }));
  s.record(rec(T0, { subaccountId: 'beta' }));
  s.record(rec(T0, { subaccountId: 'beta' }));
  assert.equal(s.window('acme', T0).at(-1)!.requests, 1);
  assert.equal(s.window('beta', T0).at(-1)!.requests, 2);
  assert.equal(s.window('gamma', T0).length, 30);
  assert.equal(s.window('gamma', T0).reduce((n, m) => n + m.requests, 0), 0);
});

test('the traffic monitor feeds the series with every request and connection it records, but not with restored history', () => {
  const now = Date.now();
  const m = new TrafficMonitor(10);
  m.restore([rec(now - 1000), rec(now - 2000)]);
  for (let i = 0; i < 25; i++) m.record(rec(now, { outcome: i < 5 ? 'denied' : 'allowed', status: i < 5 ? 403 : 200 }));
  const last = m.minutes.window('acme', now).at(-1)!;
  assert.equal(last.requests, 25, 'every record counts, beyond the ring of 10 recent ones');
  assert.equal(last.denied, 5);
});
