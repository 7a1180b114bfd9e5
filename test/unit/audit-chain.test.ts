import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../common/logger.js';
import { seal } from '../../electron/agent/audit/chain.js';
import { auditDir, HEAD_FILE, listAuditFiles } from '../../electron/agent/audit/files.js';
import { readAuditKey } from '../../electron/agent/audit/key.js';
import { AuditLog } from '../../electron/agent/audit/log.js';
import { verifyAuditLog } from '../../electron/agent/audit/verify.js';
import type { AuditDraft, AuditEntry, AuditProblem } from '../../shared/evidence.js';

const DAYS = ['2025-03-01', '2025-03-02', '2025-03-03'];
const PER_DAY = 6;

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'skybridge-audit-'));
}

function draft(i: number, time: string): AuditDraft {
  return {
    time,
    subaccount: 'acme',
    type: i % 3 === 0 ? 'access-denied' : 'request',
    actor: { kind: 'cloud-app', app: 'billing' },
    target: { virtual: 'erp.virtual:443', method: 'GET', path: `/api/item/${i}` },
    outcome: i % 3 === 0 ? 'denied' : 'allowed',
    reason: i % 3 === 0 ? 'no resource allows /admin' : undefined,
    status: i % 3 === 0 ? 403 : 200,
  };
}

/** A log of three daily files, six entries each, closed cleanly. */
async function makeLog(dir = tempDir(), now = new Date('2025-03-03T23:00:00Z')): Promise<string> {
  const log = AuditLog.open(dir, { logger: silentLogger(), retentionDays: () => 0, now: () => now });
  let i = 0;
  for (const day of DAYS) {
    for (let k = 0; k < PER_DAY; k++) await log.append(draft(i++, `${day}T0${k}:00:00.000Z`), { durable: k % 2 === 0 });
  }
  await log.close();
  return dir;
}

function fileOf(dir: string, n: number): string {
  return path.join(auditDir(dir), listAuditFiles(auditDir(dir))[n]!);
}

function lines(file: string): string[] {
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

function writeLines(file: string, ls: string[]): void {
  fs.writeFileSync(file, ls.map((l) => `${l}\n`).join(''));
}

function describe(problems: AuditProblem[]): string {
  return problems.map((p) => `${p.kind} ${p.file}:${p.line}: ${p.message}`).join('\n');
}

test('an untouched log verifies: every entry, link and file', async () => {
  const dir = await makeLog();
  const report = await verifyAuditLog(dir);
  assert.equal(report.ok, true, describe(report.problems));
  assert.equal(report.files, 3);
  assert.equal(report.entries, DAYS.length * PER_DAY);
  assert.equal(report.firstSeq, 1);
  assert.equal(report.lastSeq, DAYS.length * PER_DAY);
  assert.deepEqual(report.warnings, []);
  const keyMode = fs.statSync(path.join(auditDir(dir), 'audit.key')).mode & 0o777;
  assert.equal(keyMode, 0o600, 'the audit key is readable by its owner only');
});

test('editing one field of one entry is reported at that file and line', async () => {
  const dir = await makeLog();
  const file = fileOf(dir, 1);
  const ls = lines(file);
  ls[2] = ls[2]!.replace('"outcome":"allowed"', '"outcome":"denied"');
  assert.ok(ls[2]!.includes('"outcome":"denied"'), 'the test must really change something');
  writeLines(file, ls);
  const report = await verifyAuditLog(dir);
  assert.equal(report.ok, false);
  assert.deepEqual(report.problems.map((p) => [p.kind, p.file, p.line]), [['edited', path.basename(file), 3]], describe(report.problems));
});

test('deleting a line is reported as removed entries, naming the place', async () => {
  const dir = await makeLog();
  const file = fileOf(dir, 0);
  const ls = lines(file);
  ls.splice(3, 1);
  writeLines(file, ls);
  const report = await verifyAuditLog(dir);
  assert.equal(report.ok, false);
  const removed = report.problems.filter((p) => p.kind === 'removed');
  assert.equal(removed.length, 1, describe(report.problems));
  assert.equal(removed[0]!.file, path.basename(file));
  assert.equal(removed[0]!.line, 4);
  assert.match(removed[0]!.message, /seq 4 is missing/);
});

test('swapping two lines is reported as reordered at those lines', async () => {
  const dir = await makeLog();
  const file = fileOf(dir, 2);
  const ls = lines(file);
  [ls[1], ls[2]] = [ls[2]!, ls[1]!];
  writeLines(file, ls);
  const report = await verifyAuditLog(dir);
  assert.equal(report.ok, false);
  assert.ok(report.problems.every((p) => p.kind === 'reordered' && p.file === path.basename(file)), describe(report.problems));
  assert.equal(report.problems[0]!.line, 2, describe(report.problems));
  assert.match(report.problems[0]!.message, /reordered|out of order/);
});

test('cutting off the tail is reported, even though every remaining entry is intact', async () => {
  const dir = await makeLog();
  const file = fileOf(dir, 2);
  const ls = lines(file);
  writeLines(file, ls.slice(0, -2));
  const report = await verifyAuditLog(dir);
  assert.equal(report.ok, false);
  assert.deepEqual(report.problems.map((p) => p.kind), ['truncated'], describe(report.problems));
  assert.equal(report.problems[0]!.file, path.basename(file));
  assert.equal(report.problems[0]!.line, PER_DAY - 2);
  assert.match(report.problems[0]!.message, /entries 17–18 are gone/);
});

test('replacing a whole file with one from another installation is reported at that file', async () => {
  const dir = await makeLog();
  const other = await makeLog();
  const victim = fileOf(dir, 1);
  fs.copyFileSync(fileOf(other, 1), victim);
  const report = await verifyAuditLog(dir);
  assert.equal(report.ok, false);
  const inVictim = report.problems.filter((p) => p.file === path.basename(victim));
  assert.equal(inVictim.length, PER_DAY + 1, describe(report.problems));
  assert.ok(inVictim.some((p) => p.kind === 'edited' && p.line === 1));
  assert.ok(inVictim.some((p) => p.kind === 'inserted' && p.line === 1), 'the first entry no longer follows the previous file');
  assert.ok(report.problems.every((p) => p.file === path.basename(victim) || p.kind === 'inserted'), describe(report.problems));
});

test('a copied line (an inserted duplicate) is reported as inserted', async () => {
  const dir = await makeLog();
  const file = fileOf(dir, 0);
  const ls = lines(file);
  ls.splice(4, 0, ls[1]!);
  writeLines(file, ls);
  const report = await verifyAuditLog(dir);
  assert.equal(report.ok, false);
  const inserted = report.problems.find((p) => p.kind === 'inserted');
  assert.ok(inserted, describe(report.problems));
  assert.equal(inserted.line, 5);
  assert.match(inserted.message, /copy of seq 2/);
});

test('deleting a whole day file is reported as removed entries', async () => {
  const dir = await makeLog();
  fs.rmSync(fileOf(dir, 1));
  const report = await verifyAuditLog(dir);
  assert.equal(report.ok, false);
  assert.ok(report.problems.some((p) => p.kind === 'removed' && /seq 7–12 are missing/.test(p.message)), describe(report.problems));
});

/** What someone with the key could do: rewrite every entry consistently, head.json included. */
function rewriteWholeChain(dir: string, change: (e: AuditEntry) => AuditEntry): void {
  const key = readAuditKey(dir)!;
  let prev = '0'.repeat(64);
  let last: { seq: number; mac: string; time: string; file: string } | undefined;
  for (const name of listAuditFiles(auditDir(dir))) {
    const file = path.join(auditDir(dir), name);
    const out = lines(file).map((l) => {
      const { mac: _mac, ...rest } = change(JSON.parse(l) as AuditEntry);
      const sealed = seal(key, { ...rest, prev });
      prev = sealed.mac;
      last = { seq: rest.seq, mac: sealed.mac, time: rest.time, file: name };
      return sealed.line;
    });
    writeLines(file, out);
  }
  fs.writeFileSync(path.join(auditDir(dir), HEAD_FILE), JSON.stringify(last));
}

test("a rewrite of the whole chain with the key passes locally but not against the relay's copy of the head", async () => {
  const dir = await makeLog();
  const before = await verifyAuditLog(dir);
  const relayHead = { seq: before.lastSeq!, mac: before.headMac!, time: '2025-03-03T05:00:00.000Z', receivedAt: '2025-03-03T05:00:30.000Z' };
  rewriteWholeChain(dir, (e) => (e.seq === 4 ? { ...e, outcome: 'allowed', status: 200, reason: undefined, type: 'request' } : e));
  assert.ok(!lines(fileOf(dir, 0))[3]!.includes('access-denied'), 'the rewrite must hide the denial');
  const local = await verifyAuditLog(dir);
  assert.equal(local.ok, true, 'a consistent rewrite cannot be seen from the disk alone');
  const report = await verifyAuditLog(dir, [{ subaccount: 'acme', relay: 'https://relay.example', heads: [relayHead] }]);
  assert.equal(report.ok, false);
  assert.equal(report.problems[0]!.kind, 'rewritten', describe(report.problems));
  assert.match(report.problems[0]!.message, /relay\.example/);
});

test("cutting the tail and head.json together is still caught by the relay's copy", async () => {
  const dir = await makeLog();
  const before = await verifyAuditLog(dir);
  const file = fileOf(dir, 2);
  writeLines(file, lines(file).slice(0, -1));
  fs.rmSync(path.join(auditDir(dir), HEAD_FILE));
  const report = await verifyAuditLog(dir, [{ subaccount: 'acme', relay: 'https://relay.example', heads: [{ seq: before.lastSeq!, mac: before.headMac!, time: 'x' }] }]);
  assert.deepEqual(report.problems.map((p) => p.kind), ['truncated'], describe(report.problems));
});

test('reopening continues the chain; an incomplete last line from a crash is cut off and recorded', async () => {
  const dir = await makeLog();
  const file = fileOf(dir, 2);
  fs.appendFileSync(file, '{"seq":19,"time":"2025-03-03T07:00:00.000Z","subaccount":"ac');
  const mid = await verifyAuditLog(dir);
  assert.equal(mid.ok, true, describe(mid.problems));
  assert.match(mid.warnings.join('\n'), /incomplete entry/);

  const log = AuditLog.open(dir, { logger: silentLogger(), retentionDays: () => 0, now: () => new Date('2025-03-03T23:00:00Z') });
  await log.append(draft(99, '2025-03-03T08:00:00.000Z'), { durable: true });
  await log.close();
  const report = await verifyAuditLog(dir);
  assert.equal(report.ok, true, describe(report.problems));
  const tail = lines(file).map((l) => JSON.parse(l) as AuditEntry);
  assert.deepEqual(tail.slice(-2).map((e) => [e.seq, e.type]), [[19, 'audit-recovered'], [20, 'access-denied']]);
});

test('retention removes whole old days, records it, and the shortened chain still verifies', async () => {
  const dir = await makeLog();
  const log = AuditLog.open(dir, { logger: silentLogger(), retentionDays: () => 2, now: () => new Date('2025-03-04T10:00:00Z') });
  await log.append(draft(50, '2025-03-04T10:00:00.000Z'), { durable: true });
  await log.flush();
  await log.close();
  const files = listAuditFiles(auditDir(dir));
  assert.deepEqual(files, ['audit-2025-03-02.jsonl', 'audit-2025-03-03.jsonl', 'audit-2025-03-04.jsonl']);
  const report = await verifyAuditLog(dir);
  assert.equal(report.ok, true, describe(report.problems));
  assert.match(report.warnings.join('\n'), /before seq 7 were removed by the retention setting/);

  // Deleting what retention kept is not explained by the purge record.
  fs.rmSync(path.join(auditDir(dir), files[0]!));
  const after = await verifyAuditLog(dir);
  assert.equal(after.ok, false);
  assert.equal(after.problems[0]!.kind, 'removed', describe(after.problems));
});

test('concurrent appends keep one gap-free chain, and durable ones resolve after they are written', async () => {
  const dir = tempDir();
  const log = AuditLog.open(dir, { logger: silentLogger(), retentionDays: () => 0 });
  const written = await Promise.all(Array.from({ length: 500 }, (_, i) => log.append(draft(i, new Date().toISOString()), { durable: i % 10 === 0 })));
  assert.deepEqual(written.map((e) => e.seq), Array.from({ length: 500 }, (_, i) => i + 1));
  // A durable entry's promise resolved: it is in the file now.
  const onDisk = lines(fileOf(dir, 0)).length;
  assert.equal(onDisk, 500);
  await log.close();
  const report = await verifyAuditLog(dir);
  assert.equal(report.ok, true, describe(report.problems));
});
