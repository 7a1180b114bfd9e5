import fs from 'node:fs';
import { z } from 'zod';
import { connectorApiSchemas, type ApiInput, type ApiOutput, type AgentEvent, type ConnectorApi, type ConnectorApiMethod, type SubaccountSummary, type TunnelStatus } from '../../shared/api.js';
import { formatIssues, type Subaccount } from '../../shared/config.js';
import { ErrorCode, SkybridgeError } from '../../shared/errors.js';
import { addResource, addSystem, removeResource, removeSystem, resolveSubaccount, updateResource, updateSystem } from './config-ops.js';
import type { ConfigStore } from './config-store.js';
import { certificateInfo } from './pki.js';
import { credentialsDir, readCredentials } from './credentials.js';
import { evidenceApi, offlineEvidence, type EvidenceSource } from './evidence-api.js';
import { pairAgent } from './pair.js';
import { testAccess } from './api/access-test.js';
import { checkAvailability } from './api/availability.js';
import { importCaCertificate } from './api/ca-import.js';
import { certificateDetails, renewWithoutAgent } from './api/certificates.js';
import { buildDashboard, type DashboardSource } from './api/dashboard.js';
import { setAuditLevel, setAuditRetention, settingsOf } from './api/settings.js';
import { loadCaFile } from './trusted-ca.js';

/** What only a running agent can answer; the CLI's API has none of it. */
export interface LiveAgent extends DashboardSource {
  /** Renews now through the agent's own renewer, so its schedule and event stream follow. */
  renewCertificate(subaccountId: string): Promise<void>;
}

export interface ConnectorApiDeps {
  store: ConfigStore;
  statusOf: (subaccountId: string) => TunnelStatus;
  subscribe: (listener: (event: AgentEvent) => void) => () => void;
  /** Audit, traffic and usage: the running agent's; without it, what the agent saved to disk. */
  evidence?: EvidenceSource;
  /** The running agent; without it, renewal runs here (if no agent runs) and the dashboard is refused. */
  live?: LiveAgent;
}

function parseInput<M extends ConnectorApiMethod>(method: M, input: unknown): z.output<(typeof connectorApiSchemas)[M]['input']> {
  // A transport may send no body for a method without inputs.
  const result = connectorApiSchemas[method].input.safeParse(input ?? {});
  if (!result.success) throw new SkybridgeError(ErrorCode.InvalidInput, formatIssues(result.error));
  return result.data as z.output<(typeof connectorApiSchemas)[M]['input']>;
}

/**
 * The ConnectorApi over the config file. Every change is validated as a whole
 * and written atomically; a running agent picks it up from the file, so the CLI
 * (no agent needed) and the UI (through a running agent) edit the same way.
 */
export function createConnectorApi(deps: ConnectorApiDeps): ConnectorApi {
  const { store } = deps;
  const summary = (s: Subaccount): SubaccountSummary => {
    let certificateNotAfter: string | undefined;
    try {
      certificateNotAfter = certificateInfo(readCredentials(store.dataDir, s.id).certPem).notAfter;
    } catch {
      certificateNotAfter = undefined;
    }
    return {
      id: s.id,
      name: s.name,
      relayUrl: s.relayUrl,
      tenantId: s.tenantId,
      location: s.location,
      connectorId: s.connectorId,
      enabled: s.enabled,
      systemCount: s.systems.length,
      certificateNotAfter,
      status: deps.statusOf(s.id),
    };
  };
  const api: ConnectorApi = {
    async listSubaccounts() {
      return store.load().subaccounts.map(summary);
    },
    async setSubaccountEnabled(input: ApiInput<'setSubaccountEnabled'>) {
      const { subaccount, enabled } = parseInput('setSubaccountEnabled', input);
      const updated = store.update((cfg) => {
        const sub = resolveSubaccount(cfg, subaccount);
        const next = { ...sub, enabled };
        return { config: { ...cfg, subaccounts: cfg.subaccounts.map((s) => (s.id === sub.id ? next : s)) }, result: next };
      });
      return summary(updated);
    },
    async removeSubaccount(input: ApiInput<'removeSubaccount'>): Promise<ApiOutput<'removeSubaccount'>> {
      const { subaccount, confirm } = parseInput('removeSubaccount', input);
      if (confirm !== subaccount) {
        throw new SkybridgeError(ErrorCode.InvalidInput, `Removing subaccount ${subaccount} deletes its systems and keys; confirm by giving its id.`);
      }
      store.update((cfg) => {
        const sub = resolveSubaccount(cfg, subaccount);
        return { config: { ...cfg, subaccounts: cfg.subaccounts.filter((s) => s.id !== sub.id) }, result: sub };
      });
      // The config no longer names it (a running agent stops its tunnel); now the key material goes.
      fs.rmSync(credentialsDir(store.dataDir, subaccount), { recursive: true, force: true });
      return { removed: true };
    },
    async listSystems(input: ApiInput<'listSystems'>) {
      const { subaccount } = parseInput('listSystems', input);
      return resolveSubaccount(store.load(), subaccount).systems;
    },
    async addSystem(input: ApiInput<'addSystem'>) {
      const { subaccount, system } = parseInput('addSystem', input);
      // A CA file the agent could not use is refused now, not at the first request through the system.
      if (system.caFile !== undefined) await loadCaFile(system.caFile);
      return store.update((cfg) => addSystem(cfg, subaccount, system));
    },
    async updateSystem(input: ApiInput<'updateSystem'>) {
      const { subaccount, system, patch } = parseInput('updateSystem', input);
      if (typeof patch.caFile === 'string') await loadCaFile(patch.caFile);
      return store.update((cfg) => updateSystem(cfg, subaccount, system, patch));
    },
    async removeSystem(input: ApiInput<'removeSystem'>): Promise<ApiOutput<'removeSystem'>> {
      const { subaccount, system } = parseInput('removeSystem', input);
      store.update((cfg) => removeSystem(cfg, subaccount, system));
      return { removed: true };
    },
    async addResource(input: ApiInput<'addResource'>) {
      const { subaccount, system, resource } = parseInput('addResource', input);
      return store.update((cfg) => addResource(cfg, subaccount, system, resource));
    },
    async removeResource(input: ApiInput<'removeResource'>) {
      const { subaccount, system, path } = parseInput('removeResource', input);
      return store.update((cfg) => removeResource(cfg, subaccount, system, path));
    },
    async updateResource(input: ApiInput<'updateResource'>) {
      const { subaccount, system, path, patch } = parseInput('updateResource', input);
      return store.update((cfg) => updateResource(cfg, subaccount, system, path, patch));
    },
    async checkAvailability(input: ApiInput<'checkAvailability'>) {
      return checkAvailability(store.load(), parseInput('checkAvailability', input));
    },
    async importCaCertificate(input: ApiInput<'importCaCertificate'>) {
      const { pem } = parseInput('importCaCertificate', input);
      return importCaCertificate(store.dataDir, pem);
    },
    async testAccess(input: ApiInput<'testAccess'>) {
      // The file, not the agent's memory: an edit made a moment ago is what a person means to test.
      return testAccess(store.load(), parseInput('testAccess', input));
    },
    async pairSubaccount(input: ApiInput<'pairSubaccount'>) {
      const { code, name } = parseInput('pairSubaccount', input);
      // A running agent sees the new subaccount in the config file and brings its tunnel up.
      const sub = await pairAgent(store.dataDir, code.trim(), { name: name?.trim() || undefined });
      return summary(sub);
    },
    async certificateDetails(input: ApiInput<'certificateDetails'>) {
      const { subaccount } = parseInput('certificateDetails', input);
      return certificateDetails(store.dataDir, resolveSubaccount(store.load(), subaccount));
    },
    async renewCertificate(input: ApiInput<'renewCertificate'>) {
      const { subaccount } = parseInput('renewCertificate', input);
      const cfg = store.load();
      const sub = resolveSubaccount(cfg, subaccount);
      if (deps.live) await deps.live.renewCertificate(sub.id);
      else await renewWithoutAgent(store.dataDir, cfg, sub);
      return certificateDetails(store.dataDir, sub);
    },
    async dashboard(input: ApiInput<'dashboard'>) {
      parseInput('dashboard', input);
      if (!deps.live) {
        throw new SkybridgeError(ErrorCode.AgentNotRunning, "the dashboard shows the running agent; start it with 'skybridge agent start'");
      }
      return buildDashboard(store.load().subaccounts.map(summary), deps.live);
    },
    async getSettings(input: ApiInput<'getSettings'>) {
      parseInput('getSettings', input);
      return settingsOf(store.load());
    },
    async setAuditLevel(input: ApiInput<'setAuditLevel'>) {
      const { subaccount, level } = parseInput('setAuditLevel', input);
      return store.update((cfg) => setAuditLevel(cfg, subaccount, level));
    },
    async setAuditRetention(input: ApiInput<'setAuditRetention'>) {
      const { days } = parseInput('setAuditRetention', input);
      return store.update((cfg) => setAuditRetention(cfg, days));
    },
    ...evidenceApi(deps.evidence ?? offlineEvidence(store)),
    subscribe: deps.subscribe,
  };
  return api;
}
