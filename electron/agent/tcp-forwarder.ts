import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../../common/logger.js';
import { streamToSocket } from '../../common/stream-to-socket.js';
import type { AgentEvent } from '../../shared/api.js';
import { DEFAULT_TCP_IDLE_TIMEOUT_MS, DEFAULT_TCP_MAX_CONNECTIONS, systemKey, usesTls, type SystemMapping } from '../../shared/config.js';
import { ErrorCode, httpStatusFor } from '../../shared/errors.js';
import { MetaHeader } from '../../shared/tunnel.js';
import { describeBackendError } from './forwarder.js';
import { checkTcpAccess, tcpSystemName } from './tcp-access.js';
import { caFileCache, CaFileError } from './trusted-ca.js';

/** Open connections per system, for maxConnections. One instance per agent, shared by all tunnel streams. */
export class TcpConnectionCounter {
  private readonly counts = new Map<string, number>();

  tryAcquire(key: string, max: number): boolean {
    const n = this.counts.get(key) ?? 0;
    if (n >= max) return false;
    this.counts.set(key, n + 1);
    return true;
  }

  release(key: string): void {
    const n = (this.counts.get(key) ?? 1) - 1;
    if (n <= 0) this.counts.delete(key);
    else this.counts.set(key, n);
  }

  count(key: string): number {
    return this.counts.get(key) ?? 0;
  }
}

export interface TcpForwarderDeps {
  subaccountId: string;
  systems: () => SystemMapping[];
  connections: TcpConnectionCounter;
  logger: Logger;
  emit: (event: AgentEvent) => void;
}

type ConnectionEvent = Extract<AgentEvent, { type: 'connection' }>;

const CONNECT_TIMEOUT = 'SKYBRIDGE_CONNECT_TIMEOUT';

/** `host:port` or `[v6]:port` from a CONNECT stream's :authority. */
export function splitAuthority(authority: string): { host: string; port: number } {
  const m = /^\[([^\]]*)\]:(\d{1,5})$/.exec(authority) ?? /^([^:]*):(\d{1,5})$/.exec(authority);
  if (!m) return { host: authority, port: 0 };
  return { host: m[1]!, port: Number(m[2]) };
}

/**
 * Serves one CONNECT stream from the relay (a cloud app's SOCKS5 CONNECT):
 * checks it against the TCP mappings, opens the connection to the internal
 * system (TLS and verified for tcp+tls and ldaps), answers 200 once connected
 * or a refusal whose `skybridge-error` the relay turns into a SOCKS5 reply
 * code, then carries raw bytes both ways with backpressure, half-close in
 * either direction, the mapping's idle timeout, and one traffic event at the end.
 */
export function handleTcpStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, deps: TcpForwarderDeps): void {
  const started = performance.now();
  const { host, port } = splitAuthority(String(headers[':authority'] ?? ''));
  const connectionId = String(headers[MetaHeader.RequestId] ?? '');
  const app = String(headers[MetaHeader.AppName] ?? '');
  const decision = checkTcpAccess(deps.systems(), { host, port });
  const system: SystemMapping | undefined = decision.system;
  const internalPort = decision.allowed ? decision.internalPort : undefined;
  let bytesToBackend = 0;
  let bytesFromBackend = 0;
  let connectMs: number | undefined;
  let recorded = false;

  const record = (outcome: ConnectionEvent['outcome'], ended: ConnectionEvent['ended'], reason?: string): void => {
    if (recorded) return;
    recorded = true;
    const event: ConnectionEvent = {
      type: 'connection',
      at: new Date().toISOString(),
      subaccountId: deps.subaccountId,
      connectionId,
      app,
      virtualHost: host,
      virtualPort: port,
      ...(system ? { protocol: system.protocol, internalHost: system.internalHost, internalPort } : {}),
      outcome,
      ended,
      ...(reason !== undefined ? { reason } : {}),
      bytesToBackend,
      bytesFromBackend,
      ...(connectMs !== undefined ? { connectMs: round(connectMs) } : {}),
      durationMs: round(performance.now() - started),
    };
    const { type: _type, ...fields } = event;
    if (ended === 'refused') deps.logger.info(fields, outcome === 'denied' ? 'connection denied' : 'connection failed');
    else deps.logger.info(fields, 'connection closed');
    deps.emit(event);
  };

  const refuse = (code: ErrorCode, message: string, outcome: ConnectionEvent['outcome']): void => {
    record(outcome, 'refused', message);
    if (stream.destroyed || stream.closed || stream.headersSent) return;
    const body = `${message}\n`;
    stream.respond({ ':status': httpStatusFor[code] ?? 500, 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), [MetaHeader.Error]: code });
    stream.end(body);
    stream.on('finish', () => {
      if (!stream.closed) stream.close(http2.constants.NGHTTP2_NO_ERROR);
    });
  };

  if (!decision.allowed) return refuse(decision.code, decision.reason, 'denied');
  const sys = decision.system;
  const toPort = decision.internalPort;
  const name = tcpSystemName(sys, port);
  const where = `${sys.internalHost}:${toPort}`;

  const limitKey = `${deps.subaccountId}|${systemKey(sys)}`;
  const max = sys.maxConnections ?? DEFAULT_TCP_MAX_CONNECTIONS;
  if (!deps.connections.tryAcquire(limitKey, max)) {
    return refuse(ErrorCode.ConnectionLimit, `System ${name} already has ${max} open connections, its limit (maxConnections); try again later.`, 'denied');
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    deps.connections.release(limitKey);
  };

  const tlsToBackend = usesTls(sys.protocol);
  let ca: string[] | undefined;
  if (tlsToBackend && sys.caFile) {
    try {
      // Cached per file version: a connection costs a lookup, not a read.
      ca = caFileCache.get(sys.caFile).ca;
    } catch (err) {
      release();
      const why = err instanceof CaFileError ? `its CA file ${err.file} cannot be used (${err.reason})` : (err as Error).message;
      return refuse(ErrorCode.BackendUnreachable, `System ${name} is unreachable: ${why}.`, 'error');
    }
  }
  let sock: net.Socket;
  try {
    const common = { host: sys.internalHost, port: toPort, allowHalfOpen: true, noDelay: true };
    sock = tlsToBackend
      ? tls.connect({
          ...common,
          // Verified against the internal name (or IP, which is never sent as SNI), with the mapping's extra CA if any.
          servername: net.isIP(sys.internalHost) === 0 ? sys.internalHost : undefined,
          ca,
          rejectUnauthorized: true,
        })
      : net.connect(common);
  } catch (err) {
    release();
    return refuse(ErrorCode.BackendUnreachable, `System ${name} is unreachable: the connection to ${where} could not be started (${(err as Error).message}).`, 'error');
  }

  let connected = false;
  let cause: Exclude<ConnectionEvent['ended'], 'refused' | 'closed'> | undefined;
  let causeReason: string | undefined;
  let sockClosed = false;
  let streamClosed = false;
  const ended = () => {
    if (!sockClosed || !streamClosed) return;
    release();
    record(cause === 'backend-reset' ? 'error' : 'allowed', cause ?? 'closed', causeReason);
  };

  const connectTimer = setTimeout(
    () => sock.destroy(Object.assign(new Error('connect timeout'), { code: CONNECT_TIMEOUT })),
    sys.connectTimeoutMs,
  );

  sock.once(tlsToBackend ? 'secureConnect' : 'connect', () => {
    connected = true;
    clearTimeout(connectTimer);
    connectMs = performance.now() - started;
    if (stream.destroyed || stream.closed) return void sock.destroy();
    stream.respond({ ':status': 200, [MetaHeader.Timing]: `connect=${connectMs.toFixed(2)}` });
    // pipe() carries backpressure; the back end's FIN becomes END_STREAM, so it may half-close.
    sock.pipe(stream);
    // The relay's END_STREAM becomes a FIN the same way, but a reset stream ends its readable side too
    // before 'close': that must reach the back end as an abort, not as a clean end of the request.
    streamToSocket(stream, sock);
    stream.on('end', () => {
      if (stream.rstCode === undefined || stream.rstCode === http2.constants.NGHTTP2_NO_ERROR) sock.end();
    });
    stream.on('data', (d: Buffer) => (bytesToBackend += d.length));
    sock.on('data', (d: Buffer) => (bytesFromBackend += d.length));
    // Reads and writes both count as activity on the socket.
    sock.setTimeout(sys.idleTimeoutMs ?? DEFAULT_TCP_IDLE_TIMEOUT_MS);
    sock.on('timeout', () => {
      cause ??= 'idle-timeout';
      causeReason ??= `no data in either direction for ${sys.idleTimeoutMs ?? DEFAULT_TCP_IDLE_TIMEOUT_MS} ms`;
      sock.destroy();
      resetStream(stream);
    });
  });

  sock.on('error', (err: NodeJS.ErrnoException) => {
    clearTimeout(connectTimer);
    if (!connected) {
      release();
      if (stream.closed || stream.destroyed) return record('error', 'cloud-reset', 'the cloud app went away before the back end answered');
      if (err.code === CONNECT_TIMEOUT) {
        return refuse(ErrorCode.BackendTimeout, `System ${name} timed out: its back end ${where} did not accept a connection within ${sys.connectTimeoutMs} ms.`, 'error');
      }
      const refused = err.code === 'ECONNREFUSED';
      deps.logger.warn({ connectionId, system: name, err: err.message }, 'back end unreachable');
      return refuse(
        refused ? ErrorCode.BackendRefused : ErrorCode.BackendUnreachable,
        `System ${name} is unreachable: its back end ${where} failed (${describeBackendError(err)}).`,
        'error',
      );
    }
    cause ??= 'backend-reset';
    causeReason ??= describeBackendError(err);
    resetStream(stream);
  });

  sock.on('close', () => {
    sockClosed = true;
    clearTimeout(connectTimer);
    if (connected) ended();
  });

  stream.on('close', () => {
    streamClosed = true;
    if (!connected) {
      // The cloud app or the tunnel gave up while we were still connecting.
      if (!sockClosed) {
        sock.destroy();
        release();
        record('error', 'cloud-reset', 'the cloud app went away before the back end answered');
      }
      return;
    }
    if (stream.rstCode !== undefined && stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR) {
      cause ??= 'cloud-reset';
      causeReason ??= 'the cloud app or the tunnel aborted the connection';
      // A TCP reset where the socket allows it (not under TLS), so the back end sees an abort.
      if (sock instanceof tls.TLSSocket) sock.destroy();
      else sock.resetAndDestroy();
    }
    ended();
  });
}

/**
 * Aborts the stream with RST_STREAM alone. stream.close(code) would first end the writable side
 * (END_STREAM), which the relay would pass on as a clean FIN before the reset arrives.
 */
function resetStream(stream: http2.Http2Stream): void {
  if (!stream.destroyed) stream.destroy(new Error('TCP connection aborted'));
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
