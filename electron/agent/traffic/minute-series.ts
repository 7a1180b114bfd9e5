import type { MinuteSample } from '../../../shared/api.js';
import type { TrafficRecord } from '../../../shared/evidence.js';

/** How far back the dashboard chart looks. */
export const DASHBOARD_MINUTES = 30;
const MINUTE_MS = 60_000;

interface Bucket {
  /** Minutes since the epoch; -1 for a slot never used. */
  minute: number;
  requests: number;
  errors: number;
  denied: number;
  bytesIn: number;
  bytesOut: number;
}

const emptyBucket = (minute: number): Bucket => ({ minute, requests: 0, errors: 0, denied: 0, bytesIn: 0, bytesOut: 0 });

/** What the dashboard and the traffic aggregates both count as an error: the connector's own failures and any 5xx. */
export function countsAsError(r: Pick<TrafficRecord, 'outcome' | 'status'>): boolean {
  return r.outcome === 'error' || r.status >= 500;
}

/**
 * Requests and TCP connections per wall-clock minute, per subaccount, for the
 * dashboard chart. Each subaccount has a fixed ring of slots, one per minute of
 * the window, so memory stays flat at any request rate; a slot is reset when a
 * later minute claims it, which is how quiet minutes read as zeros.
 */
export class MinuteSeries {
  private readonly rings = new Map<string, Bucket[]>();

  constructor(readonly minutes = DASHBOARD_MINUTES) {}

  /** Counted in the minute the record ends in (its `at`), not the minute it arrives here. */
  record(r: TrafficRecord): void {
    const at = Date.parse(r.at);
    if (Number.isNaN(at)) return;
    const minute = Math.floor(at / MINUTE_MS);
    let ring = this.rings.get(r.subaccountId);
    if (!ring) {
      ring = Array.from({ length: this.minutes }, () => emptyBucket(-1));
      this.rings.set(r.subaccountId, ring);
    }
    const slot = this.slotOf(minute);
    let b = ring[slot]!;
    if (b.minute !== minute) {
      // A straggler from a minute whose slot a newer minute already holds is out of the window anyway.
      if (b.minute > minute) return;
      b = ring[slot] = emptyBucket(minute);
    }
    b.requests += 1;
    if (countsAsError(r)) b.errors += 1;
    if (r.outcome === 'denied') b.denied += 1;
    b.bytesIn += r.bytesIn ?? 0;
    b.bytesOut += r.bytesOut ?? 0;
  }

  /** The window ending with the minute `now` falls in: oldest first, one sample per minute, zeros included. */
  window(subaccountId: string, now = Date.now()): MinuteSample[] {
    const current = Math.floor(now / MINUTE_MS);
    const ring = this.rings.get(subaccountId);
    const out: MinuteSample[] = [];
    for (let m = current - this.minutes + 1; m <= current; m++) {
      const b = ring?.[this.slotOf(m)];
      const hit = b && b.minute === m ? b : emptyBucket(m);
      out.push({
        minute: new Date(m * MINUTE_MS).toISOString(),
        requests: hit.requests,
        errors: hit.errors,
        denied: hit.denied,
        bytesIn: hit.bytesIn,
        bytesOut: hit.bytesOut,
      });
    }
    return out;
  }

  private slotOf(minute: number): number {
    return ((minute % this.minutes) + this.minutes) % this.minutes;
  }
}
