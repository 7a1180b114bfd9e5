import http from 'node:http';
import http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import type { Logger } from '../common/logger.js';
import { sendRefusal, writeRawRefusal } from '../common/http-text.js';
import { batchedPipe } from '../common/batched-pipe.js';
import { ErrorCode, httpStatusFor } from '../shared/errors.js';
import { MetaHeader } from '../shared/tunnel.js';
import { admit, cloudResponseHeaders, tunnelRequestHeaders } from './cloud-request.js';
import { parseProxyTarget } from './proxy-target.js';
import type { RelayStore } from './store.js';
import type { TunnelRegistry } from './tunnel-registry.js';

export interface HttpProxyDeps {
  store: RelayStore;
  registry: TunnelRegistry;
  logger: Logger;
}

/** 64 KiB of request line and headers; more is refused with 400 (llhttp's overflow). */
export const MAX_HEADER_BYTES = 64 * 1024;

const PARSE_ERRORS: Record<string, string> = {
  HPE_INVALID_TRANSFER_ENCODING: 'The request carries both Content-Length and Transfer-Encoding, which is ambiguous; send one of them.',
  HPE_UNEXPECTED_CONTENT_LENGTH: 'The request carries Content-Length more than once or together with Transfer-Encoding, which is ambiguous; send it once.',
  HPE_INVALID_CONTENT_LENGTH: 'The Content-Length header is not a valid number.',
  HPE_HEADER_OVERFLOW: `The request line and headers exceed ${MAX_HEADER_BYTES / 1024} KB.`,
  HPE_INVALID_HEADER_TOKEN: 'A header name contains characters that are not allowed.',
  HPE_INVALID_METHOD: 'The request method is not valid.',
  HPE_INVALID_URL: 'The request target is not a valid URL.',
  HPE_INVALID_VERSION: 'Only HTTP/1.1 and HTTP/1.0 are accepted on this port.',
  HPE_INVALID_CHUNK_SIZE: 'The chunked request body is malformed.',
  HPE_CR_EXPECTED: 'The request is malformed (bare line feed where CRLF is required).',
  HPE_LF_EXPECTED: 'The request is malformed (line ending without LF).',
};

/**
 * The HTTP proxy cloud apps call: absolute-form requests, app token in
 * Proxy-Authorization, each one becomes an HTTP/2 stream down the tunnel of
 * the tenant's connector for the chosen location.
 */
export function createHttpProxy(deps: HttpProxyDeps): http.Server {
  const { logger } = deps;
  const server = http.createServer({
    maxHeaderSize: MAX_HEADER_BYTES,
    requestTimeout: 0,
    headersTimeout: 30_000,
    keepAliveTimeout: 65_000,
    // llhttp strict mode: ambiguous framing is a parse error (→ 400), never guessed.
    insecureHTTPParser: false,
  });

  server.on('request', (req, res) => {
    const arrived = performance.now();
    const target = parseProxyTarget(req.url ?? '');
    if (!target.ok) {
      req.resume();
      return sendRefusal(res, target.status === 405 ? ErrorCode.MethodNotAllowed : ErrorCode.BadRequest, target.reason);
    }
    const admission = admit(req, target, deps.store, deps.registry);
    if (!admission.ok) {
      req.resume();
      const extra: Record<string, string> = admission.code === ErrorCode.ProxyAuthRequired ? { 'proxy-authenticate': 'Bearer realm="skybridge"' } : {};
      logger.debug({ code: admission.code, host: target.host, port: target.port }, 'cloud request refused at the relay');
      return sendRefusal(res, admission.code, admission.message, extra);
    }
    const headers = tunnelRequestHeaders(req, target, admission.app);
    headers[MetaHeader.RelayMs] = (performance.now() - arrived).toFixed(2);
    const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
    let stream: http2.ClientHttp2Stream;
    try {
      stream = admission.tunnel.session.request(headers, { endStream: !hasBody });
    } catch (err) {
      req.resume();
      return sendRefusal(res, ErrorCode.TunnelError, `The tunnel to the connector failed while sending the request (${(err as Error).message}).`);
    }
    let answered = false;
    stream.on('response', (h) => {
      answered = true;
      const status = Number(h[':status'] ?? 502);
      res.writeHead(status, cloudResponseHeaders(h));
      batchedPipe(stream, res);
    });
    stream.on('error', (err) => {
      if (!answered) {
        sendRefusal(res, ErrorCode.TunnelError, `The tunnel to the connector broke before ${target.host}:${target.port} answered (${err.message}).`);
      } else {
        res.destroy(err);
      }
    });
    stream.on('close', () => {
      if (!answered && !res.headersSent) {
        sendRefusal(res, ErrorCode.TunnelError, `The connector closed the request to ${target.host}:${target.port} without an answer.`);
      } else if (stream.rstCode !== undefined && stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR && !res.writableFinished) {
        // The back end's answer was cut off: let the cloud app see a broken response, not a short one.
        res.destroy();
      }
    });
    res.on('close', () => {
      if (!res.writableFinished && !stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
    });
    if (hasBody) {
      req.pipe(stream);
      req.on('error', () => stream.close(http2.constants.NGHTTP2_CANCEL));
    }
  });

  server.on('upgrade', (req, socket, head) => handleCloudUpgrade(req, socket, head, deps));

  server.on('connect', (_req, socket) => {
    writeRawRefusal(socket, 405, ErrorCode.MethodNotAllowed, 'CONNECT is not offered on the HTTP proxy; use the SOCKS5 proxy for TCP systems.');
  });

  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return socket.destroy();
    const message = PARSE_ERRORS[err.code ?? ''] ?? 'The request is malformed and was refused.';
    logger.debug({ code: err.code }, 'malformed cloud request');
    writeRawRefusal(socket, 400, ErrorCode.BadRequest, message);
  });
  return server;
}

/** WebSocket (or other) upgrades: the stream turns into a byte pipe once the back end switched protocols. */
function handleCloudUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, deps: HttpProxyDeps): void {
  const target = parseProxyTarget(req.url ?? '');
  if (!target.ok) return writeRawRefusal(socket, target.status, target.status === 405 ? ErrorCode.MethodNotAllowed : ErrorCode.BadRequest, target.reason);
  const admission = admit(req, target, deps.store, deps.registry);
  if (!admission.ok) {
    const extra: Record<string, string> = admission.code === ErrorCode.ProxyAuthRequired ? { 'Proxy-Authenticate': 'Bearer realm="skybridge"' } : {};
    return writeRawRefusal(socket, httpStatusFor[admission.code] ?? 500, admission.code, admission.message, extra);
  }
  const headers = tunnelRequestHeaders(req, target, admission.app);
  headers[MetaHeader.Upgrade] = String(req.headers.upgrade ?? '');
  let stream: http2.ClientHttp2Stream;
  try {
    stream = admission.tunnel.session.request(headers, { endStream: false });
  } catch (err) {
    return writeRawRefusal(socket, 502, ErrorCode.TunnelError, `The tunnel to the connector failed (${(err as Error).message}).`);
  }
  stream.on('response', (h) => {
    const status = Number(h[':status'] ?? 502);
    const lines = Object.entries(cloudResponseHeaders(h)).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${k}: ${x}\r\n`));
    if (h[MetaHeader.Upgraded] !== undefined) {
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${String(req.headers.upgrade)}\r\n${lines.join('')}\r\n`);
      if (head.length > 0) stream.write(head);
      socket.pipe(stream);
      stream.pipe(socket);
    } else {
      socket.write(`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\nConnection: close\r\n${lines.join('')}\r\n`);
      stream.pipe(socket);
    }
  });
  const teardown = () => {
    if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
    socket.destroy();
  };
  stream.on('error', teardown);
  stream.on('close', () => socket.end());
  socket.on('error', teardown);
  socket.on('close', teardown);
}
