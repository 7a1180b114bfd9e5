import type https from 'node:https';
import type { AgentConfig } from '../../../shared/config.js';
import type { AuditVerifyReport } from '../../../shared/evidence.js';
import { fetchAuditHeads } from './relay-heads.js';
import { verifyAuditLog, type RelayHeads } from './verify.js';

/**
 * `audit verify` in full: the local chain, plus every relay's record of the
 * heads it was sent. A relay that cannot be asked is a warning, not a failure
 * (it may be down); `offline` skips them on purpose.
 */
export async function verifyWithRelays(
  dataDir: string,
  cfg: AgentConfig,
  opts: { offline?: boolean; agentFor?: (subaccountId: string) => https.Agent | undefined } = {},
): Promise<AuditVerifyReport> {
  const relays: RelayHeads[] = [];
  const warnings: string[] = [];
  if (!opts.offline) {
    for (const sub of cfg.subaccounts) {
      try {
        relays.push(await fetchAuditHeads(dataDir, sub, { agent: opts.agentFor?.(sub.id), timeoutMs: 10_000 }));
      } catch (err) {
        warnings.push(`the relay ${sub.relayUrl} (subaccount ${sub.id}) could not be asked for its copy of the chain head: ${(err as Error).message}`);
      }
    }
  }
  const report = await verifyAuditLog(dataDir, relays);
  report.warnings.push(...warnings);
  return report;
}
