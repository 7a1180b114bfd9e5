import http from 'node:http';
import https from 'node:https';
import http2 from 'node:http2';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../common/logger.js';
import { batchedPipe } from '../../common/batched-pipe.js';
import { systemKey, type SystemMapping } from '../../shared/config.js';
import { ErrorCode, httpStatusFor } from '../../shared/errors.js';
import { HOP_BY_HOP_HEADERS, META_PREFIX, MetaHeader } from '../../shared/tunnel.js';
import type { AgentEvent } from '../../shared/api.js';
import { checkAccess } from './access.js';
import type { BackendPools } from './backend-pool.js';
import { CaFileError } from './trusted-ca.js';

export interface ForwarderDeps {
  subaccountId: string;
  systems: () => SystemMapping[];
  pools: BackendPools;
  logger: Logger;
  emit: (event: AgentEvent) => void;
  /** Called with each denial before it is answered; the answer waits for it (the audit entry reaching the disk). */
  beforeDenial?: (event: RequestEvent) => Promise<void>;
}

type RequestEvent = Extract<AgentEvent, { type: 'request' }>;

const CONNECT_TIMEOUT = 'SKYBRIDGE_CONNECT_TIMEOUT';
const RESPONSE_TIMEOUT = 'SKYBRIDGE_RESPONSE_TIMEOUT';

/** Maps a back end's own redirect target back onto the virtual name the cloud app knows. */
export function mapLocation(location: string, system: SystemMapping): string {
  const m = /^(https?):\/\/([^/?#]+)(.*)$/i.exec(location);
  if (!m) return location;
  const authority = m[2]!.toLowerCase();
  const defaultPort = m[1]!.toLowerCase() === 'https' ? 443 : 80;
  const internal = [`${system.internalHost}:${system.internalPort}`];
  if (system.internalPort === defaultPort) internal.push(system.internalHost);
  const virtual = [`${system.virtualHost}:${system.virtualPort}`];
  if (system.virtualPort === defaultPort) virtual.push(system.virtualHost);
  if (!internal.includes(authority) && !virtual.includes(authority)) return location;
  return `http://${system.virtualHost}:${system.virtualPort}${m[3] ?? ''}`;
}

export function describeBackendError(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name not found';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    case 'ECONNRESET':
      return 'connection reset';
    default:
      return err.code?.startsWith('ERR_TLS') || err.code?.includes('CERT') || err.code?.startsWith('UNABLE_TO') || err.code === 'DEPTH_ZERO_SELF_SIGNED_CERT'
        ? `TLS verification failed: ${err.message}`
        : err.message;
  }
}

/**
 * Serves one tunnel stream: decide against the allowlist, then stream the
 * request to the internal system and the answer back, with backpressure both
 * ways (pipe), pooled keep-alive connections and the mapping's timeouts.
 */
export function handleTunnelStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, deps: ForwarderDeps): void {
  const started = performance.now();
  const method = String(headers[':method'] ?? 'GET');
  const authority = String(headers[':authority'] ?? '');
  const rawTarget = String(headers[':path'] ?? '/');
  const requestId = String(headers[MetaHeader.RequestId] ?? '');
  const app = String(headers[MetaHeader.AppName] ?? '');
  const upgrade = headers[MetaHeader.Upgrade] as string | undefined;
  const colon = authority.lastIndexOf(':');
  const host = colon > 0 ? authority.slice(0, colon) : authority;
  const port = colon > 0 ? Number(authority.slice(colon + 1)) : 80;
  // Traffic detail (docs/audit.md): where it went, how much, and where the time went.
  const relayMs = Number(headers[MetaHeader.RelayMs] ?? Number.NaN);
  const route: { to?: { internalHost: string; internalPort: number; resource: string } } = {};
  let bytesIn = 0;
  let bytesOut = 0;
  let backendMs: number | undefined;
  let connectMs = 0;
  const round2 = (ms: number) => Math.round(ms * 100) / 100;

  const event = (status: number, outcome: RequestEvent['outcome'], reason?: string): RequestEvent => {
    const durationMs = round2(performance.now() - started);
    const e: RequestEvent = {
      type: 'request',
      at: new Date().toISOString(),
      subaccountId: deps.subaccountId,
      requestId,
      app,
      method,
      virtualHost: host,
      virtualPort: port,
      path: rawTarget.split('?')[0] ?? '/',
      status,
      outcome,
      reason,
      durationMs,
      ...route.to,
      bytesIn,
      bytesOut,
      timing: {
        ...(relayMs >= 0 ? { relayMs } : {}),
        ...(route.to && connectMs > 0 ? { connectMs: round2(connectMs) } : {}),
        ...(backendMs !== undefined ? { backendMs } : {}),
        totalMs: round2(durationMs + (relayMs >= 0 ? relayMs : 0)),
      },
    };
    deps.emit(e);
    return e;
  };

  const refuse = (code: ErrorCode, message: string, outcome: RequestEvent['outcome']) => {
    const status = httpStatusFor[code] ?? 500;
    const e = event(status, outcome, message);
    if (outcome === 'denied' && deps.beforeDenial) {
      const answer = () => respondRefusal(code, status, message);
      void deps.beforeDenial(e).then(answer, answer);
      return;
    }
    respondRefusal(code, status, message);
  };
  const respondRefusal = (code: ErrorCode, status: number, message: string) => {
    if (stream.destroyed || stream.closed) return;
    if (stream.headersSent) {
      stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    const body = `${message}\n`;
    stream.respond({ ':status': status, 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), [MetaHeader.Error]: code });
    stream.end(body);
    // Stop a large upload we will never read; the answer above is complete.
    stream.on('finish', () => {
      if (!stream.closed) stream.close(http2.constants.NGHTTP2_NO_ERROR);
    });
  };

  const decision = checkAccess(deps.systems(), { host, port, method, rawTarget, upgrade });
  if (!decision.allowed) {
    deps.logger.info({ requestId, app, method, system: `${host}:${port}`, reason: decision.reason }, 'request denied');
    return refuse(decision.code, decision.reason, 'denied');
  }
  const system = decision.system;
  const sysName = systemKey(system);
  route.to = { internalHost: system.internalHost, internalPort: system.internalPort, resource: decision.resource.path };

  const outHeaders: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name.startsWith(':') || name.startsWith(META_PREFIX) || HOP_BY_HOP_HEADERS.has(name)) continue;
    outHeaders[name] = value;
  }
  if (system.hostHeader === 'internal') {
    outHeaders.host = `${system.internalHost.includes(':') ? `[${system.internalHost}]` : system.internalHost}:${system.internalPort}`;
    outHeaders['x-forwarded-host'] = `${system.virtualHost}:${system.virtualPort}`;
  } else {
    outHeaders.host = `${system.virtualHost}:${system.virtualPort}`;
  }
  if (upgrade) {
    outHeaders.connection = 'Upgrade';
    outHeaders.upgrade = upgrade;
  }

  const transport = system.protocol === 'https' ? https : http;
  let pooled: http.Agent | undefined;
  try {
    if (!upgrade || system.protocol === 'https') pooled = deps.pools.agentFor(system);
  } catch (err) {
    // The mapping's CA file is unusable (gone, not a regular file, no certificates): nothing is sent.
    const why = err instanceof CaFileError ? `its CA file ${err.file} cannot be used (${err.reason})` : (err as Error).message;
    deps.logger.warn({ requestId, system: sysName, err: why }, 'back end trust unusable');
    return refuse(ErrorCode.BackendUnreachable, `System ${sysName} is unreachable: ${why}.`, 'error');
  }
  const options: https.RequestOptions = {
    host: system.internalHost,
    port: system.internalPort,
    method,
    path: decision.target,
    headers: outHeaders,
    agent: upgrade ? false : pooled,
    // Verify the back end against its internal name. For an IP, '' stops Node from taking the name from
    // the Host header (the *virtual* name) and makes it check the IP instead; IPs are never sent as SNI.
    servername: system.protocol === 'https' ? (net.isIP(system.internalHost) === 0 ? system.internalHost : '') : undefined,
  };
  if (upgrade && system.protocol === 'https') {
    // Upgrades take a connection of their own (never returned to the pool), with the same trust as the pool.
    options.ca = (pooled as https.Agent).options.ca;
    options.rejectUnauthorized = true;
  }

  let responded = false;
  let reported = false;
  let connectTimer: NodeJS.Timeout | undefined;
  let responseTimer: NodeJS.Timeout | undefined;
  const clearTimers = () => {
    clearTimeout(connectTimer);
    clearTimeout(responseTimer);
  };
  const backendReq = transport.request(options);

  const armResponseTimer = () => {
    responseTimer = setTimeout(() => backendReq.destroy(Object.assign(new Error('response timeout'), { code: RESPONSE_TIMEOUT })), system.responseTimeoutMs);
  };
  backendReq.on('socket', (socket) => {
    const connected = () => {
      clearTimeout(connectTimer);
      connectMs = performance.now() - started;
      armResponseTimer();
    };
    if ((socket as net.Socket).connecting) {
      connectTimer = setTimeout(() => backendReq.destroy(Object.assign(new Error('connect timeout'), { code: CONNECT_TIMEOUT })), system.connectTimeoutMs);
      socket.once(system.protocol === 'https' ? 'secureConnect' : 'connect', connected);
    } else {
      connected();
    }
  });

  backendReq.on('error', (err: NodeJS.ErrnoException) => {
    clearTimers();
    if (responded) {
      if (!stream.closed) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      if (!reported) event(502, 'error', `back end failed mid-answer: ${err.message}`);
      reported = true;
      return;
    }
    if (stream.closed || stream.destroyed) return;
    const where = `${system.internalHost}:${system.internalPort}`;
    if (err.code === CONNECT_TIMEOUT) {
      return refuse(ErrorCode.BackendTimeout, `System ${sysName} timed out: its back end ${where} did not accept a connection within ${system.connectTimeoutMs} ms.`, 'error');
    }
    if (err.code === RESPONSE_TIMEOUT) {
      return refuse(ErrorCode.BackendTimeout, `System ${sysName} timed out: its back end ${where} did not answer within ${system.responseTimeoutMs} ms.`, 'error');
    }
    deps.logger.warn({ requestId, system: sysName, err: err.message }, 'back end unreachable');
    refuse(ErrorCode.BackendUnreachable, `System ${sysName} is unreachable: its back end ${where} failed (${describeBackendError(err)}).`, 'error');
  });

  const timing = () => `connect=${connectMs.toFixed(2)};response=${(performance.now() - started).toFixed(2)}`;

  backendReq.on('response', (res) => {
    clearTimers();
    responded = true;
    backendMs = round2(performance.now() - started - connectMs);
    if (stream.closed || stream.destroyed) {
      res.destroy();
      return;
    }
    const h2headers: http2.OutgoingHttpHeaders = { ':status': res.statusCode ?? 502 };
    const listed = new Set(
      String(res.headers.connection ?? '')
        .toLowerCase()
        .split(',')
        .map((s) => s.trim()),
    );
    for (const [name, value] of Object.entries(res.headers)) {
      if (value === undefined || HOP_BY_HOP_HEADERS.has(name) || listed.has(name) || name.startsWith(META_PREFIX)) continue;
      h2headers[name] = name === 'location' && typeof value === 'string' ? mapLocation(value, system) : value;
    }
    h2headers[MetaHeader.Timing] = timing();
    try {
      stream.respond(h2headers);
    } catch (err) {
      res.destroy();
      return refuse(ErrorCode.BackendUnreachable, `System ${sysName} answered with headers that cannot be relayed (${(err as Error).message}).`, 'error');
    }
    res.pipe(stream);
    res.on('data', (chunk: Buffer) => (bytesOut += chunk.length));
    res.on('error', () => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
    res.on('aborted', () => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
    // An HTTP/2 stream the peer has fully read can close without 'finish': whichever comes first reports the request, once.
    const done = () => {
      if (reported) return;
      reported = true;
      const whole = res.complete && (stream.rstCode === undefined || stream.rstCode === http2.constants.NGHTTP2_NO_ERROR);
      event(res.statusCode ?? 0, whole ? 'allowed' : 'error', whole ? undefined : 'the answer was cut off before it was complete');
    };
    stream.on('finish', done);
    stream.on('close', done);
  });

  backendReq.on('upgrade', (res, socket: Duplex, head: Buffer) => {
    clearTimers();
    responded = true;
    if (stream.closed || stream.destroyed) {
      socket.destroy();
      return;
    }
    const h2headers: http2.OutgoingHttpHeaders = { ':status': 200, [MetaHeader.Upgraded]: String(res.statusCode ?? 101) };
    for (const [name, value] of Object.entries(res.headers)) {
      if (value === undefined || HOP_BY_HOP_HEADERS.has(name) || name.startsWith(META_PREFIX)) continue;
      h2headers[name] = value;
    }
    stream.respond(h2headers);
    if (head.length > 0) stream.write(head);
    socket.pipe(stream);
    stream.pipe(socket);
    socket.on('data', (chunk: Buffer) => (bytesOut += chunk.length));
    stream.on('data', (chunk: Buffer) => (bytesIn += chunk.length));
    const teardown = () => {
      socket.destroy();
      if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
    };
    socket.on('error', teardown);
    stream.on('error', teardown);
    stream.on('close', () => {
      socket.destroy();
      event(101, 'allowed');
    });
  });

  // The cloud app went away (or the tunnel dropped): stop the back-end work too.
  stream.on('close', () => {
    clearTimers();
    if (!responded || !stream.writableFinished) backendReq.destroy();
  });
  stream.on('error', () => backendReq.destroy());
  if (upgrade) {
    // An upgrade request has no body: send it now. Bytes after the 101 flow over the upgraded socket,
    // never through backendReq (which would buffer them forever once the protocol switched).
    backendReq.end();
  } else {
    batchedPipe(stream, backendReq);
    // Counted beside the pipe, after it: a 'data' listener added earlier would start the flow before anyone reads.
    stream.on('data', (chunk: Buffer) => (bytesIn += chunk.length));
  }
}
