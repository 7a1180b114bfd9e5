import fs from 'node:fs';
import { z } from 'zod';
import { connectorApiSchemas, type ApiInput, type ApiOutput, type AgentEvent, type ConnectorApi, type ConnectorApiMethod, type SubaccountSummary, type TunnelStatus } from '../../shared/api.js';
import { formatIssues, type Subaccount } from '../../shared/config.js';
import { ErrorCode, SkybridgeError } from '../../shared/errors.js';
import { addResource, addSystem, removeResource, removeSystem, resolveSubaccount, updateSystem } from './config-ops.js';
import type { ConfigStore } from './config-store.js';
import { certificateInfo } from './pki.js';
import { credentialsDir, readCredentials } from './credentials.js';
import { evidenceApi, offlineEvidence, type EvidenceSource } from './evidence-api.js';

export interface ConnectorApiDeps {
  store: ConfigStore;
  statusOf: (subaccountId: string) => TunnelStatus;
  subscribe: (listener: (event: AgentEvent) => void) => () => void;
  /** Audit, traffic and usage: the running agent's; without it, what the agent saved to disk. */
  evidence?: EvidenceSource;
}

function parseInput<M extends ConnectorApiMethod>(method: M, input: unknown): z.output<(typeof connectorApiSchemas)[M]['input']> {
  const result = connectorApiSchemas[method].input.safeParse(input);
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
      return store.update((cfg) => addSystem(cfg, subaccount, system));
    },
    async updateSystem(input: ApiInput<'updateSystem'>) {
      const { subaccount, system, patch } = parseInput('updateSystem', input);
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
    ...evidenceApi(deps.evidence ?? offlineEvidence(store)),
    subscribe: deps.subscribe,
  };
  return api;
}
