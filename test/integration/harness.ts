/**
 * Integration harness: real `skybridge` processes (relay, agent, CLI), real
 * `curl -x`, and back ends started in the test process, all on loopback.
 *
 * Every process, server and temp dir made here is tracked, so a test file's
 * `after(cleanupAll)` leaves nothing behind even when a test fails half-way;
 * an `exit` hook SIGKILLs any child that is still alive as a last resort.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, readFile, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Repository root: the nearest folder above this file that holds bin/skybridge.js. The
 * integration tests run this file compiled (dist/test/integration/), the Playwright tests
 * load it from source (test/integration/), so a fixed number of '../' fits only one of them.
 */
function findRepoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'bin', 'skybridge.js'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no bin/skybridge.js above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  return dir + path.sep;
}
export const REPO_ROOT = findRepoRoot();
export const SKYBRIDGE_BIN = process.env.SKYBRIDGE_BIN ?? path.join(REPO_ROOT, 'bin', 'skybridge.js');

/** Proxy variables in the environment would silently reroute or bypass curl; tests talk to loopback only. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(https?|all|no|ftp)_proxy$/i.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

// ---------------------------------------------------------------------------
// Bookkeeping and cleanup

const liveChildren = new Set<ChildProcess>();
const cleanups: Array<() => Promise<void> | void> = [];

process.on('exit', () => {
  for (const c of liveChildren) {
    try {
      c.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

/** Runs every registered cleanup (latest first); meant for `after(cleanupAll)`. */
export async function cleanupAll(): Promise<void> {
  while (cleanups.length > 0) {
    const fn = cleanups.pop()!;
    try {
      await fn();
    } catch (e) {
      console.error('cleanup failed:', e);
    }
  }
}

export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

export async function tempDir(prefix = 'skybridge-it-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') return reject(new Error('no port'));
      srv.close(() => resolve(addr.port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Thrown inside a `waitFor` probe to stop waiting at once (e.g. the process died). */
export class WaitAborted extends Error {}

/**
 * Polls `probe` until it returns a value other than undefined/false, or throws
 * after `timeoutMs` naming `what` and the last probe error.
 */
export async function waitFor<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs: number,
  what = 'condition',
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      if (e instanceof WaitAborted) throw e;
      lastError = e;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await sleep(intervalMs);
  }
}

// ---------------------------------------------------------------------------
// Processes

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one `skybridge` command to completion. */
export function runCli(args: string[], opts: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [SKYBRIDGE_BIN, ...args],
      { env: cleanEnv(opts.env), timeout: opts.timeoutMs ?? 20_000, maxBuffer: 16 * 1024 * 1024, cwd: REPO_ROOT },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

/** Runs a command that prints one value; fails the test with its stderr otherwise. */
export async function cliValue(args: string[]): Promise<string> {
  const r = await runCli(args);
  if (r.code !== 0) {
    throw new Error(`'skybridge ${args.join(' ')}' exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  }
  const lines = r.stdout.split('\n').filter((l) => l.trim() !== '');
  if (lines.length !== 1) {
    throw new Error(`'skybridge ${args.join(' ')}' should print one value on one line, printed: ${JSON.stringify(r.stdout)}`);
  }
  return lines[0]!.trim();
}

/** Runs a command for its effect; fails the test with its stderr when it does not exit 0. */
export async function cliOk(args: string[]): Promise<CliResult> {
  const r = await runCli(args);
  if (r.code !== 0) {
    throw new Error(`'skybridge ${args.join(' ')}' exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  }
  return r;
}

export interface Child {
  proc: ChildProcess;
  name: string;
  stdout(): string;
  stderr(): string;
  /** Exit code (or signal name) once exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  isAlive(): boolean;
  /** Throws WaitAborted with the stderr tail if the process has exited. */
  assertAlive(): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with how it ended. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; killed: boolean }>;
}

function tail(text: string, n = 3000): string {
  return text.length > n ? '…' + text.slice(-n) : text;
}

/** Starts a long-running `skybridge` command, capturing its output for failure messages. */
export function spawnCli(name: string, args: string[], env: Record<string, string> = {}): Child {
  return spawnProcess(name, process.execPath, [SKYBRIDGE_BIN, ...args], env);
}

export function spawnProcess(name: string, file: string, args: string[], env: Record<string, string> = {}): Child {
  const proc = spawn(file, args, { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'], cwd: REPO_ROOT });
  liveChildren.add(proc);
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    if (out.length > 2_000_000) out = out.slice(-1_000_000);
  });
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
    if (err.length > 2_000_000) err = err.slice(-1_000_000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('exit', (code, signal) => {
      liveChildren.delete(proc);
      resolve({ code, signal });
    });
    proc.once('error', (e) => {
      err += `\nspawn error: ${e.message}`;
      liveChildren.delete(proc);
      resolve({ code: -1, signal: null });
    });
  });
  const child: Child = {
    proc,
    name,
    stdout: () => out,
    stderr: () => err,
    exited,
    isAlive: () => proc.exitCode === null && proc.signalCode === null && liveChildren.has(proc),
    assertAlive() {
      if (!child.isAlive()) {
        throw new WaitAborted(`${name} exited early (code ${proc.exitCode}, signal ${proc.signalCode}); stderr:\n${tail(err)}`);
      }
    },
    async stop(graceMs = 5000) {
      if (!child.isAlive()) return { ...(await exited), killed: false };
      proc.kill('SIGTERM');
      const timer = sleep(graceMs).then(() => 'timeout' as const);
      const first = await Promise.race([exited, timer]);
      if (first !== 'timeout') return { ...first, killed: false };
      proc.kill('SIGKILL');
      return { ...(await exited), killed: true };
    },
  };
  onCleanup(async () => {
    await child.stop(3000);
  });
  return child;
}

// ---------------------------------------------------------------------------
// HTTP helpers

/** GET on the relay's HTTPS port, trusting its self-signed CA for this call only. */
export function httpsGet(port: number, urlPath: string, timeoutMs = 2000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      { host: '127.0.0.1', port, path: urlPath, rejectUnauthorized: false, timeout: timeoutMs, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

export interface CurlResult {
  /** HTTP status of the final response; 0 when curl got none. */
  status: number;
  /** Lower-cased header name → values, from the final response block. */
  headers: Record<string, string[]>;
  body: Buffer;
  /** Where the body was written (for large downloads). */
  bodyFile: string;
  exitCode: number;
  stderr: string;
  timeMs: number;
}

export function header(r: { headers: Record<string, string[]> }, name: string): string | undefined {
  return r.headers[name.toLowerCase()]?.[0];
}

let curlCounter = 0;
let curlDir: string | undefined;

async function curlScratch(): Promise<string> {
  if (!curlDir) curlDir = await tempDir('skybridge-curl-');
  return curlDir;
}

function parseHeaderBlocks(raw: string): { status: number; headers: Record<string, string[]> } {
  const blocks = raw.split(/\r?\n\r?\n/).filter((b) => /^HTTP\//.test(b.trim()));
  const last = blocks[blocks.length - 1];
  if (!last) return { status: 0, headers: {} };
  const lines = last.trim().split(/\r?\n/);
  const status = Number(/^HTTP\/[\d.]+\s+(\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
  const headers: Record<string, string[]> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const k = line.slice(0, i).trim().toLowerCase();
    (headers[k] ??= []).push(line.slice(i + 1).trim());
  }
  return { status, headers };
}

/** Runs real curl; `args` are curl arguments (URL included). Body is read back unless `keepBodyOnDisk`. */
export async function curl(args: string[], opts: { timeoutMs?: number; keepBodyOnDisk?: boolean } = {}): Promise<CurlResult> {
  const dir = await curlScratch();
  const n = ++curlCounter;
  const bodyFile = path.join(dir, `body-${n}`);
  const headFile = path.join(dir, `head-${n}`);
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const started = Date.now();
  const { exitCode, stderr } = await new Promise<{ exitCode: number; stderr: string }>((resolve) => {
    execFile(
      'curl',
      ['-sS', '--max-time', String(Math.ceil(timeoutMs / 1000)), '-o', bodyFile, '-D', headFile, ...args],
      { env: cleanEnv(), timeout: timeoutMs + 5000, maxBuffer: 4 * 1024 * 1024 },
      (err, _stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ exitCode: code, stderr: String(stderr) });
      },
    );
  });
  const timeMs = Date.now() - started;
  const rawHead = await readFile(headFile, 'latin1').catch(() => '');
  const { status, headers } = parseHeaderBlocks(rawHead);
  const body = opts.keepBodyOnDisk ? Buffer.alloc(0) : await readFile(bodyFile).catch(() => Buffer.alloc(0));
  return { status, headers, body, bodyFile, exitCode, stderr, timeMs };
}

/** One-line description of a curl result for assertion messages. */
export function show(r: CurlResult): string {
  const code = header(r, 'skybridge-error');
  const body = r.body.length > 300 ? r.body.subarray(0, 300).toString() + '…' : r.body.toString();
  return `status ${r.status}${code ? ` [Skybridge-Error: ${code}]` : ''} body ${JSON.stringify(body)}${r.exitCode ? ` curl exit ${r.exitCode}: ${r.stderr.trim()}` : ''}`;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string[]>;
  body: string;
  /** Everything the server sent. */
  raw: string;
  /** True when the server closed the connection. */
  closed: boolean;
}

/** Sends raw bytes to a TCP port and parses the first HTTP response (for requests curl refuses to make). */
export function rawHttp(port: number, data: string | Buffer, timeoutMs = 5000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const raw = Buffer.concat(chunks).toString('latin1');
      const end = raw.indexOf('\r\n\r\n');
      const headPart = end >= 0 ? raw.slice(0, end) : raw;
      const { status, headers } = parseHeaderBlocks(headPart + '\r\n\r\n');
      resolve({ status, headers, body: end >= 0 ? raw.slice(end + 4) : '', raw, closed });
    };
    const complete = (): boolean => {
      const raw = Buffer.concat(chunks).toString('latin1');
      const end = raw.indexOf('\r\n\r\n');
      if (end < 0) return false;
      const cl = /\r\ncontent-length:\s*(\d+)/i.exec(raw.slice(0, end));
      if (cl) return raw.length - end - 4 >= Number(cl[1]);
      return false;
    };
    const timer = setTimeout(() => {
      if (chunks.length === 0) {
        done = true;
        sock.destroy();
        reject(new Error(`no response from 127.0.0.1:${port} within ${timeoutMs} ms`));
      } else finish(false);
    }, timeoutMs);
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      if (complete()) finish(false);
    });
    sock.on('end', () => finish(true));
    sock.on('close', () => finish(true));
    sock.on('error', (e) => {
      if (chunks.length > 0) finish(true);
      else if (!done) {
        done = true;
        clearTimeout(timer);
        reject(e);
      }
    });
    sock.write(data);
  });
}

// ---------------------------------------------------------------------------
// Back end

export interface BackendRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  bodyLength: number;
  bodySha256?: string;
}

export interface Backend {
  port: number;
  /** Every request that reached this server, in arrival order. */
  requests: BackendRequest[];
  reset(): void;
  close(): Promise<void>;
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

const blobs = new Map<number, Buffer>();
/** Random bytes of a given size, the same buffer for back end and test (they share the process). */
export function blob(size: number): Buffer {
  let b = blobs.get(size);
  if (!b) {
    b = randomBytes(size);
    blobs.set(size, b);
  }
  return b;
}

/**
 * The sample internal system. Routes (query `?ms=`, `?size=`, `?chunked=1`):
 * - `…/download` streams `blob(size)`, with Content-Length unless chunked=1;
 * - `…/redirect` answers 302 to its own `http://127.0.0.1:PORT/api/target`;
 * - `…/slow` waits `ms` before answering;
 * - `…/stall` never answers; `…/partial-stall` sends headers and 1 KiB, then stalls;
 * - anything else echoes method, url, headers and the body's length and SHA-256 as JSON.
 */
export async function startBackend(): Promise<Backend> {
  const requests: BackendRequest[] = [];
  const hanging = new Set<http.ServerResponse>();
  // 64 KB of headers must be able to arrive, so this back end allows more than Node's 16 KB default.
  const server = http.createServer({ maxHeaderSize: 256 * 1024 }, (req, res) => {
    const entry: BackendRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, bodyLength: 0 };
    requests.push(entry);
    const url = new URL(req.url ?? '/', 'http://backend.local');
    const p = url.pathname;
    if (p.endsWith('/stall')) {
      hanging.add(res);
      return;
    }
    if (p.endsWith('/partial-stall')) {
      hanging.add(res);
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write(Buffer.alloc(1024, 97));
      return;
    }
    const hash = createHash('sha256');
    req.on('data', (d: Buffer) => {
      entry.bodyLength += d.length;
      hash.update(d);
    });
    req.on('end', () => {
      entry.bodySha256 = hash.digest('hex');
      if (p.endsWith('/download')) {
        const size = Number(url.searchParams.get('size') ?? 1024);
        const data = blob(size);
        if (url.searchParams.get('chunked') === '1') {
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          let off = 0;
          const step = 256 * 1024;
          const pump = () => {
            while (off < data.length) {
              const ok = res.write(data.subarray(off, off + step));
              off += step;
              if (!ok) return void res.once('drain', pump);
            }
            res.end();
          };
          pump();
        } else {
          res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(size) });
          res.end(data);
        }
        return;
      }
      if (p.endsWith('/redirect')) {
        res.writeHead(302, { location: `http://127.0.0.1:${port}/api/target?from=redirect`, 'content-length': '0' });
        res.end();
        return;
      }
      const answer = () => {
        const body = JSON.stringify({
          method: req.method,
          url: req.url,
          headers: req.headers,
          bodyLength: entry.bodyLength,
          bodySha256: entry.bodySha256,
        });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
        res.end(body);
      };
      if (p.endsWith('/slow')) {
        const t = setTimeout(answer, Number(url.searchParams.get('ms') ?? 5000));
        res.on('close', () => clearTimeout(t));
      } else answer();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('back end has no port');
  const port = addr.port;
  let closed = false;
  const backend: Backend = {
    port,
    requests,
    reset: () => void (requests.length = 0),
    async close() {
      if (closed) return;
      closed = true;
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  onCleanup(() => backend.close());
  return backend;
}

// ---------------------------------------------------------------------------
// Relay and agent

export interface AgentStatusFile {
  pid: number;
  updatedAt: string;
  subaccounts: Array<{ id: string; status: { state: string; lastError?: string } }>;
}

export function readAgentStatus(agentDir: string): AgentStatusFile | undefined {
  try {
    return JSON.parse(readFileSync(path.join(agentDir, 'run', 'status.json'), 'utf8')) as AgentStatusFile;
  } catch {
    return undefined; // not written yet, or caught mid-write
  }
}

export function readAgentConfig(agentDir: string): Record<string, unknown> & { subaccounts: Array<Record<string, unknown>> } {
  return JSON.parse(readFileSync(path.join(agentDir, 'config.json'), 'utf8')) as Record<string, unknown> & {
    subaccounts: Array<Record<string, unknown>>;
  };
}

export function writeAgentConfig(agentDir: string, config: unknown): void {
  writeFileSync(path.join(agentDir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
}

export interface RelayHandle {
  dir: string;
  port: number;
  proxyPort: number;
  /** SOCKS5 port; every relay the harness starts gets a free one (the default 20004 would clash between relays). */
  socksPort: number;
  child: Child;
  url: string;
}

/** `skybridge relay start` on fixed ports; resolves once /healthz answers 200. */
export async function startRelay(dir: string, port?: number, proxyPort?: number, socksPort?: number, env: Record<string, string> = {}): Promise<RelayHandle> {
  const p = port ?? (await freePort());
  const q = proxyPort ?? (await freePort());
  const s = socksPort ?? (await freePort());
  const child = spawnCli('relay', ['relay', 'start', '--data-dir', dir, '--host', '127.0.0.1', '--port', String(p), '--proxy-port', String(q), '--socks-port', String(s)], env);
  await waitFor(
    async () => {
      child.assertAlive();
      const r = await httpsGet(p, '/healthz', 1000);
      return r.status === 200;
    },
    20_000,
    `relay /healthz on port ${p}`,
  );
  return { dir, port: p, proxyPort: q, socksPort: s, child, url: `https://127.0.0.1:${p}` };
}

/** `skybridge agent start`; resolves once status.json says every subaccount is connected. */
export async function startAgent(dir: string, timeoutMs = 20_000): Promise<Child> {
  const child = spawnCli('agent', ['agent', 'start', '--data-dir', dir]);
  await waitAgentState(dir, 'connected', timeoutMs, child);
  return child;
}

export async function waitAgentState(dir: string, state: string, timeoutMs: number, child?: Child): Promise<AgentStatusFile> {
  let last: AgentStatusFile | undefined;
  try {
    return await waitFor(
      () => {
        child?.assertAlive();
        last = readAgentStatus(dir);
        return last && last.subaccounts.length > 0 && last.subaccounts.every((s) => s.status.state === state) ? last : undefined;
      },
      timeoutMs,
      `agent state '${state}' in ${dir}/run/status.json`,
    );
  } catch (e) {
    const seen = last ? JSON.stringify(last.subaccounts) : 'no status.json';
    const logs = child ? `\nagent stderr:\n${tail(child.stderr())}` : '';
    throw new Error(`${(e as Error).message}; last status: ${seen}${logs}`, { cause: e });
  }
}

export interface ResourceSpec {
  path: string;
  subPaths?: boolean;
  methods?: string[];
  websocket?: boolean;
}

export interface SystemSpec {
  /** `host:port` cloud apps use. */
  virtual: string;
  /** Internal port on 127.0.0.1; defaults to the site's back end. */
  internalPort?: number;
  hostHeader?: 'virtual' | 'internal';
  responseTimeoutMs?: number;
  resources: ResourceSpec[];
}

export interface SiteOptions {
  location?: string;
  systems?: SystemSpec[];
  /** Merged into config.json's `tunnel` before the agent starts. */
  tunnel?: Record<string, number>;
  /** Skip `agent start` (e.g. to test 503 with no connector). */
  noAgent?: boolean;
}

export const ERP = 'erp.virtual:443';

export interface Site {
  relay: RelayHandle;
  relayDir: string;
  agentDir: string;
  backend: Backend;
  tenantId: string;
  token: string;
  subaccountId: string;
  location: string;
  agent: Child | undefined;
  /** curl through the relay's proxy with the app token (plus `args`, which end with the URL). */
  proxyCurl(args: string[], opts?: { timeoutMs?: number; keepBodyOnDisk?: boolean; token?: string | null }): Promise<CurlResult>;
  stopRelay(): Promise<{ code: number | null; signal: NodeJS.Signals | null; killed: boolean }>;
  startRelay(): Promise<void>;
  stopAgent(): Promise<void>;
  startAgent(): Promise<void>;
  close(): Promise<void>;
}

export function addSystemArgs(agentDir: string, s: SystemSpec, backendPort: number): string[] {
  const args = ['agent', 'system', 'add', '--data-dir', agentDir, '--virtual', s.virtual, '--internal', `127.0.0.1:${s.internalPort ?? backendPort}`, '--protocol', 'http'];
  if (s.hostHeader) args.push('--host-header', s.hostHeader);
  if (s.responseTimeoutMs !== undefined) args.push('--response-timeout', String(s.responseTimeoutMs));
  return args;
}

export function addResourceArgs(agentDir: string, system: string, r: ResourceSpec): string[] {
  const args = ['agent', 'resource', 'add', '--data-dir', agentDir, '--system', system, '--path', r.path];
  if (r.subPaths) args.push('--sub-paths');
  if (r.methods) args.push('--methods', r.methods.join(','));
  if (r.websocket) args.push('--websocket');
  return args;
}

/** Tunnel settings that keep reconnect tests quick. */
export const FAST_TUNNEL = { reconnectMinMs: 100, reconnectMaxMs: 1000 };

/**
 * The whole walk an administrator does: relay start, tenant, app, pairing code,
 * agent pair, systems and resources, agent start, wait until connected.
 */
export async function setupSite(opts: SiteOptions = {}): Promise<Site> {
  const location = opts.location ?? '';
  const systems = opts.systems ?? [{ virtual: ERP, resources: [{ path: '/api', subPaths: true }] }];
  const backend = await startBackend();
  const relayDir = await tempDir('skybridge-relay-');
  const agentDir = await tempDir('skybridge-agent-');
  let relay = await startRelay(relayDir);
  const tenantId = await cliValue(['relay', 'tenant', 'create', 'acme', '--data-dir', relayDir]);
  const token = await cliValue(['relay', 'app', 'create', 'billing', '--tenant', tenantId, '--data-dir', relayDir]);
  const codeArgs = ['relay', 'pairing-code', '--tenant', tenantId, '--data-dir', relayDir];
  if (location) codeArgs.push('--location', location);
  const code = await cliValue(codeArgs);
  const subaccountId = await cliValue(['agent', 'pair', code, '--data-dir', agentDir]);
  for (const s of systems) {
    await cliOk(addSystemArgs(agentDir, s, backend.port));
    for (const r of s.resources) await cliOk(addResourceArgs(agentDir, s.virtual, r));
  }
  const config = readAgentConfig(agentDir);
  config.tunnel = { ...((config.tunnel as object | undefined) ?? {}), ...FAST_TUNNEL, ...(opts.tunnel ?? {}) };
  writeAgentConfig(agentDir, config);

  const site: Site = {
    get relay() {
      return relay;
    },
    relayDir,
    agentDir,
    backend,
    tenantId,
    token,
    subaccountId,
    location,
    agent: undefined,
    proxyCurl(args, o = {}) {
      const tok = o.token === undefined ? token : o.token;
      const auth = tok === null ? [] : ['--proxy-header', `Proxy-Authorization: Bearer ${tok}`];
      const loc = location ? ['-H', `X-Skybridge-Location: ${location}`] : [];
      return curl(['-x', `http://127.0.0.1:${relay.proxyPort}`, ...auth, ...loc, ...args], o);
    },
    stopRelay: () => relay.child.stop(10_000),
    async startRelay() {
      relay = await startRelay(relayDir, relay.port, relay.proxyPort, relay.socksPort);
    },
    async stopAgent() {
      await site.agent?.stop(10_000);
      site.agent = undefined;
    },
    async startAgent() {
      site.agent = await startAgent(agentDir);
    },
    async close() {
      await site.agent?.stop();
      await relay.child.stop();
      await backend.close();
    },
  };
  if (!opts.noAgent) await site.startAgent();
  return site;
}

/** The contract for every refusal: status, `Skybridge-Error` code, a one-sentence text/plain body. */
export function refusalProblems(r: { status: number; headers: Record<string, string[]>; body: Buffer | string }, status: number, code?: string, mentions?: string): string[] {
  const problems: string[] = [];
  const body = r.body.toString();
  if (r.status !== status) problems.push(`status ${r.status}, expected ${status}`);
  const got = header(r, 'skybridge-error');
  if (!got) problems.push('no Skybridge-Error header');
  else if (code && got !== code) problems.push(`Skybridge-Error ${got}, expected ${code}`);
  const ct = header(r, 'content-type') ?? '';
  if (!ct.startsWith('text/plain')) problems.push(`content-type ${JSON.stringify(ct)}, expected text/plain`);
  if (body.trim() === '') problems.push('empty body');
  if (body.trim().includes('\n')) problems.push('body is more than one line');
  if (mentions && !body.includes(mentions)) problems.push(`body does not mention ${mentions}`);
  return problems;
}

export async function writeText(file: string, text: string): Promise<void> {
  await writeFile(file, text);
}

export * from './test-certs.js';
export * from './ws-client.js';
