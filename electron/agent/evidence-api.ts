import type https from 'node:https';
import type { z } from 'zod';
import { connectorApiSchemas, type ApiInput, type ConnectorApi } from '../../shared/api.js';
import { formatIssues, type AgentConfig } from '../../shared/config.js';
import { ErrorCode, SkybridgeError } from '../../shared/errors.js';
import type { TrafficRecord, TrafficStats, UsageRow } from '../../shared/evidence.js';
import { queryAudit } from './audit/query.js';
import { verifyWithRelays } from './audit/verify-with-relays.js';
import type { ConfigStore } from './config-store.js';
import { writeSupportBundle } from './support-bundle.js';
import { loadHistory } from './traffic/history-file.js';
import { TrafficMonitor, recentOf } from './traffic/monitor.js';
import { UsageStore } from './traffic/usage.js';

/** What the evidence half of the API reads from: the running agent's memory, or (offline) the files it saved. */
export interface EvidenceSource {
  readonly dataDir: string;
  config(): AgentConfig;
  flushAudit(): Promise<void>;
  /** Oldest first. */
  history(): TrafficRecord[];
  stats(subaccount?: string): TrafficStats;
  usage(cfg: AgentConfig, subaccount?: string): UsageRow[];
  agentFor?(subaccountId: string): https.Agent | undefined;
}

/** For the CLI with no agent in this process: what the agent last saved to disk. */
export function offlineEvidence(store: ConfigStore): EvidenceSource {
  const history = () => loadHistory(store.dataDir);
  return {
    dataDir: store.dataDir,
    config: () => store.load(),
    flushAudit: async () => undefined,
    history,
    stats(subaccount) {
      // Aggregates of what the saved history still holds; the live ones are in the running agent's memory and metrics.
      const records = history();
      const m = new TrafficMonitor(Math.max(1, records.length));
      for (const r of records) m.record(r);
      return m.stats(subaccount);
    },
    usage: (cfg, subaccount) => UsageStore.load(store.dataDir).rows(cfg, subaccount),
  };
}

type EvidenceMethods = Pick<ConnectorApi, 'listAudit' | 'verifyAudit' | 'recentTraffic' | 'trafficStats' | 'usageStats' | 'exportSupportBundle'>;

function parse<M extends keyof EvidenceMethods>(method: M, input: unknown): z.output<(typeof connectorApiSchemas)[M]['input']> {
  const r = connectorApiSchemas[method].input.safeParse(input ?? {});
  if (!r.success) throw new SkybridgeError(ErrorCode.InvalidInput, formatIssues(r.error));
  return r.data as z.output<(typeof connectorApiSchemas)[M]['input']>;
}

function knownSubaccount(cfg: AgentConfig, id: string | undefined): string | undefined {
  if (id === undefined) return undefined;
  if (!cfg.subaccounts.some((s) => s.id === id)) throw new SkybridgeError(ErrorCode.NotFound, `no subaccount "${id}" is paired`);
  return id;
}

/** The ConnectorApi's evidence methods over a source; the same code serves the UI (live) and the CLI (offline). */
export function evidenceApi(src: EvidenceSource): EvidenceMethods {
  return {
    async listAudit(input: ApiInput<'listAudit'>) {
      const q = parse('listAudit', input);
      await src.flushAudit();
      return (await queryAudit(src.dataDir, q)).map((s) => s.entry);
    },
    async verifyAudit(input: ApiInput<'verifyAudit'>) {
      const { offline } = parse('verifyAudit', input);
      await src.flushAudit();
      return verifyWithRelays(src.dataDir, src.config(), { offline, agentFor: (id) => src.agentFor?.(id) });
    },
    async recentTraffic(input: ApiInput<'recentTraffic'>) {
      const q = parse('recentTraffic', input);
      return recentOf(src.history(), q);
    },
    async trafficStats(input: ApiInput<'trafficStats'>) {
      const { subaccount } = parse('trafficStats', input);
      return src.stats(knownSubaccount(src.config(), subaccount));
    },
    async usageStats(input: ApiInput<'usageStats'>) {
      const { subaccount } = parse('usageStats', input);
      const cfg = src.config();
      return src.usage(cfg, knownSubaccount(cfg, subaccount));
    },
    async exportSupportBundle(input: ApiInput<'exportSupportBundle'>) {
      const o = parse('exportSupportBundle', input);
      return writeSupportBundle(src, o);
    },
  };
}
