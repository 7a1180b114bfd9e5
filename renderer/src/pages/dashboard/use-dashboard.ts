import { useEffect, useRef } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { useAgentEvents, useApiQuery } from '../../api/hooks.js';
import { useLiveSubaccountUpdates } from '../../components/live-subaccounts.js';

const REFETCH_MS = 10_000;
/** Traffic events can come a thousand a second: refetch on them at most this often. */
const EVENT_REFETCH_MS = 2_000;

/**
 * The dashboard read: refetched every 10 s, tunnel states patched in as events arrive, and
 * refetched soon after traffic or certificate events (throttled), so the chart moves while
 * someone watches.
 */
export function useDashboard() {
  useLiveSubaccountUpdates();
  const queryClient = useQueryClient();
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  useAgentEvents((event) => {
    if (event.type === 'audit' || event.type === 'config-error' || timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = undefined;
      void queryClient.invalidateQueries({ queryKey: ['dashboard'] });
    }, EVENT_REFETCH_MS);
  });
  return useApiQuery('dashboard', {}, { refetchInterval: REFETCH_MS });
}
