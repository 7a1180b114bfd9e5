import type { Outcome, TrafficRow } from './rows.js';

/** What the filter bar holds; empty strings mean "any". */
export interface TrafficFilter {
  text: string;
  outcome: Outcome | '';
  /** Virtual `host:port`. */
  system: string;
  /** '2'…'5' for 2xx…5xx, 'none' for rows without an HTTP status (TCP connections). */
  statusClass: StatusClass | '';
  /** Selected subaccount id, '' for all. */
  subaccount: string;
}

export const STATUS_CLASSES = [
  { value: '2', label: '2xx' },
  { value: '3', label: '3xx' },
  { value: '4', label: '4xx' },
  { value: '5', label: '5xx' },
  { value: 'none', label: 'No status (TCP)' },
] as const;
export type StatusClass = (typeof STATUS_CLASSES)[number]['value'];

export const EMPTY_FILTER: TrafficFilter = { text: '', outcome: '', system: '', statusClass: '', subaccount: '' };

export function isFiltering(f: TrafficFilter): boolean {
  return f.text.trim() !== '' || f.outcome !== '' || f.system !== '' || f.statusClass !== '';
}

/** Same fields as the agent's text filter (shared/evidence.ts trafficQuerySchema), plus the system and request id. */
function matchesText(r: TrafficRow, needle: string): boolean {
  return [r.path, r.app, r.method, r.reason ?? '', r.system, r.requestId].some((s) => s.toLowerCase().includes(needle));
}

export function matchesFilter(r: TrafficRow, f: TrafficFilter): boolean {
  if (f.subaccount !== '' && r.subaccountId !== f.subaccount) return false;
  if (f.outcome !== '' && r.outcome !== f.outcome) return false;
  if (f.system !== '' && r.system !== f.system) return false;
  if (f.statusClass === 'none' ? r.status !== 0 : f.statusClass !== '' && Math.floor(r.status / 100) !== Number(f.statusClass)) return false;
  const needle = f.text.trim().toLowerCase();
  return needle === '' || matchesText(r, needle);
}

export function filterRows(rows: readonly TrafficRow[], f: TrafficFilter): readonly TrafficRow[] {
  const active = isFiltering(f) || f.subaccount !== '';
  return active ? rows.filter((r) => matchesFilter(r, f)) : rows;
}
