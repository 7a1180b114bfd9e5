/**
 * The measurements, each against a Route (how a client reaches the back end:
 * directly, through the relay's HTTP proxy, or through `ssh -R`). Bulk
 * transfers and load use curl and wrk (separate processes, C, so the client
 * costs the same for every route); latency is timed in this process with
 * process.hrtime over one keep-alive connection.
 */
import http from 'node:http';
import { closeSync, openSync, readSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run, sleep } from './procs.js';

export const MB = 1e6;

/** How a client reaches the back end's paths on one route. */
export interface Route {
  name: string;
  /** Where clients connect (the back end, the relay's proxy port, or sshd's forwarded port). */
  host: string;
  port: number;
  /** The request target: origin-form, or absolute-form through a proxy. */
  target(pathAndQuery: string): string;
  headers: Record<string, string>;
  /** curl arguments and URL for a path. */
  curl(pathAndQuery: string): string[];
}

export function directRoute(name: string, port: number): Route {
  return {
    name,
    host: '127.0.0.1',
    port,
    target: (p) => p,
    headers: {},
    curl: (p) => [`http://127.0.0.1:${port}${p}`],
  };
}

export function proxyRoute(name: string, proxyPort: number, virtualBase: string, token: string): Route {
  return {
    name,
    host: '127.0.0.1',
    port: proxyPort,
    target: (p) => `${virtualBase}${p}`,
    headers: { 'proxy-authorization': `Bearer ${token}` },
    curl: (p) => ['-x', `http://127.0.0.1:${proxyPort}`, '--proxy-header', `Proxy-Authorization: Bearer ${token}`, `${virtualBase}${p}`],
  };
}

export interface Transfer {
  MBps: number;
  bytes: number;
  seconds: number;
}

const CURL_COMMON = ['-sS', '--max-time', '240'];

/** One GET of `bytes` bytes to /dev/null; fails unless every byte arrived with a 200. */
export async function download(route: Route, bytes: number): Promise<Transfer> {
  const { stdout } = await run('curl download', 'curl', [...CURL_COMMON, '-o', '/dev/null', '-w', '%{http_code} %{size_download} %{speed_download} %{time_total}', ...route.curl(`/blob?bytes=${bytes}`)], { timeoutMs: 250_000 });
  const [code, size, speed, total] = stdout.trim().split(' ').map(Number);
  if (code !== 200 || size !== bytes) throw new Error(`download via ${route.name}: HTTP ${code}, ${size} of ${bytes} bytes`);
  return { MBps: round(speed! / MB), bytes: size, seconds: round(total!, 3) };
}

/**
 * One POST of the file `file` (a sparse file of zeros: the page cache serves it,
 * no disk and no extra pipe process) to /sink; fails unless the back end counted every byte.
 */
export async function upload(route: Route, file: string, bytes: number, query = '', timeoutMs = 250_000): Promise<Transfer> {
  const { stdout } = await run(
    'curl upload',
    'curl',
    [...CURL_COMMON, '-X', 'POST', '-H', 'Expect:', '-H', 'Content-Type: application/octet-stream', '-T', file, '-w', '\n%{http_code} %{size_upload} %{speed_upload} %{time_total}', ...route.curl(`/sink${query}`)],
    { timeoutMs },
  );
  const lines = stdout.trim().split('\n');
  const [code, size, speed, total] = lines.at(-1)!.split(' ').map(Number);
  let counted: number | undefined;
  try {
    counted = (JSON.parse(lines.slice(0, -1).join('\n')) as { bytes?: number }).bytes;
  } catch {
    counted = undefined;
  }
  if (code !== 200 || counted !== bytes) throw new Error(`upload via ${route.name}: HTTP ${code}, back end counted ${counted ?? '?'} of ${bytes} bytes (${lines.slice(0, -1).join(' ').slice(0, 300)})`);
  return { MBps: round(speed! / MB), bytes: size!, seconds: round(total!, 3) };
}

export interface LoadResult {
  requestsPerSec: number;
  requests: number;
  non2xx: number;
  socketErrors: number;
  latencyP50Ms?: number;
  latencyP99Ms?: number;
}

function wrkMs(text: string, label: string): number | undefined {
  const m = new RegExp(`^\\s*${label}\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(text);
  if (!m) return undefined;
  const v = Number(m[1]);
  return round(m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v, 3);
}

/**
 * wrk with `connections` keep-alive connections for `seconds`. Through a proxy,
 * a Lua script sets the absolute-form target and the Proxy-Authorization header.
 */
export async function load(route: Route, scratchDir: string, opts: { connections: number; threads: number; seconds: number; path: string }): Promise<LoadResult> {
  const args = ['-t', String(opts.threads), '-c', String(opts.connections), '-d', `${opts.seconds}s`, '--timeout', '5s', '--latency'];
  const target = route.target(opts.path);
  const script = [`wrk.path = ${JSON.stringify(target)}`, ...Object.entries(route.headers).map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`)];
  const file = path.join(scratchDir, `wrk-${route.name.replace(/\W+/g, '-')}.lua`);
  writeFileSync(file, `${script.join('\n')}\n`, { mode: 0o600 });
  args.push('-s', file, `http://${route.host}:${route.port}/`);
  const { stdout } = await run('wrk', 'wrk', args, { timeoutMs: (opts.seconds + 30) * 1000 });
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(stdout);
  const total = /(\d+) requests in/.exec(stdout);
  if (!rps || !total) throw new Error(`wrk via ${route.name} printed no result: ${stdout.slice(0, 500)}`);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const socketErrors = sock ? sock.slice(1).reduce((s, x) => s + Number(x), 0) : 0;
  return { requestsPerSec: round(Number(rps[1])), requests: Number(total[1]), non2xx, socketErrors, latencyP50Ms: wrkMs(stdout, '50%'), latencyP99Ms: wrkMs(stdout, '99%') };
}

export interface LatencyResult {
  count: number;
  errors: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

function getOnce(route: Route, agent: http.Agent, pathAndQuery: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: route.host, port: route.port, path: route.target(pathAndQuery), headers: route.headers, agent, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * Small GETs at a fixed rate over one keep-alive connection, each timed from
 * send to last byte. The first `warmup` requests (connection set-up, JIT) are not counted.
 */
export async function latency(route: Route, opts: { ratePerSec: number; seconds: number; path: string; warmup?: number }): Promise<LatencyResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const samples: number[] = [];
  let errors = 0;
  try {
    for (let i = 0; i < (opts.warmup ?? 50); i++) await getOnce(route, agent, opts.path).catch(() => undefined);
    const interval = 1000 / opts.ratePerSec;
    const total = Math.round(opts.ratePerSec * opts.seconds);
    const start = performance.now();
    for (let i = 0; i < total; i++) {
      const wait = start + i * interval - performance.now();
      if (wait > 0) await sleep(wait);
      const t0 = process.hrtime.bigint();
      try {
        await getOnce(route, agent, opts.path);
        samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
      } catch {
        errors++;
      }
    }
  } finally {
    agent.destroy();
  }
  if (samples.length === 0) throw new Error(`latency via ${route.name}: every request failed`);
  samples.sort((a, b) => a - b);
  return {
    count: samples.length,
    errors,
    p50Ms: round(percentile(samples, 50), 3),
    p90Ms: round(percentile(samples, 90), 3),
    p99Ms: round(percentile(samples, 99), 3),
    maxMs: round(samples.at(-1)!, 3),
  };
}

export function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** A sparse file of zeros, read once so the page cache holds it: uploads then cost the client the same on every route. */
export function zeroFile(file: string, bytes: number): void {
  writeFileSync(file, '');
  truncateSync(file, bytes);
  const fd = openSync(file, 'r');
  const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
  try {
    while (readSync(fd, buf, 0, buf.length, null) > 0);
  } finally {
    closeSync(fd);
  }
}
