/**
 * The tunnel stays useful: 503 when no connector is online, recovery after a
 * relay restart without touching the agent, no head-of-line blocking behind a
 * stalled stream, and live configuration reloads that never apply a bad file.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  addResourceArgs,
  addSystemArgs,
  cleanupAll,
  cliOk,
  ERP,
  readAgentConfig,
  readAgentStatus,
  refusalProblems,
  setupSite,
  show,
  sleep,
  spawnProcess,
  waitFor,
  writeAgentConfig,
} from './harness.js';

after(cleanupAll);

test('no connector online: 503; the agent comes up: 200; the agent stops: 503 again', { timeout: 90_000 }, async () => {
  const site = await setupSite({ noAgent: true });
  const before = await site.proxyCurl([`http://${ERP}/api/x`]);
  assert.deepEqual(refusalProblems(before, 503, 'NO_CONNECTOR'), [], show(before));

  await site.startAgent();
  const up = await site.proxyCurl([`http://${ERP}/api/x`]);
  assert.equal(up.status, 200, show(up));

  const agent = site.agent!;
  const ended = await agent.stop(10_000);
  assert.equal(ended.killed, false, `agent ignored SIGTERM; stderr: ${agent.stderr().slice(-1000)}`);
  assert.equal(ended.code, 0, `agent should exit 0 on SIGTERM; stderr: ${agent.stderr().slice(-1000)}`);
  site.agent = undefined;
  const down = await waitFor(
    async () => {
      const r = await site.proxyCurl([`http://${ERP}/api/x`]);
      return r.status === 503 ? r : undefined;
    },
    5000,
    '503 after the agent stopped',
  );
  assert.deepEqual(refusalProblems(down, 503, 'NO_CONNECTOR'), [], show(down));
  await site.close();
});

test('the relay restarts: the running agent reconnects by itself and serves again within 10 s', { timeout: 90_000 }, async () => {
  const site = await setupSite();
  const first = await site.proxyCurl([`http://${ERP}/api/x`]);
  assert.equal(first.status, 200, show(first));
  const agentPid = site.agent!.proc.pid;

  const relayStderr = site.relay.child.stderr();
  const stopped = await site.stopRelay();
  assert.equal(stopped.killed, false, 'relay ignored SIGTERM');
  assert.equal(stopped.code, 0, `relay should exit 0 on SIGTERM; stderr: ${site.relay.child.stderr().slice(-1000) || relayStderr.slice(-1000)}`);

  await waitFor(
    () => {
      const s = readAgentStatus(site.agentDir);
      return s?.subaccounts.some((a) => a.status.state !== 'connected');
    },
    10_000,
    'the agent to notice the relay is gone (status.json state other than connected)',
  );

  await site.startRelay();
  const restartedAt = Date.now();
  const again = await waitFor(
    async () => {
      const r = await site.proxyCurl([`http://${ERP}/api/x`], { timeoutMs: 3000 });
      return r.status === 200 ? r : undefined;
    },
    10_000,
    'a 200 through the restarted relay',
    200,
  ).catch((e: Error) => {
    throw new Error(`${e.message}; agent status: ${JSON.stringify(readAgentStatus(site.agentDir)?.subaccounts)}; agent stderr: ${site.agent?.stderr().slice(-1500)}`);
  });
  assert.equal(again.status, 200);
  assert.ok(Date.now() - restartedAt < 10_000);
  assert.ok(site.agent!.isAlive(), 'the agent process kept running');
  assert.equal(site.agent!.proc.pid, agentPid);
  assert.equal(readAgentStatus(site.agentDir)?.subaccounts[0]?.status.state, 'connected');
  await site.close();
});

test('a stalled back-end response does not slow other requests through the same tunnel', { timeout: 90_000 }, async () => {
  const site = await setupSite();
  const proxy = ['-x', `http://127.0.0.1:${site.relay.proxyPort}`, '--proxy-header', `Proxy-Authorization: Bearer ${site.token}`];
  // Two kinds of stall: no answer at all, and headers plus 1 KiB then nothing.
  const stalled = [
    spawnProcess('curl-stall', 'curl', ['-sS', '-o', '/dev/null', '--max-time', '60', ...proxy, `http://${ERP}/api/stall`]),
    spawnProcess('curl-partial-stall', 'curl', ['-sS', '-o', '/dev/null', '--max-time', '60', ...proxy, `http://${ERP}/api/partial-stall`]),
  ];
  await waitFor(
    () => site.backend.requests.filter((q) => q.url.includes('stall')).length === 2,
    10_000,
    'both stalled requests to reach the back end',
  );
  for (let i = 0; i < 5; i++) {
    const r = await site.proxyCurl([`http://${ERP}/api/quick/${i}`]);
    assert.equal(r.status, 200, show(r));
    assert.ok(r.timeMs < 1000, `request ${i} took ${r.timeMs} ms while another stream was stalled`);
  }
  assert.ok(stalled.every((c) => c.isAlive()), 'the stalled requests should still be waiting');
  for (const c of stalled) await c.stop();
  await site.close();
});

test('cloud clients that stop reading large downloads do not slow other requests', { timeout: 90_000 }, async () => {
  const site = await setupSite();
  const size = 50 * 1024 * 1024;
  const sockets: net.Socket[] = [];
  for (let i = 0; i < 3; i++) {
    const s = net.connect(site.relay.proxyPort, '127.0.0.1');
    s.on('error', () => {});
    s.write(`GET http://${ERP}/api/download?size=${size}&n=${i} HTTP/1.1\r\nHost: ${ERP}\r\nProxy-Authorization: Bearer ${site.token}\r\n\r\n`);
    s.pause(); // never read: the relay must hold back, not stall the tunnel
    sockets.push(s);
  }
  await waitFor(() => site.backend.requests.filter((q) => q.url.includes('download')).length === 3, 10_000, 'the three downloads to start');
  await sleep(1000); // let the windows and socket buffers fill
  try {
    for (let i = 0; i < 5; i++) {
      const r = await site.proxyCurl([`http://${ERP}/api/quick/${i}`]);
      assert.equal(r.status, 200, show(r));
      assert.ok(r.timeMs < 1000, `request ${i} took ${r.timeMs} ms while three downloads were stalled by their clients`);
    }
  } finally {
    for (const s of sockets) s.destroy();
  }
  await site.close();
});

test('a resource and a system added while the agent runs start working within seconds, without restart', { timeout: 90_000 }, async () => {
  const site = await setupSite();
  const pid = site.agent!.proc.pid;
  const before = await site.proxyCurl([`http://${ERP}/reports/q1`]);
  assert.equal(before.status, 403, show(before));

  await cliOk(addResourceArgs(site.agentDir, ERP, { path: '/reports', subPaths: true }));
  await waitFor(
    async () => (await site.proxyCurl([`http://${ERP}/reports/q1`])).status === 200,
    5000,
    'the new resource /reports to be served',
    250,
  );

  const HR = 'hr.virtual:8000';
  await cliOk(addSystemArgs(site.agentDir, { virtual: HR, resources: [] }, site.backend.port));
  await cliOk(addResourceArgs(site.agentDir, HR, { path: '/people', subPaths: true }));
  await waitFor(async () => (await site.proxyCurl([`http://${HR}/people/7`])).status === 200, 5000, 'the new system hr.virtual:8000 to be served', 250);

  assert.equal(site.agent!.proc.pid, pid);
  assert.ok(site.agent!.isAlive());
  await site.close();
});

test('an invalid config.json written while running is reported, never partly applied, and the old config keeps serving', { timeout: 90_000 }, async () => {
  const site = await setupSite();
  const good = readAgentConfig(site.agentDir);
  type Sys = { virtualHost: string; resources: Array<Record<string, unknown>> } & Record<string, unknown>;
  const bad = structuredClone(good) as typeof good;
  const systems = bad.subaccounts[0]!.systems as Sys[];
  // A valid addition next to an invalid field: if anything were applied, /partial would open.
  systems[0]!.resources.push({ path: '/partial', subPaths: true });
  systems.push({ ...structuredClone(systems[0]!), virtualHost: 'broken.virtual', internalPort: 'not-a-port' });
  writeAgentConfig(site.agentDir, bad);

  const statusFile = path.join(site.agentDir, 'run', 'status.json');
  await waitFor(
    () => site.agent!.stderr().includes('internalPort') || readFileSync(statusFile, 'utf8').includes('internalPort'),
    5000,
    'the agent to report the invalid field internalPort (on stderr or in status.json)',
  ).catch((e: Error) => {
    throw new Error(`${e.message}; agent stderr tail: ${site.agent!.stderr().slice(-1500)}`);
  });
  assert.ok(site.agent!.isAlive(), 'a bad config must not kill the agent');

  const partial = await site.proxyCurl([`http://${ERP}/partial/x`]);
  assert.equal(partial.status, 403, `the bad file was partly applied: ${show(partial)}`);
  const old = await site.proxyCurl([`http://${ERP}/api/x`]);
  assert.equal(old.status, 200, `the old config should keep serving: ${show(old)}`);

  // Not even JSON: still serving.
  writeFileSync(path.join(site.agentDir, 'config.json'), '{ "subaccounts": [ ');
  await sleep(1500);
  assert.ok(site.agent!.isAlive(), 'a truncated config must not kill the agent');
  const still = await site.proxyCurl([`http://${ERP}/api/x`]);
  assert.equal(still.status, 200, `the old config should keep serving after a truncated file: ${show(still)}`);

  // Fixed file: applied.
  const fixed = structuredClone(good) as typeof good;
  (fixed.subaccounts[0]!.systems as Sys[])[0]!.resources.push({ path: '/partial', subPaths: true });
  writeAgentConfig(site.agentDir, fixed);
  await waitFor(async () => (await site.proxyCurl([`http://${ERP}/partial/x`])).status === 200, 5000, 'the fixed config to be applied', 250);
  await site.close();
});
