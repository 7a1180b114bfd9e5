/**
 * Slows down password guessing at the headless UI. Each failed sign-in from an address
 * doubles that address's wait (1 s, 2 s, 4 s … up to a cap); a global counter does the
 * same for failures from everywhere once a few have happened, so spreading guesses over
 * many addresses does not help. An attempt that arrives while a wait is running is not
 * checked at all: it gets 429 with Retry-After. A success clears its address's record.
 */

export interface LoginThrottleOptions {
  now?: () => number;
  /** First wait after one failure. */
  baseMs?: number;
  /** Longest wait for one address. */
  maxMs?: number;
  /** Failures from everywhere that pass before the global wait begins. */
  globalFree?: number;
  /** Longest global wait: short, because it also keeps the real administrator out. */
  globalMaxMs?: number;
  /** A record with no failure for this long is forgotten. */
  forgetAfterMs?: number;
  /** Addresses tracked at once (the oldest record goes first). */
  maxTracked?: number;
}

interface Record {
  failures: number;
  lastFailureAt: number;
  /** No attempt is checked before this time. */
  blockedUntil: number;
  /** Whether a refusal in the current wait has been reported (audited) already. */
  refusalReported: boolean;
}

export type ThrottleDecision = { allowed: true } | { allowed: false; retryAfterMs: number; firstRefusal: boolean; scope: 'address' | 'global' };

export class LoginThrottle {
  private readonly now: () => number;
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly globalFree: number;
  private readonly globalMaxMs: number;
  private readonly forgetAfterMs: number;
  private readonly maxTracked: number;
  private readonly records = new Map<string, Record>();
  private global: Record = { failures: 0, lastFailureAt: 0, blockedUntil: 0, refusalReported: false };

  constructor(opts: LoginThrottleOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.baseMs = opts.baseMs ?? 1000;
    this.maxMs = opts.maxMs ?? 5 * 60 * 1000;
    this.globalFree = opts.globalFree ?? 10;
    this.globalMaxMs = opts.globalMaxMs ?? 60 * 1000;
    this.forgetAfterMs = opts.forgetAfterMs ?? 15 * 60 * 1000;
    this.maxTracked = opts.maxTracked ?? 10_000;
  }

  private delay(failures: number, cap: number): number {
    if (failures <= 0) return 0;
    return Math.min(this.baseMs * 2 ** Math.min(failures - 1, 30), cap);
  }

  private fresh(rec: Record | undefined, now: number): Record | undefined {
    return rec && now - rec.lastFailureAt < this.forgetAfterMs ? rec : undefined;
  }

  /** May an attempt from this address be checked now? */
  check(address: string): ThrottleDecision {
    const now = this.now();
    const rec = this.fresh(this.records.get(address), now);
    const glob = this.fresh(this.global, now);
    const candidates: Array<[Record, 'address' | 'global']> = [];
    if (rec && rec.blockedUntil > now) candidates.push([rec, 'address']);
    if (glob && glob.blockedUntil > now) candidates.push([glob, 'global']);
    if (candidates.length === 0) return { allowed: true };
    candidates.sort((a, b) => b[0].blockedUntil - a[0].blockedUntil);
    const [longest, scope] = candidates[0]!;
    // Reported once per wait and address, so a client hammering during its wait cannot flood the audit log.
    const target = rec ?? longest;
    const firstRefusal = !target.refusalReported;
    target.refusalReported = true;
    return { allowed: false, retryAfterMs: longest.blockedUntil - now, firstRefusal, scope };
  }

  /** Records a failure; returns how long this address must now wait. */
  failure(address: string): { waitMs: number } {
    const now = this.now();
    let rec = this.fresh(this.records.get(address), now);
    if (!rec) {
      if (this.records.size >= this.maxTracked) this.evict(now);
      rec = { failures: 0, lastFailureAt: now, blockedUntil: 0, refusalReported: false };
    }
    this.records.delete(address);
    rec.failures++;
    rec.lastFailureAt = now;
    rec.blockedUntil = now + this.delay(rec.failures, this.maxMs);
    rec.refusalReported = false;
    this.records.set(address, rec);

    const glob = this.fresh(this.global, now) ?? { failures: 0, lastFailureAt: now, blockedUntil: 0, refusalReported: false };
    glob.failures++;
    glob.lastFailureAt = now;
    const globalWait = this.delay(glob.failures - this.globalFree, this.globalMaxMs);
    if (globalWait > 0) {
      glob.blockedUntil = now + globalWait;
      glob.refusalReported = false;
    }
    this.global = glob;
    return { waitMs: Math.max(rec.blockedUntil, glob.blockedUntil) - now };
  }

  /** The right password from this address: its record goes (the global count decays on its own). */
  success(address: string): void {
    this.records.delete(address);
  }

  private evict(now: number): void {
    for (const [addr, rec] of this.records) {
      if (now - rec.lastFailureAt >= this.forgetAfterMs) this.records.delete(addr);
    }
    // Still full: drop the oldest (Map order is insertion order, refreshed on each failure).
    while (this.records.size >= this.maxTracked) {
      const first = this.records.keys().next().value as string;
      this.records.delete(first);
    }
  }

  /** Recent failures from one address (for tests and diagnostics). */
  failuresOf(address: string): number {
    return this.fresh(this.records.get(address), this.now())?.failures ?? 0;
  }

  /** Recent failures from everywhere. */
  globalFailures(): number {
    return this.fresh(this.global, this.now())?.failures ?? 0;
  }
}
