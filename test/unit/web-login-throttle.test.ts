import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoginThrottle } from '../../electron/agent/web/login-throttle.js';
import { signInDraft } from '../../electron/agent/web/admin-audit.js';

function clock(start = 1_700_000_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

test('each failure from an address doubles its wait (1 s, 2 s, 4 s …); attempts during the wait are refused with the time left', () => {
  const c = clock();
  const t = new LoginThrottle({ now: c.now });
  const ip = '192.0.2.7';
  assert.deepEqual(t.check(ip), { allowed: true });
  const waits: number[] = [];
  for (let i = 0; i < 4; i++) {
    const { waitMs } = t.failure(ip);
    waits.push(waitMs);
    const refused = t.check(ip);
    assert.equal(refused.allowed, false);
    assert.equal(!refused.allowed && refused.retryAfterMs, waitMs);
    c.advance(waitMs - 1);
    assert.equal(t.check(ip).allowed, false, 'still refused 1 ms before the wait ends');
    c.advance(1);
    assert.deepEqual(t.check(ip), { allowed: true });
  }
  assert.deepEqual(waits, [1000, 2000, 4000, 8000]);
});

test('the wait per address is capped', () => {
  const c = clock();
  const t = new LoginThrottle({ now: c.now, maxMs: 30_000, globalFree: 1000 });
  let last = 0;
  for (let i = 0; i < 12; i++) {
    last = t.failure('198.51.100.1').waitMs;
    c.advance(last);
  }
  assert.equal(last, 30_000);
});

test('a refusal is reported once per wait, so hammering cannot flood the audit log', () => {
  const c = clock();
  const t = new LoginThrottle({ now: c.now });
  t.failure('a');
  const first = t.check('a');
  const second = t.check('a');
  assert.equal(!first.allowed && first.firstRefusal, true);
  assert.equal(!second.allowed && second.firstRefusal, false);
  c.advance(1000);
  t.failure('a');
  const third = t.check('a');
  assert.equal(!third.allowed && third.firstRefusal, true, 'a new wait is reported again');
});

test('other addresses are unaffected until failures from everywhere pass the global allowance; then everyone waits, briefly', () => {
  const c = clock();
  const t = new LoginThrottle({ now: c.now, globalFree: 3, globalMaxMs: 10_000 });
  t.failure('10.0.0.1');
  t.failure('10.0.0.2');
  t.failure('10.0.0.3');
  assert.deepEqual(t.check('10.0.0.99'), { allowed: true }, 'three failures elsewhere do not slow a new address');
  t.failure('10.0.0.4');
  const refused = t.check('10.0.0.99');
  assert.equal(refused.allowed, false, 'the fourth failure starts the global wait');
  assert.equal(!refused.allowed && refused.scope, 'global');
  assert.equal(!refused.allowed && refused.retryAfterMs, 1000);
  for (let i = 0; i < 10; i++) t.failure(`10.1.0.${i}`);
  const capped = t.check('10.0.0.99');
  assert.equal(!capped.allowed && capped.retryAfterMs, 10_000, 'the global wait is capped low, since it also keeps the real admin out');
});

test('a success clears its address; old failures are forgotten after a quiet period', () => {
  const c = clock();
  const t = new LoginThrottle({ now: c.now, forgetAfterMs: 15 * 60_000 });
  t.failure('a');
  c.advance(1000);
  t.failure('a');
  c.advance(2000);
  t.success('a');
  assert.equal(t.failuresOf('a'), 0);
  assert.equal(t.failure('a').waitMs, 1000, 'back to the first step after a success');

  t.failure('b');
  c.advance(1000);
  t.failure('b');
  c.advance(15 * 60_000);
  assert.equal(t.failuresOf('b'), 0);
  assert.equal(t.globalFailures(), 0);
});

test('memory is bounded: only so many addresses are tracked', () => {
  const c = clock();
  const t = new LoginThrottle({ now: c.now, maxTracked: 100, globalFree: 1e9 });
  for (let i = 0; i < 1000; i++) t.failure(`172.16.${i >> 8}.${i & 255}`);
  let tracked = 0;
  for (let i = 0; i < 1000; i++) if (t.failuresOf(`172.16.${i >> 8}.${i & 255}`) > 0) tracked++;
  assert.ok(tracked <= 100, `${tracked} addresses tracked`);
  assert.equal(t.failuresOf('172.16.3.231'), 1, 'the newest is kept');
});

test('audit entries for sign-ins name the user and address and never a password', () => {
  const drafts = [
    signInDraft({ kind: 'signed-in', user: 'admin', address: '127.0.0.1', mustChangePassword: true }),
    signInDraft({ kind: 'wrong-password', user: 'admin', address: '127.0.0.1', waitMs: 2000 }),
    signInDraft({ kind: 'throttled', user: 'admin', address: '127.0.0.1', retryAfterMs: 1500, scope: 'address' }),
  ];
  assert.deepEqual(
    drafts.map((d) => [d.type, d.outcome, d.actor]),
    [
      ['admin-login', 'success', { kind: 'local-admin', user: 'admin', via: 'api' }],
      ['admin-login', 'failure', { kind: 'local-admin', user: 'admin', via: 'api' }],
      ['admin-login', 'denied', { kind: 'local-admin', user: 'admin', via: 'api' }],
    ],
  );
  assert.match(drafts[1]!.reason!, /next attempt from this address in 2 s/);
  for (const d of drafts) assert.ok(!/password"?\s*:/i.test(JSON.stringify(d)), 'no password field');
});
