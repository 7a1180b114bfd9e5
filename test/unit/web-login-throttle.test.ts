import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoginThrottle, throttleKey } from '../../electron/agent/web/login-throttle.js';
import { INVALID_USER_PLACEHOLDER, signInDraft } from '../../electron/agent/web/admin-audit.js';
import { signInSchema } from '../../shared/web-api.js';

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

test('parallel attempts from one address: only one is checked at a time, the rest are refused as if it had failed', () => {
  const c = clock();
  const t = new LoginThrottle({ now: c.now });
  const ip = '192.0.2.50';
  const decisions = Array.from({ length: 20 }, () => t.begin(ip));
  const allowed = decisions.filter((d) => d.allowed);
  assert.equal(allowed.length, 1, 'one of 20 parallel attempts is checked');
  const refused = decisions.filter((d) => !d.allowed);
  assert.ok(refused.every((d) => !d.allowed && d.retryAfterMs === 1000 && d.scope === 'address'), 'the refusal names the wait a failure would earn');
  assert.equal(refused.filter((d) => !d.allowed && d.firstRefusal).length, 1, 'reported once');
  const ticket = allowed[0]!;
  assert.ok(ticket.allowed);
  assert.equal(ticket.failed().waitMs, 1000);
  assert.equal(t.begin(ip).allowed, false, 'then the wait applies as before');
  assert.equal(ticket.failed().waitMs, 0, 'settling twice counts once');
  assert.equal(t.failuresOf(ip), 1);
  c.advance(1000);
  const next = t.begin(ip);
  assert.ok(next.allowed);
  next.succeeded();
  assert.equal(t.failuresOf(ip), 0, 'the right password clears the record');
});

test('an attempt that could not be checked (queue full, unreadable account) counts neither way', () => {
  const c = clock();
  const t = new LoginThrottle({ now: c.now });
  const a = t.begin('192.0.2.60');
  assert.ok(a.allowed);
  a.cancel();
  assert.equal(t.failuresOf('192.0.2.60'), 0);
  assert.equal(t.globalFailures(), 0);
  assert.equal(t.begin('192.0.2.60').allowed, true, 'the next attempt may be checked at once');
});

test('past the global allowance, attempts from everywhere are checked one at a time', () => {
  const c = clock();
  const t = new LoginThrottle({ now: c.now, globalFree: 3 });
  const burst = Array.from({ length: 10 }, (_, i) => t.begin(`10.9.0.${i}`));
  assert.equal(burst.filter((d) => d.allowed).length, 3, 'the free allowance, not one per address');
  const refused = burst.find((d) => !d.allowed);
  assert.equal(refused && !refused.allowed && refused.scope, 'global');
  for (const d of burst) if (d.allowed) d.failed();
  c.advance(60_000);
  const one = t.begin('10.9.1.1');
  assert.ok(one.allowed);
  assert.equal(t.begin('10.9.1.2').allowed, false, 'a second address waits while the first is checked');
  one.failed();
});

test('IPv6 clients count by /64; IPv4-mapped IPv6 counts as the IPv4 address', () => {
  assert.equal(throttleKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd'), '2001:db8:1:2::/64');
  assert.equal(throttleKey('2001:DB8:1:2::1'), '2001:db8:1:2::/64');
  assert.equal(throttleKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
  assert.equal(throttleKey('::ffff:192.0.2.1'), '192.0.2.1');
  assert.equal(throttleKey('::ffff:c000:201'), '192.0.2.1');
  assert.equal(throttleKey('192.0.2.1'), '192.0.2.1');
  assert.equal(throttleKey('::1'), '0:0:0:0::/64');

  const c = clock();
  const t = new LoginThrottle({ now: c.now });
  t.failure('2001:db8:1:2::1');
  assert.equal(t.check('2001:db8:1:2:ffff::9').allowed, false, 'another address of the same /64 waits too');
  assert.equal(t.check('2001:db8:1:3::1').allowed, true, 'the next /64 does not');
  t.failure('::ffff:198.51.100.9');
  assert.equal(t.check('198.51.100.9').allowed, false);
});

test('a user name outside the safe set is audited as a placeholder, never as typed', () => {
  const forged = 'x\n2026-01-01T00:00:00Z\t#1\t-\tconfig-change\tadmin root (cli)\tsuccess\t\u001b[31mFAKE';
  for (const kind of ['wrong-password', 'throttled'] as const) {
    const d = kind === 'throttled' ? signInDraft({ kind, user: forged, address: '192.0.2.1', retryAfterMs: 1000, scope: 'address' }) : signInDraft({ kind, user: forged, address: '192.0.2.1', waitMs: 1000 });
    assert.deepEqual(d.actor, { kind: 'local-admin', user: INVALID_USER_PLACEHOLDER, via: 'api' });
  }
  assert.deepEqual(signInDraft({ kind: 'wrong-password', user: 'ops.admin@example-1', address: '192.0.2.1', waitMs: 1 }).actor, { kind: 'local-admin', user: 'ops.admin@example-1', via: 'api' });
  assert.equal(signInSchema.safeParse({ user: forged, password: 'p' }).success, false);
  assert.equal(signInSchema.safeParse({ user: 'a'.repeat(65), password: 'p' }).success, false);
  assert.equal(signInSchema.safeParse({ user: 'ops.admin@example-1', password: 'p' }).success, true);
});
