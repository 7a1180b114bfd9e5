import { LATENCY_BUCKETS_MS, type TrafficAggregate } from '../../../../shared/evidence.js';

export interface HistogramBar {
  label: string;
  count: number;
}

/** 10 → "10 ms", 2500 → "2.5 s": bucket bounds are round numbers, so no rounding here. */
function boundLabel(ms: number): string {
  return ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`;
}

/** Bars for the histogram: one per bound ("≤10 ms" … "≤5 s") and one for slower (">5 s"), summed over `systems`. */
export function histogramBars(systems: readonly TrafficAggregate[], bucketsMs: readonly number[] = LATENCY_BUCKETS_MS): HistogramBar[] {
  const bars: HistogramBar[] = bucketsMs.map((b) => ({ label: `≤${boundLabel(b)}`, count: 0 }));
  const last = bucketsMs[bucketsMs.length - 1];
  bars.push({ label: last === undefined ? 'all' : `>${boundLabel(last)}`, count: 0 });
  for (const s of systems) {
    s.histogram.forEach((n, i) => {
      const bar = bars[Math.min(i, bars.length - 1)]!;
      bar.count += n;
    });
  }
  return bars;
}
