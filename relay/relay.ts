import https from 'node:https';
import type http from 'node:http';
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createLogger, type Logger } from '../common/logger.js';
import { VERSION } from '../common/version.js';
import { ensureRelayCa, ensureServerCertificate, certFingerprint } from './ca.js';
import { createControlApi } from './control-api.js';
import { createHttpProxy } from './http-proxy.js';
import { PairingService } from './pairing-service.js';
import { RelayStore } from './store.js';
import { handleTunnelUpgrade } from './tunnel-endpoint.js';
import { TunnelRegistry } from './tunnel-registry.js';

export interface RelayOptions {
  dataDir: string;
  host?: string;
  port?: number;
  proxyPort?: number;
  /** URL connectors use to reach this relay (put in pairing codes); default https://HOST:PORT. */
  publicUrl?: string;
  /** Operator-supplied TLS certificate chain and key instead of the generated one. */
  certFile?: string;
  keyFile?: string;
  /** CA that issued certFile, pinned by connectors; default: the last certificate of the chain in certFile. */
  certCaFile?: string;
  certValidityDays?: number;
  logger?: Logger;
}

export interface RelayServer {
  readonly url: string;
  readonly port: number;
  readonly proxyPort: number;
  readonly registry: TunnelRegistry;
  readonly store: RelayStore;
  close(): Promise<void>;
}

export const SETTING_PUBLIC_URL = 'public_url';
export const SETTING_TRUST_ANCHOR_FP = 'trust_anchor_fingerprint';

function splitPemChain(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/** Starts the relay: HTTPS (tunnel + pairing) on one port, the cloud apps' HTTP proxy on another. */
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
  const controlApi = createControlApi({ pairing, registry, trustAnchorPem, logger, version: VERSION });

  const tlsServer = https.createServer({
    key: keyPem,
    cert: certPem,
    // Client certificates are requested but checked per route: pairing happens before a connector has one.
    ca: [ca.certPem],
    requestCert: true,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
  });
  tlsServer.on('request', (req, res) => void controlApi(req, res));
  tlsServer.on('upgrade', (req, socket, head) => handleTunnelUpgrade(req, socket, head, { store, registry, logger }));
  tlsServer.on('tlsClientError', (err) => logger.debug({ err: err.message }, 'TLS handshake failed'));

  const proxy = createHttpProxy({ store, registry, logger });

  const listen = async (server: http.Server | https.Server, port: number) => {
    server.listen(port, host);
    await once(server, 'listening');
    return (server.address() as AddressInfo).port;
  };
  const port = await listen(tlsServer, opts.port ?? 8443);
  const proxyPort = await listen(proxy, opts.proxyPort ?? 20003);
  const hostForUrl = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const url = opts.publicUrl ?? `https://${hostForUrl}:${port}`;
  store.setSetting(SETTING_PUBLIC_URL, url);
  store.setSetting(SETTING_TRUST_ANCHOR_FP, certFingerprint(trustAnchorPem));
  logger.info({ url, proxy: `http://${hostForUrl}:${proxyPort}`, version: VERSION }, 'relay listening');

  let closed = false;
  return {
    url,
    port,
    proxyPort,
    registry,
    store,
    async close() {
      if (closed) return;
      closed = true;
      for (const t of registry.all()) t.session.destroy();
      tlsServer.closeAllConnections?.();
      proxy.closeAllConnections();
      await Promise.all([new Promise((r) => tlsServer.close(r)), new Promise((r) => proxy.close(r))]);
      store.close();
    },
  };
}
