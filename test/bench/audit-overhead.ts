/**
 * Audit overhead (issue 5): small requests per second through relay and agent
 * with the subaccount's audit level `all` (an entry per request, group-synced)
 * against `off`. Rounds alternate between the two levels so drift on a shared
 * machine hits both alike; the median of each is compared (target: `all`
 * within 10% of `off`). Run after a build:
 *
 *   node dist/test/bench/audit-overhead.js [--rounds N] [--seconds S] [--connections C]
 *
 * Needs `wrk` (Debian package `wrk`). Writes test-results/audit-overhead.json.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ERP, REPO_ROOT, cleanupAll, readAgentConfig, setupSite, spawnCli, tempDir, waitAgentState, waitFor, readAgentStatus, writeAgentConfig, type Site } from '../integration/harness.js';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '3' }, seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '50' } },
  strict: true,
});
const ROUNDS = Number(values.rounds);
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const log = (m: string) => process.stderr.write(`audit-overhead: ${m}\n`);

function wrk(site: Site, scriptFile: string, seconds: number): Promise<{ rps: number; errors: number; raw: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      'wrk',
      ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', '-s', scriptFile, `http://127.0.0.1:${site.relay.proxyPort}`],
      { timeout: (seconds + 30) * 1000, maxBuffer: 4 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`wrk failed: ${err.message} ${String(stderr)}`));
        const out = String(stdout);
        const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
        const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
        const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
        const errors = non2xx + (socketErrors ? socketErrors.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
        resolve({ rps, errors, raw: out });
      },
    );
  });
}

function auditLines(agentDir: string): number {
  const dir = path.join(agentDir, 'audit');
  if (!fs.existsSync(dir)) return 0;
  return fs
    .readdirSync(dir)
    .filter((n) => n.endsWith('.jsonl'))
    .reduce((sum, n) => sum + fs.readFileSync(path.join(dir, n), 'utf8').split('\n').filter(Boolean).length, 0);
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const site = await setupSite({ noAgent: true });
  const scratch = await tempDir('skybridge-audit-bench-');
  const script = path.join(scratch, 'proxy.lua');
  // Absolute-form target and the app token, as a cloud app sends them to the proxy.
  fs.writeFileSync(script, `wrk.method = "GET"\nwrk.path = "http://${ERP}/api/bench"\nwrk.headers["Proxy-Authorization"] = "Bearer ${site.token}"\nwrk.headers["Host"] = "${ERP}"\n`);

  const results: Record<'off' | 'all', number[]> = { off: [], all: [] };
  // Throughput on a shared 2-core machine is noisy; the agent's CPU time per request is the steadier measure of the cost.
  const cpuPerRequest: Record<'off' | 'all', number[]> = { off: [], all: [] };
  const entries: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const level of round % 2 === 0 ? (['off', 'all'] as const) : (['all', 'off'] as const)) {
      const cfg = readAgentConfig(site.agentDir);
      cfg.subaccounts[0]!.audit = level;
      writeAgentConfig(site.agentDir, cfg);
      const agent = spawnCli('agent', ['agent', 'start', '--data-dir', site.agentDir], { SKYBRIDGE_LOG_LEVEL: 'warn' });
      await waitFor(() => readAgentStatus(site.agentDir)?.pid === agent.proc.pid, 20_000, 'the agent status');
      await waitAgentState(site.agentDir, 'connected', 20_000, agent);
      await wrk(site, script, 2); // warm-up: JIT, pools, page cache
      const before = auditLines(site.agentDir);
      const cpuBefore = cpuSeconds(agent.proc.pid!);
      const r = await wrk(site, script, SECONDS);
      const cpu = cpuSeconds(agent.proc.pid!) - cpuBefore;
      await agent.stop(15_000);
      cpuPerRequest[level].push((cpu / (r.rps * SECONDS)) * 1e6);
      const written = auditLines(site.agentDir) - before;
      if (r.errors > 0) log(`  ${r.errors} errors in this run`);
      results[level].push(r.rps);
      if (level === 'all') entries.push(written);
      log(`round ${round + 1}, audit ${level}: ${r.rps.toFixed(0)} requests/s, agent ${cpuPerRequest[level].at(-1)!.toFixed(1)} µs CPU per request${level === 'all' ? `, ${written} audit entries written` : ''}`);
    }
  }
  await site.close();
  const off = median(results.off);
  const all = median(results.all);
  const overheadPct = ((off - all) / off) * 100;
  const cpuOff = median(cpuPerRequest.off);
  const cpuAll = median(cpuPerRequest.all);
  const report = {
    when: new Date().toISOString(),
    rounds: ROUNDS,
    secondsPerRun: SECONDS,
    connections: CONNECTIONS,
    requestsPerSecond: { off: results.off, all: results.all, medianOff: Math.round(off), medianAll: Math.round(all) },
    auditEntriesPerAllRun: entries,
    agentCpuMicrosecondsPerRequest: { off: cpuPerRequest.off.map((x) => Math.round(x)), all: cpuPerRequest.all.map((x) => Math.round(x)), medianOff: Math.round(cpuOff), medianAll: Math.round(cpuAll) },
    agentCpuOverheadPercent: Math.round(((cpuAll - cpuOff) / cpuOff) * 1000) / 10,
    overheadPercent: Math.round(overheadPct * 10) / 10,
    target: 'audit all within 10% of audit off',
    met: overheadPct <= 10,
  };
  const outDir = path.join(REPO_ROOT, 'test-results');
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'audit-overhead.json'), `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(
    [
      '',
      `audit level | requests/s (median of ${ROUNDS}) | runs`,
      `off         | ${Math.round(off)} | ${results.off.map((x) => Math.round(x)).join(', ')}`,
      `all         | ${Math.round(all)} | ${results.all.map((x) => Math.round(x)).join(', ')}`,
      `overhead of "all": ${report.overheadPercent}% fewer requests/s (target ≤ 10%: ${report.met ? 'met' : 'NOT met'})`,
      `agent CPU per request: off ${Math.round(cpuOff)} µs, all ${Math.round(cpuAll)} µs (+${report.agentCpuOverheadPercent}%)`,
      '',
    ].join('\n'),
  );
}

main()
  .catch((err: Error) => {
    log(`failed: ${err.message}`);
    process.exitCode = 1;
  })
  .finally(() => void cleanupAll());
