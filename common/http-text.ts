import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { httpStatusFor, type ErrorCode } from '../shared/errors.js';
import { MetaHeader } from '../shared/tunnel.js';

const REASONS: Record<number, string> = {
  101: 'Switching Protocols',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  405: 'Method Not Allowed',
  407: 'Proxy Authentication Required',
  409: 'Conflict',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** A refusal as a cloud app sees it: status, `Skybridge-Error: CODE`, one sentence of text. */
export function sendRefusal(res: ServerResponse, code: ErrorCode, message: string, extraHeaders: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = message.endsWith('\n') ? message : `${message}\n`;
  res.writeHead(httpStatusFor[code] ?? 500, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    [MetaHeader.Error]: code,
    ...extraHeaders,
  });
  res.end(body);
}

/** The same on a raw socket, for parse errors and refused upgrades where no ServerResponse exists. */
export function writeRawRefusal(socket: Duplex, status: number, code: string, message: string, extraHeaders: Record<string, string> = {}): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = message.endsWith('\n') ? message : `${message}\n`;
  const headers = {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    Connection: 'close',
    'Skybridge-Error': code,
    ...extraHeaders,
  };
  const head = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.end(`HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\n${head}\r\n${body}`);
}
