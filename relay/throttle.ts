export interface FailureThrottleOptions {
  now?: () => number;
  /** Failures older than this no longer count. */
  windowMs?: number;
  /** Failures within the window that cost nothing; at least 1, since an address that never failed never waits. */
  freeFailures?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Keys remembered at most; the least recently failed are forgotten first. */
  maxKeys?: number;
}

/**
 * Slows down guessing: after a few failures from one address, each further
 * attempt waits twice as long as the last, up to a cap. A pairing secret has
 * 192 bits, so this is about noise and log spam more than about brute force.
 */
export class FailureThrottle {
  private readonly now: () => number;
  private readonly windowMs: number;
  private readonly freeFailures: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxKeys: number;
  /** Failure times per key, oldest first. Map order doubles as an LRU. */
  private readonly failures = new Map<string, number[]>();

  constructor(opts: FailureThrottleOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.windowMs = opts.windowMs ?? 15 * 60 * 1000;
    this.freeFailures = Math.max(1, opts.freeFailures ?? 3);
    this.baseDelayMs = opts.baseDelayMs ?? 1000;
    this.maxDelayMs = opts.maxDelayMs ?? 30_000;
    this.maxKeys = opts.maxKeys ?? 10_000;
  }

  /** Milliseconds to wait before handling the next request from `key`. */
  delayFor(key: string): number {
    const n = this.recent(key).length;
    if (n < this.freeFailures) return 0;
    const exponent = Math.min(n - this.freeFailures, 30);
    return Math.min(this.baseDelayMs * 2 ** exponent, this.maxDelayMs);
  }

  fail(key: string): void {
    const times = this.recent(key);
    times.push(this.now());
    // Past this many, the delay is at its cap anyway.
    const keep = this.freeFailures + 32;
    if (times.length > keep) times.splice(0, times.length - keep);
    this.failures.delete(key);
    this.failures.set(key, times);
    while (this.failures.size > this.maxKeys) {
      const oldest = this.failures.keys().next().value as string;
      this.failures.delete(oldest);
    }
  }

  succeed(key: string): void {
    this.failures.delete(key);
  }

  /** Number of keys currently remembered. */
  get size(): number {
    return this.failures.size;
  }

  private recent(key: string): number[] {
    const times = this.failures.get(key);
    if (!times) return [];
    const cutoff = this.now() - this.windowMs;
    const fresh = times.filter((t) => t > cutoff);
    if (fresh.length === 0) this.failures.delete(key);
    return fresh;
  }
}
