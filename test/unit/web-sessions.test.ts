import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionStore, clearedSessionCookie, parseActivity, sessionCookie, sessionCookieValue, type EndReason } from '../../electron/agent/web/sessions.js';
import { formatSessionExpiry, parseSessionExpiry } from '../../shared/web-api.js';

const MIN = 60_000;

function clock(start = 1_700_000_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

test('a session lives on a random cookie with its own CSRF token; the cookie is Secure, HttpOnly, SameSite=Strict, host-only', () => {
  const store = new SessionStore();
  const a = store.create('admin', { mustChangePassword: false, generation: 1 });
  const b = store.create('admin', { mustChangePassword: false, generation: 1 });
  assert.match(a.cookieValue, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
  assert.notEqual(a.cookieValue, b.cookieValue);
  assert.notEqual(a.session.csrfToken, b.session.csrfToken);
  assert.notEqual(a.session.key, a.cookieValue, 'the store keys sessions by a hash, not by the bearer value');
  assert.equal(store.get(a.cookieValue, 1), a.session);
  assert.equal(store.get(`${a.cookieValue.slice(0, -1)}A`, 1) ?? store.get('x'.repeat(43), 1), undefined);

  const cookie = sessionCookie(a.cookieValue);
  assert.match(cookie, /^__Host-skybridge-session=/);
  for (const attr of ['Secure', 'HttpOnly', 'SameSite=Strict', 'Path=/']) assert.ok(cookie.split('; ').includes(attr), `cookie has ${attr}`);
  assert.ok(!/Domain=/i.test(cookie), '__Host- cookies carry no Domain');
  assert.match(clearedSessionCookie(), /Max-Age=0/);
});

test('the cookie header parser finds the session cookie among others and ignores junk', () => {
  const v = 'A'.repeat(43);
  assert.equal(sessionCookieValue(`theme=dark; __Host-skybridge-session=${v}; other=1`), v);
  assert.equal(sessionCookieValue('theme=dark'), undefined);
  assert.equal(sessionCookieValue('__Host-skybridge-session=<script>'), undefined);
  assert.equal(sessionCookieValue(undefined), undefined);
});

test('idle expiry: a person\'s activity keeps a session alive, 30 minutes without any ends it', () => {
  const c = clock();
  const store = new SessionStore({ now: c.now });
  const ended: EndReason[] = [];
  store.onEnd((_s, why) => ended.push(why));
  const { cookieValue, session } = store.create('admin', { mustChangePassword: false, generation: 1 });
  c.advance(29 * MIN);
  assert.ok(store.get(cookieValue, 1, 'user'), 'alive after 29 idle minutes (and this use restarts the idle clock)');
  c.advance(29 * MIN);
  assert.ok(store.get(cookieValue, 1, 'user'), 'alive 29 minutes after the last use');
  assert.equal(new Date(store.expiresAt(session)).getTime(), c.now() + 30 * MIN);
  c.advance(30 * MIN);
  assert.equal(store.get(cookieValue, 1), undefined, 'gone after 30 idle minutes');
  assert.deepEqual(ended, ['expired']);
  assert.equal(store.size, 0);
});

test('a tab left open that only polls goes idle: background requests are served but never extend the session', () => {
  const c = clock();
  const store = new SessionStore({ now: c.now });
  const ended: EndReason[] = [];
  store.onEnd((_s, why) => ended.push(why));
  const { cookieValue, session } = store.create('admin', { mustChangePassword: false, generation: 1 });
  c.advance(5 * MIN);
  assert.ok(store.get(cookieValue, 1, 'user'), 'the last thing the person did, 5 minutes in');
  const lastUse = c.now();
  // The dashboard polls every 10 s; every poll is answered while the session lives.
  let polls = 0;
  while (c.now() + 10_000 < lastUse + 30 * MIN) {
    c.advance(10_000);
    assert.ok(store.get(cookieValue, 1, 'background'), `poll at ${(c.now() - lastUse) / 1000} s is served`);
    assert.equal(store.expiresAt(session), lastUse + 30 * MIN, 'and does not move the end');
    polls++;
  }
  assert.ok(polls > 170);
  c.advance(10_000);
  assert.equal(store.get(cookieValue, 1, 'background'), undefined, 'the first poll after 30 minutes without a person finds no session');
  assert.deepEqual(ended, ['expired']);
  // Nor does the default: a caller that says nothing is not a person.
  const other = store.create('admin', { mustChangePassword: false, generation: 1 });
  c.advance(20 * MIN);
  assert.ok(store.get(other.cookieValue, 1));
  c.advance(10 * MIN);
  assert.equal(store.get(other.cookieValue, 1), undefined);
});

test('user activity restarts the idle clock, also when checked first and touched later (after the CSRF check)', () => {
  const c = clock();
  const store = new SessionStore({ now: c.now, idleMs: 10 * MIN });
  const { cookieValue, session } = store.create('admin', { mustChangePassword: false, generation: 1 });
  c.advance(9 * MIN);
  const found = store.get(cookieValue, 1);
  assert.ok(found);
  store.touch(found, 'background');
  assert.equal(store.expiresAt(session), c.now() + MIN, 'background: still one minute left');
  store.touch(found, 'user');
  assert.equal(store.expiresAt(session), c.now() + 10 * MIN, 'user: ten minutes from now');
  c.advance(9 * MIN);
  assert.ok(store.get(cookieValue, 1));

  // An ended session is not brought back by a late touch.
  store.end(session, 'signed-out');
  c.advance(MIN);
  store.touch(session, 'user');
  assert.equal(store.get(cookieValue, 1), undefined);
  assert.equal(store.size, 0);
});

test('the activity header: only exactly "user" counts as a person', () => {
  assert.equal(parseActivity('user'), 'user');
  assert.equal(parseActivity(' User '), 'user');
  for (const v of [undefined, '', 'background', 'users', 'user, user', 'true', ['user', 'user']]) assert.equal(parseActivity(v), 'background', JSON.stringify(v));
});

test('the page is told how long is left and whether activity can postpone it (idle) or not (limit)', () => {
  const c = clock();
  const store = new SessionStore({ now: c.now, idleMs: 30 * MIN, absoluteMs: 60 * MIN });
  const { cookieValue, session } = store.create('admin', { mustChangePassword: false, generation: 1 });
  c.advance(10 * MIN);
  assert.deepEqual(store.remaining(session), { inMs: 20 * MIN, cause: 'idle' });
  c.advance(5 * MIN);
  store.get(cookieValue, 1, 'user');
  assert.deepEqual(store.remaining(session), { inMs: 30 * MIN, cause: 'idle' });
  c.advance(20 * MIN);
  store.get(cookieValue, 1, 'user');
  assert.deepEqual(store.remaining(session), { inMs: 25 * MIN, cause: 'limit' }, 'the absolute limit is nearer than the idle end now');

  const header = formatSessionExpiry(store.remaining(session));
  assert.equal(header, `${25 * MIN}; cause=limit`);
  assert.deepEqual(parseSessionExpiry(header), { inMs: 25 * MIN, cause: 'limit' });
  for (const bad of [undefined, null, '', 'soon', '-5; cause=idle', '5; cause=never', '5']) assert.equal(parseSessionExpiry(bad), undefined, String(bad));
});

test('absolute expiry: even a busy session ends 12 hours after sign-in', () => {
  const c = clock();
  const store = new SessionStore({ now: c.now });
  const { cookieValue } = store.create('admin', { mustChangePassword: false, generation: 1 });
  for (let t = 0; t < 12 * 60 - 10; t += 10) {
    c.advance(10 * MIN);
    assert.ok(store.get(cookieValue, 1, 'user'), `alive at ${t + 10} minutes`);
  }
  c.advance(10 * MIN);
  assert.equal(store.get(cookieValue, 1, 'user'), undefined);
});

test('the sweep ends expired sessions without a request, so their sockets can be closed on time', () => {
  const c = clock();
  const store = new SessionStore({ now: c.now, idleMs: 5 * MIN });
  const ended: string[] = [];
  store.onEnd((s, why) => ended.push(`${s.user}:${why}`));
  store.create('admin', { mustChangePassword: false, generation: 1 });
  c.advance(6 * MIN);
  store.sweep(1);
  assert.deepEqual(ended, ['admin:expired']);
});

test('a password change elsewhere (new generation) ends sessions; rotate gives a fresh id and CSRF token and ends the others', () => {
  const store = new SessionStore();
  const ended: EndReason[] = [];
  store.onEnd((_s, why) => ended.push(why));
  const mine = store.create('admin', { mustChangePassword: true, generation: 1 });
  const other = store.create('admin', { mustChangePassword: false, generation: 1 });
  const rotated = store.rotate(mine.session, 2);
  assert.equal(store.get(mine.cookieValue, 2), undefined, 'the old cookie is dead');
  assert.equal(store.get(other.cookieValue, 2), undefined, 'other sessions of the old password are dead');
  assert.notEqual(rotated.cookieValue, mine.cookieValue);
  assert.notEqual(rotated.session.csrfToken, mine.session.csrfToken);
  assert.equal(rotated.session.mustChangePassword, false);
  assert.ok(store.get(rotated.cookieValue, 2));
  assert.deepEqual(ended.sort(), ['password-changed', 'replaced']);

  // A reset by the CLI bumps the generation: the live session ends at its next use.
  assert.equal(store.get(rotated.cookieValue, 3), undefined);
});

test('CSRF tokens compare exactly', () => {
  const store = new SessionStore();
  const { session } = store.create('admin', { mustChangePassword: false, generation: 1 });
  assert.equal(store.checkCsrf(session, session.csrfToken), true);
  assert.equal(store.checkCsrf(session, undefined), false);
  assert.equal(store.checkCsrf(session, ''), false);
  assert.equal(store.checkCsrf(session, `${session.csrfToken}x`), false);
  assert.equal(store.checkCsrf(session, session.csrfToken.replace(/^./, (ch) => (ch === 'A' ? 'B' : 'A'))), false);
});

test('sign-out ends the session for good', () => {
  const store = new SessionStore();
  const { session, cookieValue } = store.create('admin', { mustChangePassword: false, generation: 1 });
  store.end(session, 'signed-out');
  assert.equal(store.get(cookieValue, 1), undefined);
  assert.equal(store.stillValid(session, 1), false);
});
