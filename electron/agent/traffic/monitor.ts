import { LATENCY_BUCKETS_MS, type TrafficAggregate, type TrafficQuery, type TrafficRecord, type TrafficStats } from '../../../shared/evidence.js';
import { bucketOf, emptyHistogram } from './histogram.js';
import { countsAsError, MinuteSeries } from './minute-series.js';

export const DEFAULT_HISTORY = 1000;
const MAX_SYSTEMS = 500;

/** Total time of a record: the timing split's total when known, else the connector's own duration. */
export function totalMsOf(r: TrafficRecord): number {
  return r.timing?.totalMs ?? r.durationMs;
}

function systemOf(r: TrafficRecord): string {
  return `${r.virtualHost}:${r.virtualPort}`;
}

/** Does `r` pass the filters of `q`? */
export function matchesTraffic(r: TrafficRecord, q: TrafficQuery, since?: number): boolean {
  if (q.subaccount !== undefined && r.subaccountId !== q.subaccount) return false;
  if (q.system !== undefined && systemOf(r) !== q.system.toLowerCase()) return false;
  if (q.app !== undefined && r.app !== q.app) return false;
  if (q.outcome !== undefined && r.outcome !== q.outcome) return false;
  if (q.status !== undefined) {
    // 5 means every 5xx; 404 means exactly 404.
    if (q.status < 10 ? Math.floor(r.status / 100) !== q.status : r.status !== q.status) return false;
  }
  if (since !== undefined && Date.parse(r.at) < since) return false;
  if (q.text) {
    const t = q.text.toLowerCase();
    if (![r.path, r.app, r.reason ?? '', r.method].some((s) => s.toLowerCase().includes(t))) return false;
  }
  return true;
}

function newAggregate(subaccount: string, system: string, resource?: string): TrafficAggregate {
  return { subaccount, system, ...(resource !== undefined ? { resource } : {}), count: 0, errors: 0, denied: 0, bytesIn: 0, bytesOut: 0, totalMs: 0, maxMs: 0, histogram: emptyHistogram() };
}

function add(a: TrafficAggregate, r: TrafficRecord): void {
  const ms = totalMsOf(r);
  a.count += 1;
  if (countsAsError(r)) a.errors += 1;
  if (r.outcome === 'denied') a.denied += 1;
  a.bytesIn += r.bytesIn ?? 0;
  a.bytesOut += r.bytesOut ?? 0;
  a.totalMs = Math.round((a.totalMs + ms) * 100) / 100;
  a.maxMs = Math.max(a.maxMs, ms);
  a.histogram[bucketOf(ms)]! += 1;
}

/**
 * The live view of traffic: a bounded ring of the most recent requests and
 * connections, and aggregates per system and per resource since the agent
 * started (count, errors, bytes, latency histogram, time spent). Memory is
 * bounded by the ring and by the number of configured systems and resources.
 */
export class TrafficMonitor {
  private ring: (TrafficRecord | undefined)[];
  private next = 0;
  private size = 0;
  private readonly systems = new Map<string, TrafficAggregate>();
  private readonly resources = new Map<string, TrafficAggregate>();
  private readonly since = new Date().toISOString();
  /** Per-minute counts of the last half hour, for the dashboard; only what this process saw (restore() does not feed it). */
  readonly minutes = new MinuteSeries();
  /** Changes since the history was last persisted. */
  dirty = false;

  constructor(readonly capacity = DEFAULT_HISTORY) {
    this.ring = new Array<TrafficRecord | undefined>(capacity);
  }

  record(r: TrafficRecord): void {
    this.ring[this.next] = r;
    this.next = (this.next + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
    this.dirty = true;
    this.minutes.record(r);
    let system = systemOf(r);
    let sk = `${r.subaccountId}\u0000${system}`;
    // Denied requests name any host a cloud app likes: past a bound, unknown ones share one row.
    if (!this.systems.has(sk) && this.systems.size >= MAX_SYSTEMS) {
      system = 'other';
      sk = `${r.subaccountId}\u0000${system}`;
    }
    let s = this.systems.get(sk);
    if (!s) this.systems.set(sk, (s = newAggregate(r.subaccountId, system)));
    add(s, r);
    if (r.resource !== undefined) {
      const rk = `${sk}\u0000${r.resource}`;
      let a = this.resources.get(rk);
      if (!a) this.resources.set(rk, (a = newAggregate(r.subaccountId, system, r.resource)));
      add(a, r);
    }
  }

  /** Oldest first. */
  snapshot(): TrafficRecord[] {
    const out: TrafficRecord[] = [];
    for (let i = 0; i < this.size; i++) {
      const r = this.ring[(this.next - this.size + i + this.capacity) % this.capacity];
      if (r) out.push(r);
    }
    return out;
  }

  /** Restores the history persisted by a previous run; aggregates start afresh. */
  restore(records: TrafficRecord[]): void {
    for (const r of records.slice(-this.capacity)) {
      this.ring[this.next] = r;
      this.next = (this.next + 1) % this.capacity;
      this.size = Math.min(this.size + 1, this.capacity);
    }
  }

  /** Newest first. */
  recent(q: TrafficQuery = {}): TrafficRecord[] {
    return recentOf(this.snapshot(), q);
  }

  stats(subaccount?: string): TrafficStats {
    const pick = (m: Map<string, TrafficAggregate>) => [...m.values()].filter((a) => subaccount === undefined || a.subaccount === subaccount).map((a) => ({ ...a, histogram: [...a.histogram] }));
    const resources = pick(this.resources);
    const slowest = this.snapshot()
      .filter((r) => subaccount === undefined || r.subaccountId === subaccount)
      .sort((a, b) => totalMsOf(b) - totalMsOf(a))
      .slice(0, 10);
    return {
      since: this.since,
      bucketsMs: [...LATENCY_BUCKETS_MS],
      systems: pick(this.systems).sort((a, b) => b.count - a.count),
      resources: resources.sort((a, b) => b.count - a.count),
      topConsumers: [...resources].sort((a, b) => b.totalMs - a.totalMs).slice(0, 10),
      slowest,
    };
  }
}

/** Filters a history (oldest first) and returns the matches newest first. */
export function recentOf(history: TrafficRecord[], q: TrafficQuery): TrafficRecord[] {
  const since = q.since ? Date.parse(q.since) : undefined;
  const out: TrafficRecord[] = [];
  const limit = q.limit ?? Number.POSITIVE_INFINITY;
  for (let i = history.length - 1; i >= 0 && out.length < limit; i--) {
    const r = history[i]!;
    if (matchesTraffic(r, q, Number.isNaN(since) ? undefined : since)) out.push(r);
  }
  return out;
}
