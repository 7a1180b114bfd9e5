import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { z } from 'zod';
import type { Logger } from '../common/logger.js';
import { ErrorCode, SkybridgeError } from '../shared/errors.js';
import type { RenewResponse } from '../shared/tunnel.js';
import { signConnectorCsr, type RelayCa } from './ca.js';
import type { Connector, RelayStore } from './store.js';

export interface RenewalDeps {
  store: RelayStore;
  ca: RelayCa;
  logger: Logger;
  validityDays?: number;
}

const renewRequestSchema = z.object({ csrPem: z.string().min(1).max(16_384) });

/** The connector behind a mutually authenticated request, or a refusal a person can act on. */
export function authenticatedConnector(req: IncomingMessage, store: RelayStore): Connector {
  const socket = req.socket as TLSSocket;
  const peer = socket.getPeerCertificate?.();
  if (!peer || Object.keys(peer).length === 0) {
    throw new SkybridgeError(ErrorCode.CertificateMissing, 'This call needs the connector certificate received at pairing.');
  }
  if (!socket.authorized) {
    if (String(socket.authorizationError) === 'CERT_HAS_EXPIRED') {
      throw new SkybridgeError(ErrorCode.CertificateExpired, `The connector's certificate expired on ${new Date(peer.valid_to).toISOString()}; it can no longer be renewed, so pair the connector again with a new pairing code.`);
    }
    throw new SkybridgeError(ErrorCode.CertificateInvalid, "The connector's certificate was not issued by this relay.");
  }
  const connector = store.findConnectorByFingerprint(peer.fingerprint256.replace(/:/g, '').toLowerCase());
  if (!connector) throw new SkybridgeError(ErrorCode.ConnectorUnknown, 'This relay has no record of the connector certificate presented; pair the connector again.');
  if (connector.revokedAt) throw new SkybridgeError(ErrorCode.ConnectorRevoked, `Connector ${connector.id} was revoked on ${connector.revokedAt}.`);
  return connector;
}

/**
 * `POST /v1/renew`: a connector with a valid certificate gets a new one for a
 * new key, bound to the same connector, tenant and location. Renewal needs the
 * current certificate (mTLS), so after expiry only pairing again helps.
 */
export async function renewCertificate(req: IncomingMessage, body: unknown, deps: RenewalDeps): Promise<RenewResponse> {
  const connector = authenticatedConnector(req, deps.store);
  const parsed = renewRequestSchema.safeParse(body);
  if (!parsed.success) throw new SkybridgeError(ErrorCode.BadRequest, 'The renewal request must be JSON {"csrPem": "..."}.');
  const signed = await signConnectorCsr(deps.ca, parsed.data.csrPem, {
    connectorId: connector.id,
    tenantId: connector.tenantId,
    location: connector.location,
    ...(deps.validityDays !== undefined ? { validityDays: deps.validityDays } : {}),
  });
  deps.store.addCertificate(connector.id, { fingerprint: signed.fingerprint, serial: signed.serial, notAfter: signed.notAfter });
  deps.store.recordEvent({ type: 'certificate-renewed', tenantId: connector.tenantId, connectorId: connector.id, message: `new certificate valid until ${signed.notAfter}` });
  deps.logger.info({ connectorId: connector.id, notAfter: signed.notAfter }, 'connector certificate renewed');
  return { certificatePem: signed.certPem, notAfter: signed.notAfter };
}
