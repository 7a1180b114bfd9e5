import type { AgentEvent } from '../../../../shared/api.js';
import type { TrafficRecord } from '../../../../shared/evidence.js';
import { trafficRecordOf } from '../../../../shared/traffic-record.js';

/** One line of the traffic table: a traffic record plus what the table needs to key and filter it. */
export type TrafficRow = TrafficRecord & {
  /** Unique across subaccounts and across HTTP requests and TCP connections. */
  key: string;
  /** Virtual `host:port`. */
  system: string;
  /** Request headers, when the agent ever sends them (the current contract does not). */
  headers?: Record<string, string>;
};

export const OUTCOMES = ['allowed', 'denied', 'error'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export function rowOfRecord(r: TrafficRecord): TrafficRow {
  return { ...r, key: `${r.subaccountId}|${r.kind ?? 'http'}|${r.requestId}`, system: `${r.virtualHost}:${r.virtualPort}` };
}

/**
 * A row from a live event, shaped as the agent stores it in its history (so a request seen
 * live and the same request from recentTraffic are one row): a TCP connection becomes a
 * `CONNECT` record without status, its bytes and connect time in the detail fields.
 */
export function rowOfEvent(e: AgentEvent): TrafficRow | undefined {
  const record = trafficRecordOf(e);
  return record && rowOfRecord(record);
}

/** Total bytes both ways, when the agent measured them. */
export function bytesOf(r: TrafficRow): number | undefined {
  if (r.bytesIn === undefined && r.bytesOut === undefined) return undefined;
  return (r.bytesIn ?? 0) + (r.bytesOut ?? 0);
}

/** Newest first; rows already present (by key) are not added twice. */
export function mergeNewestFirst(newer: readonly TrafficRow[], older: readonly TrafficRow[], capacity: number): TrafficRow[] {
  const seen = new Set<string>();
  const out: TrafficRow[] = [];
  for (const list of [newer, older]) {
    for (const r of list) {
      if (out.length >= capacity) return out;
      if (seen.has(r.key)) continue;
      seen.add(r.key);
      out.push(r);
    }
  }
  return out;
}

/**
 * Both lists together, newest first by time, each key once (the first list's copy wins), at
 * most `capacity`. For a history answer that may be older or newer than rows already shown:
 * unlike mergeNewestFirst it does not assume either list is the newer one.
 */
export function mergeByTime(a: readonly TrafficRow[], b: readonly TrafficRow[], capacity: number): TrafficRow[] {
  const seen = new Set<string>();
  const all: { row: TrafficRow; time: number }[] = [];
  for (const list of [a, b]) {
    for (const row of list) {
      if (seen.has(row.key)) continue;
      seen.add(row.key);
      all.push({ row, time: Date.parse(row.at) });
    }
  }
  // Stable: rows of the same millisecond keep the order they came in.
  all.sort((x, y) => y.time - x.time);
  return all.slice(0, capacity).map((x) => x.row);
}
