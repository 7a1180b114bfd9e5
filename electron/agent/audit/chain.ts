import { createHmac, timingSafeEqual } from 'node:crypto';
import { auditEntrySchema, type AuditEntry } from '../../../shared/evidence.js';

/**
 * The line format of the audit log (docs/audit.md). Each entry is one JSON
 * line whose last field is `mac`: HMAC-SHA256, under the installation's key,
 * of the exact bytes of the line without that field. The line before it
 * contributes its `mac` as this line's `prev`, so the entries form one chain:
 * changing, removing, inserting or moving any line breaks a link that
 * `verify` can point at.
 */

/** `prev` of the very first entry. */
export const GENESIS = '0'.repeat(64);

const MAC_TAIL = /,"mac":"([0-9a-f]{64})"\}$/;

export type Unsealed = Omit<AuditEntry, 'mac'>;

export function macOf(key: Buffer, body: string): string {
  return createHmac('sha256', key).update(body, 'utf8').digest('hex');
}

type Chained = Pick<Unsealed, 'seq' | 'time' | 'prev'>;

/** Fields in a fixed order, so the bytes (and so the MAC) do not depend on how the caller built the object. */
function ordered(e: Omit<Unsealed, keyof Chained>, c: Chained): Unsealed {
  const out: Record<string, unknown> = { seq: c.seq, time: c.time, subaccount: e.subaccount, type: e.type, actor: e.actor, target: e.target, outcome: e.outcome };
  if (e.reason !== undefined) out.reason = e.reason;
  if (e.status !== undefined) out.status = e.status;
  if (e.requestId !== undefined) out.requestId = e.requestId;
  if (e.changes !== undefined) out.changes = e.changes;
  if (e.detail !== undefined) out.detail = e.detail;
  out.prev = c.prev;
  return out as Unsealed;
}

/**
 * The line to append (without the newline) and its MAC, which the next entry
 * takes as `prev`. `chained` may be left out when `entry` carries seq, time
 * and prev itself.
 */
export function seal(key: Buffer, entry: Omit<Unsealed, keyof Chained> & Partial<Chained>, chained?: Chained): { line: string; mac: string; entry: AuditEntry } {
  const full = ordered(entry, chained ?? (entry as Chained));
  const body = JSON.stringify(full);
  const mac = macOf(key, body);
  (full as AuditEntry).mac = mac;
  return { line: `${body.slice(0, -1)},"mac":"${mac}"}`, mac, entry: full as AuditEntry };
}

export type OpenedLine =
  | { ok: true; entry: AuditEntry; macValid: boolean }
  | { ok: false; reason: string };

/** Parses one stored line and checks its MAC against the exact bytes that were sealed. */
export function openLine(key: Buffer | undefined, line: string): OpenedLine {
  const tail = MAC_TAIL.exec(line);
  if (!tail) return { ok: false, reason: 'the line does not end with a "mac" field' };
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return { ok: false, reason: 'the line is not valid JSON' };
  }
  const parsed = auditEntrySchema.safeParse(raw);
  if (!parsed.success) return { ok: false, reason: 'the line is not a well-formed audit entry' };
  if (!key) return { ok: true, entry: parsed.data, macValid: false };
  const body = `${line.slice(0, tail.index)}}`;
  const expected = Buffer.from(macOf(key, body), 'hex');
  const stated = Buffer.from(tail[1]!, 'hex');
  return { ok: true, entry: parsed.data, macValid: timingSafeEqual(expected, stated) };
}
