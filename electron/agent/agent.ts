import fs from 'node:fs';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import { createLogger, type Logger } from '../../common/logger.js';
import type { AgentEvent, ConnectorApi, TunnelStatus } from '../../shared/api.js';
import type { AgentConfig, Subaccount } from '../../shared/config.js';
import { BackendPools } from './backend-pool.js';
import { ConfigStore } from './config-store.js';
import { createConnectorApi } from './connector-api.js';
import { readCredentials } from './credentials.js';
import { handleTunnelStream } from './forwarder.js';
import { TunnelClient } from './tunnel-client.js';

export interface AgentOptions {
  dataDir: string;
  logger?: Logger;
}

export const STATUS_FILE = path.join('run', 'status.json');

/**
 * The tunnel agent: one TunnelClient per enabled subaccount, an allowlist
 * read from the config file (reloaded on change, never partly applied), and
 * the ConnectorApi the UI and CLI use. Pure Node: the same class runs in the
 * desktop app's utility process and in `skybridge agent start`.
 */
export class ConnectorAgent {
  readonly store: ConfigStore;
  readonly api: ConnectorApi;
  private readonly logger: Logger;
  private readonly events = new EventEmitter();
  private readonly tunnels = new Map<string, TunnelClient>();
  private readonly pools = new BackendPools();
  private config: AgentConfig;
  private stopWatching?: () => void;
  private statusTimer?: NodeJS.Timeout;

  constructor(private readonly opts: AgentOptions) {
    this.logger = opts.logger ?? createLogger('agent');
    this.store = new ConfigStore(opts.dataDir);
    this.config = { version: 1, tunnel: { heartbeatIntervalMs: 10_000, heartbeatTimeoutMs: 30_000, reconnectMinMs: 500, reconnectMaxMs: 30_000 }, subaccounts: [] };
    this.events.setMaxListeners(0);
    this.api = createConnectorApi({
      store: this.store,
      statusOf: (id) => this.statusOf(id),
      subscribe: (listener) => {
        this.events.on('event', listener);
        return () => this.events.off('event', listener);
      },
    });
  }

  /** Loads the config (an invalid file refuses to start, naming the field) and brings the tunnels up. */
  start(): void {
    this.config = this.store.load();
    this.apply(this.config);
    this.stopWatching = this.store.watch(
      (cfg) => {
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
    this.pools.destroy();
    clearTimeout(this.statusTimer);
    this.writeStatusNow(false);
  }

  statusOf(subaccountId: string): TunnelStatus {
    return this.tunnels.get(subaccountId)?.currentStatus ?? { state: 'disconnected', reconnects: 0 };
  }

  private emit(event: AgentEvent): void {
    this.events.emit('event', event);
  }

  private subaccount(id: string): Subaccount | undefined {
    return this.config.subaccounts.find((s) => s.id === id);
  }

  /** Brings the running tunnels in line with the config: start new or enabled ones, stop removed or disabled ones. */
  private apply(cfg: AgentConfig): void {
    const wanted = new Map(cfg.subaccounts.filter((s) => s.enabled).map((s) => [s.id, s]));
    for (const [id, tunnel] of this.tunnels) {
      const sub = wanted.get(id);
      if (!sub || tunnel.identity !== `${sub.relayUrl}|${sub.connectorId}`) {
        tunnel.stop();
        this.tunnels.delete(id);
      }
    }
    for (const [id, sub] of wanted) {
      if (this.tunnels.has(id)) continue;
      const tunnel = new TunnelClient({
        subaccountId: id,
        relayUrl: sub.relayUrl,
        identity: sub.connectorId,
        credentials: () => readCredentials(this.opts.dataDir, id),
        settings: () => this.config.tunnel,
        logger: this.logger,
        onStream: (stream, headers) =>
          handleTunnelStream(stream, headers, {
            subaccountId: id,
            systems: () => this.subaccount(id)?.systems ?? [],
            pools: this.pools,
            logger: this.logger,
            emit: (e) => this.emit(e),
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
