import http2 from 'node:http2';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Logger } from '../common/logger.js';
import { writeRawRefusal } from '../common/http-text.js';
import { startHeartbeat } from '../common/heartbeat.js';
import { ErrorCode } from '../shared/errors.js';
import { SESSION_WINDOW_BYTES, STREAM_WINDOW_BYTES, TUNNEL_PATH, TUNNEL_UPGRADE_TOKEN } from '../shared/tunnel.js';
import type { RelayStore } from './store.js';
import { parseConnectorIdentity } from './ca.js';
import type { LiveTunnel, TunnelRegistry } from './tunnel-registry.js';

export interface TunnelEndpointDeps {
  store: RelayStore;
  registry: TunnelRegistry;
  logger: Logger;
  heartbeatIntervalMs?: number;
  heartbeatTimeoutMs?: number;
}

/** `AB:CD:…` (Node's format) to the lowercase hex the store keeps. */
const hexFingerprint = (fp: string) => fp.replace(/:/g, '').toLowerCase();

/**
 * Accepts a connector's tunnel: checks its client certificate against the CA
 * and the store, answers `101`, then drives HTTP/2 as the *client* over the
 * same TLS socket (the connector is the server, as cloudflared does it).
 */
export function handleTunnelUpgrade(req: IncomingMessage, rawSocket: Duplex, head: Buffer, deps: TunnelEndpointDeps): void {
  const socket = rawSocket as TLSSocket;
  const { store, registry, logger } = deps;
  const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
  const refuse = (status: number, code: ErrorCode, message: string) => {
    logger.warn({ remote, code }, `tunnel refused: ${message}`);
    writeRawRefusal(socket, status, code, message);
  };

  const path = (req.url ?? '').split('?')[0];
  if (path !== TUNNEL_PATH || (req.headers.upgrade ?? '').toLowerCase() !== TUNNEL_UPGRADE_TOKEN) {
    return refuse(400, ErrorCode.BadRequest, `This port only upgrades ${TUNNEL_PATH} to ${TUNNEL_UPGRADE_TOKEN}.`);
  }
  const peer = socket.getPeerCertificate?.();
  if (!peer || Object.keys(peer).length === 0) {
    return refuse(401, ErrorCode.CertificateMissing, 'A connector must present the client certificate it received at pairing; pair it with a pairing code first.');
  }
  if (!socket.authorized) {
    const why = String(socket.authorizationError ?? 'unknown');
    if (why === 'CERT_HAS_EXPIRED') {
      return refuse(401, ErrorCode.CertificateExpired, `The connector's certificate expired on ${new Date(peer.valid_to).toISOString()}; pair the connector again with a new pairing code.`);
    }
    return refuse(401, ErrorCode.CertificateInvalid, `The connector's certificate was not issued by this relay (${why}); pair the connector with a pairing code from this relay.`);
  }
  const connector = store.findConnectorByFingerprint(hexFingerprint(peer.fingerprint256));
  if (!connector) {
    return refuse(401, ErrorCode.ConnectorUnknown, 'This relay has no record of the connector certificate presented; pair the connector again.');
  }
  if (connector.revokedAt) {
    return refuse(403, ErrorCode.ConnectorRevoked, `Connector ${connector.id} was revoked on ${connector.revokedAt}; pair it again with a new pairing code if that was a mistake.`);
  }
  // Defence in depth: the certificate's own tenant and location must be the ones the store has for it.
  const identity = parseConnectorIdentity(peer.raw);
  if (!identity || identity.connectorId !== connector.id || identity.tenantId !== connector.tenantId || identity.location !== connector.location) {
    return refuse(401, ErrorCode.CertificateInvalid, 'The connector certificate does not carry the tenant and location it was registered for; pair the connector again.');
  }
  const current = registry.get(connector.tenantId, connector.location);
  if (current && current.connectorId !== connector.id) {
    const message = `Connector ${current.connectorId} is already online for this subaccount and location "${connector.location}"; give this connector a different location ID.`;
    store.recordEvent({ type: 'location-taken', tenantId: connector.tenantId, connectorId: connector.id, message });
    return refuse(409, ErrorCode.LocationTaken, message);
  }

  const agentVersion = String(req.headers['skybridge-agent-version'] ?? 'unknown').slice(0, 64);
  socket.setNoDelay(true);
  socket.setKeepAlive(true, 30_000);
  // Hand the socket to HTTP/2 only once the 101 has been flushed: earlier, Node 20 aborts on a native assertion.
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${TUNNEL_UPGRADE_TOKEN}\r\n\r\n`, () => {
    if (head.length > 0) socket.unshift(head);
    const session = http2.connect('http://connector.skybridge', {
      createConnection: () => socket,
      settings: { initialWindowSize: STREAM_WINDOW_BYTES, enablePush: false },
      maxSessionMemory: 256,
      peerMaxConcurrentStreams: 4096,
    });
    const tunnel: LiveTunnel = {
      connectorId: connector.id,
      tenantId: connector.tenantId,
      location: connector.location,
      session,
      connectedAt: new Date(),
      remoteAddress: remote,
      agentVersion,
    };
    const result = registry.register(tunnel);
    if (!result.ok) {
      session.destroy();
      return;
    }
    if (result.replaced) {
      logger.info({ connectorId: connector.id }, 'connector reconnected; closing its previous tunnel');
      result.replaced.session.destroy();
    }
    session.on('connect', () => session.setLocalWindowSize(SESSION_WINDOW_BYTES));
    session.on('error', (err) => logger.warn({ connectorId: connector.id, err: err.message }, 'tunnel session error'));
    const stopHeartbeat = startHeartbeat(session, socket, {
      intervalMs: deps.heartbeatIntervalMs ?? 15_000,
      timeoutMs: deps.heartbeatTimeoutMs ?? 45_000,
      onDead: (reason) => {
        logger.warn({ connectorId: connector.id, reason }, 'tunnel declared dead');
        session.destroy();
      },
    });
    session.on('close', () => {
      stopHeartbeat();
      registry.remove(tunnel);
      try {
        if (registry.byConnector(connector.id).length === 0) store.setConnectorOnline(connector.id, undefined);
      } catch {
        // The store may already be closed during shutdown.
      }
      logger.info({ connectorId: connector.id, tenantId: connector.tenantId, location: connector.location }, 'connector disconnected');
    });
    store.touchConnector(connector.id, new Date().toISOString(), agentVersion);
    store.setConnectorOnline(connector.id, tunnel.connectedAt.toISOString());
    logger.info({ connectorId: connector.id, tenantId: connector.tenantId, location: connector.location, remote, agentVersion }, 'connector connected');
  });
}
