import { LATENCY_BUCKETS_MS } from '../../../shared/evidence.js';

/** Index of the bucket for a latency: the first bound it does not exceed, or the overflow bucket past 5 s. */
export function bucketOf(ms: number): number {
  for (let i = 0; i < LATENCY_BUCKETS_MS.length; i++) if (ms <= LATENCY_BUCKETS_MS[i]!) return i;
  return LATENCY_BUCKETS_MS.length;
}

export function emptyHistogram(): number[] {
  return new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
}

/** Human labels, `≤10 ms` … `≤5 s`, `>5 s`, in bucket order. */
export function bucketLabels(): string[] {
  const fmt = (ms: number) => (ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`);
  return [...LATENCY_BUCKETS_MS.map((b) => `≤${fmt(b)}`), `>${fmt(LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1]!)}`];
}
