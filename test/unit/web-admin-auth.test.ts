import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AdminAuth, PasswordQueueFull } from '../../electron/agent/web/admin-auth.js';
import { uiPaths } from '../../electron/agent/web/ui-paths.js';
import { ErrorCode, SkybridgeError } from '../../shared/errors.js';
import { MIN_PASSWORD_LENGTH } from '../../shared/web-api.js';

/** Cheap scrypt: these tests are about behaviour, not cost. */
const CHEAP = { scrypt: { N: 1024, r: 8, p: 1 } };

function tempDataDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'skybridge-auth-'));
}

function mode(file: string): number {
  return fs.statSync(file).mode & 0o777;
}

async function rejectsWith(p: Promise<unknown>, code: string, text?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof SkybridgeError, `expected a SkybridgeError, got ${String(err)}`);
    assert.equal(err.code, code);
    if (text) assert.match(err.message, text);
    return true;
  });
}

test('first start makes an account with a random initial password in an owner-only file, and stores only a salted hash', async () => {
  const dir = tempDataDir();
  const auth = new AdminAuth(dir, CHEAP);
  const first = await auth.ensure();
  assert.equal(first.created, true);
  const password = first.password!;
  assert.ok(password.length >= MIN_PASSWORD_LENGTH, 'the initial password satisfies the minimum length');
  const p = uiPaths(dir);
  assert.equal(fs.readFileSync(p.initialPassword, 'utf8').trim(), password);
  assert.equal(mode(p.initialPassword), 0o600);
  assert.equal(mode(p.admin), 0o600);
  assert.equal(mode(p.dir), 0o700);
  const stored = fs.readFileSync(p.admin, 'utf8');
  assert.ok(!stored.includes(password), 'admin.json must not contain the password');
  assert.match(stored, /"algorithm": "scrypt"/);
  assert.deepEqual(auth.state(), { user: 'admin', mustChangePassword: true, generation: 1 });

  // A second start keeps the account and does not hand out the password again.
  assert.deepEqual(await new AdminAuth(dir, CHEAP).ensure(), { created: false });
  assert.equal(await auth.verify('admin', password), true);
  assert.equal(await auth.verify('admin', `${password}x`), false);
  assert.equal(await auth.verify('root', password), false, 'the right password with another user name is refused');
});

test('two accounts with the same password get different salts and hashes', async () => {
  const a = new AdminAuth(tempDataDir(), CHEAP);
  const b = new AdminAuth(tempDataDir(), CHEAP);
  await a.ensure();
  await b.ensure();
  const pw = 'the same long password';
  await a.changePassword('admin', fs.readFileSync(a.initialPasswordFile, 'utf8').trim(), pw);
  await b.changePassword('admin', fs.readFileSync(b.initialPasswordFile, 'utf8').trim(), pw);
  const ha = JSON.parse(fs.readFileSync(uiPaths(a.dataDir).admin, 'utf8')).password;
  const hb = JSON.parse(fs.readFileSync(uiPaths(b.dataDir).admin, 'utf8')).password;
  assert.notEqual(ha.salt, hb.salt);
  assert.notEqual(ha.hash, hb.hash);
});

test('changing the password checks the current one, the length and that it differs; then the old one stops working', async () => {
  const dir = tempDataDir();
  const auth = new AdminAuth(dir, CHEAP);
  const initial = (await auth.ensure()).password!;
  await rejectsWith(auth.changePassword('admin', 'not the password', 'a brand new password'), ErrorCode.AccessDenied, /current password is wrong/);
  await rejectsWith(auth.changePassword('admin', initial, 'short'), ErrorCode.InvalidInput, new RegExp(`${MIN_PASSWORD_LENGTH} characters`));
  await rejectsWith(auth.changePassword('admin', initial, initial), ErrorCode.InvalidInput, /differ/);
  assert.deepEqual(auth.state(), { user: 'admin', mustChangePassword: true, generation: 1 }, 'refused changes change nothing');

  const state = await auth.changePassword('admin', initial, 'correct horse battery staple');
  assert.deepEqual(state, { user: 'admin', mustChangePassword: false, generation: 2 });
  assert.equal(fs.existsSync(auth.initialPasswordFile), false, 'the initial-password file goes once it is no longer valid');
  assert.equal(await auth.verify('admin', initial), false);
  assert.equal(await auth.verify('admin', 'correct horse battery staple'), true);
});

test('reset-password (another process) makes a new must-change password that a running instance sees', async () => {
  const dir = tempDataDir();
  const running = new AdminAuth(dir, CHEAP);
  const initial = (await running.ensure()).password!;
  await running.changePassword('admin', initial, 'my chosen password 1');
  assert.equal(running.state()!.mustChangePassword, false);

  const cli = new AdminAuth(dir, CHEAP);
  const fresh = await cli.reset();
  assert.equal(fs.readFileSync(cli.initialPasswordFile, 'utf8').trim(), fresh);
  assert.equal(mode(cli.initialPasswordFile), 0o600);
  // The running instance reads the file again because it changed on disk.
  assert.deepEqual(running.state(), { user: 'admin', mustChangePassword: true, generation: 3 });
  assert.equal(await running.verify('admin', 'my chosen password 1'), false);
  assert.equal(await running.verify('admin', fresh), true);
});

test('a damaged admin.json is reported with the way out, and reset repairs it', async () => {
  const dir = tempDataDir();
  const auth = new AdminAuth(dir, CHEAP);
  await auth.ensure();
  fs.writeFileSync(uiPaths(dir).admin, '{"version":1,"user":"admin"}');
  assert.throws(() => auth.state(), (err: unknown) => err instanceof SkybridgeError && err.code === ErrorCode.ConfigInvalid && /reset-password/.test(err.message));
  const pw = await auth.reset();
  assert.equal(await auth.verify('admin', pw), true);
});

test('password checks run one at a time and a flood is turned away instead of queueing without end', async () => {
  const auth = new AdminAuth(tempDataDir(), CHEAP);
  await auth.ensure();
  const attempts = Array.from({ length: 40 }, () => auth.verify('admin', 'wrong password guess'));
  const results = await Promise.allSettled(attempts);
  const refused = results.filter((r) => r.status === 'rejected');
  assert.ok(refused.length > 0, 'some checks must be refused');
  assert.ok(refused.every((r) => r.status === 'rejected' && r.reason instanceof PasswordQueueFull));
  assert.ok(results.some((r) => r.status === 'fulfilled' && r.value === false));
  // Once the flood has drained, checks work again.
  assert.equal(await auth.verify('admin', 'wrong password guess'), false);
});
