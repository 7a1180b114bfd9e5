import { useEffect } from 'react';
import { useAgentEvents, useApiQuery } from '../../api/hooks.js';
import { useLiveWindow, type LiveWindow } from '../../components/live-window.js';
import { mergeByTime, mergeNewestFirst, rowOfEvent, rowOfRecord, type TrafficRow } from './rows.js';

/** Rows the page keeps; older ones fall off as new ones arrive. */
export const TRAFFIC_WINDOW = 5000;

/**
 * The traffic table's data: the agent's recent history (recentTraffic) merged with live
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
  const history = useApiQuery(
    'recentTraffic',
    { limit: TRAFFIC_WINDOW },
    {
      // Live events only reach the page while it is open: every visit asks the agent again
      // for what passed meanwhile. The cached answer of the last visit shows until then.
      refetchOnMount: 'always',
      // While open, live events keep the table current; a refetch would add nothing.
      staleTime: Number.POSITIVE_INFINITY,
      refetchOnWindowFocus: false,
    },
  );
  useEffect(() => {
    // Live rows may be newer or older than the answer (a cached one, then the fresh one):
    // merge by time; a request present in both counts once, as the agent stored it.
    if (history.data) update((items) => mergeByTime(history.data.map(rowOfRecord), items, TRAFFIC_WINDOW));
  }, [history.data, update]);
  return { ...live, loading: history.isPending, error: history.error };
}
