/**
 * Crash test (issue 5): kill -9 the agent while it is under load. Every denial
 * a cloud app was answered must be in the audit log, and the log must verify,
 * against the relay's copy of the head too; after a restart the chain goes on.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { ERP, cleanupAll, readAgentStatus, runCli, setupSite, sleep, spawnCli, waitAgentState, waitFor, type Child, type Site } from './harness.js';
import type { AuditEntry } from '../../shared/evidence.js';

after(cleanupAll);

/** One request through the relay's proxy, as a cloud app sends it; resolves with the status or 0 when the connection broke. */
function proxyGet(site: Site, urlPath: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(
      { host: '127.0.0.1', port: site.relay.proxyPort, method: 'GET', path: `http://${ERP}${urlPath}`, headers: { 'proxy-authorization': `Bearer ${site.token}`, host: ERP }, agent: false, timeout: 5000 },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

async function auditEntries(dir: string): Promise<AuditEntry[]> {
  const r = await runCli(['audit', 'list', '--data-dir', dir, '--json', '--limit', '100000']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as AuditEntry[];
}

test('kill -9 under load: the audit up to the last answered security event is intact and verifies', async () => {
  const site = await setupSite({ noAgent: true });
  const start = () => spawnCli('agent', ['agent', 'start', '--data-dir', site.agentDir, '--audit-head-interval', '200']);
  let agent: Child = start();
  await waitAgentState(site.agentDir, 'connected', 20_000, agent);

  // Eight cloud clients, each alternating a denied and an allowed request, every denial with its own path.
  const answeredDenials = new Set<string>();
  let allowed = 0;
  let running = true;
  let counter = 0;
  const worker = async () => {
    while (running) {
      const n = counter++;
      const denied = `/forbidden/${n}`;
      const status = await proxyGet(site, denied);
      if (status === 403) answeredDenials.add(denied);
      if ((await proxyGet(site, `/api/ok/${n}`)) === 200) allowed += 1;
    }
  };
  const workers = Array.from({ length: 8 }, worker);
  await sleep(1500);
  assert.ok(answeredDenials.size > 20, `the load was real: ${answeredDenials.size} denials answered`);
  agent.proc.kill('SIGKILL');
  await agent.exited;
  running = false;
  await Promise.all(workers);
  const answeredBeforeKill = new Set(answeredDenials);

  const verify = await runCli(['audit', 'verify', '--data-dir', site.agentDir]);
  assert.equal(verify.code, 0, `verify after kill -9:\n${verify.stdout}\n${verify.stderr}`);
  assert.match(verify.stdout, /^ok: /m);
  assert.match(verify.stdout, /checked against https:\/\/127\.0\.0\.1:\d+ \(\d+ heads?\)/, 'the relay had received chain heads');

  const recorded = new Set((await auditEntries(site.agentDir)).filter((e) => e.type === 'access-denied').map((e) => e.target.path));
  const missing = [...answeredBeforeKill].filter((p) => !recorded.has(p));
  assert.deepEqual(missing, [], `${missing.length} of ${answeredBeforeKill.size} answered denials are not in the audit log`);
  assert.ok(allowed > 0);

  // The chain goes on after a restart, and still verifies.
  agent = start();
  // The killed agent's status file still says connected: wait for the new process to write its own.
  const pid = agent.proc.pid;
  await waitFor(() => readAgentStatus(site.agentDir)?.pid === pid, 20_000, 'the restarted agent to write its status');
  await waitAgentState(site.agentDir, 'connected', 20_000, agent);
  assert.equal(await proxyGet(site, '/forbidden/after-restart'), 403);
  await agent.stop(10_000);
  const again = await runCli(['audit', 'verify', '--data-dir', site.agentDir]);
  assert.equal(again.code, 0, `${again.stdout}\n${again.stderr}`);
  const entries = await auditEntries(site.agentDir);
  assert.equal(entries.filter((e) => e.type === 'audit-started').length, 2);
  assert.ok(entries.some((e) => e.target.path === '/forbidden/after-restart'));
  await site.close();
});
