import { useEffect, useRef } from 'react';
import { useMutation, useQuery, useQueryClient, type UseQueryOptions } from '@tanstack/react-query';
import type { AgentEvent, ApiInput, ApiOutput, ConnectorApiMethod } from '../../../shared/api.js';
import type { ApiError } from './client.js';
import { useClient } from './context.js';

/** Query key of one API read; invalidate with `[method]` to refetch every input. */
export function apiKey<M extends ConnectorApiMethod>(method: M, input?: ApiInput<M>): readonly unknown[] {
  return input === undefined ? [method] : [method, input];
}

/** A read (list, stats…) through the typed API, cached and refetched by React Query. */
export function useApiQuery<M extends ConnectorApiMethod>(
  method: M,
  input: ApiInput<M>,
  options: Omit<UseQueryOptions<ApiOutput<M>, ApiError>, 'queryKey' | 'queryFn'> = {},
) {
  const client = useClient();
  return useQuery<ApiOutput<M>, ApiError>({
    queryKey: apiKey(method, input),
    queryFn: () => client.call(method, input),
    ...options,
  });
}

/**
 * A change through the typed API. On success the listed reads are refetched, so every page
 * shows what was saved (not what was typed).
 */
export function useApiMutation<M extends ConnectorApiMethod>(method: M, invalidates: readonly ConnectorApiMethod[] = []) {
  const client = useClient();
  const queryClient = useQueryClient();
  return useMutation<ApiOutput<M>, ApiError, ApiInput<M>>({
    mutationFn: (input) => client.call(method, input),
    onSuccess: async () => {
      await Promise.all(invalidates.map((m) => queryClient.invalidateQueries({ queryKey: [m] })));
    },
  });
}

/** Calls `listener` for every live agent event while the component is mounted. */
export function useAgentEvents(listener: (event: AgentEvent) => void): void {
  const client = useClient();
  const ref = useRef(listener);
  ref.current = listener;
  useEffect(() => client.subscribe((event) => ref.current(event)), [client]);
}
