/**
 * The two multiplexing options of DESIGN "Data plane", measured the same way:
 * two processes on loopback (this one plays the relay, a child plays the
 * connector and dials it), TLS with the relay's own kind of certificate, and
 * 1 GiB each way, timed on the relay side from the request to the last byte
 * (down) or to the connector's byte count (up).
 *
 *   h2  the connector sends `Upgrade`, then serves HTTP/2 on the TLS socket
 *       (`http2.performServerHandshake`); the relay is the HTTP/2 client.
 *       Windows as in shared/tunnel.ts.
 *   ws  one WebSocket over TLS (the connector is the WebSocket client, so it
 *       masks what it sends); each 256 KiB binary message carries an 8-byte
 *       header (stream id, type) in front of its payload, copied in as a real
 *       framing would. Senders keep at most 8 MiB unacknowledged by the
 *       socket; there is no per-stream flow control (the framing would need
 *       its own window updates), so this number is an upper bound for ws.
 *
 * Run: `node dist/test/bench/mux-compare.js [--bytes N] [--json]`.
 */
import http2 from 'node:http2';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';
import { ensureRelayCa, ensureServerCertificate } from '../../relay/ca.js';
import { SESSION_WINDOW_BYTES, STREAM_WINDOW_BYTES } from '../../shared/tunnel.js';
import { cpuSeconds } from './procfs.js';
import { cleanupAll, installExitHandlers, startProcess, tempDir, waitFor, type Proc } from './procs.js';

const GiB = 1024 ** 3;
const MB = 1e6;
const CHUNK = 256 * 1024;
const HEADER = 8;
const WS_MAX_UNACKED = 8 * 1024 * 1024;
const UPGRADE_TOKEN = 'mux-compare/1';
const TYPE_DATA = 0;
const TYPE_END = 1;

export interface MuxRun {
  MBps: number;
  seconds: number;
  /** CPU seconds used by the relay side and the connector side during the transfer. */
  relayCpuS: number;
  connectorCpuS: number;
}

export interface MuxResult {
  bytes: number;
  tlsCipher: string;
  h2: { down: MuxRun; up: MuxRun };
  ws: { down: MuxRun; up: MuxRun };
}

const payload = Buffer.alloc(CHUNK, 0x61);

function frame(stream: number, type: number, body?: Buffer, length = 0): Buffer {
  const msg = Buffer.allocUnsafe(HEADER + length);
  msg.writeUInt32BE(stream, 0);
  msg.writeUInt8(type, 4);
  msg.fill(0, 5, HEADER);
  if (body && length > 0) body.copy(msg, HEADER, 0, length);
  return msg;
}

/** Writes `total` bytes to an HTTP/2 stream, waiting for 'drain' whenever its buffer is full. */
function pumpH2(stream: http2.Http2Stream, total: number): void {
  let left = total;
  const go = () => {
    while (left > 0) {
      const n = Math.min(left, CHUNK);
      left -= n;
      if (!stream.write(n === CHUNK ? payload : payload.subarray(0, n))) return void stream.once('drain', go);
    }
    stream.end();
  };
  go();
}

/** Sends `total` bytes as framed messages, keeping at most WS_MAX_UNACKED bytes handed to the socket but not yet written. */
function pumpWs(ws: WebSocket, stream: number, total: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let left = total;
    let unacked = 0;
    let failed = false;
    const go = () => {
      while (left > 0 && unacked < WS_MAX_UNACKED) {
        const n = Math.min(left, CHUNK);
        left -= n;
        unacked += n;
        ws.send(frame(stream, TYPE_DATA, payload, n), { binary: true }, (err) => {
          if (err) {
            if (!failed) reject(err);
            failed = true;
            return;
          }
          unacked -= n;
          go();
        });
      }
      if (left === 0 && unacked === 0 && !failed) {
        left = -1;
        ws.send(frame(stream, TYPE_END), { binary: true }, (err) => (err ? reject(err) : resolve()));
      }
    };
    go();
  });
}

// ---------------------------------------------------------------------------
// Connector side (child process)

function connector(port: number, caFile: string): void {
  const ca = readFileSync(caFile, 'utf8');
  const req = https.request({ host: '127.0.0.1', port, path: '/h2', headers: { Connection: 'Upgrade', Upgrade: UPGRADE_TOKEN }, ca, agent: false });
  req.on('upgrade', (_res, raw, head) => {
    const socket = raw as TLSSocket;
    socket.setNoDelay(true);
    if (head.length > 0) socket.unshift(head);
    const session = http2.performServerHandshake(socket, { settings: { initialWindowSize: STREAM_WINDOW_BYTES, enablePush: false }, maxSessionMemory: 256 });
    session.setLocalWindowSize(SESSION_WINDOW_BYTES);
    session.on('stream', (stream, headers) => {
      const url = new URL(String(headers[':path']), 'http://x');
      if (url.pathname === '/down') {
        stream.respond({ ':status': 200 });
        pumpH2(stream, Number(url.searchParams.get('bytes')));
      } else {
        let bytes = 0;
        stream.on('data', (c: Buffer) => (bytes += c.length));
        stream.on('end', () => {
          stream.respond({ ':status': 200 });
          stream.end(String(bytes));
        });
      }
    });
  });
  req.on('error', (err) => {
    process.stderr.write(`mux-compare connector: ${err.message}\n`);
    process.exit(1);
  });
  req.end();

  const ws = new WebSocket(`wss://127.0.0.1:${port}/ws`, { ca, perMessageDeflate: false });
  let upBytes = 0;
  ws.on('message', (data: Buffer, isBinary) => {
    if (!isBinary) {
      const cmd = JSON.parse(data.toString()) as { op: string; bytes: number; stream: number };
      if (cmd.op === 'down') void pumpWs(ws, cmd.stream, cmd.bytes);
      return;
    }
    if (data.readUInt8(4) === TYPE_DATA) upBytes += data.length - HEADER;
    else {
      ws.send(JSON.stringify({ op: 'count', bytes: upBytes }));
      upBytes = 0;
    }
  });
  ws.on('error', (err) => {
    process.stderr.write(`mux-compare connector: ${err.message}\n`);
    process.exit(1);
  });
  process.once('SIGTERM', () => process.exit(0));
}

// ---------------------------------------------------------------------------
// Relay side (this process): the measurements

async function timed(child: Proc, fn: () => Promise<void>, bytes: number): Promise<MuxRun> {
  const relayCpu0 = process.cpuUsage();
  const childCpu0 = cpuSeconds(child.pid) ?? 0;
  const t0 = performance.now();
  await fn();
  const seconds = (performance.now() - t0) / 1000;
  const relayCpu = process.cpuUsage(relayCpu0);
  return {
    MBps: Math.round((bytes / MB / seconds) * 10) / 10,
    seconds: Math.round(seconds * 1000) / 1000,
    relayCpuS: Math.round(((relayCpu.user + relayCpu.system) / 1e6) * 100) / 100,
    connectorCpuS: Math.round(((cpuSeconds(child.pid) ?? 0) - childCpu0) * 100) / 100,
  };
}

function h2Down(session: http2.ClientHttp2Session, bytes: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let got = 0;
    const stream = session.request({ ':path': `/down?bytes=${bytes}` });
    stream.on('data', (c: Buffer) => (got += c.length));
    stream.on('end', () => (got === bytes ? resolve() : reject(new Error(`h2 down: ${got} of ${bytes} bytes`))));
    stream.on('error', reject);
  });
}

function h2Up(session: http2.ClientHttp2Session, bytes: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'POST', ':path': '/up' });
    let answer = '';
    stream.setEncoding('utf8');
    stream.on('data', (c: string) => (answer += c));
    stream.on('end', () => (Number(answer) === bytes ? resolve() : reject(new Error(`h2 up: connector counted ${answer} of ${bytes} bytes`))));
    stream.on('error', reject);
    pumpH2(stream, bytes);
  });
}

function wsDown(ws: WebSocket, bytes: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let got = 0;
    const onMessage = (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return;
      if (data.readUInt8(4) === TYPE_DATA) return void (got += data.length - HEADER);
      ws.off('message', onMessage);
      if (got === bytes) resolve();
      else reject(new Error(`ws down: ${got} of ${bytes} bytes`));
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify({ op: 'down', bytes, stream: 1 }));
  });
}

function wsUp(ws: WebSocket, bytes: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (data: Buffer, isBinary: boolean) => {
      if (isBinary) return;
      ws.off('message', onMessage);
      const { bytes: counted } = JSON.parse(data.toString()) as { bytes: number };
      if (counted === bytes) resolve();
      else reject(new Error(`ws up: connector counted ${counted} of ${bytes} bytes`));
    };
    ws.on('message', onMessage);
    pumpWs(ws, 3, bytes).catch(reject);
  });
}

export async function compareMultiplexing(bytes = GiB): Promise<MuxResult> {
  const dir = tempDir('skybridge-mux-');
  const ca = await ensureRelayCa(dir);
  const cert = await ensureServerCertificate(dir, ca, ['127.0.0.1', 'localhost']);
  const server = https.createServer({ key: cert.keyPem, cert: cert.certPem, minVersion: 'TLSv1.2' });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: CHUNK + HEADER });
  let h2Session: http2.ClientHttp2Session | undefined;
  let wsPeer: WebSocket | undefined;
  let tlsCipher = '';
  server.on('upgrade', (req, raw, head) => {
    const socket = raw as TLSSocket;
    if (req.url === '/ws') return wss.handleUpgrade(req, socket, head, (ws) => (wsPeer = ws));
    const c = socket.getCipher();
    tlsCipher = `${c.standardName ?? c.name} (${socket.getProtocol()})`;
    socket.setNoDelay(true);
    // As in the relay: HTTP/2 takes the socket only once the 101 is flushed.
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${UPGRADE_TOKEN}\r\n\r\n`, () => {
      if (head.length > 0) socket.unshift(head);
      const session = http2.connect('http://connector', { createConnection: () => socket, settings: { initialWindowSize: STREAM_WINDOW_BYTES, enablePush: false }, maxSessionMemory: 256 });
      session.on('connect', () => {
        session.setLocalWindowSize(SESSION_WINDOW_BYTES);
        h2Session = session;
      });
      session.on('error', () => undefined);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const self = fileURLToPath(import.meta.url);
  const child = startProcess('mux-compare connector', process.execPath, [self, '--connector', String(port), path.join(dir, 'ca', 'ca.pem')]);
  try {
    const session = await waitFor('the h2 tunnel', 15_000, () => {
      if (!child.alive()) throw new Error(`the connector exited: ${child.stderr().slice(-500)}`);
      return h2Session;
    });
    const ws = await waitFor('the WebSocket', 15_000, () => wsPeer);
    // One short round each to settle JIT and TCP before the timed gigabyte.
    await h2Down(session, 16 * 1024 * 1024);
    await h2Up(session, 16 * 1024 * 1024);
    await wsDown(ws, 16 * 1024 * 1024);
    await wsUp(ws, 16 * 1024 * 1024);
    const result: MuxResult = {
      bytes,
      tlsCipher,
      h2: { down: await timed(child, () => h2Down(session, bytes), bytes), up: await timed(child, () => h2Up(session, bytes), bytes) },
      ws: { down: await timed(child, () => wsDown(ws, bytes), bytes), up: await timed(child, () => wsUp(ws, bytes), bytes) },
    };
    session.destroy();
    ws.terminate();
    return result;
  } finally {
    server.closeAllConnections();
    server.close();
    await cleanupAll();
  }
}

export function formatMux(r: MuxResult): string {
  const row = (name: string, x: { down: MuxRun; up: MuxRun }) =>
    `  ${name.padEnd(34)}${`${x.down.MBps}`.padStart(9)}${`${x.up.MBps}`.padStart(9)}     cpu s relay/connector: down ${x.down.relayCpuS}/${x.down.connectorCpuS}, up ${x.up.relayCpuS}/${x.up.connectorCpuS}`;
  return [
    `Multiplexing options, ${(r.bytes / GiB).toFixed(r.bytes % GiB === 0 ? 0 : 2)} GiB each way, two processes, TLS ${r.tlsCipher} (MB/s, MB = 10^6 bytes)`,
    `  ${''.padEnd(34)}${'down'.padStart(9)}${'up'.padStart(9)}`,
    row('HTTP/2 on the upgraded TLS socket', r.h2),
    row('ws messages, 256 KiB + own header', r.ws),
    '  (down = connector to relay. ws: no per-stream flow control here, so an upper bound; the connector, as WebSocket client,',
    '   masks every byte it sends and the relay unmasks it, in JavaScript unless the optional bufferutil module is installed)',
  ].join('\n');
}

const isMain = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const connectorAt = process.argv.indexOf('--connector');
  if (connectorAt > 0) {
    connector(Number(process.argv[connectorAt + 1]), process.argv[connectorAt + 2]!);
  } else {
    installExitHandlers();
    const bytesAt = process.argv.indexOf('--bytes');
    const bytes = bytesAt > 0 ? Number(process.argv[bytesAt + 1]) : GiB;
    compareMultiplexing(bytes).then(
      (r) => {
        process.stdout.write(process.argv.includes('--json') ? `${JSON.stringify(r)}\n` : `${formatMux(r)}\n`);
        process.exit(0);
      },
      (err: Error) => {
        process.stderr.write(`mux-compare: ${err.stack ?? err.message}\n`);
        void cleanupAll().finally(() => process.exit(1));
      },
    );
  }
}
