import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../common/logger.js';
import { isSkybridgeError, ErrorCode } from '../shared/errors.js';
import { CA_PATH, HEALTH_PATH, PAIR_PATH, RENEW_PATH, type ApiErrorBody } from '../shared/tunnel.js';
import { renewCertificate, type RenewalDeps } from './renewal.js';
import { pairingHttpStatus, type PairingService } from './pairing-service.js';
import type { TunnelRegistry } from './tunnel-registry.js';

export interface ControlApiDeps {
  pairing: PairingService;
  registry: TunnelRegistry;
  trustAnchorPem: string;
  renewal: RenewalDeps;
  logger: Logger;
  version: string;
}

/** Certificate problems are 401 (403 when revoked); pairing problems as the pairing service says. */
function apiStatusFor(code: ErrorCode): number {
  if (code === ErrorCode.CertificateMissing || code === ErrorCode.CertificateExpired || code === ErrorCode.CertificateInvalid || code === ErrorCode.ConnectorUnknown) return 401;
  if (code === ErrorCode.ConnectorRevoked) return 403;
  return pairingHttpStatus(code);
}

const MAX_BODY = 64 * 1024;

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  const body: ApiErrorBody = { error: { code, message } };
  sendJson(res, status, body);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new Error('too large');
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

/** The relay's HTTPS control API: health, the TLS trust anchor (for pinning), pairing. */
export function createControlApi(deps: ControlApiDeps) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (path === HEALTH_PATH && req.method === 'GET') {
        return sendJson(res, 200, { status: 'ok', version: deps.version, connectors: deps.registry.all().length });
      }
      if (path === CA_PATH && req.method === 'GET') {
        return sendJson(res, 200, { caPem: deps.trustAnchorPem });
      }
      if (path === PAIR_PATH) {
        if (req.method !== 'POST') return sendError(res, 405, ErrorCode.MethodNotAllowed, `Use POST ${PAIR_PATH}.`);
        let body: unknown;
        try {
          body = await readJson(req);
        } catch {
          return sendError(res, 400, ErrorCode.BadRequest, 'The pairing request must be a JSON body under 64 KB.');
        }
        const remote = req.socket.remoteAddress ?? 'unknown';
        const answer = await deps.pairing.pair(body, remote);
        deps.logger.info({ connectorId: answer.connectorId, tenantId: answer.tenantId, location: answer.location, remote }, 'connector paired');
        return sendJson(res, 200, answer);
      }
      if (path === RENEW_PATH) {
        if (req.method !== 'POST') return sendError(res, 405, ErrorCode.MethodNotAllowed, `Use POST ${RENEW_PATH}.`);
        let body: unknown;
        try {
          body = await readJson(req);
        } catch {
          return sendError(res, 400, ErrorCode.BadRequest, 'The renewal request must be a JSON body under 64 KB.');
        }
        return sendJson(res, 200, await renewCertificate(req, body, deps.renewal));
      }
      return sendError(res, 404, ErrorCode.NotFound, `Nothing is served at ${path}.`);
    } catch (err) {
      if (isSkybridgeError(err)) {
        deps.logger.warn({ code: err.code, remote: req.socket.remoteAddress }, `control API refused: ${err.message}`);
        return sendError(res, apiStatusFor(err.code), err.code, err.message);
      }
      deps.logger.error({ err: (err as Error).message }, 'control API failure');
      return sendError(res, 500, 'INTERNAL', 'The relay failed to handle this request; see its log.');
    }
  };
}
