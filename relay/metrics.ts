import type http from 'node:http';
import { X509Certificate } from 'node:crypto';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from '../common/logger.js';
import { LabelCap, serveMetrics, type MetricsServer } from '../common/metrics-server.js';
import { ErrorCode } from '../shared/errors.js';
import { LATENCY_BUCKETS_MS } from '../shared/evidence.js';
import { MetaHeader } from '../shared/tunnel.js';
import { isAuditHeadRequest } from './audit-head-endpoint.js';
import { parseProxyTarget } from './proxy-target.js';
import type { RelayStore } from './store.js';
import type { LiveTunnel, TunnelRegistry } from './tunnel-registry.js';

export interface RelayMetricsDeps {
  registry: TunnelRegistry;
  store: RelayStore;
  /** The cloud apps' HTTP proxy: requests are observed beside its own handler. */
  proxy: http.Server;
  /** The HTTPS port: audit heads received are counted. */
  tlsServer: http.Server;
  serverCertPem: string;
  caCertPem: string;
  logger: Logger;
  port: number;
  host?: string;
  /** How often tunnels are sampled for connects, disconnects and round-trip time. */
  sampleMs?: number;
}

/** Refusals the relay itself gives before any connector sees the request: no system label (the name is unauthenticated input). */
const RELAY_REFUSALS = new Set<string>([ErrorCode.ProxyAuthRequired, ErrorCode.BadRequest, ErrorCode.MethodNotAllowed]);

function notAfterSeconds(pem: string): number | undefined {
  try {
    return Math.floor(Date.parse(new X509Certificate(pem).validTo) / 1000);
  } catch {
    return undefined;
  }
}

/**
 * The relay's Prometheus metrics on an opt-in loopback port: tunnels up,
 * connects and disconnects, heartbeat round trips, proxy requests and bytes by
 * system and status, latency histograms, refusals by code, certificate expiry
 * of the relay and of every connector. Nothing in the data plane changes: the
 * proxy is observed from a second `request` listener, tunnels by sampling.
 */
export async function startRelayMetrics(deps: RelayMetricsDeps): Promise<MetricsServer> {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry, prefix: 'skybridge_relay_process_' });
  const systems = new LabelCap(500);
  const rtts = new Map<LiveTunnel, number>();

  new Gauge({
    name: 'skybridge_relay_tunnels',
    help: 'Connector tunnels up, by tenant and location',
    labelNames: ['tenant', 'location'],
    registers,
    collect() {
      this.reset();
      const counts = new Map<string, { tenant: string; location: string; n: number }>();
      for (const t of deps.registry.all()) {
        const key = `${t.tenantId}\u0000${t.location}`;
        const c = counts.get(key) ?? { tenant: t.tenantId, location: t.location, n: 0 };
        c.n += 1;
        counts.set(key, c);
      }
      for (const c of counts.values()) this.set({ tenant: c.tenant, location: c.location }, c.n);
    },
  });
  const connects = new Counter({ name: 'skybridge_relay_tunnel_connects_total', help: 'Connector tunnels that came up', registers });
  const disconnects = new Counter({ name: 'skybridge_relay_tunnel_disconnects_total', help: 'Connector tunnels that went down', registers });
  new Gauge({
    name: 'skybridge_relay_tunnel_rtt_seconds',
    help: 'Round-trip time of the last PING on each connector tunnel',
    labelNames: ['connector', 'tenant'],
    registers,
    collect() {
      this.reset();
      for (const [t, ms] of rtts) this.set({ connector: t.connectorId, tenant: t.tenantId }, ms / 1000);
    },
  });
  const requests = new Counter({ name: 'skybridge_relay_requests_total', help: 'Proxy requests answered, by virtual system and status', labelNames: ['system', 'status'], registers });
  const refused = new Counter({ name: 'skybridge_relay_requests_refused_total', help: 'Requests refused, by Skybridge-Error code', labelNames: ['code'], registers });
  const denied = new Counter({ name: 'skybridge_relay_requests_denied_total', help: 'Requests the connector allowlist refused, by virtual system', labelNames: ['system'], registers });
  const bytes = new Counter({ name: 'skybridge_relay_request_bytes_total', help: 'Bytes on the wire to and from cloud apps (in: from the app)', labelNames: ['system', 'direction'], registers });
  const duration = new Histogram({
    name: 'skybridge_relay_request_duration_seconds',
    help: 'Proxy request latency at the relay, first byte in to last byte out',
    labelNames: ['system'],
    buckets: LATENCY_BUCKETS_MS.map((ms) => ms / 1000),
    registers,
  });
  const auditHeads = new Counter({ name: 'skybridge_relay_audit_head_reports_total', help: 'Audit chain head reports received from connectors', registers });
  const serverNotAfter = notAfterSeconds(deps.serverCertPem);
  const caNotAfter = notAfterSeconds(deps.caCertPem);
  new Gauge({
    name: 'skybridge_relay_certificate_expiry_timestamp_seconds',
    help: 'When the relay TLS certificate and its CA expire (Unix time)',
    labelNames: ['certificate'],
    registers,
    collect() {
      if (serverNotAfter !== undefined) this.set({ certificate: 'server' }, serverNotAfter);
      if (caNotAfter !== undefined) this.set({ certificate: 'ca' }, caNotAfter);
    },
  });
  new Gauge({
    name: 'skybridge_relay_connector_certificate_expiry_timestamp_seconds',
    help: 'When each active connector certificate expires (Unix time)',
    labelNames: ['connector', 'tenant'],
    registers,
    collect() {
      this.reset();
      try {
        for (const c of deps.store.listConnectors()) {
          if (!c.revokedAt) this.set({ connector: c.id, tenant: c.tenantId }, Math.floor(Date.parse(c.notAfter) / 1000));
        }
      } catch {
        // the store is closing
      }
    },
  });

  const onProxyRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const started = performance.now();
    const socket = req.socket;
    const readAt = socket.bytesRead;
    const writtenAt = socket.bytesWritten;
    // The proxy passes headers to writeHead directly, where getHeader cannot see them: note the error code on the way through.
    let code: unknown;
    const writeHead = res.writeHead;
    res.writeHead = function (this: http.ServerResponse, ...args: unknown[]) {
      const headers = args.find((a, i) => i > 0 && a !== null && typeof a === 'object' && !Array.isArray(a)) as Record<string, unknown> | undefined;
      code = headers?.[MetaHeader.Error] ?? this.getHeader(MetaHeader.Error);
      return (writeHead as (...a: unknown[]) => http.ServerResponse).apply(this, args);
    } as typeof res.writeHead;
    const done = () => {
      if (typeof code === 'string' && RELAY_REFUSALS.has(code)) return refused.inc({ code });
      const target = parseProxyTarget(req.url ?? '');
      const system = systems.of(target.ok ? `${target.host}:${target.port}` : 'invalid');
      if (typeof code === 'string') refused.inc({ code });
      if (code === ErrorCode.AccessDenied) denied.inc({ system });
      requests.inc({ system, status: String(res.statusCode) });
      bytes.inc({ system, direction: 'in' }, Math.max(0, socket.bytesRead - readAt));
      bytes.inc({ system, direction: 'out' }, Math.max(0, socket.bytesWritten - writtenAt));
      duration.observe({ system }, (performance.now() - started) / 1000);
    };
    if (res.writableFinished) done();
    else res.once('finish', done);
  };
  // First in line, so the writeHead of every answer, even an immediate refusal, passes through the wrapper above.
  deps.proxy.prependListener('request', onProxyRequest);
  const onTlsRequest = (req: http.IncomingMessage) => {
    if (req.method === 'POST' && isAuditHeadRequest(req)) auditHeads.inc();
  };
  deps.tlsServer.on('request', onTlsRequest);

  // Tunnels come and go between scrapes: sample often, and ping now and then for the round trip.
  const seen = new Set<LiveTunnel>();
  let tick = 0;
  const sample = setInterval(() => {
    tick += 1;
    const live = new Set(deps.registry.all());
    for (const t of live) {
      if (!seen.has(t)) {
        seen.add(t);
        connects.inc();
      }
      if (tick % 15 === 1 && !t.session.destroyed) {
        try {
          t.session.ping((err, ms) => {
            if (!err) rtts.set(t, ms);
          });
        } catch {
          // closed between the check and the ping
        }
      }
    }
    for (const t of seen) {
      if (!live.has(t)) {
        seen.delete(t);
        rtts.delete(t);
        disconnects.inc();
      }
    }
  }, deps.sampleMs ?? 1000);
  sample.unref();

  const server = await serveMetrics(registry, deps.port, deps.host ?? '127.0.0.1', deps.logger);
  return {
    url: server.url,
    port: server.port,
    async close() {
      clearInterval(sample);
      deps.proxy.off('request', onProxyRequest);
      deps.tlsServer.off('request', onTlsRequest);
      await server.close();
    },
  };
}
