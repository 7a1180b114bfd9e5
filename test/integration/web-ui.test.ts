/**
 * The headless UI against a real agent process (`skybridge agent start --ui-port`), a real
 * relay and back end, real curl and node's https/ws clients: sign-in and the forced password
 * change, CSRF and Origin checks, throttling and its audit, the live event socket, session
 * expiry, static files with their security headers, traversal, and bundle export/download.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import WebSocket from 'ws';
import {
  REPO_ROOT,
  cleanupAll,
  cliOk,
  curl,
  freePort,
  header,
  setupSite,
  sleep,
  spawnCli,
  tempDir,
  waitAgentState,
  waitFor,
  type Child,
  type Site,
} from './harness.js';

interface Ui {
  child: Child;
  dataDir: string;
  port: number;
  origin: string;
  ca: string;
  certFile: string;
  initialPassword: string;
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

const RENDERER_INDEX = path.join(REPO_ROOT, 'dist', 'renderer', 'index.html');

/** `agent start --ui-port` and what it printed; resolves once the UI line is out. */
async function startUi(dataDir: string, extra: string[] = []): Promise<Ui> {
  const port = await freePort();
  const child = spawnCli('agent-ui', ['agent', 'start', '--data-dir', dataDir, '--ui-port', String(port), ...extra]);
  const certFile = path.join(dataDir, 'ui', 'tls.pem');
  const initialFile = path.join(dataDir, 'ui', 'initial-admin-password');
  await waitFor(
    () => {
      child.assertAlive();
      const err = child.stderr();
      // The fingerprint line, then (while the initial password is unchanged) the line saying where it is.
      return /ui: {3}([0-9A-F]{2}:){31}[0-9A-F]{2}\n/.test(err) && (!fs.existsSync(initialFile) || err.includes('ui: the initial password is in'));
    },
    20_000,
    'the UI lines on the console',
  );
  return {
    child,
    dataDir,
    port,
    origin: `https://127.0.0.1:${port}`,
    ca: fs.readFileSync(certFile, 'utf8'),
    certFile,
    initialPassword: fs.existsSync(initialFile) ? fs.readFileSync(initialFile, 'utf8').trim() : '',
  };
}

function request(ui: Ui, method: string, urlPath: string, o: { body?: unknown; rawBody?: string; cookie?: string; csrf?: string; origin?: string | null; headers?: Record<string, string> } = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  const body = o.rawBody ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
  if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
  if (o.cookie) headers.cookie = o.cookie;
  if (o.csrf) headers['x-skybridge-csrf'] = o.csrf;
  const origin = o.origin === undefined ? (method === 'GET' ? null : ui.origin) : o.origin;
  if (origin !== null) headers.origin = origin;
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: ui.port, path: urlPath, method, headers, ca: ui.ca, servername: 'localhost', agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The session cookie pair (`name=value`) from a Set-Cookie header. */
function cookieOf(r: Reply): string {
  const set = r.headers['set-cookie'];
  const line = (Array.isArray(set) ? set : [set ?? '']).find((c) => c.startsWith('__Host-skybridge-session='));
  assert.ok(line, `no session cookie in ${JSON.stringify(set)}`);
  return line.split(';')[0]!;
}

interface Signed {
  cookie: string;
  csrf: string;
}

async function signIn(ui: Ui, password: string): Promise<Signed & { reply: Reply }> {
  const reply = await request(ui, 'POST', '/api/session', { body: { user: 'admin', password } });
  assert.equal(reply.status, 200, reply.text);
  return { cookie: cookieOf(reply), csrf: reply.json.csrfToken as string, reply };
}

function apiCall(ui: Ui, s: Signed, method: string, input: unknown = {}, o: { csrf?: string | null; origin?: string | null; activity?: 'user' | 'background' } = {}): Promise<Reply> {
  const headers: Record<string, string> = o.activity ? { 'x-skybridge-activity': o.activity } : {};
  return request(ui, 'POST', `/api/call/${method}`, { body: input, cookie: s.cookie, csrf: o.csrf === null ? undefined : (o.csrf ?? s.csrf), origin: o.origin, headers });
}

/** The session header of an answer: ms left and what ends it. */
function expiresIn(r: Reply): { inMs: number; cause: string } | undefined {
  const m = /^(\d+); cause=(idle|limit)$/.exec(String(r.headers['x-skybridge-session-expires-in'] ?? ''));
  return m ? { inMs: Number(m[1]), cause: m[2]! } : undefined;
}

/** Signs in to a fresh UI with its initial password and sets NEW_PASSWORD; the session after the change. */
async function firstSignIn(target: Ui): Promise<Signed> {
  const first = await signIn(target, target.initialPassword);
  const changed = await request(target, 'POST', '/api/password', { cookie: first.cookie, csrf: first.csrf, body: { current: target.initialPassword, next: NEW_PASSWORD } });
  assert.equal(changed.status, 200, changed.text);
  return { cookie: cookieOf(changed), csrf: changed.json.csrfToken as string };
}

type WsResult = { ws: WebSocket; messages: unknown[]; closed: Promise<number> } | { status: number };

function openEvents(ui: Ui, o: { cookie?: string; origin?: string | null }): Promise<WsResult> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = o.cookie ? { cookie: o.cookie } : {};
    const ws = new WebSocket(`wss://127.0.0.1:${ui.port}/api/events`, { ca: ui.ca, headers, ...(o.origin === null ? {} : { origin: o.origin ?? ui.origin }) });
    const messages: unknown[] = [];
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    ws.on('message', (data) => messages.push(JSON.parse(String(data))));
    ws.on('open', () => resolve({ ws, messages, closed }));
    ws.on('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      ws.terminate();
    });
    ws.on('error', (err) => reject(err));
  });
}

/** The promise's value, or a failure naming what did not happen within `ms`. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_r, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function curlUi(ui: Ui, urlPath: string, args: string[] = []) {
  return curl(['--cacert', ui.certFile, '--path-as-is', ...args, `https://localhost:${ui.port}${urlPath}`]);
}

async function auditEntries(ui: Ui, s: Signed, types: string[]): Promise<Array<Record<string, unknown>>> {
  const r = await apiCall(ui, s, 'listAudit', { types });
  assert.equal(r.status, 200, r.text);
  return r.json.result as Array<Record<string, unknown>>;
}

let site: Site;
let ui: Ui;
let session: Signed;
const NEW_PASSWORD = 'a much better password 42';
const WRONG_PASSWORD = 'definitely-not-it-123';

before(async () => {
  assert.ok(fs.existsSync(RENDERER_INDEX), `${RENDERER_INDEX} is missing: build the UI first (npm run build:renderer)`);
  site = await setupSite({ noAgent: true });
  ui = await startUi(site.agentDir);
  await waitAgentState(site.agentDir, 'connected', 20_000, ui.child);
});

after(cleanupAll);

test('the console says where the UI is, how to check its certificate and where the first password is, and never prints the password', () => {
  const out = ui.child.stderr() + ui.child.stdout();
  assert.match(out, new RegExp(`ui: https://127\\.0\\.0\\.1:${ui.port}/ \\(sign in as "admin"\\)`));
  const fp = execFileSync('openssl', ['x509', '-in', ui.certFile, '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' }).split('=')[1]!.trim();
  assert.ok(out.includes(`ui:   ${fp}`), `the printed fingerprint is the certificate's (${fp}):\n${out}`);
  assert.ok(out.includes(`ui: the initial password is in ${path.join(ui.dataDir, 'ui', 'initial-admin-password')}`));
  assert.ok(ui.initialPassword.length >= 12);
  assert.ok(!out.includes(ui.initialPassword), 'the password itself is not printed (nor logged)');
  assert.equal(fs.statSync(path.join(ui.dataDir, 'ui', 'initial-admin-password')).mode & 0o777, 0o600);
  assert.equal(fs.statSync(path.join(ui.dataDir, 'ui', 'tls.key')).mode & 0o777, 0o600);
});

test('static files come with the CSP and security headers; / is index.html; unknown names are 404', async () => {
  const r = await curlUi(ui, '/');
  assert.equal(r.status, 200, r.stderr);
  assert.match(header(r, 'content-type') ?? '', /^text\/html/);
  const csp = header(r, 'content-security-policy') ?? '';
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, new RegExp(`connect-src 'self' wss://localhost:${ui.port}(;|$)`));
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(header(r, 'x-content-type-options'), 'nosniff');
  assert.equal(header(r, 'referrer-policy'), 'no-referrer');
  assert.equal(header(r, 'x-frame-options'), 'DENY');
  const html = r.body.toString();
  assert.equal(html, fs.readFileSync(RENDERER_INDEX, 'utf8'));
  const script = /<script[^>]+src="\.?(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  assert.ok(script, 'index.html names its script');
  const js = await curlUi(ui, script);
  assert.equal(js.status, 200);
  assert.match(header(js, 'content-type') ?? '', /^text\/javascript/);
  assert.match(header(js, 'cache-control') ?? '', /immutable/);
  assert.equal((await curlUi(ui, '/assets/')).status, 404, 'no directory listing');
  assert.equal((await curlUi(ui, '/nope.html')).status, 404);
});

test('path traversal is refused, plain and encoded, for pages and API alike', async () => {
  for (const p of ['/../../../../etc/passwd', '/assets/../../../../etc/passwd', '/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/assets/%2E%2E%2F%2E%2E%2Fpackage.json', '/..%5c..%5cpackage.json', '/api/../../etc/passwd', '/api/bundles/..%2f..%2fconfig.json']) {
    const r = await curlUi(ui, p);
    assert.ok(r.status === 400 || r.status === 404, `${p}: status ${r.status}`);
    assert.ok(!/root:|"dependencies"|subaccounts/.test(r.body.toString()), `${p} leaked a file`);
  }
});

test('a foreign Host name (DNS rebinding) gets nothing', async () => {
  const r = await curl(['--cacert', ui.certFile, '--resolve', `evil.example:${ui.port}:127.0.0.1`, '-k', `https://evil.example:${ui.port}/api/session`]);
  assert.equal(r.status, 421);
});

test('the API refuses calls without a session (401), and says so in JSON', async () => {
  const r = await curlUi(ui, '/api/call/listSubaccounts', ['-X', 'POST', '-H', 'content-type: application/json', '-d', '{}']);
  assert.equal(r.status, 401);
  assert.equal(JSON.parse(r.body.toString()).error.code, 'SIGN_IN_REQUIRED');
  assert.equal(header(r, 'cache-control'), 'no-store');
  const info = await request(ui, 'GET', '/api/session');
  assert.deepEqual(info.json, { signedIn: false });
  assert.equal((await curlUi(ui, '/api/bundles/x.zip')).status, 401);
  const ws = await openEvents(ui, {});
  assert.deepEqual(ws, { status: 401 }, 'no live events without a session');
});

test('sign-in with the initial password; until it is changed everything else is refused with 403', async () => {
  const s = await signIn(ui, ui.initialPassword);
  const set = String(s.reply.headers['set-cookie']);
  for (const attr of ['Secure', 'HttpOnly', 'SameSite=Strict', 'Path=/']) assert.ok(set.includes(attr), `cookie has ${attr}: ${set}`);
  assert.equal(s.reply.json.signedIn, true);
  assert.equal(s.reply.json.mustChangePassword, true);
  assert.ok(s.csrf.length >= 32);

  const info = await request(ui, 'GET', '/api/session', { cookie: s.cookie });
  assert.equal(info.json.csrfToken, s.csrf);
  assert.equal(info.json.mustChangePassword, true);

  const call = await apiCall(ui, s, 'listSubaccounts');
  assert.equal(call.status, 403);
  assert.equal(call.json.error.code, 'PASSWORD_CHANGE_REQUIRED');
  assert.match(call.json.error.message, /Change the initial password/);
  assert.equal((await request(ui, 'GET', '/api/bundles/x.zip', { cookie: s.cookie })).status, 403);
  assert.deepEqual(await openEvents(ui, { cookie: s.cookie }), { status: 403 });

  // The password change itself: wrong current, too short, unchanged are refused with reasons.
  const wrong = await request(ui, 'POST', '/api/password', { cookie: s.cookie, csrf: s.csrf, body: { current: 'not-the-password', next: NEW_PASSWORD } });
  assert.equal(wrong.status, 403);
  assert.equal(wrong.json.error.code, 'WRONG_PASSWORD');
  await sleep(1100); // the wrong current password counted as a failure
  const short = await request(ui, 'POST', '/api/password', { cookie: s.cookie, csrf: s.csrf, body: { current: ui.initialPassword, next: 'short' } });
  assert.equal(short.status, 400);
  assert.match(short.json.error.message, /at least 12 characters/);
  const same = await request(ui, 'POST', '/api/password', { cookie: s.cookie, csrf: s.csrf, body: { current: ui.initialPassword, next: ui.initialPassword } });
  assert.equal(same.status, 400);
  assert.match(same.json.error.message, /differ/);
  const noCsrf = await request(ui, 'POST', '/api/password', { cookie: s.cookie, body: { current: ui.initialPassword, next: NEW_PASSWORD } });
  assert.equal(noCsrf.status, 403, 'the password change needs the CSRF token too');

  const changed = await request(ui, 'POST', '/api/password', { cookie: s.cookie, csrf: s.csrf, body: { current: ui.initialPassword, next: NEW_PASSWORD } });
  assert.equal(changed.status, 200, changed.text);
  assert.equal(changed.json.mustChangePassword, false);
  const rotated = cookieOf(changed);
  assert.notEqual(rotated, s.cookie, 'a password change rotates the session');
  assert.notEqual(changed.json.csrfToken, s.csrf);
  assert.equal((await request(ui, 'GET', '/api/session', { cookie: s.cookie })).json.signedIn, false, 'the old session is gone');
  assert.equal(fs.existsSync(path.join(ui.dataDir, 'ui', 'initial-admin-password')), false, 'the initial-password file is removed');
  session = { cookie: rotated, csrf: changed.json.csrfToken as string };

  const list = await apiCall(ui, session, 'listSubaccounts');
  assert.equal(list.status, 200, list.text);
  assert.equal(list.json.result.length, 1);
  assert.equal(list.json.result[0].id, site.subaccountId);
});

test('changes need the session CSRF token and this server\'s Origin; refused ones change nothing', async () => {
  const configFile = path.join(site.agentDir, 'config.json');
  const before = fs.readFileSync(configFile, 'utf8');
  const system = { virtualHost: 'crm.virtual', virtualPort: 443, internalHost: '127.0.0.1', internalPort: site.backend.port, protocol: 'http', hostHeader: 'virtual' };
  const attempts: Array<[string, Reply]> = [
    ['no token', await apiCall(ui, session, 'addSystem', { system }, { csrf: null })],
    ['wrong token', await apiCall(ui, session, 'addSystem', { system }, { csrf: 'x'.repeat(43) })],
    ['foreign Origin', await apiCall(ui, session, 'addSystem', { system }, { origin: 'https://evil.example' })],
    ['no Origin', await apiCall(ui, session, 'addSystem', { system }, { origin: null })],
    ['http Origin', await apiCall(ui, session, 'addSystem', { system }, { origin: `http://127.0.0.1:${ui.port}` })],
  ];
  for (const [what, r] of attempts) {
    assert.equal(r.status, 403, `${what}: ${r.text}`);
    assert.equal(r.json.error.code, 'CSRF_REJECTED', what);
  }
  const formPost = await request(ui, 'POST', '/api/call/addSystem', { cookie: session.cookie, csrf: session.csrf, rawBody: 'system=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  assert.equal(formPost.status, 415, 'only JSON bodies');
  const tooBig = await apiCall(ui, session, 'addSystem', { system: { ...system, description: 'x'.repeat(2 * 1024 * 1024) } });
  assert.equal(tooBig.status, 413);
  const invalid = await apiCall(ui, session, 'addSystem', { system: { ...system, virtualPort: 70000 } });
  assert.equal(invalid.status, 400);
  assert.equal(invalid.json.error.code, 'INVALID_INPUT');
  assert.match(invalid.json.error.message, /virtualPort/);
  const unknown = await apiCall(ui, session, 'dropEverything');
  assert.equal(unknown.status, 404);
  await sleep(300);
  assert.equal(fs.readFileSync(configFile, 'utf8'), before, 'config.json is untouched by refused calls');

  const ok = await apiCall(ui, session, 'addSystem', { system });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json.result.virtualHost, 'crm.virtual');
  assert.match(fs.readFileSync(configFile, 'utf8'), /crm\.virtual/);
  // The agent sees the change and credits it to the UI's admin.
  const entry = await waitFor(
    async () => (await auditEntries(ui, session, ['config-change'])).find((e) => JSON.stringify(e).includes('crm.virtual')),
    10_000,
    'the config-change audit entry for crm.virtual',
  );
  assert.deepEqual(entry.actor, { kind: 'local-admin', user: 'admin', via: 'api' });
});

test('wrong passwords are slowed down, then refused with 429 and Retry-After; every attempt is audited, no password ever', async () => {
  const started = Date.now();
  const first = request(ui, 'POST', '/api/session', { body: { user: 'admin', password: WRONG_PASSWORD } });
  await sleep(400); // the first failure is recorded; its answer is held back for its wait
  const during = await request(ui, 'POST', '/api/session', { body: { user: 'admin', password: NEW_PASSWORD } });
  const failed = await first;
  const took = Date.now() - started;
  assert.equal(failed.status, 401);
  assert.equal(failed.json.error.code, 'WRONG_PASSWORD');
  assert.ok(took >= 900, `the failure was answered after ${took} ms, expected about 1 s`);
  assert.equal(during.status, 429, 'an attempt during the wait is not even checked, even with the right password');
  assert.ok(Number(during.headers['retry-after']) >= 1);
  assert.equal(during.json.error.code, 'TOO_MANY_ATTEMPTS');

  await sleep(1200);
  const second = Date.now();
  assert.equal((await request(ui, 'POST', '/api/session', { body: { user: 'admin', password: WRONG_PASSWORD } })).status, 401);
  assert.ok(Date.now() - second >= 1900, 'the second failure waits about 2 s');
  await sleep(2100);
  const good = await signIn(ui, NEW_PASSWORD);
  assert.equal(good.reply.json.mustChangePassword, false);

  const logins = await waitFor(
    async () => {
      const entries = await auditEntries(ui, session, ['admin-login']);
      return entries.filter((e) => e.outcome === 'failure').length >= 2 && entries.some((e) => e.outcome === 'denied') ? entries : undefined;
    },
    10_000,
    'admin-login entries for the failures and the refusal',
  );
  for (const e of logins) {
    assert.deepEqual(e.actor, { kind: 'local-admin', user: 'admin', via: 'api' });
    assert.equal((e.detail as { address: string }).address, '127.0.0.1');
  }
  assert.ok(logins.filter((e) => e.outcome === 'success').length >= 2, 'the successful sign-ins are there too');
  const onDisk = fs
    .readdirSync(path.join(site.agentDir, 'audit'))
    .filter((f) => f.endsWith('.jsonl'))
    .map((f) => fs.readFileSync(path.join(site.agentDir, 'audit', f), 'utf8'))
    .join('');
  for (const secret of [WRONG_PASSWORD, NEW_PASSWORD, ui.initialPassword]) assert.ok(!onDisk.includes(secret), 'no password in the audit log');
  assert.ok(!ui.child.stderr().includes(WRONG_PASSWORD) && !ui.child.stderr().includes(NEW_PASSWORD), 'no password in the agent log');
});

test('live events over the WebSocket for a signed-in session from this origin only; the socket closes at sign-out', async () => {
  const s = await signIn(ui, NEW_PASSWORD);
  assert.deepEqual(await openEvents(ui, { cookie: s.cookie, origin: 'https://evil.example' }), { status: 403 }, 'a foreign page cannot open the feed');
  assert.deepEqual(await openEvents(ui, { cookie: s.cookie, origin: null }), { status: 403 });
  const feed = await openEvents(ui, { cookie: s.cookie });
  assert.ok('ws' in feed);
  const r = await site.proxyCurl(['http://erp.virtual:443/api/live-event-check']);
  assert.equal(r.status, 200);
  const event = await waitFor(
    () => feed.messages.find((m) => (m as { type: string; path?: string }).type === 'request' && (m as { path: string }).path === '/api/live-event-check'),
    10_000,
    'the request event on the socket',
  );
  assert.equal((event as { outcome: string }).outcome, 'allowed');

  const out = await request(ui, 'DELETE', '/api/session', { cookie: s.cookie, csrf: s.csrf });
  assert.equal(out.status, 200);
  assert.match(String(out.headers['set-cookie']), /Max-Age=0/);
  assert.equal(await within(feed.closed, 5000, 'the socket closing at sign-out'), 4001, 'the socket closes when its session ends');
  assert.equal((await apiCall(ui, s, 'listSubaccounts')).status, 401, 'signed out means signed out');
});

test('support bundle: exported into the data dir under a bare name, downloaded by signed-in sessions only', async () => {
  const bad = await apiCall(ui, session, 'exportSupportBundle', { out: '../../escape.zip' });
  assert.equal(bad.status, 400);
  assert.equal(fs.existsSync(path.join(site.agentDir, '..', 'escape.zip')), false);
  const abs = await apiCall(ui, session, 'exportSupportBundle', { out: '/tmp/skybridge-web-ui-abs.zip' });
  assert.equal(abs.status, 400);

  const r = await apiCall(ui, session, 'exportSupportBundle', {});
  assert.equal(r.status, 200, r.text);
  const name = r.json.result.file as string;
  assert.match(name, /^skybridge-support-[0-9TZ-]+\.zip$/, 'only a file name, no server path');
  const file = path.join(site.agentDir, 'exports', name);
  assert.ok(fs.existsSync(file));

  const dl = await curlUi(ui, `/api/bundles/${encodeURIComponent(name)}`, ['-H', `Cookie: ${session.cookie}`]);
  assert.equal(dl.status, 200, dl.stderr);
  assert.equal(header(dl, 'content-type'), 'application/zip');
  assert.equal(header(dl, 'content-disposition'), `attachment; filename="${name}"`);
  assert.ok(dl.body.equals(fs.readFileSync(file)), 'the download is the file');
  assert.equal(dl.body.subarray(0, 2).toString(), 'PK');

  assert.equal((await curlUi(ui, `/api/bundles/${name}`)).status, 401, 'not without a session');
  assert.equal((await curlUi(ui, '/api/bundles/nothing-here.zip', ['-H', `Cookie: ${session.cookie}`])).status, 404);
  const named = await apiCall(ui, session, 'exportSupportBundle', { out: 'for-support.zip' });
  assert.equal(named.json.result.file, 'for-support.zip');
  for (const input of [['x.zip'], 'x.zip', 42]) {
    const r = await apiCall(ui, session, 'exportSupportBundle', input);
    assert.equal(r.status, 400, `${JSON.stringify(input)}: ${r.text}`);
  }
  const device = await apiCall(ui, session, 'exportSupportBundle', { out: 'CON.zip' });
  assert.equal(device.status, 400, 'a Windows device name is not a bundle name');
});

test('sessions expire when idle, and the event socket closes with them', async () => {
  const dir = await tempDir('skybridge-ui-expiry-');
  const short = await startUi(dir, ['--ui-session-idle', '1500']);
  const s = await firstSignIn(short);
  const feed = await openEvents(short, { cookie: s.cookie });
  assert.ok('ws' in feed);
  await sleep(1000);
  assert.equal((await apiCall(short, s, 'listSubaccounts', {}, { activity: 'user' })).status, 200, 'use within the idle time keeps it alive');
  assert.equal(await within(feed.closed, 4000, 'the socket closing soon after the idle time ran out'), 4001);
  const info = await request(short, 'GET', '/api/session', { cookie: s.cookie });
  assert.equal(info.json.signedIn, false);
  assert.equal((await apiCall(short, s, 'listSubaccounts')).status, 401);
  await short.child.stop();
});

test('only a person keeps a session alive: background polling ends in 401 after the idle time, user requests go on', async () => {
  const IDLE = 3000;
  const dir = await tempDir('skybridge-ui-idle-');
  const short = await startUi(dir, ['--ui-session-idle', String(IDLE)]);
  const polled = await firstSignIn(short);
  const again = await signIn(short, NEW_PASSWORD);
  const used: Signed = { cookie: again.cookie, csrf: again.csrf };
  assert.equal(expiresIn(again.reply)?.cause, 'idle', 'the sign-in answer says how long the session has');

  // Like a dashboard left open: a read every 250 ms (the call, the session endpoint, and a
  // fresh event socket now and then), none of it caused by a person.
  const pollUntilRefused = async () => {
    const started = Date.now();
    const left: number[] = [];
    for (let i = 0; Date.now() - started < 3 * IDLE; i++) {
      const r =
        i % 3 === 1
          ? await request(short, 'GET', '/api/session', { cookie: polled.cookie, headers: { 'x-skybridge-activity': 'background' } })
          : await apiCall(short, polled, 'listSubaccounts', {}, { activity: i % 3 === 0 ? 'background' : undefined });
      if (r.status === 401 || (r.status === 200 && r.json.signedIn === false)) return { refusedAfterMs: Date.now() - started, reply: r, left };
      assert.equal(r.status, 200, r.text);
      left.push(expiresIn(r)!.inMs);
      if (i % 4 === 0) {
        const feed = await openEvents(short, { cookie: polled.cookie });
        if ('ws' in feed) feed.ws.close();
      }
      await sleep(250);
    }
    return { refusedAfterMs: undefined, reply: undefined, left };
  };
  // Meanwhile someone works in another browser: every request marked as theirs.
  const work = async () => {
    const started = Date.now();
    const statuses: number[] = [];
    while (Date.now() - started < 2 * IDLE) {
      const r = await apiCall(short, used, 'listSubaccounts', {}, { activity: 'user' });
      statuses.push(r.status);
      assert.ok(expiresIn(r)!.inMs > IDLE - 200, `a user request restarts the idle clock (left ${expiresIn(r)?.inMs} ms)`);
      await sleep(400);
    }
    return statuses;
  };
  const [polling, working] = await Promise.all([pollUntilRefused(), work()]);

  assert.ok(polling.refusedAfterMs !== undefined, 'background polling never ran out of session');
  assert.ok(polling.refusedAfterMs > IDLE / 2 && polling.refusedAfterMs < IDLE + 2000, `refused ${polling.refusedAfterMs} ms after polling began, the idle time is ${IDLE} ms`);
  const ended = await apiCall(short, polled, 'listSubaccounts', {}, { activity: 'user' });
  assert.equal(ended.status, 401, 'an expired session stays expired, even for a user request');
  assert.equal(ended.json.error.code, 'SIGN_IN_REQUIRED');
  for (let i = 1; i < polling.left.length; i++) assert.ok(polling.left[i]! <= polling.left[i - 1]!, `the time left only shrank while polling: ${polling.left.join(', ')}`);

  assert.ok(working.length >= 5 && working.every((st) => st === 200), `the working session was never refused: ${working.join(', ')}`);
  assert.equal((await request(short, 'GET', '/api/session', { cookie: used.cookie })).json.signedIn, true);
  await short.child.stop();
});

test('reset-password from the CLI ends the running sessions and demands a new password again', async () => {
  const s = await signIn(ui, NEW_PASSWORD);
  assert.equal((await apiCall(ui, s, 'listSubaccounts')).status, 200);
  const r = await cliOk(['agent', 'ui', 'reset-password', '--data-dir', site.agentDir]);
  const file = path.join(site.agentDir, 'ui', 'initial-admin-password');
  assert.ok(r.stderr.includes(file));
  const fresh = fs.readFileSync(file, 'utf8').trim();
  assert.ok(!r.stderr.includes(fresh) && !r.stdout.includes(fresh), 'the CLI points at the file, it does not print the password');
  assert.equal((await apiCall(ui, s, 'listSubaccounts')).status, 401, 'the running agent ended the session');
  const again = await signIn(ui, fresh);
  assert.equal(again.reply.json.mustChangePassword, true);
});

test('the demo (npm start) serves the UI with a paired subaccount and prints its throwaway password', async () => {
  const dir = path.join(await tempDir('skybridge-demo-ui-'), 'demo');
  const [port, proxyPort, socksPort, uiPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const demo = spawnCli('demo', ['demo', '--data-dir', dir, '--port', String(port), '--proxy-port', String(proxyPort), '--socks-port', String(socksPort), '--ui-port', String(uiPort)]);
  await waitFor(
    () => {
      demo.assertAlive();
      return demo.stderr().includes('Press Ctrl+C');
    },
    30_000,
    'the demo to come up',
  );
  const printed = new RegExp(`web UI {7}https://127\\.0\\.0\\.1:${uiPort}/ {2}user admin, initial password (\\S+)`).exec(demo.stderr());
  assert.ok(printed, demo.stderr());
  const certFile = path.join(dir, 'agent', 'ui', 'tls.pem');
  const demoUi: Ui = { child: demo, dataDir: path.join(dir, 'agent'), port: uiPort, origin: `https://127.0.0.1:${uiPort}`, ca: fs.readFileSync(certFile, 'utf8'), certFile, initialPassword: printed[1]! };
  const first = await signIn(demoUi, demoUi.initialPassword);
  const changed = await request(demoUi, 'POST', '/api/password', { cookie: first.cookie, csrf: first.csrf, body: { current: demoUi.initialPassword, next: NEW_PASSWORD } });
  assert.equal(changed.status, 200, changed.text);
  const s = { cookie: cookieOf(changed), csrf: changed.json.csrfToken as string };
  const subs = await apiCall(demoUi, s, 'listSubaccounts');
  assert.equal(subs.status, 200, subs.text);
  assert.equal(subs.json.result.length, 1);
  assert.equal(subs.json.result[0].status.state, 'connected');
  assert.equal((await curlUi(demoUi, '/')).status, 200);
  await demo.stop();
});

test('a system\'s CA comes from an upload: naming a server file as caFile is refused with 400 and saves nothing', async () => {
  // The reset-password test above left a fresh initial password to change.
  const current = fs.readFileSync(path.join(ui.dataDir, 'ui', 'initial-admin-password'), 'utf8').trim();
  const s = await firstSignIn({ ...ui, initialPassword: current });
  const configFile = path.join(site.agentDir, 'config.json');
  const before = fs.readFileSync(configFile);
  const system = { virtualHost: 'ldaps.virtual', virtualPort: 636, internalHost: '127.0.0.1', internalPort: site.backend.port, protocol: 'tcp+tls', hostHeader: 'virtual' };
  for (const caFile of ['/etc/passwd', path.join(ui.dataDir, 'trusted-ca', '..', 'config.json')]) {
    const r = await apiCall(ui, s, 'addSystem', { system: { ...system, caFile } });
    assert.equal(r.status, 400, r.text);
    assert.deepEqual(r.json.error, { code: 'INVALID_INPUT', message: 'Upload the CA certificate (PEM) instead of naming a file on the server.' });
  }
  await sleep(300);
  assert.deepEqual(fs.readFileSync(configFile), before, 'config.json is untouched');

  // The UI's own certificate is a PEM certificate like any CA: upload it, then use the path the agent chose.
  const imported = await apiCall(ui, s, 'importCaCertificate', { pem: ui.ca });
  assert.equal(imported.status, 200, imported.text);
  assert.equal(path.dirname(imported.json.result.caFile), path.join(path.resolve(ui.dataDir), 'trusted-ca'));
  const ok = await apiCall(ui, s, 'addSystem', { system: { ...system, caFile: imported.json.result.caFile } });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json.result.caFile, imported.json.result.caFile);
});

test('20 parallel wrong sign-ins from one address: at most one is checked, the rest get 429; odd user names are refused and audited as a placeholder', async () => {
  const dir = await tempDir('skybridge-ui-burst-');
  const fresh = await startUi(dir);
  const replies = await Promise.all(Array.from({ length: 20 }, () => request(fresh, 'POST', '/api/session', { body: { user: 'admin', password: WRONG_PASSWORD } })));
  const statuses = replies.map((r) => r.status);
  assert.ok(statuses.filter((st) => st === 401).length <= 1, `at most one checked: ${statuses.join(', ')}`);
  assert.equal(statuses.filter((st) => st === 429).length, 20 - statuses.filter((st) => st === 401).length, `the rest refused unchecked: ${statuses.join(', ')}`);

  const forged = 'x\n2026-01-01T00:00:00Z\t#1\t-\tconfig-change\tadmin root (cli)\tsuccess\t\u001b[31mFAKE';
  await sleep(2100);
  const odd = await request(fresh, 'POST', '/api/session', { body: { user: forged, password: 'nope' } });
  assert.equal(odd.status, 400, odd.text);
  assert.equal(odd.json.error.code, 'INVALID_INPUT');
  assert.match(odd.json.error.message, /user name/);

  const s = await (async () => {
    await sleep(4100);
    return firstSignIn(fresh);
  })();
  const logins = await waitFor(
    async () => {
      const entries = await auditEntries(fresh, s, ['admin-login']);
      return entries.some((e) => (e.actor as { user: string }).user === '(invalid name)') ? entries : undefined;
    },
    10_000,
    'the audit entry for the odd user name',
  );
  assert.equal(logins.filter((e) => e.outcome === 'failure' && (e.actor as { user: string }).user === 'admin').length, statuses.filter((st) => st === 401).length, 'only checked attempts are audited as failures');
  const list = await cliOk(['audit', 'list', '--data-dir', dir, '--type', 'admin-login']);
  assert.ok(!list.stdout.includes('FAKE') && !list.stdout.includes('\u001b'), `nothing of the typed name reaches the CLI:\n${list.stdout}`);
  assert.ok(list.stdout.includes('admin (invalid name) (api)'), list.stdout);
  await fresh.child.stop();
});

test('a damaged admin.json: the event socket answers 503 instead of crashing the agent, and no caller sees a server path', async () => {
  const dir = await tempDir('skybridge-ui-damaged-');
  const fresh = await startUi(dir);
  const s = await firstSignIn(fresh);
  const adminFile = path.join(dir, 'ui', 'admin.json');
  fs.writeFileSync(adminFile, '{broken');
  for (const cookie of [s.cookie, '__Host-skybridge-session=' + 'A'.repeat(43), undefined]) {
    const ws = await openEvents(fresh, { cookie });
    assert.ok(!('ws' in ws) && (ws.status === 503 || ws.status === 401), `refused: ${JSON.stringify(ws)}`);
  }
  await sleep(300);
  fresh.child.assertAlive();
  const info = await request(fresh, 'GET', '/api/session', { cookie: s.cookie });
  assert.equal(info.status, 200);
  assert.equal(info.json.signedIn, false, 'no session counts while the account cannot be read');
  const signIn = await request(fresh, 'POST', '/api/session', { body: { user: 'admin', password: NEW_PASSWORD } });
  assert.equal(signIn.status, 503, signIn.text);
  assert.match(signIn.json.error.message, /reset-password/);
  assert.ok(!signIn.text.includes(dir) && !signIn.text.includes('admin.json'), `no server path: ${signIn.text}`);
  fresh.child.assertAlive();
  await fresh.child.stop();
});
