import https from 'node:https';
import type http from 'node:http';
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo, Server as NetServer } from 'node:net';
import { createLogger, type Logger } from '../common/logger.js';
import { VERSION } from '../common/version.js';
import { ensureRelayCa, ensureServerCertificate, certFingerprint } from './ca.js';
import { createControlApi } from './control-api.js';
import { createHttpProxy } from './http-proxy.js';
import { createSocksServer } from './socks5.js';
import { PairingService } from './pairing-service.js';
import { RelayStore } from './store.js';
import { handleTunnelUpgrade } from './tunnel-endpoint.js';
import { handleAuditHead, isAuditHeadRequest } from './audit-head-endpoint.js';
import { startRelayMetrics } from './metrics.js';
import { TunnelRegistry } from './tunnel-registry.js';

export interface RelayOptions {
  dataDir: string;
  host?: string;
  port?: number;
  proxyPort?: number;
  /** SOCKS5 proxy port for cloud apps (TCP systems); default 20004. */
  socksPort?: number;
  /** URL connectors use to reach this relay (put in pairing codes); default https://HOST:PORT. */
  publicUrl?: string;
  /** Operator-supplied TLS certificate chain and key instead of the generated one. */
  certFile?: string;
  keyFile?: string;
  /** CA that issued certFile, pinned by connectors; default: the last certificate of the chain in certFile. */
  certCaFile?: string;
  certValidityDays?: number;
  /** Serve Prometheus metrics on this port (loopback unless metricsHost says otherwise); off when undefined. */
  metricsPort?: number;
  metricsHost?: string;
  logger?: Logger;
}

export interface RelayServer {
  readonly url: string;
  readonly port: number;
  readonly proxyPort: number;
  readonly socksPort: number;
  readonly registry: TunnelRegistry;
  readonly store: RelayStore;
  /** Where metrics are served, when they are. */
  readonly metricsUrl?: string;
  close(): Promise<void>;
}

export const SETTING_PUBLIC_URL = 'public_url';
export const SETTING_TRUST_ANCHOR_FP = 'trust_anchor_fingerprint';

/**
 * `relay connector revoke` runs in another process and writes the database;
 * the running relay polls it and drops a revoked connector's tunnel within a
 * poll interval. A query on a small table twice a second costs nothing.
 */
function watchRevocations(store: RelayStore, registry: TunnelRegistry, logger: Logger, intervalMs = 500): () => void {
  const timer = setInterval(() => {
    let revoked: Set<string>;
    try {
      revoked = new Set(store.revokedConnectorIds());
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'could not read revocations');
      return;
    }
    for (const t of registry.all()) {
      if (!revoked.has(t.connectorId)) continue;
      logger.warn({ connectorId: t.connectorId }, 'connector revoked: dropping its tunnel');
      store.recordEvent({ type: 'tunnel-dropped', tenantId: t.tenantId, connectorId: t.connectorId, message: 'connector revoked; tunnel dropped' });
      t.session.destroy();
      registry.remove(t);
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

function splitPemChain(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/** Starts the relay: HTTPS (tunnel + pairing) on one port, the cloud apps' HTTP proxy and SOCKS5 proxy on two others. */
export async function startRelay(opts: RelayOptions): Promise<RelayServer> {
  const logger = opts.logger ?? createLogger('relay');
  const host = opts.host ?? '127.0.0.1';
  const store = RelayStore.open(opts.dataDir);
  const ca = await ensureRelayCa(opts.dataDir);

  let certPem: string;
  let keyPem: string;
  let trustAnchorPem: string;
  if (opts.certFile || opts.keyFile) {
    if (!opts.certFile || !opts.keyFile) throw new Error('--cert and --key go together.');
    certPem = readFileSync(opts.certFile, 'utf8');
    keyPem = readFileSync(opts.keyFile, 'utf8');
    const chain = splitPemChain(certPem);
    trustAnchorPem = opts.certCaFile ? readFileSync(opts.certCaFile, 'utf8') : (chain[chain.length - 1] ?? certPem);
    new X509Certificate(trustAnchorPem); // fail early on a broken file
  } else {
    const names = new Set([host, 'localhost', '127.0.0.1', '::1']);
    if (opts.publicUrl) names.add(new URL(opts.publicUrl).hostname.replace(/^\[|\]$/g, ''));
    if (host === '0.0.0.0' || host === '::') names.delete(host);
    const server = await ensureServerCertificate(opts.dataDir, ca, [...names]);
    certPem = server.certPem;
    keyPem = server.keyPem;
    trustAnchorPem = ca.certPem;
  }

  const registry = new TunnelRegistry();
  const pairing = new PairingService(store, ca, { certValidityDays: opts.certValidityDays, trustAnchorFingerprint: certFingerprint(trustAnchorPem) });
  const renewal = { store, ca, logger, ...(opts.certValidityDays !== undefined ? { validityDays: opts.certValidityDays } : {}) };
  const controlApi = createControlApi({ pairing, registry, trustAnchorPem, renewal, logger, version: VERSION });
  store.clearPresence();
  const stopRevocationWatch = watchRevocations(store, registry, logger);

  const tlsServer = https.createServer({
    key: keyPem,
    cert: certPem,
    // Client certificates are requested but checked per route: pairing happens before a connector has one.
    ca: [ca.certPem],
    requestCert: true,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
  });
  tlsServer.on('request', (req, res) => void (isAuditHeadRequest(req) ? handleAuditHead(req, res, { store, logger }) : controlApi(req, res)));
  tlsServer.on('upgrade', (req, socket, head) => handleTunnelUpgrade(req, socket, head, { store, registry, logger }));
  tlsServer.on('tlsClientError', (err) => logger.debug({ err: err.message }, 'TLS handshake failed'));

  const proxy = createHttpProxy({ store, registry, logger });
  const socks = createSocksServer({ store, registry, logger });

  const listen = async (server: http.Server | https.Server | NetServer, port: number) => {
    server.listen(port, host);
    await once(server, 'listening');
    return (server.address() as AddressInfo).port;
  };
  const port = await listen(tlsServer, opts.port ?? 8443);
  const proxyPort = await listen(proxy, opts.proxyPort ?? 20003);
  const socksPort = await listen(socks, opts.socksPort ?? 20004);
  const hostForUrl = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const url = opts.publicUrl ?? `https://${hostForUrl}:${port}`;
  store.setSetting(SETTING_PUBLIC_URL, url);
  store.setSetting(SETTING_TRUST_ANCHOR_FP, certFingerprint(trustAnchorPem));
  logger.info({ url, proxy: `http://${hostForUrl}:${proxyPort}`, socks5: `${hostForUrl}:${socksPort}`, version: VERSION }, 'relay listening');
  const metrics =
    opts.metricsPort === undefined
      ? undefined
      : await startRelayMetrics({ registry, store, proxy, tlsServer, serverCertPem: certPem, caCertPem: ca.certPem, logger, port: opts.metricsPort, host: opts.metricsHost });

  let closed = false;
  return {
    url,
    port,
    proxyPort,
    socksPort,
    registry,
    store,
    metricsUrl: metrics?.url,
    async close() {
      if (closed) return;
      closed = true;
      stopRevocationWatch();
      for (const t of registry.all()) t.session.destroy();
      tlsServer.closeAllConnections?.();
      proxy.closeAllConnections();
      socks.closeAllConnections();
      await Promise.all([new Promise((r) => tlsServer.close(r)), new Promise((r) => proxy.close(r)), new Promise((r) => socks.close(r))]);
      await metrics?.close();
      store.close();
    },
  };
}
