import { randomUUID } from 'node:crypto';
import http2 from 'node:http2';
import net from 'node:net';
import type { Logger } from '../common/logger.js';
import { streamToSocket } from '../common/stream-to-socket.js';
import { ErrorCode } from '../shared/errors.js';
import { MetaHeader } from '../shared/tunnel.js';
import {
  AddressType,
  authReply,
  Command,
  Method,
  methodSelection,
  parseGreeting,
  parseRequest,
  parseUserPass,
  Reply,
  REPLY_TEXT,
  reply,
  type ConnectRequest,
  type ReplyCode,
} from './socks5-protocol.js';
import type { App, RelayStore } from './store.js';
import type { TunnelRegistry } from './tunnel-registry.js';

export interface SocksDeps {
  store: RelayStore;
  registry: TunnelRegistry;
  logger: Logger;
  /** Greeting, authentication and request must all arrive within this time (default 10 s). */
  negotiationTimeoutMs?: number;
}

export interface SocksServer extends net.Server {
  /** Ends every client connection (the relay is shutting down). */
  closeAllConnections(): void;
}

/** What the connector's refusal codes mean to a SOCKS5 client. */
export const SOCKS_REPLY_FOR: Partial<Record<ErrorCode, ReplyCode>> = {
  [ErrorCode.AccessDenied]: Reply.NotAllowed,
  [ErrorCode.BadRequest]: Reply.NotAllowed,
  [ErrorCode.NoConnector]: Reply.NetworkUnreachable,
  [ErrorCode.BackendUnreachable]: Reply.HostUnreachable,
  [ErrorCode.BackendTimeout]: Reply.HostUnreachable,
  [ErrorCode.BackendRefused]: Reply.ConnectionRefused,
  [ErrorCode.ConnectionLimit]: Reply.GeneralFailure,
};

const LOCATION_MAX = 100;
/** Host names a mapping could ever use (no underscores, see shared/config.ts); anything else cannot be mapped. */
const DOMAIN = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
/** Longest possible greeting + authentication + request; more unparsed bytes than this is not SOCKS5. */
const MAX_NEGOTIATION_BYTES = 257 + 513 + 262;

/** Caller-supplied text for a log line: printable, bounded. */
const printable = (t: string, max = 120) => {
  const clean = t.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
};

/**
 * Splits `app` or `app;location` by the name of the app the token belongs to,
 * so an app whose own name contains ";" still works. Undefined when the name
 * does not match that app.
 */
export function locationFromUsername(username: string, appName: string): string | undefined {
  if (username === appName) return '';
  if (username.startsWith(`${appName};`)) return username.slice(appName.length + 1);
  return undefined;
}

/**
 * The SOCKS5 proxy cloud apps use for TCP systems. The relay authenticates the
 * app (RFC 1929: app name[;location] and app token), never resolves the
 * requested name, and turns each CONNECT into an HTTP/2 CONNECT stream to the
 * connector of the app's tenant and location, which decides and connects. The
 * SOCKS reply is sent only once the connector has answered, so a refusal
 * reaches the client as the matching reply code.
 */
export function createSocksServer(deps: SocksDeps): SocksServer {
  const clients = new Set<net.Socket>();
  // allowHalfOpen: a client that has sent everything (FIN) must still receive the answer.
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    clients.add(socket);
    socket.on('close', () => clients.delete(socket));
    serveClient(socket, deps);
  }) as SocksServer;
  server.closeAllConnections = () => {
    for (const s of clients) s.destroy();
  };
  return server;
}

type Phase = 'greeting' | 'auth' | 'request';

function serveClient(socket: net.Socket, deps: SocksDeps): void {
  const { logger } = deps;
  const peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
  let phase: Phase = 'greeting';
  let buf: Buffer = Buffer.alloc(0);
  let app: App | undefined;
  let location = '';

  const timer = setTimeout(() => {
    logger.info({ peer, phase }, 'SOCKS5 client refused: negotiation timed out');
    socket.destroy();
  }, deps.negotiationTimeoutMs ?? 10_000);
  socket.on('error', () => undefined);
  socket.on('close', () => clearTimeout(timer));

  /** Sends a last message, then lets the client read it before the connection goes. */
  const finish = (last: Buffer) => {
    clearTimeout(timer);
    socket.removeListener('data', onData);
    socket.resume(); // drain whatever else the client sends, so closing never resets the reply away
    socket.end(last);
    socket.once('end', () => socket.destroy());
    setTimeout(() => socket.destroy(), 5000).unref();
  };
  const malformed = (reason: string) => {
    logger.info({ peer, phase, reason }, 'SOCKS5 client refused: malformed message');
    clearTimeout(timer);
    socket.destroy();
  };

  const onData = (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    for (;;) {
      if (phase === 'greeting') {
        const g = parseGreeting(buf);
        if (g.status === 'more') break;
        if (g.status === 'bad') return malformed(g.reason);
        buf = buf.subarray(g.consumed);
        if (!g.value.methods.includes(Method.UserPass)) {
          logger.info({ peer, offered: g.value.methods }, 'SOCKS5 client refused: it did not offer username/password authentication');
          return finish(methodSelection(Method.NoAcceptable));
        }
        socket.write(methodSelection(Method.UserPass));
        phase = 'auth';
      } else if (phase === 'auth') {
        const a = parseUserPass(buf);
        if (a.status === 'more') break;
        if (a.status === 'bad') {
          logger.info({ peer, reason: a.reason }, 'SOCKS5 authentication failed');
          return finish(authReply(false));
        }
        buf = buf.subarray(a.consumed);
        const found = deps.store.findAppByToken(a.value.password);
        const loc = found ? locationFromUsername(a.value.username, found.name) : undefined;
        if (!found || loc === undefined || loc.length > LOCATION_MAX) {
          const reason = !found ? 'the password is not a valid app token' : loc === undefined ? `the username does not name the token's app` : 'the location ID is too long';
          logger.info({ peer, username: printable(a.value.username), reason, ...(found ? { app: found.name, tenant: found.tenantName } : {}) }, 'SOCKS5 authentication failed');
          return finish(authReply(false));
        }
        app = found;
        location = loc;
        socket.write(authReply(true));
        phase = 'request';
      } else {
        const r = parseRequest(buf);
        if (r.status === 'more') break;
        if (r.status === 'bad') return malformed(r.reason);
        if (r.status === 'unsupported-address') {
          logger.info({ peer, app: app!.name, addressType: r.addressType }, 'SOCKS5 request refused: unknown address type');
          return finish(reply(Reply.AddressTypeNotSupported));
        }
        buf = buf.subarray(r.consumed);
        clearTimeout(timer);
        socket.removeListener('data', onData);
        socket.pause();
        return connect(socket, r.value, buf, app!, location, deps, finish);
      }
    }
    if (buf.length > MAX_NEGOTIATION_BYTES) malformed('too many bytes before the request');
  };
  socket.on('data', onData);
}

function connect(
  socket: net.Socket,
  req: ConnectRequest,
  early: Buffer,
  app: App,
  location: string,
  deps: SocksDeps,
  finish: (last: Buffer) => void,
): void {
  const { logger } = deps;
  const target = req.addressType === AddressType.IPv6 ? `[${req.host}]:${req.port}` : `${printable(req.host)}:${req.port}`;
  const who = { app: app.name, tenant: app.tenantName, location, target };
  const refuse = (code: ReplyCode, reason: string) => {
    logger.info({ ...who, reply: code, reason }, `SOCKS5 request refused: ${REPLY_TEXT[code]}`);
    finish(reply(code));
  };

  if (req.command !== Command.Connect) {
    return refuse(Reply.CommandNotSupported, `command 0x${req.command.toString(16).padStart(2, '0')} is not offered, only CONNECT`);
  }
  if (req.addressType === AddressType.Domain && !DOMAIN.test(req.host)) return refuse(Reply.NotAllowed, 'the name is not a host name any system can be mapped to');
  if (req.port === 0) return refuse(Reply.NotAllowed, 'port 0 cannot be mapped');
  const tunnel = deps.registry.get(app.tenantId, location);
  if (!tunnel) {
    const where = location === '' ? 'the default (empty) location' : `location "${location}"`;
    return refuse(Reply.NetworkUnreachable, `no connector is online for subaccount ${app.tenantName} and ${where}`);
  }

  const host = req.addressType === AddressType.Domain ? req.host.replace(/\.$/, '').toLowerCase() : req.host;
  let stream: http2.ClientHttp2Stream;
  try {
    stream = tunnel.session.request(
      {
        ':method': 'CONNECT',
        ':authority': req.addressType === AddressType.IPv6 ? `[${host}]:${req.port}` : `${host}:${req.port}`,
        [MetaHeader.RequestId]: randomUUID(),
        [MetaHeader.AppId]: app.id,
        [MetaHeader.AppName]: app.name,
      },
      { endStream: false },
    );
  } catch (err) {
    return refuse(Reply.GeneralFailure, `the tunnel to the connector failed (${(err as Error).message})`);
  }

  let answered = false;
  let refusal: { code: ReplyCode; reason: string } | undefined;
  let refused = false;
  let text = '';
  /** The connector's refusal, once its one-line reason has arrived (or the stream ended without it). */
  const refuseOnce = () => {
    if (!refusal || refused || socket.destroyed) return;
    refused = true;
    refuse(refusal.code, `${refusal.reason}: ${printable(text.trim(), 500)}`);
  };
  stream.on('response', (headers) => {
    answered = true;
    const status = Number(headers[':status']);
    if (status !== 200) {
      const code = String(headers[MetaHeader.Error] ?? '') as ErrorCode;
      refusal = { code: SOCKS_REPLY_FOR[code] ?? Reply.GeneralFailure, reason: code || `status ${status}` };
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => (text.length < 1000 ? (text += d) : undefined));
      stream.on('end', refuseOnce);
      return;
    }
    socket.write(reply(Reply.Succeeded));
    if (early.length > 0) stream.write(early);
    // pipe() carries backpressure both ways; the client's FIN becomes END_STREAM, so half-close works that way.
    socket.pipe(stream);
    streamToSocket(stream, socket);
    // The other way an END_STREAM becomes a FIN, but a reset stream (back end broke, idle timeout, tunnel gone)
    // also ends the readable side first, and must reach the client as a reset, not as a clean end.
    stream.on('end', () => (isReset(stream) ? abort(socket) : socket.end()));
  });
  stream.on('error', () => undefined);
  stream.on('close', () => {
    if (socket.destroyed) return;
    if (!answered) return refuse(Reply.GeneralFailure, `the tunnel to the connector closed before it answered (code ${stream.rstCode})`);
    if (refusal) return refuseOnce();
    if (isReset(stream)) abort(socket);
  });
  socket.on('close', () => {
    if (socket.errored) resetStream(stream);
    else if (!stream.closed) stream.close(http2.constants.NGHTTP2_NO_ERROR);
  });
  socket.on('error', () => resetStream(stream));
}

/**
 * Aborts the stream with RST_STREAM alone: stream.close(code) would first end the writable side
 * (END_STREAM), which the connector would pass on to the back end as a clean FIN.
 */
function resetStream(stream: http2.Http2Stream): void {
  if (!stream.destroyed) stream.destroy(new Error('SOCKS5 client connection aborted'));
}

function isReset(stream: http2.Http2Stream): boolean {
  return stream.rstCode !== undefined && stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR;
}

/** Closes with a TCP RST, so the client sees a broken connection (ECONNRESET) rather than an orderly end. */
function abort(socket: net.Socket): void {
  if (socket.destroyed) return;
  socket.resetAndDestroy();
}
