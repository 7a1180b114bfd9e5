import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { TunnelStatus, AgentEvent } from '../../shared/api.js';
import { LATENCY_BUCKETS_MS } from '../../shared/evidence.js';
import { LabelCap } from '../../common/metrics-server.js';

export interface AgentMetricsSources {
  subaccounts: () => { id: string; status: TunnelStatus }[];
  /** ISO notAfter of each subaccount's certificate, when readable. */
  certificateNotAfter: (subaccountId: string) => string | undefined;
  auditQueue: () => number;
}

const STATES = ['disconnected', 'connecting', 'connected', 'reconnecting', 'failed'] as const;

/**
 * The agent's Prometheus metrics: tunnel state, reconnects, round-trip time,
 * requests and bytes by system and status, latency histograms (the traffic
 * view's buckets), denials, certificate expiry, and the audit writer's health.
 * Tunnel and certificate values are read when scraped; request values are
 * counted as events arrive.
 */
export class AgentMetrics {
  readonly registry = new Registry();
  private readonly systems = new LabelCap(200);
  private readonly reconnectsSeen = new Map<string, number>();
  private readonly requests: Counter;
  private readonly bytes: Counter;
  private readonly duration: Histogram;
  private readonly denied: Counter;
  private readonly connections: Counter;
  private readonly auditEntries: Counter;
  readonly auditErrors: Counter;
  readonly headReports: Counter;

  constructor(sources: AgentMetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'skybridge_agent_' });
    const reconnects = new Counter({ name: 'skybridge_tunnel_reconnects_total', help: 'Times a tunnel was lost and dialled again', labelNames: ['subaccount'], registers });
    new Gauge({
      name: 'skybridge_tunnel_up',
      help: '1 while the subaccount tunnel is connected',
      labelNames: ['subaccount'],
      registers,
      collect() {
        this.reset();
        for (const s of sources.subaccounts()) {
          this.set({ subaccount: s.id }, s.status.state === 'connected' ? 1 : 0);
        }
      },
    });
    const seen = this.reconnectsSeen;
    new Gauge({
      name: 'skybridge_tunnel_state',
      help: '1 for the state each subaccount tunnel is in',
      labelNames: ['subaccount', 'state'],
      registers,
      collect() {
        this.reset();
        for (const s of sources.subaccounts()) {
          for (const state of STATES) this.set({ subaccount: s.id, state }, s.status.state === state ? 1 : 0);
          const before = seen.get(s.id) ?? 0;
          if (s.status.reconnects > before) reconnects.inc({ subaccount: s.id }, s.status.reconnects - before);
          seen.set(s.id, Math.max(before, s.status.reconnects));
        }
      },
    });
    new Gauge({
      name: 'skybridge_tunnel_rtt_seconds',
      help: 'Round-trip time of the last tunnel heartbeat',
      labelNames: ['subaccount'],
      registers,
      collect() {
        this.reset();
        for (const s of sources.subaccounts()) if (s.status.rttMs !== undefined) this.set({ subaccount: s.id }, s.status.rttMs / 1000);
      },
    });
    new Gauge({
      name: 'skybridge_certificate_expiry_timestamp_seconds',
      help: 'When the subaccount client certificate expires (Unix time)',
      labelNames: ['subaccount'],
      registers,
      collect() {
        this.reset();
        for (const s of sources.subaccounts()) {
          const notAfter = sources.certificateNotAfter(s.id);
          if (notAfter) this.set({ subaccount: s.id }, Math.floor(Date.parse(notAfter) / 1000));
        }
      },
    });
    new Gauge({
      name: 'skybridge_audit_queue_entries',
      help: 'Audit entries sealed but not yet written',
      registers,
      collect() {
        this.set(sources.auditQueue());
      },
    });
    this.requests = new Counter({ name: 'skybridge_requests_total', help: 'HTTP requests through the tunnel, by system and status', labelNames: ['subaccount', 'system', 'status', 'outcome'], registers });
    this.bytes = new Counter({ name: 'skybridge_request_bytes_total', help: 'Body bytes through the tunnel (in: to the back end, out: to the cloud)', labelNames: ['subaccount', 'system', 'direction'], registers });
    this.duration = new Histogram({
      name: 'skybridge_request_duration_seconds',
      help: 'Request latency (relay + tunnel + connector + back end)',
      labelNames: ['subaccount', 'system'],
      buckets: LATENCY_BUCKETS_MS.map((ms) => ms / 1000),
      registers,
    });
    this.denied = new Counter({ name: 'skybridge_requests_denied_total', help: 'Requests and connections the allowlist refused', labelNames: ['subaccount', 'system'], registers });
    this.connections = new Counter({ name: 'skybridge_connections_total', help: 'TCP connections through SOCKS5, by system and outcome', labelNames: ['subaccount', 'system', 'outcome'], registers });
    this.auditEntries = new Counter({ name: 'skybridge_audit_entries_total', help: 'Audit entries written, by type', labelNames: ['type'], registers });
    this.auditErrors = new Counter({ name: 'skybridge_audit_write_errors_total', help: 'Failed audit writes (each is retried)', registers });
    this.headReports = new Counter({ name: 'skybridge_audit_head_reports_total', help: 'Chain heads accepted by a relay', labelNames: ['subaccount'], registers });
  }

  observe(e: AgentEvent): void {
    if (e.type === 'request') {
      const labels = { subaccount: e.subaccountId, system: this.systems.of(`${e.virtualHost}:${e.virtualPort}`) };
      this.requests.inc({ ...labels, status: String(e.status), outcome: e.outcome });
      this.bytes.inc({ ...labels, direction: 'in' }, e.bytesIn ?? 0);
      this.bytes.inc({ ...labels, direction: 'out' }, e.bytesOut ?? 0);
      this.duration.observe(labels, (e.timing?.totalMs ?? e.durationMs) / 1000);
      if (e.outcome === 'denied') this.denied.inc(labels);
    } else if (e.type === 'connection') {
      const labels = { subaccount: e.subaccountId, system: this.systems.of(`${e.virtualHost}:${e.virtualPort}`) };
      this.connections.inc({ ...labels, outcome: e.outcome });
      this.bytes.inc({ ...labels, direction: 'in' }, e.bytesToBackend);
      this.bytes.inc({ ...labels, direction: 'out' }, e.bytesFromBackend);
      if (e.outcome === 'denied') this.denied.inc(labels);
    } else if (e.type === 'audit') {
      this.auditEntries.inc({ type: e.entry.type });
    }
  }
}
