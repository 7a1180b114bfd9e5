import { useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import type { ApiInput } from '../../../../shared/api.js';
import { apiKey, useApiQuery } from '../../api/hooks.js';
import { useClient } from '../../api/context.js';

/**
 * The last "check availability" result of one system. The agent keeps no history of checks,
 * so the result lives in the query cache (never stale, never dropped) and the table and the
 * details panel show the same answer until the next check. Nothing runs by itself: a check
 * connects to the internal host, so it happens only on save or when the user asks.
 */
export function useAvailability(subaccount: string, system: string) {
  return useApiQuery('checkAvailability', { subaccount, system }, { enabled: false, staleTime: Infinity, gcTime: Infinity, retry: false });
}

/** Runs a check now and stores its result where useAvailability reads it. */
export function useRunAvailabilityCheck() {
  const client = useClient();
  const queryClient = useQueryClient();
  return useCallback(
    (subaccount: string, system: string) => {
      const input: ApiInput<'checkAvailability'> = { subaccount, system };
      return queryClient
        .fetchQuery({ queryKey: apiKey('checkAvailability', input), queryFn: () => client.call('checkAvailability', input), staleTime: 0, gcTime: Infinity, retry: false })
        .catch(() => undefined);
    },
    [client, queryClient],
  );
}
