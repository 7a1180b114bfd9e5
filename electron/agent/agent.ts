import fs from 'node:fs';
import type https from 'node:https';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import { createLogger, type Logger } from '../../common/logger.js';
import type { AgentEvent, ConnectorApi, TunnelStatus } from '../../shared/api.js';
import type { AgentConfig, Subaccount } from '../../shared/config.js';
import { ErrorCode, SkybridgeError } from '../../shared/errors.js';
import { BackendPools } from './backend-pool.js';
import { ConfigStore } from './config-store.js';
import { createConnectorApi } from './connector-api.js';
import { readCredentials } from './credentials.js';
import { lockedSecretsMessage } from './data-protection.js';
import { handleTunnelStream } from './forwarder.js';
import { handleTcpStream, TcpConnectionCounter } from './tcp-forwarder.js';
import { TunnelClient } from './tunnel-client.js';
import { proxyAgent, readProxyPassword } from './outbound.js';
import { CertificateRenewer } from './cert-renewal.js';
import { Evidence } from './evidence.js';
import { withAdminNotes } from './audit/actor.js';
import { oneOffRenewer } from './api/certificates.js';

export interface AgentOptions {
  dataDir: string;
  logger?: Logger;
  /** Prometheus metrics on this port (bound to metricsHost, default loopback); off when undefined. */
  metricsPort?: number;
  metricsHost?: string;
  /** How often the audit chain head goes to the relays (default one minute). */
  auditHeadIntervalMs?: number;
}

export const STATUS_FILE = path.join('run', 'status.json');

/** What a tunnel is bound to: a new relay, identity (re-pairing) or proxy needs a new tunnel. */
function tunnelIdentity(sub: Subaccount): string {
  return `${sub.relayUrl}|${sub.connectorId}|${sub.proxy?.url ?? ''}|${sub.proxy?.username ?? ''}`;
}

/**
 * The tunnel agent: one TunnelClient per enabled subaccount, an allowlist
 * read from the config file (reloaded on change, never partly applied), and
 * the ConnectorApi the UI and CLI use. Pure Node: the same class runs in the
 * desktop app's utility process and in `skybridge agent start`.
 */
export class ConnectorAgent {
  readonly store: ConfigStore;
  readonly api: ConnectorApi;
  /** Audit log, traffic, usage and metrics (docs/audit.md). */
  readonly evidence: Evidence;
  private readonly logger: Logger;
  private readonly events = new EventEmitter();
  private readonly tunnels = new Map<string, TunnelClient>();
  private readonly renewers = new Map<string, CertificateRenewer>();
  private readonly pools = new BackendPools();
  private readonly tcpConnections = new TcpConnectionCounter();
  private config: AgentConfig;
  private stopWatching?: () => void;
  private statusTimer?: NodeJS.Timeout;
  private startedAt?: string;

  constructor(private readonly opts: AgentOptions) {
    this.logger = opts.logger ?? createLogger('agent');
    this.store = new ConfigStore(opts.dataDir);
    this.config = { version: 1, tunnel: { heartbeatIntervalMs: 10_000, heartbeatTimeoutMs: 30_000, reconnectMinMs: 500, reconnectMaxMs: 30_000 }, subaccounts: [] };
    this.events.setMaxListeners(0);
    const { metricsPort, metricsHost, auditHeadIntervalMs } = opts;
    this.evidence = new Evidence({ dataDir: opts.dataDir, logger: this.logger, config: () => this.config, statusOf: (id) => this.statusOf(id), emit: (e) => this.emit(e), metricsPort, metricsHost, auditHeadIntervalMs, agentFor: (id) => this.outboundAgent(id) });
    this.events.on('event', (e: AgentEvent) => this.evidence.onEvent(e));
    // Every transport (desktop IPC, headless HTTP) gets this object: each config change through it is audited as the local admin via 'api'.
    this.api = withAdminNotes(
      createConnectorApi({
        store: this.store,
        evidence: this.evidence,
        statusOf: (id) => this.statusOf(id),
        subscribe: (listener) => {
          this.events.on('event', listener);
          return () => this.events.off('event', listener);
        },
        live: {
          startedAt: () => this.startedAt ?? new Date().toISOString(),
          minutes: (id) => this.evidence.traffic.minutes.window(id),
          renewCertificate: (id) => this.renewCertificate(id),
        },
      }),
      opts.dataDir,
      'api',
    );
  }

  /** Loads the config (an invalid file refuses to start, naming the field) and brings the tunnels up. */
  start(): void {
    this.startedAt = new Date().toISOString();
    this.config = this.store.load();
    // Headless (or no usable key store) with secrets the desktop app encrypted: say so once, up front;
    // each subaccount concerned also shows the reason as its tunnel error.
    const locked = lockedSecretsMessage(this.opts.dataDir);
    if (locked) this.logger.error(locked);
    this.evidence.start(this.config);
    this.apply(this.config);
    this.stopWatching = this.store.watch(
      (cfg) => {
        this.evidence.configChanged(this.config, cfg);
        this.config = cfg;
        this.apply(cfg);
        this.logger.info('configuration reloaded');
        this.emit({ type: 'config-reloaded', at: new Date().toISOString() });
      },
      (err) => {
        this.logger.error({ err: err.message }, 'configuration change ignored: the file is invalid; still running the previous configuration');
        this.emit({ type: 'config-error', at: new Date().toISOString(), message: err.message });
      },
      this.config,
    );
    this.writeStatus();
  }

  async stop(): Promise<void> {
    this.stopWatching?.();
    for (const t of this.tunnels.values()) t.stop();
    this.tunnels.clear();
    for (const r of this.renewers.values()) r.stop();
    this.renewers.clear();
    this.pools.destroy();
    clearTimeout(this.statusTimer);
    await this.evidence.stop();
    this.writeStatusNow(false);
  }

  /**
   * Renews one subaccount's certificate now. A connected subaccount's renewer
   * does it, so its schedule moves on from the new certificate; a disconnected
   * one has no renewer, so a one-off renewer does it. Either way the renewal is
   * an event, and so in the audit log.
   */
  async renewCertificate(subaccountId: string): Promise<void> {
    const running = this.renewers.get(subaccountId);
    if (running) {
      await running.renewNow();
      return;
    }
    const sub = this.store.load().subaccounts.find((s) => s.id === subaccountId);
    if (!sub) throw new SkybridgeError(ErrorCode.NotFound, `no subaccount "${subaccountId}" is paired`);
    await oneOffRenewer(this.opts.dataDir, sub, (e) => this.emit(e), this.logger).renewNow();
  }

  statusOf(subaccountId: string): TunnelStatus {
    return this.tunnels.get(subaccountId)?.currentStatus ?? { state: 'disconnected', reconnects: 0 };
  }

  private emit(event: AgentEvent): void {
    this.events.emit('event', event);
  }

  /** How to reach the relay for this subaccount: through its outbound proxy if one is set, else directly. */
  private outboundAgent(id: string): https.Agent | undefined {
    const sub = this.subaccount(id);
    return sub?.proxy ? proxyAgent(sub.proxy, readProxyPassword(this.opts.dataDir, id)) : undefined;
  }

  private subaccount(id: string): Subaccount | undefined {
    return this.config.subaccounts.find((s) => s.id === id);
  }

  /** Brings the running tunnels in line with the config: start new or enabled ones, stop removed or disabled ones. */
  private apply(cfg: AgentConfig): void {
    const wanted = new Map(cfg.subaccounts.filter((s) => s.enabled).map((s) => [s.id, s]));
    for (const [id, tunnel] of this.tunnels) {
      const sub = wanted.get(id);
      if (!sub || tunnel.identity !== tunnelIdentity(sub)) {
        tunnel.stop();
        this.tunnels.delete(id);
        this.renewers.get(id)?.stop();
        this.renewers.delete(id);
      }
    }
    for (const [id, sub] of wanted) {
      if (this.tunnels.has(id)) continue;
      const tunnel = new TunnelClient({
        subaccountId: id,
        relayUrl: sub.relayUrl,
        identity: tunnelIdentity(sub).slice(sub.relayUrl.length + 1),
        agent: () => this.outboundAgent(id),
        credentials: () => readCredentials(this.opts.dataDir, id),
        settings: () => this.config.tunnel,
        logger: this.logger,
        onStream: (stream, headers) =>
          // CONNECT streams are cloud apps' SOCKS5 connections to TCP systems; everything else is an HTTP request.
          headers[':method'] === 'CONNECT'
            ? handleTcpStream(stream, headers, {
                subaccountId: id,
                systems: () => this.subaccount(id)?.systems ?? [],
                connections: this.tcpConnections,
                logger: this.logger,
                emit: (e) => this.emit(e),
              })
            : handleTunnelStream(stream, headers, {
                subaccountId: id,
                systems: () => this.subaccount(id)?.systems ?? [],
                pools: this.pools,
                logger: this.logger,
                emit: (e) => this.emit(this.evidence.enrich(e)),
                beforeDenial: (e) => this.evidence.recordDenial(e),
              }),
      });
      let lastState = tunnel.currentStatus.state;
      tunnel.on('status', (status: TunnelStatus) => {
        this.emit({ type: 'subaccount-state', subaccountId: id, status });
        // A state change is on disk before anyone can observe its effect; RTT updates can wait.
        if (status.state !== lastState) this.writeStatusNow(true);
        else this.writeStatus();
        lastState = status.state;
      });
      this.tunnels.set(id, tunnel);
      tunnel.start();
      const renewer = new CertificateRenewer({
        subaccountId: id,
        connectorId: sub.connectorId,
        dataDir: this.opts.dataDir,
        relayUrl: sub.relayUrl,
        agent: () => this.outboundAgent(id),
        logger: this.logger,
        emit: (e) => this.emit(e),
      });
      this.renewers.set(id, renewer);
      renewer.start();
    }
    this.pools.retain(cfg.subaccounts.flatMap((s) => s.systems));
    this.writeStatus();
  }

  /** `run/status.json`: what `skybridge agent status` and scripts read while the agent runs. */
  private writeStatus(): void {
    if (this.statusTimer) return;
    this.statusTimer = setTimeout(() => {
      this.statusTimer = undefined;
      this.writeStatusNow(true);
    }, 50);
  }

  private writeStatusNow(running: boolean): void {
    const file = path.join(this.opts.dataDir, STATUS_FILE);
    const body = {
      pid: process.pid,
      running,
      updatedAt: new Date().toISOString(),
      subaccounts: this.config.subaccounts.map((s) => ({ id: s.id, name: s.name, enabled: s.enabled, status: this.statusOf(s.id) })),
    };
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, `${JSON.stringify(body, null, 2)}\n`);
      fs.renameSync(tmp, file);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'could not write the status file');
    }
  }
}
