import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../common/logger.js';
import { ErrorCode, isSkybridgeError } from '../shared/errors.js';
import { AUDIT_HEAD_PATH, auditHeadSchema, type AuditHeadList } from '../shared/evidence.js';
import { parseConnectorIdentity } from './ca.js';
import type { Connector, RelayStore } from './store.js';

export interface AuditHeadDeps {
  store: RelayStore;
  logger: Logger;
}

const MAX_BODY = 4096;

export function isAuditHeadRequest(req: IncomingMessage): boolean {
  return (req.url ?? '').split('?')[0] === AUDIT_HEAD_PATH;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

function refuse(res: ServerResponse, status: number, code: ErrorCode, message: string): void {
  send(res, status, { error: { code, message } });
}

/** The connector behind the client certificate, checked the way the tunnel endpoint checks it; undefined after answering a refusal. */
function authenticate(req: IncomingMessage, res: ServerResponse, deps: AuditHeadDeps): Connector | undefined {
  const socket = req.socket as TLSSocket;
  const peer = socket.getPeerCertificate?.();
  if (!peer || Object.keys(peer).length === 0) {
    refuse(res, 401, ErrorCode.CertificateMissing, 'Only a paired connector, presenting its client certificate, may report or read audit heads.');
    return undefined;
  }
  if (!socket.authorized) {
    refuse(res, 401, ErrorCode.CertificateInvalid, `The connector certificate was not accepted (${String(socket.authorizationError ?? 'unknown')}).`);
    return undefined;
  }
  const connector = deps.store.findConnectorByFingerprint(peer.fingerprint256.replace(/:/g, '').toLowerCase());
  if (!connector) {
    refuse(res, 401, ErrorCode.ConnectorUnknown, 'This relay has no record of the connector certificate presented.');
    return undefined;
  }
  if (connector.revokedAt) {
    refuse(res, 403, ErrorCode.ConnectorRevoked, `Connector ${connector.id} was revoked on ${connector.revokedAt}.`);
    return undefined;
  }
  const identity = parseConnectorIdentity(peer.raw);
  if (identity && identity.connectorId !== connector.id) {
    refuse(res, 401, ErrorCode.CertificateInvalid, 'The connector certificate does not carry the identity it was registered for.');
    return undefined;
  }
  return connector;
}

async function readBody(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req as AsyncIterable<Buffer>) {
    text += chunk.toString('utf8');
    if (text.length > MAX_BODY) throw new Error('too large');
  }
  return text;
}

/**
 * `POST /v1/audit-head` (a connector reports its newest synced chain head) and
 * `GET /v1/audit-head?after=SEQ&limit=N` (it reads back what the relay kept),
 * on the relay's HTTPS port, authenticated by the connector's client
 * certificate (docs/audit.md).
 */
export async function handleAuditHead(req: IncomingMessage, res: ServerResponse, deps: AuditHeadDeps): Promise<void> {
  try {
    const connector = authenticate(req, res, deps);
    if (!connector) return;
    if (req.method === 'GET') {
      const url = new URL(req.url ?? '/', 'https://relay.invalid');
      const after = Number(url.searchParams.get('after') ?? 0);
      const limit = Number(url.searchParams.get('limit') ?? 1000);
      if (!Number.isInteger(after) || after < 0 || !Number.isInteger(limit) || limit < 1) {
        return refuse(res, 400, ErrorCode.BadRequest, 'after and limit must be whole numbers (after ≥ 0, limit ≥ 1).');
      }
      const capped = Math.min(limit, 5000);
      const heads = deps.store.listAuditHeads(connector.id, after, capped + 1);
      const body: AuditHeadList = { heads: heads.slice(0, capped), more: heads.length > capped };
      return send(res, 200, body);
    }
    if (req.method !== 'POST') return refuse(res, 405, ErrorCode.MethodNotAllowed, `Use POST or GET ${AUDIT_HEAD_PATH}.`);
    let parsed;
    try {
      parsed = auditHeadSchema.safeParse(JSON.parse(await readBody(req)));
    } catch {
      return refuse(res, 400, ErrorCode.BadRequest, 'The audit head must be a JSON body of a few hundred bytes.');
    }
    if (!parsed.success) return refuse(res, 400, ErrorCode.BadRequest, 'The audit head needs seq (a whole number ≥ 1), mac (64 hex digits) and time.');
    const result = deps.store.recordAuditHead(connector.id, parsed.data);
    if (result.stored) deps.logger.debug({ connectorId: connector.id, seq: parsed.data.seq }, 'audit head recorded');
    return send(res, 200, { stored: result.stored });
  } catch (err) {
    if (isSkybridgeError(err) && err.code === ErrorCode.Conflict) {
      deps.logger.error({ code: err.code, remote: req.socket.remoteAddress }, `audit head refused: ${err.message}`);
      return refuse(res, 409, err.code, err.message);
    }
    deps.logger.error({ err: (err as Error).message }, 'audit head endpoint failure');
    if (!res.headersSent) refuse(res, 500, ErrorCode.TunnelError, 'The relay failed to handle this request; see its log.');
  }
}
