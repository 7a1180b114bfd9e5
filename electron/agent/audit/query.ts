import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { ErrorCode, SkybridgeError } from '../../../shared/errors.js';
import type { AuditEntry, AuditQuery } from '../../../shared/evidence.js';
import { openLine } from './chain.js';
import { auditDir, dayOf, dayOfFile, listAuditFiles } from './files.js';

/**
 * Reading the audit log back: filters for the viewer, `audit list` and
 * `audit export`. Reads only the daily files the time range can touch.
 */

/** Accepts an ISO date or time, or a relative `7d` / `12h` / `30m` meaning that long ago. */
export function parseTimeBound(text: string | undefined, what: string, now = Date.now()): number | undefined {
  if (text === undefined || text === '') return undefined;
  const rel = /^(\d+)([dhm])$/.exec(text.trim());
  if (rel) return now - Number(rel[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[rel[2] as 'd' | 'h' | 'm'];
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new SkybridgeError(ErrorCode.InvalidInput, `${what} "${text}" is not a time: use an ISO date or time (2025-01-31, 2025-01-31T08:00:00Z) or a span like 7d, 12h, 30m`);
  return t;
}

export interface StoredEntry {
  entry: AuditEntry;
  /** The line exactly as stored, for exports that stay verifiable. */
  line: string;
  file: string;
  lineNo: number;
}

/** Entries matching `q`, oldest first; with `limit`, the newest `limit` of them. */
export async function queryAudit(dataDir: string, q: AuditQuery): Promise<StoredEntry[]> {
  const out: StoredEntry[] = [];
  for await (const s of scanAudit(dataDir, q)) {
    out.push(s);
    if (q.limit && out.length > q.limit * 2) out.splice(0, out.length - q.limit);
  }
  return q.limit ? out.slice(-q.limit) : out;
}

export async function* scanAudit(dataDir: string, q: AuditQuery): AsyncGenerator<StoredEntry> {
  const from = parseTimeBound(q.from, 'from');
  const to = parseTimeBound(q.to, 'to');
  if (from !== undefined && to !== undefined && from >= to) throw new SkybridgeError(ErrorCode.InvalidInput, 'the start of the time range must be before its end');
  const text = q.text?.toLowerCase();
  const types = q.types && q.types.length > 0 ? new Set<string>(q.types) : undefined;
  const dir = auditDir(dataDir);
  const fromDay = from === undefined ? undefined : dayOf(from);
  const toDay = to === undefined ? undefined : dayOf(to);
  for (const name of listAuditFiles(dir)) {
    const day = dayOfFile(name)!;
    // Entries are never dated after their file's day, so earlier files hold nothing in range; later files could only
    // after the clock stepped back, a rare case not worth reading every newer file for.
    if (toDay !== undefined && day > toDay) continue;
    if (fromDay !== undefined && day < fromDay) continue;
    const rl = readline.createInterface({ input: fs.createReadStream(path.join(dir, name), { encoding: 'utf8' }), crlfDelay: Infinity });
    let lineNo = 0;
    for await (const line of rl) {
      lineNo += 1;
      const opened = openLine(undefined, line);
      if (!opened.ok) continue;
      const e = opened.entry;
      const t = Date.parse(e.time);
      if (from !== undefined && t < from) continue;
      if (to !== undefined && t >= to) continue;
      if (types && !types.has(e.type)) continue;
      if (q.subaccount !== undefined && e.subaccount !== q.subaccount) continue;
      if (text && !line.toLowerCase().includes(text)) continue;
      yield { entry: e, line, file: name, lineNo };
    }
  }
}
