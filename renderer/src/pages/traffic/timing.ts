import { formatDuration } from '../../format.js';
import type { TrafficRow } from './rows.js';

export interface TimingPart {
  id: 'relay' | 'tunnel' | 'connect' | 'backend' | 'connector';
  label: string;
  ms: number;
}

/**
 * Where one request's time went, in path order (requestDetailShape in shared/evidence.ts).
 * "Connector" is what the total leaves after the measured parts: the agent's own work
 * (access check, identity handling, streaming the answer). Parts the agent did not measure
 * are left out rather than shown as zero.
 */
export function timingSplit(r: TrafficRow): { parts: TimingPart[]; totalMs: number } | undefined {
  const t = r.timing;
  if (!t) return undefined;
  const parts: TimingPart[] = [];
  const add = (id: TimingPart['id'], label: string, ms: number | undefined) => {
    if (ms !== undefined && Number.isFinite(ms)) parts.push({ id, label, ms: Math.max(0, ms) });
  };
  add('relay', 'Relay', t.relayMs);
  add('tunnel', 'Tunnel', t.tunnelMs);
  add('connect', 'Back-end connect', t.connectMs);
  add('backend', 'Back-end response', t.backendMs);
  const measured = parts.reduce((sum, p) => sum + p.ms, 0);
  if (parts.length > 0 && t.totalMs > measured) add('connector', 'Connector', Math.round((t.totalMs - measured) * 100) / 100);
  return { parts, totalMs: t.totalMs };
}

/** Parts of a split are often a few ms: keep one decimal there ("1.2 ms"), where formatDuration would round to whole ms. */
export function formatPartMs(ms: number): string {
  return ms < 10 ? `${Math.round(ms * 10) / 10} ms` : formatDuration(ms);
}
