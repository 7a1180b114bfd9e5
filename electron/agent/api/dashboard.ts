import { VERSION } from '../../../common/version.js';
import type { Dashboard, MinuteSample, SubaccountSummary } from '../../../shared/api.js';

/** What only the running agent knows about itself. */
export interface DashboardSource {
  /** ISO time the agent started. */
  startedAt(): string;
  /** The last 30 minutes for one subaccount, oldest first. */
  minutes(subaccountId: string): MinuteSample[];
}

export function buildDashboard(subaccounts: SubaccountSummary[], live: DashboardSource): Dashboard {
  return {
    agentStartedAt: live.startedAt(),
    version: VERSION,
    subaccounts: subaccounts.map((s) => ({ ...s, minutes: live.minutes(s.id) })),
  };
}
