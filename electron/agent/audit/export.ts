import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { VERSION } from '../../../common/version.js';
import type { AuditEntry, AuditQuery, AuditVerifyReport } from '../../../shared/evidence.js';
import { auditDir } from './files.js';
import { scanAudit } from './query.js';
import { verifyAuditLog } from './verify.js';

export type AuditExportFormat = 'jsonl' | 'csv';

export interface AuditManifest {
  kind: 'skybridge-audit-export';
  createdAt: string;
  skybridgeVersion: string;
  format: AuditExportFormat;
  filters: AuditQuery;
  file: string;
  bytes: number;
  /** SHA-256 of the exported file, so a recipient can tell it arrived unchanged. */
  sha256: string;
  entries: number;
  byType: Record<string, number>;
  bySubaccount: Record<string, number>;
  firstSeq?: number;
  lastSeq?: number;
  firstTime?: string;
  lastTime?: string;
  /** True when no entry between the first and the last is left out (no type or text filter cut the chain). */
  contiguous: boolean;
  /** The exported entries link to this hash before the first of them... */
  chainStartPrev?: string;
  /** ...and end with this one; both can be checked against the site's log and the relay's copy. */
  chainEndMac?: string;
  /** The daily files the entries came from, with their SHA-256 at export time. */
  sourceFiles: { name: string; sha256: string }[];
  /** The whole log's verification at export time (without asking the relays). */
  verification: Pick<AuditVerifyReport, 'ok' | 'entries' | 'problems' | 'warnings'>;
}

const CSV_COLUMNS = ['seq', 'time', 'subaccount', 'type', 'actor', 'app', 'user', 'virtual', 'internal', 'method', 'path', 'object', 'outcome', 'status', 'reason', 'changes', 'prev', 'mac'] as const;

/** Quotes when needed, and defuses cells a spreadsheet would run as a formula. */
function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  let s = typeof value === 'string' ? value : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvRow(e: AuditEntry): string {
  const actor = e.actor;
  const cells: Record<(typeof CSV_COLUMNS)[number], unknown> = {
    seq: e.seq,
    time: e.time,
    subaccount: e.subaccount,
    type: e.type,
    actor: actor.kind === 'local-admin' ? `local-admin (${actor.via})` : actor.kind,
    app: actor.kind === 'cloud-app' ? actor.app : undefined,
    user: actor.kind === 'cloud-app' ? actor.user : actor.kind === 'local-admin' ? actor.user : undefined,
    virtual: e.target.virtual,
    internal: e.target.internal,
    method: e.target.method,
    path: e.target.path,
    object: e.target.object,
    outcome: e.outcome,
    status: e.status,
    reason: e.reason,
    changes: e.changes,
    prev: e.prev,
    mac: e.mac,
  };
  return CSV_COLUMNS.map((c) => csvCell(cells[c])).join(',');
}

function sha256File(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/**
 * Writes the entries matching `q` to `out` (JSONL lines exactly as stored, so
 * they stay verifiable; or CSV for people) and `out.manifest.json` beside it.
 */
export async function exportAudit(dataDir: string, q: AuditQuery, out: string, format: AuditExportFormat): Promise<{ file: string; manifestFile: string; manifest: AuditManifest }> {
  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  const ws = fs.createWriteStream(out, { mode: 0o600 });
  const hash = createHash('sha256');
  let bytes = 0;
  const write = async (text: string) => {
    hash.update(text);
    bytes += Buffer.byteLength(text);
    if (!ws.write(text)) await once(ws, 'drain');
  };
  const byType: Record<string, number> = {};
  const bySubaccount: Record<string, number> = {};
  const sources = new Set<string>();
  let first: AuditEntry | undefined;
  let last: AuditEntry | undefined;
  let contiguous = true;
  let entries = 0;
  if (format === 'csv') await write(`${CSV_COLUMNS.join(',')}\n`);
  try {
    for await (const s of scanAudit(dataDir, q)) {
      const e = s.entry;
      if (last && e.seq !== last.seq + 1) contiguous = false;
      first ??= e;
      last = e;
      entries += 1;
      byType[e.type] = (byType[e.type] ?? 0) + 1;
      bySubaccount[e.subaccount || '(installation)'] = (bySubaccount[e.subaccount || '(installation)'] ?? 0) + 1;
      sources.add(s.file);
      await write(format === 'csv' ? `${csvRow(e)}\n` : `${s.line}\n`);
    }
  } finally {
    ws.end();
    await once(ws, 'close');
  }
  const report = await verifyAuditLog(dataDir);
  const dir = auditDir(dataDir);
  const manifest: AuditManifest = {
    kind: 'skybridge-audit-export',
    createdAt: new Date().toISOString(),
    skybridgeVersion: VERSION,
    format,
    filters: q,
    file: path.basename(out),
    bytes,
    sha256: hash.digest('hex'),
    entries,
    byType,
    bySubaccount,
    firstSeq: first?.seq,
    lastSeq: last?.seq,
    firstTime: first?.time,
    lastTime: last?.time,
    contiguous,
    chainStartPrev: first?.prev,
    chainEndMac: last?.mac,
    sourceFiles: [...sources].sort().map((name) => ({ name, sha256: sha256File(path.join(dir, name)) })),
    verification: { ok: report.ok, entries: report.entries, problems: report.problems, warnings: report.warnings },
  };
  const manifestFile = `${out}.manifest.json`;
  fs.writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  return { file: out, manifestFile, manifest };
}
