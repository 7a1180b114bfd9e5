/**
 * Hardening of the headless UI found in the security review: bundle downloads that cannot be
 * redirected through a symlink, Windows device names, events checked against the contract
 * before they reach a browser, and `audit list` output that an outsider cannot use to forge
 * lines or send terminal escapes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import WebSocket from 'ws';
import { createLogger, silentLogger } from '../../common/logger.js';
import type { AgentEvent } from '../../shared/api.js';
import { EVENTS_SESSION_ENDED } from '../../shared/web-api.js';
import { AuditLog } from '../../electron/agent/audit/log.js';
import { BundleFolder, isSafeBundleName } from '../../electron/agent/web/bundles.js';
import { EventFeed } from '../../electron/agent/web/event-feed.js';
import type { Session } from '../../electron/agent/web/sessions.js';

const REPO_ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');

function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Collects what a download writes, like a ServerResponse would send it. */
class Sink extends Writable {
  status = 0;
  body = Buffer.alloc(0);
  readonly done = new Promise<void>((resolve) => {
    this.on('finish', resolve);
    this.on('close', resolve);
  });
  writeHead(status: number): this {
    this.status = status;
    return this;
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.body = Buffer.concat([this.body, chunk]);
    cb();
  }
}

test('Windows device names are never bundle names, with any extension or case', () => {
  for (const bad of ['CON.zip', 'con.zip', 'Nul.zip', 'PRN.zip', 'aux.zip', 'COM1.zip', 'com9.backup.zip', 'LPT1.zip', 'lpt3.x.zip']) {
    assert.equal(isSafeBundleName(bad), false, bad);
  }
  for (const good of ['console.zip', 'nully.zip', 'com.zip', 'com10x.zip', 'support-aux.zip', 'lpt.zip']) assert.equal(isSafeBundleName(good), true, good);
  assert.throws(() => new BundleFolder(tempDir('skybridge-exports-')).target('COM1.zip'), /plain file name/);
});

test('a bundle download sends the file it checked: a symlink swapped in afterwards is never followed', { skip: process.platform === 'win32' }, async () => {
  const dir = tempDir('skybridge-exports-');
  const secret = path.join(tempDir('skybridge-secret-'), 'secret.txt');
  fs.writeFileSync(secret, 'TOP SECRET');
  const folder = new BundleFolder(dir);
  for (let round = 0; round < 20; round++) {
    const file = path.join(dir, 'b.zip');
    fs.rmSync(file, { force: true });
    fs.writeFileSync(file, 'PK bundle');
    const res = new Sink();
    // Called synchronously (as the server does); the swap below happens right after it returns.
    const sent = (async () => folder.send('b.zip', res as unknown as http.ServerResponse))().then(
      () => 'sent',
      (err: { status?: number }) => `refused ${err.status}`,
    );
    // The swap races the download; whatever wins, the secret must not come out.
    fs.rmSync(file);
    fs.symlinkSync(secret, file);
    const outcome = await sent;
    if (outcome === 'sent') await res.done;
    assert.ok(!res.body.toString().includes('SECRET'), `round ${round}: the symlink target was sent`);
    assert.ok(outcome === 'sent' ? res.body.toString() === 'PK bundle' : outcome === 'refused 404', `round ${round}: ${outcome}`);
  }
  // A symlink (or anything else but a plain file) already there is refused, not followed.
  await assert.rejects(async () => folder.send('b.zip', new Sink() as unknown as http.ServerResponse), (err: { status?: number }) => err.status === 404);
  fs.rmSync(path.join(dir, 'b.zip'));
  fs.mkdirSync(path.join(dir, 'd.zip'));
  await assert.rejects(async () => folder.send('d.zip', new Sink() as unknown as http.ServerResponse), (err: { status?: number }) => err.status === 404);
});

test('events reach the browser only as the contract describes them: unknown fields dropped, off-contract events not sent, logged once', async (t) => {
  const lines: string[] = [];
  const logger = createLogger('test', 'info', { write: (l: string) => void lines.push(l) });
  const feed = new EventFeed({ logger, isLive: () => true });
  const session = { key: 'k' } as Session;
  const server = http.createServer();
  server.on('upgrade', (req, socket, head) => feed.accept(req, socket, head, session));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const ws = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/api/events`);
  t.after(() => {
    ws.terminate();
    feed.close();
    server.close();
  });
  const got: unknown[] = [];
  ws.on('message', (d) => got.push(JSON.parse(String(d))));
  const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
  await new Promise((r) => ws.on('open', r));
  for (let i = 0; i < 50 && feed.size === 0; i++) await new Promise((r) => setTimeout(r, 10));

  const leaky = { type: 'config-reloaded', at: '2026-01-01T00:00:00Z', privateKeyPem: '-----BEGIN PRIVATE KEY-----' } as unknown as AgentEvent;
  const bogus = { type: 'internal-dump', pairingCode: 'SKB1-secret' } as unknown as AgentEvent;
  feed.broadcast(bogus);
  feed.broadcast(leaky);
  feed.broadcast(bogus);
  feed.broadcast({ type: 'config-reloaded', at: '2026-01-02T00:00:00Z' });
  for (let i = 0; i < 100 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(got, [
    { type: 'config-reloaded', at: '2026-01-01T00:00:00Z' },
    { type: 'config-reloaded', at: '2026-01-02T00:00:00Z' },
  ]);
  const reports = lines.filter((l) => l.includes('does not match its contract'));
  assert.equal(reports.length, 1, 'one log line for a type that keeps coming');
  assert.match(reports[0]!, /"type":"internal-dump"/);
  assert.ok(!lines.join('').includes('SKB1-secret'), 'the log names the type only');

  feed.sessionEnded(session);
  assert.equal(await closed, EVENTS_SESSION_ENDED);
});

test('audit list prints control characters from outsiders as \\xNN: no forged lines, no terminal escapes', async () => {
  const dataDir = tempDir('skybridge-audit-text-');
  const log = AuditLog.open(dataDir, { logger: silentLogger(), retentionDays: () => 0 });
  const forged = 'x\n2026-01-01T00:00:00Z\t#1\t-\tconfig-change\tadmin root (cli)\tsuccess\t\u001b[31mFAKE\u009b2J\u007f';
  await log.append(
    { subaccount: 'acme', type: 'admin-login', outcome: 'failure', actor: { kind: 'local-admin', user: forged, via: 'api' }, target: { object: 'headless UI' }, reason: 'bell\u0007' },
    { durable: true },
  );
  await log.close();
  const out = execFileSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'skybridge.js'), 'audit', 'list', '--data-dir', dataDir], { encoding: 'utf8' });
  const lines = out.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `one entry, one line:\n${out}`);
  assert.equal(lines[0]!.split('\t').length, 8, 'eight fields: no extra tabs');
  // eslint-disable-next-line no-control-regex -- looking for control characters is the point
  assert.ok(!/[\x00-\x08\x0a-\x1f\x7f-\x9f]/.test(out.replace(/\n$/, '')), 'no control character reaches the terminal');
  assert.ok(lines[0]!.includes('admin x\\x0a2026-01-01T00:00:00Z\\x09#1'), lines[0]);
  assert.ok(lines[0]!.includes('\\x1b[31mFAKE\\x9b2J\\x7f'), lines[0]);
  assert.ok(lines[0]!.endsWith('bell\\x07'), lines[0]);

  const json = JSON.parse(execFileSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'skybridge.js'), 'audit', 'list', '--data-dir', dataDir, '--json'], { encoding: 'utf8' })) as Array<{ actor: { user: string } }>;
  assert.equal(json[0]!.actor.user, forged, 'JSON keeps the stored value (it is escaped by JSON itself)');
});
