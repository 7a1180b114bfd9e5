/**
 * `node dist/test/bench/tcp-bench.js [--quick]`: raw TCP through Skybridge's
 * SOCKS5 proxy against `ssh -R` (and direct access as the ceiling), on loopback.
 *
 * - Throughput: curl (the same C client on every route) downloads from and
 *   uploads to the bench back end; through Skybridge it reaches a system
 *   mapped with protocol `tcp`, via `--socks5-hostname`, so every byte crosses
 *   relay, tunnel and connector as raw TCP. Median of three runs each way.
 * - Connection setup: a fresh TCP connection, then one small request and its
 *   answer (`GET /small`), sequentially: the time an app waits before its
 *   first answer on a new connection. For SOCKS5 also the handshake alone
 *   (connect, greeting, password, CONNECT, reply 0x00 from the connector).
 *
 * Relay, agent, sshd, ssh and back end each run as their own process; CPU per
 * process is reported for the throughput phases. Writes test-results/tcp-bench.json.
 * Target (issue 4): SOCKS5 throughput at least 1.5x that of ssh -R.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { zeroFile, directRoute, download, percentile, round, upload, type Route, type Transfer } from './measure.js';
import { OtherLoad, PhaseMonitor, type PhaseUsage, type Watched } from './procfs.js';
import { cleanupAll, installExitHandlers, run, sleep, startProcess, stopProcess, tempDir, waitFor, type Proc } from './procs.js';
import { runBench, writeResults } from './procs.js';
import { REPO_ROOT } from './skybridge-setup.js';
import { sshUnavailable, startSshTunnel, type SshTunnel } from './ssh-setup.js';

const quick = process.argv.includes('--quick');
const MiB = 1024 ** 2;
const SETTINGS = {
  bulkBytes: quick ? 128 * MiB : 1024 * MiB,
  warmupBytes: quick ? 16 * MiB : 64 * MiB,
  runs: quick ? 1 : 3,
  setupConnections: quick ? 50 : 300,
  target: 1.5,
};
const BIN = path.join(REPO_ROOT, 'bin', 'skybridge.js');
const QUIET = { SKYBRIDGE_LOG_LEVEL: 'warn' };
const APP = 'bench-app';
const VIRTUAL = 'bench-tcp.virtual:80';

const log = (msg: string) => process.stderr.write(`tcp-bench: ${msg}\n`);

type RouteName = 'direct' | 'socks5' | 'ssh';

interface TcpRoute extends Route {
  /** Opens a connection that is ready for data to the back end. */
  open(): Promise<{ socket: net.Socket; handshakeMs: number }>;
}

interface Skybridge {
  relay: Proc;
  agent: Proc;
  socksPort: number;
  token: string;
}

async function cli(...args: string[]): Promise<string> {
  const { stdout } = await run(`skybridge ${args.slice(0, 3).join(' ')}`, process.execPath, [BIN, ...args], { env: QUIET, timeoutMs: 30_000 });
  return stdout.split('\n').filter((l) => l.trim() !== '').at(-1)?.trim() ?? '';
}

/** Relay and connector as two processes, set up through the CLI; the back end is mapped as a TCP system. */
async function startSkybridge(dir: string, backendPort: number): Promise<Skybridge> {
  const relayDir = path.join(dir, 'relay');
  const agentDir = path.join(dir, 'agent');
  const relay = startProcess('relay', process.execPath, [BIN, 'relay', 'start', '--data-dir', relayDir, '--host', '127.0.0.1', '--port', '0', '--proxy-port', '0', '--socks-port', '0'], { env: QUIET });
  const socksPort = await waitFor('the relay to listen', 30_000, () => {
    if (!relay.alive()) throw new Error(`the relay exited: ${relay.stderr().slice(-1000)}`);
    const m = /SOCKS5 proxy on 127\.0\.0\.1:(\d+)/.exec(relay.stderr());
    return m ? Number(m[1]) : undefined;
  });
  const tenant = await cli('relay', 'tenant', 'create', 'bench', '--data-dir', relayDir);
  const token = await cli('relay', 'app', 'create', APP, '--tenant', tenant, '--data-dir', relayDir);
  const code = await cli('relay', 'pairing-code', '--tenant', tenant, '--data-dir', relayDir);
  const subaccount = await cli('agent', 'pair', code, '--data-dir', agentDir, '--name', 'bench');
  await cli('agent', 'system', 'add', '--data-dir', agentDir, '--virtual', VIRTUAL, '--internal', `127.0.0.1:${backendPort}`, '--protocol', 'tcp', '--max-connections', '10000');
  const agent = startProcess('agent', process.execPath, [BIN, 'agent', 'start', '--data-dir', agentDir], { env: QUIET });
  await waitFor('the agent tunnel to connect', 30_000, () => {
    if (!agent.alive()) throw new Error(`the agent exited: ${agent.stderr().slice(-1000)}`);
    const status = JSON.parse(readFileSync(path.join(agentDir, 'run', 'status.json'), 'utf8')) as { subaccounts: { id: string; status: { state: string } }[] };
    return status.subaccounts.find((s) => s.id === subaccount)?.status.state === 'connected' ? true : undefined;
  });
  return { relay, agent, socksPort, token };
}

function connectTcp(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', noDelay: true });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Reads exactly n bytes (a SOCKS5 answer) without consuming anything after them. */
function readExactly(socket: net.Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < n) return;
      socket.removeListener('data', onData);
      socket.removeListener('end', onEnd);
      socket.pause();
      if (buf.length > n) socket.unshift(buf.subarray(n));
      resolve(buf.subarray(0, n));
    };
    const onEnd = () => reject(new Error('the SOCKS5 server closed the connection'));
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.resume();
  });
}

/** RFC 1928 + 1929, as a cloud app's driver would do it: greeting, password, CONNECT by name. */
async function socksOpen(socksPort: number, token: string, host: string, port: number): Promise<net.Socket> {
  const s = await connectTcp(socksPort);
  s.write(Buffer.from([5, 1, 2]));
  const sel = await readExactly(s, 2);
  if (sel[1] !== 2) throw new Error(`method ${sel[1]}`);
  const u = Buffer.from(APP);
  const p = Buffer.from(token);
  s.write(Buffer.concat([Buffer.from([1, u.length]), u, Buffer.from([p.length]), p]));
  const auth = await readExactly(s, 2);
  if (auth[1] !== 0) throw new Error('SOCKS5 authentication failed');
  const h = Buffer.from(host);
  const portBuf = Buffer.alloc(2);
  portBuf.writeUInt16BE(port);
  s.write(Buffer.concat([Buffer.from([5, 1, 0, 3, h.length]), h, portBuf]));
  const reply = await readExactly(s, 10);
  if (reply[1] !== 0) throw new Error(`SOCKS5 reply 0x${reply[1]!.toString(16)}`);
  return s;
}

function plainRoute(name: string, port: number): TcpRoute {
  return {
    ...directRoute(name, port),
    async open() {
      const t0 = performance.now();
      const socket = await connectTcp(port);
      return { socket, handshakeMs: performance.now() - t0 };
    },
  };
}

function socksRoute(sb: Skybridge): TcpRoute {
  const [host, port] = VIRTUAL.split(':') as [string, string];
  return {
    name: 'Skybridge SOCKS5',
    host: '127.0.0.1',
    port: sb.socksPort,
    target: (p) => p,
    headers: {},
    curl: (p) => ['--socks5-hostname', `127.0.0.1:${sb.socksPort}`, '--proxy-user', `${APP}:${sb.token}`, `http://${VIRTUAL}${p}`],
    async open() {
      const t0 = performance.now();
      const socket = await socksOpen(sb.socksPort, sb.token, host, Number(port));
      return { socket, handshakeMs: performance.now() - t0 };
    },
  };
}

interface SetupResult {
  connections: number;
  /** New connection until the first answer is complete. */
  firstAnswerP50Ms: number;
  firstAnswerP95Ms: number;
  /** New connection until it is ready for data (for SOCKS5: handshake and the connector's reply). */
  readyP50Ms: number;
  readyP95Ms: number;
}

/** Sequential fresh connections: connect (and SOCKS5), GET /small, read the answer to its end. */
async function connectionSetup(route: TcpRoute, count: number): Promise<SetupResult> {
  const first: number[] = [];
  const ready: number[] = [];
  for (let i = 0; i < count + 10; i++) {
    const t0 = performance.now();
    const { socket, handshakeMs } = await route.open();
    const answer = await new Promise<string>((resolve, reject) => {
      let text = '';
      socket.setEncoding('latin1');
      socket.on('data', (d: string) => (text += d));
      socket.once('end', () => resolve(text));
      socket.once('error', reject);
      socket.resume();
      socket.write('GET /small HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n');
    });
    const total = performance.now() - t0;
    socket.destroy();
    if (!answer.startsWith('HTTP/1.1 200') || !answer.endsWith('hello, bench\n')) throw new Error(`unexpected answer via ${route.name}: ${answer.slice(0, 100)}`);
    if (i < 10) continue; // warm-up
    first.push(total);
    ready.push(handshakeMs);
  }
  first.sort((a, b) => a - b);
  ready.sort((a, b) => a - b);
  return {
    connections: count,
    firstAnswerP50Ms: round(percentile(first, 50), 3),
    firstAnswerP95Ms: round(percentile(first, 95), 3),
    readyP50Ms: round(percentile(ready, 50), 3),
    readyP95Ms: round(percentile(ready, 95), 3),
  };
}

interface Throughput {
  medianMBps: number;
  runsMBps: number[];
  usage: Record<string, PhaseUsage>;
  otherCores: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function throughput(route: TcpRoute, watched: Watched[], fn: (r: Route) => Promise<Transfer>, warm: (r: Route) => Promise<Transfer>): Promise<Throughput> {
  await warm(route);
  const monitor = new PhaseMonitor(watched);
  const runs: number[] = [];
  for (let i = 0; i < SETTINGS.runs; i++) runs.push((await fn(route)).MBps);
  const { processes, system } = monitor.stop();
  return { medianMBps: median(runs), runsMBps: runs, usage: processes, otherCores: system.otherCores };
}

function cpuLine(u: Record<string, PhaseUsage>): string {
  return Object.entries(u)
    .map(([name, x]) => `${name} ${x.cpuSeconds}s`)
    .join(', ');
}

async function main(): Promise<void> {
  installExitHandlers();
  const started = Date.now();
  const bg = new OtherLoad();
  await sleep(1000);
  const background = { loadavg: os.loadavg().map((x) => round(x, 2)), otherCores: bg.stop().otherCores };
  log(`background: ${background.otherCores} cores busy elsewhere, load average ${background.loadavg.join(' ')}`);

  const scratch = tempDir('skybridge-tcp-bench-');
  const backend = startProcess('backend', process.execPath, [path.join(REPO_ROOT, 'dist', 'test', 'bench', 'backend.js')]);
  const backendPort = await waitFor('the back end to listen', 10_000, () => {
    if (!backend.alive()) throw new Error(`the back end exited: ${backend.stderr()}`);
    const m = /PORT (\d+)/.exec(backend.stdout());
    return m ? Number(m[1]) : undefined;
  });
  log('starting relay and agent (paired through the CLI, back end mapped as protocol tcp)');
  const sb = await startSkybridge(path.join(scratch, 'skybridge'), backendPort);
  const routes: Partial<Record<RouteName, TcpRoute>> = { direct: plainRoute('direct', backendPort), socks5: socksRoute(sb) };
  const watched: Record<RouteName, Watched[]> = {
    direct: [{ name: 'backend', pids: () => [backend.pid] }],
    socks5: [{ name: 'backend', pids: () => [backend.pid] }, { name: 'relay', pids: () => [sb.relay.pid] }, { name: 'agent', pids: () => [sb.agent.pid] }],
    ssh: [{ name: 'backend', pids: () => [backend.pid] }],
  };
  let ssh: SshTunnel | undefined;
  let sshSkipped = sshUnavailable();
  if (!sshSkipped) {
    log('starting sshd and ssh -R');
    const sshDir = path.join(scratch, 'ssh');
    mkdirSync(sshDir, { mode: 0o700 });
    try {
      ssh = await startSshTunnel(sshDir, backendPort);
      routes.ssh = plainRoute('ssh -R', ssh.port);
      const t = ssh;
      watched.ssh.push({ name: 'ssh', pids: () => [t.ssh.pid] }, { name: 'sshd', pids: () => t.sessionPids() });
    } catch (err) {
      sshSkipped = `ssh -R could not be set up: ${(err as Error).message}`;
    }
  }

  const bulkFile = path.join(scratch, 'zeros.bin');
  const warmFile = path.join(scratch, 'zeros-warm.bin');
  zeroFile(bulkFile, SETTINGS.bulkBytes);
  zeroFile(warmFile, SETTINGS.warmupBytes);

  const results: Record<string, unknown> = {
    startedAt: new Date(started).toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '?', node: process.version, kernel: os.release() },
    settings: { ...SETTINGS, quick },
    background,
    sshCipher: ssh?.cipher,
    sshSkipped,
  };
  const perRoute: Record<string, { download?: Throughput; upload?: Throughput; setup?: SetupResult; error?: string }> = {};
  for (const name of ['direct', 'socks5', 'ssh'] as const) {
    const route = routes[name];
    if (!route) continue;
    const entry: (typeof perRoute)[string] = {};
    perRoute[name] = entry;
    try {
      log(`${route.name}: connection setup (${SETTINGS.setupConnections} fresh connections)`);
      entry.setup = await connectionSetup(route, SETTINGS.setupConnections);
      log(`${route.name}: download ${SETTINGS.bulkBytes} bytes x${SETTINGS.runs}`);
      entry.download = await throughput(route, watched[name], (r) => download(r, SETTINGS.bulkBytes), (r) => download(r, SETTINGS.warmupBytes));
      log(`${route.name}: upload ${SETTINGS.bulkBytes} bytes x${SETTINGS.runs}`);
      entry.upload = await throughput(route, watched[name], (r) => upload(r, bulkFile, SETTINGS.bulkBytes), (r) => upload(r, warmFile, SETTINGS.warmupBytes));
    } catch (err) {
      entry.error = (err as Error).message;
      log(`  failed: ${entry.error}`);
    }
  }
  results.routes = perRoute;

  const ratio = (dir: 'download' | 'upload') => {
    const a = perRoute.socks5?.[dir]?.medianMBps;
    const b = perRoute.ssh?.[dir]?.medianMBps;
    return a !== undefined && b !== undefined ? round(a / b, 2) : undefined;
  };
  results.socksVsSsh = { download: ratio('download'), upload: ratio('upload'), target: SETTINGS.target };

  if (ssh) {
    await stopProcess(ssh.ssh);
    await stopProcess(ssh.sshd);
  }
  await stopProcess(sb.agent);
  await stopProcess(sb.relay);
  await cleanupAll();
  results.durationSeconds = round((Date.now() - started) / 1000);

  const lines: string[] = [];
  lines.push(`TCP through SOCKS5 vs ssh -R (loopback, ${os.cpus().length} cores, ${process.version}${ssh ? `, ssh cipher ${ssh.cipher}` : ''})`);
  lines.push(`background load: ${background.otherCores} cores busy elsewhere before the run${quick ? '; --quick: a smoke run, not a measurement' : ''}`);
  lines.push('');
  lines.push(`${'route'.padEnd(19)}${'download MB/s (runs)'.padEnd(34)}${'upload MB/s (runs)'.padEnd(34)}${'setup: ready p50/p95 ms'.padEnd(26)}first answer p50/p95 ms`);
  for (const [name, e] of Object.entries(perRoute)) {
    const label = routes[name as RouteName]!.name.padEnd(18);
    if (e.error) {
      lines.push(`${label} failed: ${e.error}`);
      continue;
    }
    const t = (x?: Throughput) => `${(x ? `${x.medianMBps} (${x.runsMBps.join(', ')})` : '-').padEnd(33)} `;
    const s = e.setup ? `${e.setup.readyP50Ms}/${e.setup.readyP95Ms}`.padEnd(26) + `${e.setup.firstAnswerP50Ms}/${e.setup.firstAnswerP95Ms}` : '-';
    lines.push(`${label} ${t(e.download)}${t(e.upload)}${s}`);
  }
  if (sshSkipped) lines.push(`ssh -R skipped: ${sshSkipped}`);
  lines.push('');
  for (const [name, e] of Object.entries(perRoute)) {
    if (e.download) lines.push(`CPU during ${routes[name as RouteName]!.name} downloads: ${cpuLine(e.download.usage)}; uploads: ${e.upload ? cpuLine(e.upload.usage) : '-'}`);
  }
  const r = results.socksVsSsh as { download?: number; upload?: number };
  const verdict = (x?: number) => (x === undefined ? 'n/a' : `${x}x ${x >= SETTINGS.target ? 'meets' : 'misses'} the ${SETTINGS.target}x target`);
  lines.push('');
  lines.push(`SOCKS5 / ssh -R throughput: download ${verdict(r.download)}; upload ${verdict(r.upload)}`);
  process.stdout.write(`${lines.join('\n')}\n`);

  writeResults(REPO_ROOT, 'tcp-bench.json', results, Number(results.durationSeconds));
}

runBench(main, log);
