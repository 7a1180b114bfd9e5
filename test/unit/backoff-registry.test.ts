import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from '../../common/backoff.js';
import { TunnelRegistry, type LiveTunnel } from '../../relay/tunnel-registry.js';
import type { ClientHttp2Session } from 'node:http2';

test('backoff grows exponentially up to its ceiling, with jitter inside the bounds, and resets', () => {
  const top = new Backoff(500, 30_000, () => 1);
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8].map(() => top.next()), [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  top.reset();
  assert.equal(top.next(), 500);
  const bottom = new Backoff(500, 30_000, () => 0);
  assert.ok([1, 2, 3, 4, 5, 6].every(() => bottom.next() === 500), 'full jitter may retry at the minimum');
  const mid = new Backoff(100, 10_000, () => 0.5);
  for (let i = 0; i < 20; i++) {
    const d = mid.next();
    assert.ok(d >= 100 && d <= 10_000, `delay ${d} within bounds`);
  }
});

function tunnel(connectorId: string, tenantId: string, location: string, destroyed = false): LiveTunnel {
  const session = { destroyed, closed: destroyed } as unknown as ClientHttp2Session;
  return { connectorId, tenantId, location, session, connectedAt: new Date(), remoteAddress: '127.0.0.1:1', agentVersion: 'test' };
}

test('one connector per tenant and location; the same connector replaces its old tunnel', () => {
  const r = new TunnelRegistry();
  const a = tunnel('c-a', 't-1', '');
  assert.deepEqual(r.register(a), { ok: true });
  const other = r.register(tunnel('c-b', 't-1', ''));
  assert.equal(other.ok, false, 'a different connector for the same tenant and location is refused');
  assert.ok(r.register(tunnel('c-b', 't-1', 'berlin')).ok, 'another location is fine');
  assert.ok(r.register(tunnel('c-c', 't-2', '')).ok, 'another tenant is fine');
  const again = tunnel('c-a', 't-1', '');
  const res = r.register(again);
  assert.ok(res.ok && res.replaced === a, 'the same connector coming back replaces its old tunnel');
  assert.equal(r.get('t-1', ''), again);
  r.remove(a);
  assert.equal(r.get('t-1', ''), again, 'removing a replaced tunnel does not drop the new one');
  assert.equal(r.get('t-9', ''), undefined);
});

test('a dead tunnel does not block its location', () => {
  const r = new TunnelRegistry();
  r.register(tunnel('c-a', 't-1', '', true));
  assert.equal(r.get('t-1', ''), undefined);
  assert.ok(r.register(tunnel('c-b', 't-1', '')).ok);
});
