/**
 * Helpers for the TCP / SOCKS5 integration tests: a site set up through the
 * CLI with TCP systems, a small SOCKS5 client that shows every reply byte,
 * TCP back ends (echo, banner-then-FIN, TLS echo), PostgreSQL and OpenLDAP
 * started privately on loopback, and proxychains4 to run real clients
 * (psql, ldapsearch) through the relay's SOCKS5 port.
 *
 * Nothing here installs anything: test/run.sh does (Debian packages, as
 * root). Missing binaries skip a test only when we are not root; as root
 * they fail it, because run.sh should have installed them.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { Readable } from 'node:stream';
import {
  cliOk,
  cliValue,
  FAST_TUNNEL,
  freePort,
  onCleanup,
  readAgentConfig,
  sleep,
  spawnCli,
  startRelay,
  tempDir,
  waitAgentState,
  waitFor,
  writeAgentConfig,
  type Child,
  type RelayHandle,
} from './harness.js';

const isRoot = process.getuid?.() === 0;

// ---------------------------------------------------------------------------
// Tools

/** Why a test cannot run here, or undefined. Missing tools skip only for non-root users; as root run.sh must have installed them. */
export function skipUnlessTools(tools: Array<[debianPackage: string, file: string]>): string | undefined {
  const missing = tools.filter(([, file]) => !existsSync(file));
  if (missing.length === 0 || isRoot) return undefined;
  const pkgs = [...new Set(missing.map(([pkg]) => pkg))].join(' ');
  return `needs ${missing.map(([, f]) => f).join(', ')} (Debian: apt-get install ${pkgs}; test/run.sh installs them when run as root)`;
}

/** The newest PostgreSQL server binaries from Debian's packages, e.g. /usr/lib/postgresql/15/bin. */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  return path.join(root, versions[0] ?? '15', 'bin');
}

export interface RunResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs a command to completion, feeding `input` to its stdin; stdout is kept as bytes (COPY output is compared by hash). */
export function runProcess(
  file: string,
  args: string[],
  opts: { env?: Record<string, string>; input?: Buffer | Readable; timeoutMs?: number; uid?: number; gid?: number; cwd?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!/^(https?|all|no|ftp)_proxy$/i.test(k)) env[k] = v;
    const child = spawn(file, args, { env: { ...env, ...(opts.env ?? {}) }, stdio: ['pipe', 'pipe', 'pipe'], uid: opts.uid, gid: opts.gid, cwd: opts.cwd });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-20_000)));
    child.stdin.on('error', () => undefined);
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout: Buffer.concat(out), stderr: `${err}\nspawn error: ${e.message}` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: err });
    });
    if (opts.input instanceof Readable) opts.input.pipe(child.stdin);
    else child.stdin.end(opts.input);
  });
}

function userIds(name: string): { uid: number; gid: number } {
  return { uid: Number(execFileSync('id', ['-u', name]).toString().trim()), gid: Number(execFileSync('id', ['-g', name]).toString().trim()) };
}

/** A long-running server started as another user (spawnProcess cannot), tracked like the harness's own children. */
interface Daemon {
  proc: ChildProcess;
  stderr(): string;
  alive(): boolean;
  stop(signal: NodeJS.Signals): Promise<void>;
}

const daemons = new Set<ChildProcess>();
process.on('exit', () => {
  for (const d of daemons) {
    try {
      d.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
});

function startDaemon(file: string, args: string[], opts: { uid?: number; gid?: number; stopSignal: NodeJS.Signals }): Daemon {
  const proc = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], uid: opts.uid, gid: opts.gid });
  daemons.add(proc);
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-50_000)));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-50_000)));
  let exited = false;
  const done = new Promise<void>((resolve) => {
    proc.once('exit', () => {
      exited = true;
      daemons.delete(proc);
      resolve();
    });
    proc.once('error', (e) => {
      err += `\nspawn error: ${e.message}`;
      exited = true;
      daemons.delete(proc);
      resolve();
    });
  });
  const d: Daemon = {
    proc,
    stderr: () => err,
    alive: () => !exited,
    async stop(signal) {
      if (exited) return;
      proc.kill(signal);
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await done;
      clearTimeout(t);
    },
  };
  onCleanup(() => d.stop(opts.stopSignal));
  return d;
}

// ---------------------------------------------------------------------------
// A site with TCP systems

export interface TcpSystemSpec {
  /** `host:port` or `host:first-last`. */
  virtual: string;
  /** `host:port` or `host:first-last`. */
  internal: string;
  protocol: 'tcp' | 'tcp+tls' | 'ldap' | 'ldaps' | 'http' | 'https';
  idleTimeoutMs?: number;
  maxConnections?: number;
  connectTimeoutMs?: number;
  caFile?: string;
  /** HTTP systems only. */
  resources?: string[];
}

export interface TcpSite {
  relay: RelayHandle;
  relayDir: string;
  agentDir: string;
  tenantId: string;
  appName: string;
  token: string;
  agent: Child;
  /** proxychains4 configuration for this site's SOCKS5 port and app (username may carry `;location`). */
  proxychainsConf(username?: string): Promise<string>;
  /** The agent's per-connection records, parsed from its JSON log. */
  connectionLog(): ConnectionRecord[];
  /** The relay's SOCKS5 refusal log lines. */
  relayRefusals(): Array<Record<string, unknown>>;
  stopAgent(): Promise<void>;
}

export interface ConnectionRecord {
  msg: string;
  connectionId: string;
  app: string;
  virtualHost: string;
  virtualPort: number;
  protocol?: string;
  internalPort?: number;
  outcome: string;
  ended: string;
  reason?: string;
  bytesToBackend: number;
  bytesFromBackend: number;
  durationMs: number;
}

function jsonLines(text: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      /* a line cut by the capture limit */
    }
  }
  return out;
}

export function tcpSystemArgs(agentDir: string, s: TcpSystemSpec): string[] {
  const args = ['agent', 'system', 'add', '--data-dir', agentDir, '--virtual', s.virtual, '--internal', s.internal, '--protocol', s.protocol];
  if (s.idleTimeoutMs !== undefined) args.push('--idle-timeout', String(s.idleTimeoutMs));
  if (s.maxConnections !== undefined) args.push('--max-connections', String(s.maxConnections));
  if (s.connectTimeoutMs !== undefined) args.push('--connect-timeout', String(s.connectTimeoutMs));
  if (s.caFile !== undefined) args.push('--ca-file', s.caFile);
  return args;
}

/**
 * The administrator's walk, all through the CLI: relay (logging at info, so
 * SOCKS5 refusals can be checked), tenant, app "billing", pairing, the given
 * systems, agent start (logging each connection), wait until connected.
 */
export async function setupTcpSite(systems: TcpSystemSpec[], opts: { location?: string } = {}): Promise<TcpSite> {
  const relayDir = await tempDir('skybridge-relay-');
  const agentDir = await tempDir('skybridge-agent-');
  const relay = await startRelay(relayDir, undefined, undefined, undefined, { SKYBRIDGE_LOG_LEVEL: 'info' });
  const tenantId = await cliValue(['relay', 'tenant', 'create', 'acme', '--data-dir', relayDir]);
  const appName = 'billing';
  const token = await cliValue(['relay', 'app', 'create', appName, '--tenant', tenantId, '--data-dir', relayDir]);
  const codeArgs = ['relay', 'pairing-code', '--tenant', tenantId, '--data-dir', relayDir];
  if (opts.location) codeArgs.push('--location', opts.location);
  const code = await cliValue(codeArgs);
  await cliValue(['agent', 'pair', code, '--data-dir', agentDir]);
  for (const s of systems) {
    await cliOk(tcpSystemArgs(agentDir, s));
    for (const r of s.resources ?? []) await cliOk(['agent', 'resource', 'add', '--data-dir', agentDir, '--system', s.virtual, '--path', r, '--sub-paths']);
  }
  const config = readAgentConfig(agentDir);
  config.tunnel = { ...((config.tunnel as object | undefined) ?? {}), ...FAST_TUNNEL };
  writeAgentConfig(agentDir, config);

  const agent = spawnCli('agent', ['agent', 'start', '--data-dir', agentDir], { SKYBRIDGE_LOG_LEVEL: 'info' });
  await waitAgentState(agentDir, 'connected', 20_000, agent);
  const confDir = await tempDir('skybridge-proxychains-');
  let n = 0;
  return {
    relay,
    relayDir,
    agentDir,
    tenantId,
    appName,
    token,
    agent,
    async proxychainsConf(username = appName) {
      const file = path.join(confDir, `proxychains-${++n}.conf`);
      await writeProxychainsConf(file, relay.socksPort, username, token);
      return file;
    },
    connectionLog: () =>
      jsonLines(agent.stderr()).filter((l) => typeof l.connectionId === 'string' && /^connection /.test(String(l.msg))) as unknown as ConnectionRecord[],
    relayRefusals: () => jsonLines(relay.child.stderr()).filter((l) => /^SOCKS5 /.test(String(l.msg))),
    async stopAgent() {
      await agent.stop(10_000);
    },
  };
}

// ---------------------------------------------------------------------------
// A SOCKS5 client that reports every stage, for asserting reply codes

export interface SocksRequest {
  username?: string;
  password?: string;
  host: string;
  port: number;
  addressType?: 'domain' | 'ipv4' | 'ipv6';
  /** Methods offered in the greeting; default [0x02]. */
  methods?: number[];
  command?: number;
  timeoutMs?: number;
}

export interface SocksOutcome {
  /** How far it got: the relay's method choice, the auth status, the request reply, or closed before a stage. */
  stage: 'method' | 'auth' | 'reply' | 'closed';
  method?: number;
  authStatus?: number;
  reply?: number;
  /** The full reply to the request (10 bytes for an IPv4 BND.ADDR). */
  replyBytes?: Buffer;
  /** Open and ready for data after reply 0x00. */
  socket?: net.Socket;
  /** True when the relay closed the connection after its last answer. */
  closedAfter?: boolean;
  elapsedMs: number;
}

class ByteReader {
  private buf: Buffer = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  ended = false;

  constructor(private readonly socket: net.Socket) {
    socket.on('data', this.onData);
    const end = () => {
      this.ended = true;
      this.wake?.();
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', end);
  }

  private onData = (d: Buffer) => {
    this.buf = Buffer.concat([this.buf, d]);
    this.wake?.();
  };

  async read(n: number, timeoutMs: number): Promise<Buffer | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (this.buf.length < n) {
      if (this.ended) return undefined;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${n}-byte answer from the SOCKS5 server within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = undefined;
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** Stops reading for the client and hands any bytes read ahead back to the socket. */
  release(): void {
    this.socket.removeListener('data', this.onData);
    if (this.buf.length > 0) this.socket.unshift(this.buf);
  }

  async closedSoon(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!this.ended && Date.now() < deadline) await sleep(20);
    return this.ended;
  }
}

export async function socksConnect(socksPort: number, req: SocksRequest): Promise<SocksOutcome> {
  const started = Date.now();
  const timeoutMs = req.timeoutMs ?? 15_000;
  const socket = net.connect({ port: socksPort, host: '127.0.0.1', allowHalfOpen: true });
  onCleanup(() => void socket.destroy());
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.setNoDelay(true);
  const reader = new ByteReader(socket);
  const elapsed = () => Date.now() - started;
  const closed = async (stage: SocksOutcome['stage'], o: Partial<SocksOutcome>): Promise<SocksOutcome> => {
    const closedAfter = await reader.closedSoon(2000);
    socket.destroy();
    return { stage, ...o, closedAfter, elapsedMs: elapsed() };
  };

  const methods = req.methods ?? [0x02];
  socket.write(Buffer.from([5, methods.length, ...methods]));
  const sel = await reader.read(2, timeoutMs);
  if (!sel) return closed('closed', {});
  if (sel[1] !== 0x02) return closed('method', { method: sel[1] });
  const u = Buffer.from(req.username ?? '');
  const p = Buffer.from(req.password ?? '');
  socket.write(Buffer.concat([Buffer.from([1, u.length]), u, Buffer.from([p.length]), p]));
  const auth = await reader.read(2, timeoutMs);
  if (!auth) return closed('closed', { method: 2 });
  if (auth[1] !== 0x00) return closed('auth', { method: 2, authStatus: auth[1] });

  const portBuf = Buffer.alloc(2);
  portBuf.writeUInt16BE(req.port);
  let addr: Buffer;
  const type = req.addressType ?? 'domain';
  if (type === 'ipv4') addr = Buffer.from([1, ...req.host.split('.').map(Number)]);
  else if (type === 'ipv6') addr = Buffer.concat([Buffer.from([4]), ipv6Bytes(req.host)]);
  else addr = Buffer.concat([Buffer.from([3, Buffer.byteLength(req.host)]), Buffer.from(req.host)]);
  socket.write(Buffer.concat([Buffer.from([5, req.command ?? 1, 0]), addr, portBuf]));
  const head = await reader.read(4, timeoutMs);
  if (!head) return closed('closed', { method: 2, authStatus: 0 });
  const rest = await reader.read(head[3] === 1 ? 6 : head[3] === 4 ? 18 : 1, timeoutMs);
  const replyBytes = Buffer.concat([head, rest ?? Buffer.alloc(0)]);
  if (head[1] !== 0x00) return closed('reply', { method: 2, authStatus: 0, reply: head[1], replyBytes });
  reader.release();
  return { stage: 'reply', method: 2, authStatus: 0, reply: 0, replyBytes, socket, elapsedMs: elapsed() };
}

function ipv6Bytes(text: string): Buffer {
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
}

/** Sends raw bytes to the SOCKS5 port; returns what came back and whether the relay closed the connection. */
export async function rawSocks(socksPort: number, data: Buffer, waitMs = 1500): Promise<{ answer: Buffer; closed: boolean }> {
  const socket = net.connect(socksPort, '127.0.0.1');
  onCleanup(() => void socket.destroy());
  const chunks: Buffer[] = [];
  let closed = false;
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.on('error', () => undefined);
  socket.on('close', () => (closed = true));
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write(data);
  const deadline = Date.now() + waitMs;
  while (!closed && Date.now() < deadline) await sleep(20);
  socket.destroy();
  return { answer: Buffer.concat(chunks), closed };
}

/** Reads a socket to its end (the peer's FIN), returning the bytes' SHA-256 and count. */
export function drain(socket: net.Socket): Promise<{ sha256: string; bytes: number; data: Buffer[] }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let bytes = 0;
    const data: Buffer[] = [];
    socket.on('data', (d: Buffer) => {
      hash.update(d);
      bytes += d.length;
      if (data.length < 64) data.push(d);
    });
    socket.once('end', () => resolve({ sha256: hash.digest('hex'), bytes, data }));
    socket.once('error', reject);
  });
}

/** Writes `data` in chunks with backpressure, then half-closes (FIN) unless told not to. */
export async function writeAll(socket: net.Socket, data: Buffer, end = true): Promise<void> {
  const step = 256 * 1024;
  for (let off = 0; off < data.length; off += step) {
    if (!socket.write(data.subarray(off, off + step))) await new Promise<void>((r) => socket.once('drain', r));
  }
  if (end) socket.end();
}

// ---------------------------------------------------------------------------
// TCP back ends

export interface TcpBackend {
  port: number;
  /** Connections accepted so far. */
  connections: number;
  /** Per finished connection: bytes and SHA-256 of what the client sent. */
  received: Array<{ bytes: number; sha256: string }>;
  open: Set<net.Socket>;
  close(): Promise<void>;
}

function trackServer(server: net.Server | tls.Server, backend: TcpBackend): Promise<TcpBackend> {
  // Every TCP connection, including TLS ones still in their handshake: server.close() waits for all of them.
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return new Promise((resolve) => {
    server.listen(backend.port, '127.0.0.1', () => {
      backend.port = (server.address() as net.AddressInfo).port;
      let closed = false;
      backend.close = async () => {
        if (closed) return;
        closed = true;
        for (const s of [...backend.open, ...sockets]) s.destroy();
        await new Promise<void>((r) => server.close(() => r()));
      };
      onCleanup(() => backend.close());
      resolve(backend);
    });
  });
}

function newBackend(port = 0): TcpBackend {
  return { port, connections: 0, received: [], open: new Set(), close: async () => undefined };
}

/** Sends back every byte it receives; half-close aware: the echo's FIN follows the client's once all is echoed. */
export function startEchoServer(opts: { tls?: { certFile: string; keyFile: string }; port?: number } = {}): Promise<TcpBackend> {
  const backend = newBackend(opts.port);
  const onSocket = (socket: net.Socket) => {
    backend.connections++;
    backend.open.add(socket);
    const hash = createHash('sha256');
    let bytes = 0;
    socket.on('data', (d: Buffer) => {
      hash.update(d);
      bytes += d.length;
    });
    socket.on('end', () => backend.received.push({ bytes, sha256: hash.digest('hex') }));
    socket.on('error', () => undefined);
    socket.on('close', () => backend.open.delete(socket));
    socket.pipe(socket);
  };
  const server = opts.tls
    ? tls.createServer({ cert: readPem(opts.tls.certFile), key: readPem(opts.tls.keyFile), allowHalfOpen: true }, onSocket)
    : net.createServer({ allowHalfOpen: true }, onSocket);
  return trackServer(server, backend);
}

/** Speaks first and closes its sending side (FIN) at once, but goes on reading until the client's FIN. */
export function startBannerServer(banner: string): Promise<TcpBackend> {
  const backend = newBackend();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    backend.connections++;
    backend.open.add(socket);
    const hash = createHash('sha256');
    let bytes = 0;
    socket.end(banner);
    socket.on('data', (d: Buffer) => {
      hash.update(d);
      bytes += d.length;
    });
    socket.on('end', () => {
      backend.received.push({ bytes, sha256: hash.digest('hex') });
      socket.destroy();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => backend.open.delete(socket));
  });
  return trackServer(server, backend);
}

/** Resets (TCP RST) each connection as soon as the first bytes arrive: a back end that breaks mid-conversation. */
export function startResetServer(): Promise<TcpBackend> {
  const backend = newBackend();
  const server = net.createServer((socket) => {
    backend.connections++;
    socket.on('error', () => undefined);
    socket.once('data', () => socket.resetAndDestroy());
  });
  return trackServer(server, backend);
}

/** Answers `id <port>` and closes: tells which port of a range a connection reached. */
export function startIdServer(port: number): Promise<TcpBackend> {
  const backend = newBackend(port);
  const server = net.createServer((socket) => {
    backend.connections++;
    socket.on('error', () => undefined);
    socket.end(`id ${port}\n`);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    void trackServer(server, backend).then(resolve);
  });
}

/** `count` consecutive free ports with an id server on each (a range mapping needs consecutive internal ports). */
export async function startIdServerRange(count: number): Promise<TcpBackend[]> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const started: TcpBackend[] = [];
    try {
      for (let i = 0; i < count; i++) started.push(await startIdServer(base + i));
      return started;
    } catch {
      for (const s of started) await s.close();
    }
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

function readPem(file: string): string {
  return readFileSync(file, 'utf8');
}

// ---------------------------------------------------------------------------
// proxychains4: real clients through the relay's SOCKS5 port

export const PROXYCHAINS = '/usr/bin/proxychains4';

/**
 * proxy_dns makes proxychains hand the *name* to the SOCKS5 server (it answers
 * the client's own lookup with a placeholder address), so the relay receives
 * the virtual host and the connector resolves the internal one.
 */
export async function writeProxychainsConf(file: string, socksPort: number, username: string, password: string): Promise<void> {
  writeFileSync(
    file,
    ['strict_chain', 'proxy_dns', 'remote_dns_subnet 224', 'tcp_read_time_out 15000', 'tcp_connect_time_out 8000', '[ProxyList]', `socks5 127.0.0.1 ${socksPort} ${username} ${password}`, ''].join('\n'),
    { mode: 0o600 },
  );
}

export function throughSocks(conf: string, file: string, args: string[], opts: Parameters<typeof runProcess>[2] = {}): Promise<RunResult> {
  return runProcess(PROXYCHAINS, ['-q', '-f', conf, file, ...args], opts);
}

// ---------------------------------------------------------------------------
// PostgreSQL 15 from Debian's packages, a private cluster on loopback

export interface Postgres {
  port: number;
  user: string;
  password: string;
  bin: string;
}

/**
 * initdb + postgres as an unprivileged user (postgres, when we are root), in
 * a temp dir: password (SCRAM) authentication on 127.0.0.1 only, the unix
 * socket inside the temp dir. Nothing of the Debian package's own cluster or
 * service is used.
 */
export async function startPostgres(): Promise<Postgres> {
  const bin = postgresBinDir();
  const dir = await tempDir('skybridge-pg-');
  const ids = isRoot ? userIds('postgres') : undefined;
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  const pwfile = path.join(dir, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (ids) {
    chownSync(dir, ids.uid, ids.gid);
    chownSync(pwfile, ids.uid, ids.gid);
  }
  const data = path.join(dir, 'data');
  const init = await runProcess(
    path.join(bin, 'initdb'),
    ['-D', data, '-U', 'skybridge', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '--no-locale', '-E', 'UTF8', '--no-sync'],
    { ...ids, cwd: dir, timeoutMs: 120_000 },
  );
  if (init.code !== 0) throw new Error(`initdb failed (${init.code}): ${init.stderr.slice(-2000)}`);
  const port = await freePort();
  const pg = startDaemon(
    path.join(bin, 'postgres'),
    ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    { ...ids, stopSignal: 'SIGINT' },
  );
  await waitFor(
    () => {
      if (!pg.alive()) throw new Error(`postgres exited: ${pg.stderr().slice(-2000)}`);
      return /ready to accept connections/.test(pg.stderr());
    },
    30_000,
    'PostgreSQL to accept connections',
  );
  return { port, user: 'skybridge', password, bin };
}

// ---------------------------------------------------------------------------
// OpenLDAP slapd from Debian's packages, a private directory on loopback

export const SLAPD = '/usr/sbin/slapd';
export const SLAPADD = '/usr/sbin/slapadd';
export const LDAPSEARCH = '/usr/bin/ldapsearch';

export interface Slapd {
  port: number;
  /** ldaps:// port when TLS was asked for. */
  tlsPort?: number;
  baseDn: string;
  adminDn: string;
  adminPassword: string;
  /** How many inetOrgPerson entries the directory holds. */
  people: number;
}

/**
 * slapd with its own slapd.conf (-f) and an mdb database in a temp dir, loaded
 * with slapadd before it starts; the Debian package's service and its
 * cn=config are not involved.
 */
export async function startSlapd(opts: { people?: number; tls?: { certFile: string; keyFile: string } } = {}): Promise<Slapd> {
  const dir = await tempDir('skybridge-ldap-');
  const db = path.join(dir, 'db');
  mkdirSync(db, { mode: 0o700 });
  const baseDn = 'dc=example,dc=org';
  const adminDn = `cn=admin,${baseDn}`;
  const adminPassword = 'secret-admin';
  const people = opts.people ?? 50;
  const conf = path.join(dir, 'slapd.conf');
  writeFileSync(
    conf,
    [
      'include /etc/ldap/schema/core.schema',
      'include /etc/ldap/schema/cosine.schema',
      'include /etc/ldap/schema/inetorgperson.schema',
      `pidfile ${path.join(dir, 'slapd.pid')}`,
      `argsfile ${path.join(dir, 'slapd.args')}`,
      'modulepath /usr/lib/ldap',
      'moduleload back_mdb',
      ...(opts.tls ? [`TLSCertificateFile ${opts.tls.certFile}`, `TLSCertificateKeyFile ${opts.tls.keyFile}`] : []),
      'database mdb',
      'maxsize 104857600',
      `suffix "${baseDn}"`,
      `rootdn "${adminDn}"`,
      `rootpw ${adminPassword}`,
      `directory ${db}`,
      '',
    ].join('\n'),
  );
  const entries = [
    `dn: ${baseDn}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n`,
    `dn: ou=people,${baseDn}\nobjectClass: organizationalUnit\nou: people\n`,
    `dn: uid=alice,ou=people,${baseDn}\nobjectClass: inetOrgPerson\nuid: alice\ncn: Alice Example\nsn: Example\nmail: alice@example.org\n`,
  ];
  for (let i = 1; i < people; i++) {
    const uid = `user${String(i).padStart(3, '0')}`;
    entries.push(`dn: uid=${uid},ou=people,${baseDn}\nobjectClass: inetOrgPerson\nuid: ${uid}\ncn: User ${i}\nsn: User\nmail: ${uid}@example.org\n`);
  }
  const ldif = path.join(dir, 'data.ldif');
  writeFileSync(ldif, entries.join('\n'));
  const add = await runProcess(SLAPADD, ['-f', conf, '-l', ldif], { timeoutMs: 60_000 });
  if (add.code !== 0) throw new Error(`slapadd failed (${add.code}): ${add.stderr.slice(-2000)}`);
  const port = await freePort();
  const tlsPort = opts.tls ? await freePort() : undefined;
  const urls = [`ldap://127.0.0.1:${port}/`, ...(tlsPort ? [`ldaps://127.0.0.1:${tlsPort}/`] : [])].join(' ');
  // -d keeps slapd in the foreground (no daemonising), so it is our child and stops with the test.
  const slapd = startDaemon(SLAPD, ['-f', conf, '-h', urls, '-d', '0'], { stopSignal: 'SIGTERM' });
  await waitFor(
    async () => {
      if (!slapd.alive()) throw new Error(`slapd exited: ${slapd.stderr().slice(-2000)}`);
      const r = await runProcess(LDAPSEARCH, ['-x', '-H', `ldap://127.0.0.1:${port}`, '-b', baseDn, '-s', 'base', 'dn'], { timeoutMs: 5000 });
      return r.code === 0;
    },
    30_000,
    'slapd to answer',
  );
  return { port, tlsPort, baseDn, adminDn, adminPassword, people };
}
