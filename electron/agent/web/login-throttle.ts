/**
 * Slows down password guessing at the headless UI. Each failed sign-in from an address
 * doubles that address's wait (1 s, 2 s, 4 s … up to a cap); a global counter does the
 * same for failures from everywhere once a few have happened, so spreading guesses over
 * many addresses does not help. An attempt that arrives while a wait is running is not
 * checked at all: it gets 429 with Retry-After. A success clears its address's record.
 *
 * Asking and counting are one step: `begin()` hands out a ticket and, until the ticket is
 * settled, the attempt counts as the failure it probably is. So parallel requests cannot all
 * slip through before the first one's failure is recorded: only one attempt per address is
 * checked at a time, and once failures from everywhere use up the global allowance, only one
 * at a time overall. Addresses are grouped the way one client usually holds them: an IPv6
 * /64 is one address (a host gets a whole /64), IPv4-mapped IPv6 is the IPv4 address.
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
  /** Attempts being checked right now (begun, not yet settled). */
  inFlight: number;
  lastFailureAt: number;
  /** No attempt is checked before this time. */
  blockedUntil: number;
  /** Whether a refusal in the current wait has been reported (audited) already. */
  refusalReported: boolean;
}

function emptyRecord(now: number): Record {
  return { failures: 0, inFlight: 0, lastFailureAt: now, blockedUntil: 0, refusalReported: false };
}

export type ThrottleRefusal = { allowed: false; retryAfterMs: number; firstRefusal: boolean; scope: 'address' | 'global' };
export type ThrottleDecision = { allowed: true } | ThrottleRefusal;

/** One attempt being checked: settle it exactly once (later calls do nothing). */
export interface ThrottleTicket {
  /** The password was wrong: the failure is recorded; returns how long this address must now wait. */
  failed(): { waitMs: number };
  /** The password was right: the address's record goes. */
  succeeded(): void;
  /** Nothing was decided (the check could not run): the attempt does not count either way. */
  cancel(): void;
}

/**
 * The key one client is tracked under: IPv4 as is, IPv4-mapped IPv6 as its IPv4 address,
 * other IPv6 as its /64 network (`2001:db8:1:2::/64`).
 */
export function throttleKey(address: string): string {
  const a = address.trim().toLowerCase().replace(/%.*$/, '');
  if (!a.includes(':')) return a;
  const hextets = expandIpv6(a);
  if (!hextets) return a;
  if (hextets.slice(0, 5).every((h) => h === 0) && hextets[5] === 0xffff) {
    return [hextets[6]! >> 8, hextets[6]! & 255, hextets[7]! >> 8, hextets[7]! & 255].join('.');
  }
  return `${hextets
    .slice(0, 4)
    .map((h) => h.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (with `::` and a dotted IPv4 tail), or undefined. */
function expandIpv6(a: string): number[] | undefined {
  let text = a;
  const dotted = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (dotted) {
    const b = dotted.slice(1).map(Number);
    if (b.some((x) => x > 255)) return undefined;
    text = `${text.slice(0, dotted.index)}${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string) => (part === '' ? [] : part.split(':'));
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return undefined;
  return groups.map((g) => parseInt(g, 16));
}

export class LoginThrottle {
  private readonly now: () => number;
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly globalFree: number;
  private readonly globalMaxMs: number;
  private readonly forgetAfterMs: number;
  private readonly maxTracked: number;
  private readonly records = new Map<string, Record>();
  /** One object for the life of the throttle (tickets settle against it), reset in place when stale. */
  private readonly global: Record = emptyRecord(0);

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

  /** Forgets old failures (in place, so attempts in flight keep counting). */
  private refresh(rec: Record, now: number): Record {
    if (now - rec.lastFailureAt >= this.forgetAfterMs) {
      rec.failures = 0;
      rec.blockedUntil = 0;
      rec.refusalReported = false;
      rec.lastFailureAt = now;
    }
    return rec;
  }

  private recordOf(key: string, now: number): Record | undefined {
    const rec = this.records.get(key);
    return rec && this.refresh(rec, now);
  }

  /** The record for a key, made (and the map kept within its bound) if there is none. */
  private ensureRecord(key: string, now: number): Record {
    const rec = this.recordOf(key, now);
    if (rec) return rec;
    if (this.records.size >= this.maxTracked) this.evict(now);
    const made = emptyRecord(now);
    this.records.set(key, made);
    return made;
  }

  /**
   * May an attempt from this address be checked now? If so, it counts as in flight until its
   * ticket is settled, and attempts that arrive meanwhile are refused as if it had failed.
   */
  begin(address: string): ({ allowed: true } & ThrottleTicket) | ThrottleRefusal {
    const key = throttleKey(address);
    const now = this.now();
    const refusal = this.refusal(key, now);
    if (refusal) return refusal;
    this.ensureRecord(key, now).inFlight++;
    this.refresh(this.global, now).inFlight++;
    let settled = false;
    const settle = () => {
      if (settled) return false;
      settled = true;
      const rec = this.records.get(key);
      if (rec) rec.inFlight = Math.max(0, rec.inFlight - 1);
      this.global.inFlight = Math.max(0, this.global.inFlight - 1);
      return true;
    };
    return {
      allowed: true,
      failed: () => (settle() ? this.failure(key) : { waitMs: 0 }),
      succeeded: () => {
        if (settle()) this.success(key);
      },
      cancel: () => {
        if (!settle()) return;
        const rec = this.records.get(key);
        if (rec && rec.failures === 0 && rec.inFlight === 0) this.records.delete(key);
      },
    };
  }

  /** Why an attempt from this key may not be checked now, if it may not. */
  private refusal(key: string, now: number): ThrottleRefusal | undefined {
    const rec = this.recordOf(key, now);
    const glob = this.refresh(this.global, now);
    const candidates: Array<[Record, number, 'address' | 'global']> = [];
    if (rec && rec.blockedUntil > now) candidates.push([rec, rec.blockedUntil - now, 'address']);
    // An attempt still being checked counts as the failure it probably is: the wait is the one it would earn.
    if (rec && rec.inFlight > 0) candidates.push([rec, this.delay(rec.failures + 1, this.maxMs), 'address']);
    if (glob.blockedUntil > now) candidates.push([glob, glob.blockedUntil - now, 'global']);
    // Past the global allowance, attempts from everywhere are checked one at a time.
    if (glob.inFlight > 0 && glob.failures + glob.inFlight >= this.globalFree) {
      candidates.push([glob, Math.max(this.baseMs, this.delay(glob.failures + glob.inFlight + 1 - this.globalFree, this.globalMaxMs)), 'global']);
    }
    if (candidates.length === 0) return undefined;
    candidates.sort((a, b) => b[1] - a[1]);
    const [longest, retryAfterMs, scope] = candidates[0]!;
    // Reported once per wait and address, so a client hammering during its wait cannot flood the audit log.
    const target = rec ?? longest;
    const firstRefusal = !target.refusalReported;
    target.refusalReported = true;
    return { allowed: false, retryAfterMs, firstRefusal, scope };
  }

  /** May an attempt from this address be checked now? (Only asks; the sign-in uses `begin()`.) */
  check(address: string): ThrottleDecision {
    return this.refusal(throttleKey(address), this.now()) ?? { allowed: true };
  }

  /** Records a failure; returns how long this address must now wait. */
  failure(address: string): { waitMs: number } {
    const key = throttleKey(address);
    const now = this.now();
    const rec = this.ensureRecord(key, now);
    // Re-inserted so the map's order is the order of the latest failures (eviction drops the oldest).
    this.records.delete(key);
    rec.failures++;
    rec.lastFailureAt = now;
    rec.blockedUntil = now + this.delay(rec.failures, this.maxMs);
    rec.refusalReported = false;
    this.records.set(key, rec);

    const glob = this.refresh(this.global, now);
    glob.failures++;
    glob.lastFailureAt = now;
    const globalWait = this.delay(glob.failures - this.globalFree, this.globalMaxMs);
    if (globalWait > 0) {
      glob.blockedUntil = now + globalWait;
      glob.refusalReported = false;
    }
    return { waitMs: Math.max(rec.blockedUntil, glob.blockedUntil) - now };
  }

  /** The right password from this address: its record goes (the global count decays on its own). */
  success(address: string): void {
    const key = throttleKey(address);
    const rec = this.records.get(key);
    // Another attempt from the same client may still be in flight; the record must outlive it.
    if (rec && rec.inFlight > 0) {
      rec.failures = 0;
      rec.blockedUntil = 0;
    } else this.records.delete(key);
  }

  private evict(now: number): void {
    for (const [key, rec] of this.records) {
      if (rec.inFlight === 0 && now - rec.lastFailureAt >= this.forgetAfterMs) this.records.delete(key);
    }
    // Still full: drop the oldest (Map order is insertion order, refreshed on each failure).
    while (this.records.size >= this.maxTracked) {
      const first = this.records.keys().next().value as string;
      this.records.delete(first);
    }
  }

  /** Recent failures from one address (for tests and diagnostics). */
  failuresOf(address: string): number {
    return this.recordOf(throttleKey(address), this.now())?.failures ?? 0;
  }

  /** Recent failures from everywhere. */
  globalFailures(): number {
    return this.refresh(this.global, this.now()).failures;
  }
}
