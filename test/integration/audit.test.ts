/**
 * Issue 5 end to end: the audit trail, traffic, metrics, logs and the support
 * bundle, with a real relay, agent, back end, curl and CLI on loopback.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import yauzl from 'yauzl';
import {
  ERP,
  cleanupAll,
  cliOk,
  freePort,
  httpsGet,
  readAgentConfig,
  runCli,
  setupSite,
  spawnCli,
  tempDir,
  waitAgentState,
  waitFor,
  writeAgentConfig,
  type Child,
  type Site,
} from './harness.js';
import type { AuditEntry } from '../../shared/evidence.js';

let site: Site;
let relay: Child;
let agent: Child | undefined;
let relayMetricsPort: number;
let agentMetricsPort: number;
let logFile: string;
const BASE = `http://${ERP}`;

async function startOwnRelay(): Promise<void> {
  relay = spawnCli('relay-with-metrics', [
    'relay', 'start', '--data-dir', site.relayDir, '--host', '127.0.0.1',
    '--port', String(site.relay.port), '--proxy-port', String(site.relay.proxyPort), '--socks-port', String(await freePort()),
    '--metrics-port', String(relayMetricsPort),
  ]);
  await waitFor(async () => {
    relay.assertAlive();
    return (await httpsGet(site.relay.port, '/healthz', 1000)).status === 200;
  }, 20_000, 'the relay with metrics');
}

async function startOwnAgent(): Promise<void> {
  agent = spawnCli('agent-with-evidence', ['agent', 'start', '--data-dir', site.agentDir, '--metrics-port', String(agentMetricsPort), '--log-file', logFile, '--audit-head-interval', '300'], {
    // Debug logs are the most talkative: if a secret were ever logged, it would be here.
    SKYBRIDGE_LOG_LEVEL: 'debug',
  });
  await waitAgentState(site.agentDir, 'connected', 20_000, agent);
}

async function auditList(...args: string[]): Promise<AuditEntry[]> {
  const r = await cliOk(['audit', 'list', '--data-dir', site.agentDir, '--json', ...args]);
  return JSON.parse(r.stdout) as AuditEntry[];
}

function getText(port: number, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: urlPath, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

function unzip(file: string): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error('no zip'));
      const out = new Map<string, Buffer>();
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e ?? new Error('no stream'));
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            out.set(entry.fileName, Buffer.concat(chunks));
            zip.readEntry();
          });
        });
      });
      zip.on('end', () => resolve(out));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

/** Every file below `dir` whose content includes `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  const hits: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (fs.readFileSync(p).includes(needle)) hits.push(p);
    }
  };
  walk(dir);
  return hits;
}

before(async () => {
  site = await setupSite({ noAgent: true, tunnel: { heartbeatIntervalMs: 300, heartbeatTimeoutMs: 5000 } });
  relayMetricsPort = await freePort();
  agentMetricsPort = await freePort();
  logFile = path.join(await tempDir('skybridge-logs-'), 'agent.log');
  await site.stopRelay();
  await startOwnRelay();
  await startOwnAgent();
});

after(async () => {
  await agent?.stop();
  await relay?.stop();
  await cleanupAll();
});

test('a denied request is on the audit record, with app, target and reason, by the time the cloud app has its 403', async () => {
  const r = await site.proxyCurl([`${BASE}/admin/users?x=1`]);
  assert.equal(r.status, 403);
  // No waiting: the entry reached the disk before the answer left the connector.
  const denied = (await auditList('--type', 'access-denied')).filter((e) => e.target.path === '/admin/users');
  assert.equal(denied.length, 1, 'exactly one entry for the denied request');
  const e = denied[0]!;
  assert.deepEqual(e.actor, { kind: 'cloud-app', app: 'billing' });
  assert.equal(e.target.virtual, ERP);
  assert.equal(e.target.method, 'GET');
  assert.equal(e.outcome, 'denied');
  assert.equal(e.status, 403);
  assert.match(e.reason ?? '', /\/admin\/users|no resource|not allowed|denied/i);
  assert.equal(e.subaccount, site.subaccountId);
});

test('tunnel up and the agent start are audited', async () => {
  const types = (await auditList()).map((e) => e.type);
  assert.ok(types.includes('audit-started'), types.join(','));
  assert.ok(types.includes('tunnel-connected'), types.join(','));
  assert.ok(types.includes('pairing'), 'the pairing done before the first start is picked up: ' + types.join(','));
});

test('configuration changes name the administrator and carry before and after', async () => {
  await cliOk(['agent', 'resource', 'add', '--data-dir', site.agentDir, '--system', ERP, '--path', '/reports', '--methods', 'GET']);
  const change = await waitFor(async () => (await auditList('--type', 'config-change')).find((e) => e.changes?.some((c) => c.path.includes('resources[/reports]'))), 10_000, 'the config-change entry');
  assert.deepEqual(change.actor, { kind: 'local-admin', user: os.userInfo().username, via: 'cli' });
  const c = change.changes!.find((x) => x.path === `systems[${ERP}].resources[/reports]`)!;
  assert.equal(c.before, undefined);
  assert.deepEqual((c.after as { methods: string[] }).methods, ['GET']);

  // A hand edit of the file: switch this subaccount to level "all".
  const cfg = readAgentConfig(site.agentDir);
  cfg.subaccounts[0]!.audit = 'all';
  writeAgentConfig(site.agentDir, cfg);
  const edit = await waitFor(async () => (await auditList('--type', 'config-change')).find((e) => e.changes?.some((x) => x.path === 'audit' && x.after === 'all')), 10_000, 'the hand edit');
  assert.equal(edit.actor.kind, 'local-admin');
  assert.equal((edit.actor as { via: string }).via, 'file');
});

test('at level all, allowed requests are audited too, with status and internal target', async () => {
  const r = await site.proxyCurl(['-H', `Authorization: Bearer ${site.token}`, `${BASE}/api/orders?access_token=${site.token}`]);
  assert.equal(r.status, 200);
  const entry = await waitFor(async () => (await auditList('--type', 'request')).find((e) => e.target.path === '/api/orders'), 5000, 'the request entry');
  assert.equal(entry.status, 200);
  assert.equal(entry.outcome, 'allowed');
  assert.equal(entry.target.internal, `127.0.0.1:${site.backend.port}`);
  // The token rode in a header and the query: neither reaches the audit.
  const denied = await site.proxyCurl(['-H', `Authorization: Bearer ${site.token}`, `${BASE}/secret?access_token=${site.token}`]);
  assert.equal(denied.status, 403);
});

test('metrics endpoints answer on loopback with the expected metric names', async () => {
  await waitFor(async () => /skybridge_tunnel_rtt_seconds\{/.test((await getText(agentMetricsPort, '/metrics')).body), 10_000, 'a heartbeat round trip in the agent metrics');
  const a = await getText(agentMetricsPort, '/metrics');
  assert.equal(a.status, 200);
  for (const name of [
    `skybridge_tunnel_up{subaccount="${site.subaccountId}"} 1`,
    'skybridge_tunnel_reconnects_total',
    'skybridge_tunnel_rtt_seconds{',
    `skybridge_requests_total{subaccount="${site.subaccountId}",system="${ERP}",status="200",outcome="allowed"}`,
    'skybridge_request_bytes_total{',
    'skybridge_request_duration_seconds_bucket{',
    'le="0.01"',
    'le="5"',
    `skybridge_requests_denied_total{subaccount="${site.subaccountId}",system="${ERP}"}`,
    `skybridge_certificate_expiry_timestamp_seconds{subaccount="${site.subaccountId}"}`,
    'skybridge_audit_entries_total{type="access-denied"}',
    'skybridge_agent_process_cpu_seconds_total',
  ]) {
    assert.ok(a.body.includes(name), `agent metrics lack ${name}`);
  }
  const r = await getText(relayMetricsPort, '/metrics');
  assert.equal(r.status, 200);
  for (const name of [
    'skybridge_relay_tunnels{',
    'skybridge_relay_tunnel_connects_total',
    `skybridge_relay_requests_total{system="${ERP}",status="200"}`,
    `skybridge_relay_requests_denied_total{system="${ERP}"}`,
    'skybridge_relay_request_duration_seconds_bucket{',
    'skybridge_relay_request_bytes_total{',
    'skybridge_relay_certificate_expiry_timestamp_seconds{certificate="server"}',
    'skybridge_relay_connector_certificate_expiry_timestamp_seconds{',
    'skybridge_relay_audit_head_reports_total',
  ]) {
    assert.ok(r.body.includes(name), `relay metrics lack ${name}`);
  }
  const other = await getText(agentMetricsPort, '/');
  assert.equal(other.status, 404);
});

test('secrets never reach the logs, the audit or the support bundle; the bundle holds what support needs', async () => {
  await agent!.stop(10_000);
  agent = undefined;
  const keyPem = fs.readFileSync(path.join(site.agentDir, 'subaccounts', site.subaccountId, 'key.pem'), 'utf8');
  const keyLine = keyPem.split('\n').find((l) => l.length > 40 && !l.startsWith('-----'))!;
  const auditKey = fs.readFileSync(path.join(site.agentDir, 'audit', 'audit.key'), 'utf8').trim();
  assert.ok(keyLine && site.token.length > 20);

  const logDir = path.dirname(logFile);
  const logs = fs.readdirSync(logDir).filter((n) => n.endsWith('.log'));
  assert.ok(logs.length > 0, 'the agent wrote its log file');
  const logText = logs.map((n) => fs.readFileSync(path.join(logDir, n), 'utf8')).join('');
  assert.match(logText, /"msg":"request denied"/, 'the log file holds the structured JSON logs');
  for (const secret of [site.token, keyLine, auditKey]) {
    assert.deepEqual(filesContaining(logDir, secret), [], 'no secret in the log files');
    assert.deepEqual(filesContaining(path.join(site.agentDir, 'audit'), secret).filter((f) => !f.endsWith('audit.key')), [], 'no secret in the audit files');
  }

  const out = path.join(await tempDir('skybridge-bundle-'), 'support.zip');
  const r = await cliOk(['export', '--data-dir', site.agentDir, '--out', out]);
  assert.equal(r.stdout.trim(), out);
  const zip = await unzip(out);
  for (const [name, data] of zip) {
    for (const secret of [site.token, keyLine, auditKey, 'PRIVATE KEY']) assert.ok(!data.includes(secret), `${name} carries a secret (${secret.slice(0, 12)}…)`);
  }
  for (const name of ['config.json', 'versions.json', 'diagnostics.json', 'diagnostics.txt', 'audit/audit.jsonl', 'audit/audit.jsonl.manifest.json', 'audit/verify.json', 'traffic/recent.jsonl', 'traffic/stats.json', 'traffic/usage.json', 'README.txt']) {
    assert.ok(zip.has(name), `the bundle lacks ${name}: ${[...zip.keys()].join(', ')}`);
  }
  assert.ok([...zip.keys()].some((n) => n.startsWith('logs/')), 'recent logs are in the bundle');
  const diag = zip.get('diagnostics.txt')!.toString();
  assert.match(diag, new RegExp(`subaccount ${site.subaccountId}`));
  assert.match(diag, /certificate: valid until .* days left/);
  assert.match(diag, /clock: relay is (ahead|behind) by \d+ ms/);
  assert.match(diag, new RegExp(`system ${ERP.replace('.', '\\.')} -> http://127\\.0\\.0\\.1:${site.backend.port}: reachable`));
  const manifest = JSON.parse(zip.get('audit/audit.jsonl.manifest.json')!.toString()) as { entries: number; sha256: string; verification: { ok: boolean } };
  const auditLines = zip.get('audit/audit.jsonl')!.toString().split('\n').filter(Boolean);
  assert.equal(manifest.entries, auditLines.length);
  const { createHash } = await import('node:crypto');
  assert.equal(manifest.sha256, createHash('sha256').update(zip.get('audit/audit.jsonl')!).digest('hex'));
  assert.equal(manifest.verification.ok, true);
  const recent = zip.get('traffic/recent.jsonl')!.toString();
  assert.match(recent, /"path":"\/api\/orders"/);
  assert.ok(!recent.includes('access_token'), 'the query string is not part of the traffic record');
  const usage = JSON.parse(zip.get('traffic/usage.json')!.toString()) as { system: string; resource?: string; calls: number }[];
  assert.ok(usage.some((u) => u.resource === '/reports' && u.calls === 0), 'an unused resource shows up with zero calls');
  assert.ok(usage.some((u) => u.resource === '/api' && u.calls >= 1));
});

test('audit export writes JSONL or CSV with a manifest of counts and hashes', async () => {
  const dir = await tempDir('skybridge-export-');
  const csv = path.join(dir, 'denied.csv');
  await cliOk(['audit', 'export', '--data-dir', site.agentDir, '--out', csv, '--type', 'access-denied', '--from', '1d']);
  const rows = fs.readFileSync(csv, 'utf8').trim().split('\n');
  assert.match(rows[0]!, /^seq,time,subaccount,type,actor,app/);
  assert.ok(rows.length >= 3, 'header plus the denials');
  assert.ok(rows.slice(1).every((l) => l.includes(',access-denied,')));
  const manifest = JSON.parse(fs.readFileSync(`${csv}.manifest.json`, 'utf8')) as { entries: number; byType: Record<string, number>; format: string; contiguous: boolean };
  assert.equal(manifest.format, 'csv');
  assert.equal(manifest.entries, rows.length - 1);
  assert.deepEqual(Object.keys(manifest.byType), ['access-denied']);
  assert.equal(manifest.contiguous, false);
});

test("the chain head reaches the relay, and a rewrite of the whole chain on the site's disk is caught against it", async () => {
  const ok = await runCli(['audit', 'verify', '--data-dir', site.agentDir]);
  assert.equal(ok.code, 0, ok.stderr + ok.stdout);
  assert.match(ok.stdout, new RegExp(`^ok: \\d+ entries .*checked against https://127\\.0\\.0\\.1:${site.relay.port} \\(\\d+ heads?\\)`, 'm'));

  // Someone with root on the site rewrites history with the key: flips a denial into an allowed request.
  const { seal } = await import('../../electron/agent/audit/chain.js');
  const key = Buffer.from(fs.readFileSync(path.join(site.agentDir, 'audit', 'audit.key'), 'utf8').trim(), 'hex');
  const dir = path.join(site.agentDir, 'audit');
  let prev = '0'.repeat(64);
  let last: unknown;
  for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.jsonl')).sort()) {
    const lines = fs.readFileSync(path.join(dir, name), 'utf8').split('\n').filter(Boolean);
    const out = lines.map((l) => {
      const { mac: _mac, ...e } = JSON.parse(l) as AuditEntry;
      if (e.type === 'access-denied') Object.assign(e, { type: 'request', outcome: 'allowed', status: 200 });
      const s = seal(key, { ...e, prev });
      prev = s.mac;
      last = { seq: e.seq, mac: s.mac, time: e.time, file: name };
      return s.line;
    });
    fs.writeFileSync(path.join(dir, name), out.map((l) => `${l}\n`).join(''));
  }
  fs.writeFileSync(path.join(dir, 'head.json'), JSON.stringify(last));

  const offline = await runCli(['audit', 'verify', '--data-dir', site.agentDir, '--offline']);
  assert.equal(offline.code, 0, 'a consistent rewrite cannot be seen from the disk alone');
  const caught = await runCli(['audit', 'verify', '--data-dir', site.agentDir]);
  assert.equal(caught.code, 1, caught.stdout + caught.stderr);
  assert.match(caught.stdout, /^REWRITTEN: audit-\d{4}-\d{2}-\d{2}\.jsonl line \d+ \(seq \d+\) differs from the entry the relay https:\/\/127\.0\.0\.1:\d+ recorded/m);
  assert.match(caught.stderr, /AUDIT_TAMPERED/);
});

test('audit verify on the command line names the file and line of a removed entry and exits 1', async () => {
  const dir = path.join(site.agentDir, 'audit');
  const name = fs.readdirSync(dir).filter((n) => n.endsWith('.jsonl')).sort()[0]!;
  const lines = fs.readFileSync(path.join(dir, name), 'utf8').split('\n').filter(Boolean);
  assert.ok(lines.length >= 4);
  lines.splice(2, 1);
  fs.writeFileSync(path.join(dir, name), lines.map((l) => `${l}\n`).join(''));
  const r = await runCli(['audit', 'verify', '--data-dir', site.agentDir, '--offline']);
  assert.equal(r.code, 1);
  assert.match(r.stdout, new RegExp(`^REMOVED: entries were removed before ${name.replace(/\./g, '\\.')} line 3: seq 3 is missing`, 'm'));
});
