import { useEffect } from 'react';
import { useAgentEvents, useApiQuery } from '../../api/hooks.js';
import { useLiveWindow, type LiveWindow } from './live-window.js';
import { mergeNewestFirst, rowOfEvent, rowOfRecord, type TrafficRow } from './rows.js';

/** Rows the page keeps; older ones fall off as new ones arrive. */
export const TRAFFIC_WINDOW = 5000;

/** The agent answers newest first; sorting anyway keeps the table right if a transport or a test does not. */
function newestFirst(rows: TrafficRow[]): TrafficRow[] {
  const time = new Map(rows.map((r) => [r, Date.parse(r.at)]));
  return rows.sort((a, b) => time.get(b)! - time.get(a)!);
}

/**
 * The traffic table's data: the agent's recent history (recentTraffic) followed by live
 * `request` and `connection` events, newest first, batched into at most four renders a
 * second. Every subaccount is kept so switching subaccounts filters instantly.
 */
export function useLiveTraffic(): LiveWindow<TrafficRow> & { loading: boolean; error: unknown } {
  const live = useLiveWindow<TrafficRow>({ capacity: TRAFFIC_WINDOW, merge: mergeNewestFirst });
  const { push, update } = live;
  useAgentEvents((event) => {
    const row = rowOfEvent(event);
    if (row) push(row);
  });
  const history = useApiQuery('recentTraffic', { limit: TRAFFIC_WINDOW }, { staleTime: Number.POSITIVE_INFINITY, refetchOnWindowFocus: false });
  useEffect(() => {
    // Live rows that arrived before the history answered are newer; the same request in both counts once.
    if (history.data) update((items) => mergeNewestFirst(items, newestFirst(history.data.map(rowOfRecord)), TRAFFIC_WINDOW));
  }, [history.data, update]);
  return { ...live, loading: history.isPending, error: history.error };
}
