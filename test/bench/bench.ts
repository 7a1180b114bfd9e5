/**
 * `npm run bench`: direct access, Skybridge and `ssh -R`, side by side, in one
 * run on loopback (DESIGN "Data plane", issue 2 "Multiplexing and performance").
 * Back end, relay, agent, sshd and ssh each run as their own process, so CPU
 * and RSS are per process. Prints a table and the targets, and writes
 * test-results/bench.json. Not part of CI; exits 0 when the run completed,
 * whatever the targets say.
 *
 * The light phases run first, so the slow-reader phase (where the RSS target
 * is judged) meets relay and agent before any full-speed gigabyte has grown
 * their heaps; the peak over the whole run is reported beside it.
 *
 * `--quick` shrinks every size and duration (a smoke run, not a measurement).
 * `SKYBRIDGE_BENCH_NODE_ARGS` passes node flags to relay and agent (e.g. --cpu-prof).
 */
import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { zeroFile, download, directRoute, latency, load, proxyRoute, round, upload, type LoadResult, type Route } from './measure.js';
import { formatMux, type MuxResult } from './mux-compare.js';
import { OtherLoad, PhaseMonitor, type Watched } from './procfs.js';
import { cleanupAll, installExitHandlers, run, sleep, startProcess, stopProcess, tempDir, waitFor } from './procs.js';
import { runBench, writeResults } from './procs.js';
import { formatReport, type BenchResults, type Measured, type Outcome, type PerRoute, type RouteName, type SlowRun } from './report.js';
import { REPO_ROOT, startSkybridge, VIRTUAL_HOST, VIRTUAL_PORT, type Skybridge } from './skybridge-setup.js';
import { sshUnavailable, startSshTunnel, type SshTunnel } from './ssh-setup.js';

const quick = process.argv.includes('--quick');
const MiB = 1024 ** 2;
const SETTINGS = {
  bulkBytes: quick ? 128 * MiB : 1024 * MiB,
  warmupBytes: quick ? 16 * MiB : 64 * MiB,
  loadConnections: 50,
  loadThreads: 1,
  loadSeconds: quick ? 3 : 10,
  loadWarmupSeconds: quick ? 1 : 2,
  latencyRate: 100,
  latencySeconds: quick ? 2 : 5,
  backToBackRequests: quick ? 500 : 2000,
  slowRateMBps: 100,
};

const log = (msg: string) => process.stderr.write(`bench: ${msg}\n`);

async function attempt<T>(what: string, fn: () => Promise<T>): Promise<Outcome<T>> {
  log(what);
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    log(`  failed: ${(err as Error).message}`);
    return { ok: false, error: (err as Error).message };
  }
}

interface Setup {
  scratch: string;
  backendPid: number;
  routes: Partial<Record<RouteName, Route>>;
  skybridge?: Skybridge;
  ssh?: SshTunnel;
  skipped: Partial<Record<RouteName, string>>;
}

function watchedFor(name: RouteName, s: Setup): Watched[] {
  const list: Watched[] = [{ name: 'backend', pids: () => [s.backendPid] }];
  if (name === 'skybridge' && s.skybridge) {
    const sb = s.skybridge;
    list.push({ name: 'relay', pids: () => [sb.relay.pid] }, { name: 'agent', pids: () => [sb.agent.pid] });
  }
  if (name === 'ssh' && s.ssh) {
    const t = s.ssh;
    list.push({ name: 'ssh', pids: () => [t.ssh.pid] }, { name: 'sshd', pids: () => t.sessionPids() });
  }
  return list;
}

/** One measurement on every route that is up; the monitor covers the measured part only, not its warm-up. */
async function perRoute<T>(s: Setup, what: string, measure: (r: Route) => Promise<T>, warmup?: (r: Route) => Promise<unknown>): Promise<PerRoute<T>> {
  const out: PerRoute<T> = {};
  for (const name of ['direct', 'skybridge', 'ssh'] as const) {
    const route = s.routes[name];
    if (!route) continue;
    const result = await attempt(`${what} via ${route.name}`, async () => {
      if (warmup) await warmup(route);
      const monitor = new PhaseMonitor(watchedFor(name, s));
      try {
        return { value: await measure(route), usage: monitor.stop() };
      } catch (err) {
        monitor.stop();
        throw err;
      }
    });
    out[name] = result.ok ? ({ ok: true, value: result.value.value, usage: result.value.usage } satisfies Measured<T>) : result;
  }
  return out;
}

async function setUp(): Promise<Setup> {
  const scratch = tempDir('skybridge-bench-');
  const backend = startProcess('backend', process.execPath, [path.join(REPO_ROOT, 'dist', 'test', 'bench', 'backend.js')]);
  const backendPort = await waitFor('the back end to listen', 10_000, () => {
    if (!backend.alive()) throw new Error(`the back end exited: ${backend.stderr()}`);
    const m = /PORT (\d+)/.exec(backend.stdout());
    return m ? Number(m[1]) : undefined;
  });
  const s: Setup = { scratch, backendPid: backend.pid, routes: { direct: directRoute('direct', backendPort) }, skipped: {} };

  log('starting relay and agent (paired through the CLI)');
  s.skybridge = await startSkybridge(path.join(scratch, 'skybridge'), backendPort);
  s.routes.skybridge = proxyRoute('skybridge', s.skybridge.proxyPort, `http://${VIRTUAL_HOST}:${VIRTUAL_PORT}`, s.skybridge.token);

  const noSsh = sshUnavailable();
  if (noSsh) s.skipped.ssh = noSsh;
  else {
    log('starting sshd and ssh -R');
    const sshDir = path.join(scratch, 'ssh');
    mkdirSync(sshDir, { mode: 0o700 });
    try {
      s.ssh = await startSshTunnel(sshDir, backendPort);
      s.routes.ssh = directRoute('ssh -R', s.ssh.port);
    } catch (err) {
      s.skipped.ssh = `ssh -R could not be set up: ${(err as Error).message}`;
    }
  }
  // Every route must answer before anything is timed.
  for (const route of Object.values(s.routes)) {
    const { stdout } = await run('curl', 'curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '10', ...route.curl('/small')]);
    if (stdout.trim() !== '200') throw new Error(`GET /small via ${route.name} answered ${stdout.trim()} instead of 200`);
  }
  return s;
}

/** A 1 GiB upload into a back end reading at `slowRateMBps`, and small GETs over the same path while it runs. */
async function slowRun(route: Route, file: string): Promise<SlowRun> {
  const expectedSeconds = SETTINGS.bulkBytes / (SETTINGS.slowRateMBps * 1e6);
  let uploadDoneAt = Infinity;
  const transfer = upload(route, file, SETTINGS.bulkBytes, `?rateMBps=${SETTINGS.slowRateMBps}`, (expectedSeconds * 4 + 60) * 1000).finally(() => (uploadDoneAt = performance.now()));
  transfer.catch(() => undefined);
  // Let windows and socket buffers fill first: the question is how others fare while the path is full.
  await sleep(Math.min(1500, expectedSeconds * 150));
  const during = await latency(route, { ratePerSec: SETTINGS.latencyRate, seconds: Math.min(SETTINGS.latencySeconds, expectedSeconds * 0.6), path: '/small', warmup: 10 });
  const probeDoneAt = performance.now();
  return { transfer: await transfer, during, overlapped: uploadDoneAt >= probeDoneAt };
}

async function muxCompare(): Promise<Outcome<MuxResult>> {
  return attempt('multiplexing options (mux-compare, 1 GiB each way per option)', async () => {
    const args = [path.join(REPO_ROOT, 'dist', 'test', 'bench', 'mux-compare.js'), '--json', ...(quick ? ['--bytes', String(SETTINGS.bulkBytes)] : [])];
    const { stdout } = await run('mux-compare', process.execPath, args, { timeoutMs: 180_000 });
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as MuxResult;
  });
}

async function main(): Promise<void> {
  installExitHandlers();
  const started = Date.now();
  // What else is running: on a shared 2-core machine, other programs' CPU shows up in every number below.
  const before = new OtherLoad();
  await sleep(1000);
  const background = { loadavg: os.loadavg().map((x) => round(x, 2)), otherCoresBeforeRun: before.stop().otherCores };
  log(`background before the run: ${background.otherCoresBeforeRun} cores busy, load average ${background.loadavg.join(' ')}`);

  const haveWrk = ['/usr/bin/wrk', '/usr/local/bin/wrk'].some((p) => existsSync(p));
  const s = await setUp();
  const bulkFile = path.join(s.scratch, 'zeros.bin');
  const warmupFile = path.join(s.scratch, 'zeros-warmup.bin');
  zeroFile(bulkFile, SETTINGS.bulkBytes);
  zeroFile(warmupFile, SETTINGS.warmupBytes);
  const smallGet = { ratePerSec: SETTINGS.latencyRate, seconds: SETTINGS.latencySeconds, path: '/small' };

  const results: BenchResults = {
    startedAt: new Date(started).toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '?', node: process.version, kernel: os.release() },
    settings: { ...SETTINGS, quick },
    background,
    sshCipher: s.ssh?.cipher,
    skipped: { ...s.skipped, ...(haveWrk ? {} : { load: 'wrk not found (apt-get install -y wrk)' }) },
    latency: await perRoute(s, `GET /small at ${SETTINGS.latencyRate}/s for ${SETTINGS.latencySeconds} s`, (r) => latency(r, smallGet)),
    backToBack: await perRoute(s, `${SETTINGS.backToBackRequests} GETs back to back`, (r) =>
      latency(r, { ratePerSec: 1e6, seconds: SETTINGS.backToBackRequests / 1e6, path: '/small', warmup: 200 }),
    ),
    slowUpload: await perRoute(s, `slow reader: ${SETTINGS.bulkBytes} bytes to /sink?rateMBps=${SETTINGS.slowRateMBps}, GETs meanwhile`, (r) => slowRun(r, bulkFile)),
    download: await perRoute(
      s,
      `download ${SETTINGS.bulkBytes} bytes`,
      (r) => download(r, SETTINGS.bulkBytes),
      (r) => download(r, SETTINGS.warmupBytes),
    ),
    upload: await perRoute(
      s,
      `upload ${SETTINGS.bulkBytes} bytes`,
      (r) => upload(r, bulkFile, SETTINGS.bulkBytes),
      (r) => upload(r, warmupFile, SETTINGS.warmupBytes),
    ),
    load: {},
    mux: { ok: false, error: 'not run' },
    durationSeconds: 0,
  };
  if (haveWrk) {
    const opts = { connections: SETTINGS.loadConnections, threads: SETTINGS.loadThreads, path: '/small' };
    results.load = await perRoute<LoadResult>(
      s,
      `wrk ${SETTINGS.loadConnections} connections, ${SETTINGS.loadSeconds} s`,
      (r) => load(r, s.scratch, { ...opts, seconds: SETTINGS.loadSeconds }),
      (r) => load(r, s.scratch, { ...opts, seconds: SETTINGS.loadWarmupSeconds }),
    );
  }

  // The comparison runs alone, so the tunnels above do not take its CPU.
  log('stopping ssh, sshd, agent, relay and back end');
  if (s.ssh) {
    await stopProcess(s.ssh.ssh);
    await stopProcess(s.ssh.sshd);
  }
  if (s.skybridge) {
    await stopProcess(s.skybridge.agent);
    await stopProcess(s.skybridge.relay);
  }
  await cleanupAll();
  results.mux = await muxCompare();
  results.durationSeconds = round((Date.now() - started) / 1000);

  process.stdout.write(`${formatReport(results)}\n`);
  if (results.mux.ok) process.stdout.write(`\n${formatMux(results.mux.value)}\n`);
  writeResults(REPO_ROOT, 'bench.json', results, results.durationSeconds);
}

runBench(main, log);
