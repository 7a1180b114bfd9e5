import type { MinuteSample } from '../../../../shared/api.js';

/** How many of the newest minutes the per-minute rates average over. */
export const RATE_WINDOW_MINUTES = 5;

export interface Rates {
  requests: number;
  errors: number;
  denied: number;
}

/**
 * Per-minute rates over the last few minutes. The newest sample is the minute still running,
 * so it counts only for the part that has passed; otherwise a burst right after a minute
 * starts would read as a tiny rate.
 */
export function perMinute(minutes: readonly MinuteSample[], now: number = Date.now()): Rates {
  const window = minutes.slice(-RATE_WINDOW_MINUTES);
  if (window.length === 0) return { requests: 0, errors: 0, denied: 0 };
  const newest = window[window.length - 1]!;
  const startedAt = Date.parse(newest.minute);
  const partial = Number.isNaN(startedAt) ? 1 : Math.min(1, Math.max(0, (now - startedAt) / 60_000));
  // At least a sixth of a minute, so the first seconds of a quiet agent do not blow up one request into 60/min.
  const span = Math.max(window.length - 1 + partial, 1 / 6);
  const sum = (key: keyof Rates) => window.reduce((n, m) => n + m[key], 0);
  return { requests: sum('requests') / span, errors: sum('errors') / span, denied: sum('denied') / span };
}

/** A rate for display: whole numbers from 10 up, one decimal below. */
export function formatRate(n: number): string {
  if (n === 0) return '0';
  return n >= 10 ? String(Math.round(n)) : n.toFixed(1);
}
