import type { AuditEntry, AuditQuery, AuditType } from '../../../../shared/evidence.js';

/** The newest entries a query returns; the page says so when a filter hits it. */
export const AUDIT_LIMIT = 10_000;

/** Subaccount choice for events of the installation itself (entries with subaccount ""). */
export const INSTALLATION = '(installation)';

/** What the filter form holds: times as `<input type="datetime-local">` values (local time), '' for "any". */
export interface AuditFilter {
  from: string;
  to: string;
  type: AuditType | '';
  text: string;
  /** '' for all, INSTALLATION, or a subaccount id. */
  subaccount: string;
}

export const EMPTY_AUDIT_FILTER: AuditFilter = { from: '', to: '', type: '', text: '', subaccount: '' };

export type QueryResult = { ok: true; query: AuditQuery } | { ok: false; error: string };

function isoOf(local: string, label: string): { iso?: string; error?: string } {
  if (local === '') return {};
  const t = new Date(local).getTime();
  if (Number.isNaN(t)) return { error: `${label} is not a valid date and time.` };
  return { iso: new Date(t).toISOString() };
}

/** The listAudit input for a filter, or the sentence that says why there is none. */
export function queryOf(f: AuditFilter, limit = AUDIT_LIMIT): QueryResult {
  const from = isoOf(f.from, 'From');
  if (from.error) return { ok: false, error: from.error };
  const to = isoOf(f.to, 'To');
  if (to.error) return { ok: false, error: to.error };
  if (from.iso && to.iso && from.iso >= to.iso) return { ok: false, error: 'From must be before To.' };
  const text = f.text.trim();
  return {
    ok: true,
    query: {
      ...(from.iso ? { from: from.iso } : {}),
      ...(to.iso ? { to: to.iso } : {}),
      ...(f.type ? { types: [f.type] } : {}),
      ...(text ? { text } : {}),
      ...(f.subaccount ? { subaccount: f.subaccount === INSTALLATION ? '' : f.subaccount } : {}),
      limit,
    },
  };
}

/** Whether a live entry belongs in the list the query shows: the same rules as the agent's (electron/agent/audit/query.ts). */
export function matchesQuery(e: AuditEntry, q: AuditQuery): boolean {
  const t = Date.parse(e.time);
  if (q.from !== undefined && t < Date.parse(q.from)) return false;
  if (q.to !== undefined && t >= Date.parse(q.to)) return false;
  if (q.types && q.types.length > 0 && !q.types.includes(e.type)) return false;
  if (q.subaccount !== undefined && e.subaccount !== q.subaccount) return false;
  // The agent matches the stored line; the entry's JSON is the same text up to key order.
  return !q.text || JSON.stringify(e).toLowerCase().includes(q.text.toLowerCase());
}
