import type http from 'node:http';
import { ErrorCode, httpStatusFor, isSkybridgeError } from '../../../shared/errors.js';
import type { WebError } from '../../../shared/web-api.js';

/** Headers every answer carries, static file or API. */
export const BASE_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), usb=(), payment=()',
};

/** Statuses for the codes the data plane does not use; httpStatusFor's own entries come first. */
const WEB_STATUS: Partial<Record<string, number>> = {
  [ErrorCode.InvalidInput]: 400,
  [ErrorCode.ConfigInvalid]: 400,
  [ErrorCode.PairingCodeMalformed]: 400,
  [ErrorCode.PairingCodeUnknown]: 400,
  [ErrorCode.PairingCodeUsed]: 400,
  [ErrorCode.PairingCodeExpired]: 400,
  [ErrorCode.PairingCaMismatch]: 400,
  [ErrorCode.CertificateInvalid]: 400,
  [ErrorCode.CertificateExpired]: 400,
  [ErrorCode.CertificateMissing]: 404,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.Conflict]: 409,
  [ErrorCode.LocationTaken]: 409,
  [ErrorCode.AuditTampered]: 409,
  [ErrorCode.PairingRateLimited]: 429,
  [ErrorCode.ConnectorUnknown]: 502,
  [ErrorCode.ConnectorRevoked]: 502,
  [ErrorCode.AgentNotRunning]: 503,
  [ErrorCode.AgentTimeout]: 504,
};

export function statusForCode(code: string): number {
  return httpStatusFor[code as ErrorCode] ?? WEB_STATUS[code] ?? 500;
}

/** An error with the HTTP status already decided (refusals of the web layer itself). */
export class WebRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...BASE_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** Status and body for anything thrown while answering an API request; unknown errors say only where to look. */
export function errorReply(err: unknown): { status: number; body: WebError; headers: Record<string, string>; internal: boolean } {
  if (err instanceof WebRefusal) return { status: err.status, body: { error: { code: err.code, message: err.message } }, headers: err.headers, internal: false };
  if (isSkybridgeError(err)) return { status: statusForCode(err.code), body: { error: { code: err.code, message: err.message } }, headers: {}, internal: false };
  return { status: 500, body: { error: { code: ErrorCode.Internal, message: 'The connector failed to answer this request; the agent log has the details.' } }, headers: {}, internal: true };
}

/** Reads a JSON body of at most `limit` bytes; refuses other content types, oversized bodies and bad JSON. */
export async function readJson(req: http.IncomingMessage, limit: number): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new WebRefusal(415, ErrorCode.BadRequest, 'Send the request body as JSON (Content-Type: application/json).');
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) throw new WebRefusal(413, ErrorCode.BadRequest, `The request body is larger than ${limit} bytes.`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new WebRefusal(413, ErrorCode.BadRequest, `The request body is larger than ${limit} bytes.`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new WebRefusal(400, ErrorCode.BadRequest, 'The request body is not valid JSON.');
  }
}

/** The client's address for throttling and the audit log (IPv4-mapped IPv6 shown as IPv4). */
export function clientAddress(req: http.IncomingMessage): string {
  const a = req.socket.remoteAddress ?? 'unknown';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}
