import { useEffect, useMemo, useRef } from 'react';
import type { AuditEntry, AuditQuery } from '../../../../shared/evidence.js';
import { useAgentEvents, useApiQuery } from '../../api/hooks.js';
import { useLiveWindow } from '../../components/live-window.js';
import { AUDIT_LIMIT, matchesQuery } from './filter.js';

/** Newest first, each seq once (an entry can arrive live and in the next query). */
function mergeBySeq(newer: readonly AuditEntry[], older: readonly AuditEntry[], capacity: number): AuditEntry[] {
  const seen = new Set<number>();
  const out: AuditEntry[] = [];
  for (const list of [newer, older]) {
    for (const e of list) {
      if (out.length >= capacity) return out;
      if (seen.has(e.seq)) continue;
      seen.add(e.seq);
      out.push(e);
    }
  }
  return out;
}

/**
 * The entries the page shows for `query` (undefined while the filter is invalid): listAudit's
 * answer, with `audit` events that match the filter added on top as they are written. Live
 * entries come in batches like traffic does (level `all` writes one per request).
 */
export function useAuditEntries(query: AuditQuery | undefined) {
  const list = useApiQuery('listAudit', query ?? {}, { enabled: query !== undefined, refetchOnWindowFocus: false });
  const live = useLiveWindow<AuditEntry>({ capacity: AUDIT_LIMIT, merge: mergeBySeq });
  const { push, update } = live;
  const queryRef = useRef(query);
  queryRef.current = query;

  const key = JSON.stringify(query ?? null);
  // A new filter starts from its own answer: live entries kept for the old one no longer apply.
  useEffect(() => update(() => [], { dropPending: true }), [key, update]);

  useAgentEvents((event) => {
    if (event.type !== 'audit') return;
    const q = queryRef.current;
    if (q && matchesQuery(event.entry, q)) push(event.entry);
  });

  const entries = useMemo(() => {
    // listAudit answers oldest first.
    const listed = list.data ? [...list.data].reverse() : [];
    return live.items.length === 0 ? listed : mergeBySeq(live.items, listed, AUDIT_LIMIT);
  }, [list.data, live.items]);

  return {
    entries,
    loading: query !== undefined && list.isPending,
    error: list.error,
    /** The agent cut the answer at the limit: older matches exist. */
    truncated: (list.data?.length ?? 0) >= (query?.limit ?? AUDIT_LIMIT),
    refetch: list.refetch,
  };
}
