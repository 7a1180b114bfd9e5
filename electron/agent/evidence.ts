import type https from 'node:https';
import type { Logger } from '../../common/logger.js';
import { serveMetrics, type MetricsServer } from '../../common/metrics-server.js';
import { VERSION } from '../../common/version.js';
import type { AgentEvent, TunnelStatus } from '../../shared/api.js';
import { DEFAULT_AUDIT_RETENTION_DAYS, type AgentConfig } from '../../shared/config.js';
import type { AuditDraft, TrafficRecord } from '../../shared/evidence.js';
import { trafficRecordOf } from '../../shared/traffic-record.js';
import { HeadReporter } from './audit/head-reporter.js';
import { AuditLog } from './audit/log.js';
import { AuditRecorder } from './audit/recorder.js';
import { readCredentials } from './credentials.js';
import type { EvidenceSource } from './evidence-api.js';
import { AgentMetrics } from './metrics.js';
import { certificateInfo } from './pki.js';
import { loadHistory, saveHistory } from './traffic/history-file.js';
import { DEFAULT_HISTORY, TrafficMonitor } from './traffic/monitor.js';
import { UsageStore } from './traffic/usage.js';

type RequestEvent = Extract<AgentEvent, { type: 'request' }>;

export interface EvidenceOptions {
  dataDir: string;
  logger: Logger;
  config: () => AgentConfig;
  statusOf: (subaccountId: string) => TunnelStatus;
  /** Publishes `audit` events on the agent's event stream. */
  emit: (event: AgentEvent) => void;
  /** Serve Prometheus metrics on this port (0: any free one); off when undefined. */
  metricsPort?: number;
  metricsHost?: string;
  /** How often the chain head goes to the relays (default one minute). */
  auditHeadIntervalMs?: number;
  /** Recent requests kept in memory (default 1,000). */
  historySize?: number;
  /** The outbound proxy agent for a subaccount, when it reaches its relay through one. */
  agentFor?: (subaccountId: string) => https.Agent | undefined;
}

const PERSIST_EVERY_MS = 10_000;


/**
 * Everything the agent keeps as evidence, in one place: the audit log and its
 * recorder, the chain-head reports to the relays, the traffic view, usage
 * statistics and metrics. The agent feeds it events and config changes; the
 * API reads from it.
 */
export class Evidence implements EvidenceSource {
  readonly traffic: TrafficMonitor;
  readonly usageStore: UsageStore;
  readonly metrics: AgentMetrics;
  private log: AuditLog | undefined;
  private recorder: AuditRecorder | undefined;
  private heads: HeadReporter | undefined;
  private metricsServer: MetricsServer | undefined;
  private persistTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly opts: EvidenceOptions) {
    this.traffic = new TrafficMonitor(opts.historySize ?? DEFAULT_HISTORY);
    this.traffic.restore(loadHistory(opts.dataDir));
    this.usageStore = UsageStore.load(opts.dataDir);
    this.metrics = new AgentMetrics({
      subaccounts: () => opts.config().subaccounts.map((s) => ({ id: s.id, status: opts.statusOf(s.id) })),
      certificateNotAfter: (id) => {
        try {
          return certificateInfo(readCredentials(opts.dataDir, id).certPem).notAfter;
        } catch {
          return undefined;
        }
      },
      auditQueue: () => this.log?.pending ?? 0,
    });
  }

  get dataDir(): string {
    return this.opts.dataDir;
  }

  config(): AgentConfig {
    return this.opts.config();
  }

  agentFor(subaccountId: string): https.Agent | undefined {
    return this.opts.agentFor?.(subaccountId);
  }

  /** Opens the audit log (synchronously, before the first tunnel), records the start and any offline config changes. */
  start(cfg: AgentConfig): void {
    const { logger, dataDir } = this.opts;
    try {
      this.log = AuditLog.open(dataDir, {
        logger,
        retentionDays: () => this.opts.config().audit?.retentionDays ?? DEFAULT_AUDIT_RETENTION_DAYS,
        onWritten: (entry) => this.opts.emit({ type: 'audit', entry }),
        onWriteError: () => this.metrics.auditErrors.inc(),
      });
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'the audit log cannot be opened; the connector runs WITHOUT an audit trail until this is fixed');
    }
    if (this.log) {
      this.recorder = new AuditRecorder({ dataDir, log: this.log, config: this.opts.config, logger });
      this.recorder.started(cfg, VERSION);
      this.heads = new HeadReporter({
        dataDir,
        log: this.log,
        subaccounts: () => this.opts.config().subaccounts,
        logger,
        intervalMs: this.opts.auditHeadIntervalMs,
        agentFor: this.opts.agentFor,
        onSent: (id) => this.metrics.headReports.inc({ subaccount: id }),
      });
      this.heads.start();
    }
    if (this.opts.metricsPort !== undefined) {
      serveMetrics(this.metrics.registry, this.opts.metricsPort, this.opts.metricsHost ?? '127.0.0.1', logger).then(
        (server) => {
          if (this.stopped) void server.close();
          else this.metricsServer = server;
        },
        (err: Error) => logger.error({ err: err.message, port: this.opts.metricsPort }, 'cannot serve metrics'),
      );
    }
    this.persistTimer = setInterval(() => void this.persist(), PERSIST_EVERY_MS);
    this.persistTimer.unref();
  }

  /** Fills in what only the agent knows: one tunnel round trip, from the latest heartbeat. */
  enrich(e: AgentEvent): AgentEvent {
    if (e.type !== 'request') return e;
    const rtt = this.opts.statusOf(e.subaccountId).rttMs;
    const timing = e.timing ?? { totalMs: e.durationMs };
    if (rtt === undefined) return { ...e, timing };
    return { ...e, timing: { ...timing, tunnelMs: rtt, totalMs: Math.round((timing.totalMs + rtt) * 100) / 100 } };
  }

  onEvent(e: AgentEvent): void {
    const record = trafficRecordOf(e);
    if (record) {
      this.traffic.record(record);
      this.usageStore.record(record);
    }
    this.metrics.observe(e);
    this.recorder?.onEvent(e);
  }

  /** The forwarder waits for this before it answers a denial: the entry is on disk first. */
  recordDenial(e: RequestEvent): Promise<void> {
    return this.recorder ? this.recorder.denial(this.enrich(e) as RequestEvent) : Promise.resolve();
  }

  /** An entry from outside the data plane (the headless UI's sign-ins); resolves once it is on disk, never rejects. */
  recordAudit(draft: AuditDraft): Promise<void> {
    return this.recorder ? this.recorder.record(draft) : Promise.resolve();
  }

  configChanged(before: AgentConfig, after: AgentConfig): void {
    this.recorder?.configChanged(before, after);
  }

  async flushAudit(): Promise<void> {
    await this.log?.flush();
  }

  history(): TrafficRecord[] {
    return this.traffic.snapshot();
  }

  stats(subaccount?: string) {
    return this.traffic.stats(subaccount);
  }

  usage(cfg: AgentConfig, subaccount?: string) {
    return this.usageStore.rows(cfg, subaccount);
  }

  private async persist(): Promise<void> {
    try {
      if (this.traffic.dirty) {
        this.traffic.dirty = false;
        await saveHistory(this.opts.dataDir, this.traffic.snapshot());
      }
      await this.usageStore.save();
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message }, 'could not save traffic history or usage statistics');
    }
  }

  /** Nothing is lost on a clean stop: the queue is written, synced and reported, history and usage saved. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.persistTimer);
    await this.recorder?.stopped();
    await this.log?.flush();
    await this.heads?.stop();
    await this.log?.close();
    this.traffic.dirty = true;
    await this.persist();
    await this.usageStore.save(true).catch(() => undefined);
    await this.metricsServer?.close();
  }
}
