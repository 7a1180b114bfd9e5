import { useQueryClient, type QueryClient } from '@tanstack/react-query';
import type { AgentEvent, ApiOutput, SubaccountSummary } from '../../../shared/api.js';
import { useAgentEvents, useApiQuery } from '../api/hooks.js';

type Dashboard = ApiOutput<'dashboard'>;

/**
 * Applies one live event to the cached reads, so a state change shows at once without a
 * round trip: `subaccount-state` patches the status in listSubaccounts and dashboard;
 * events that change what a subaccount looks like otherwise (certificate renewed, config
 * reloaded, a subaccount we have not seen) make those reads refetch.
 */
export function applySubaccountEvent(queryClient: QueryClient, event: AgentEvent): void {
  if (event.type === 'subaccount-state') {
    let known = false;
    const patch = <T extends SubaccountSummary>(s: T): T => {
      if (s.id !== event.subaccountId) return s;
      known = true;
      return { ...s, status: event.status };
    };
    queryClient.setQueriesData<SubaccountSummary[]>({ queryKey: ['listSubaccounts'] }, (old) => old?.map(patch));
    queryClient.setQueriesData<Dashboard>({ queryKey: ['dashboard'] }, (old) => (old ? { ...old, subaccounts: old.subaccounts.map(patch) } : old));
    if (!known) void queryClient.invalidateQueries({ queryKey: ['listSubaccounts'] });
    return;
  }
  if (event.type === 'certificate-renewed' || event.type === 'config-reloaded') {
    void queryClient.invalidateQueries({ queryKey: ['listSubaccounts'] });
    void queryClient.invalidateQueries({ queryKey: ['dashboard'] });
  }
}

/** Keeps the cached subaccount reads in step with live events while mounted (see applySubaccountEvent). */
export function useLiveSubaccountUpdates(): void {
  const queryClient = useQueryClient();
  useAgentEvents((event) => applySubaccountEvent(queryClient, event));
}

/**
 * Every subaccount with its live tunnel state: listSubaccounts, patched by `subaccount-state`
 * events as they arrive. Returns the React Query result (`data`, `isPending`, `error`).
 */
export function useSubaccounts() {
  useLiveSubaccountUpdates();
  return useApiQuery('listSubaccounts', {});
}

export type OverallState = 'connected' | 'degraded' | 'offline' | 'idle' | 'unknown';

/**
 * One word for the header, the same rule as the tray: every enabled subaccount connected,
 * some, none; `idle` when nothing is paired or everything is switched off.
 */
export function overallState(subaccounts: readonly SubaccountSummary[] | undefined): OverallState {
  if (!subaccounts) return 'unknown';
  const enabled = subaccounts.filter((s) => s.enabled);
  if (enabled.length === 0) return 'idle';
  const up = enabled.filter((s) => s.status.state === 'connected').length;
  if (up === enabled.length) return 'connected';
  return up === 0 ? 'offline' : 'degraded';
}
