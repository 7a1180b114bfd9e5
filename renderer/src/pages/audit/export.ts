import type { AuditEntry, AuditQuery } from '../../../../shared/evidence.js';
import { actorText, targetText } from './describe.js';

export const EXPORT_FORMATS = [
  { value: 'jsonl', label: 'JSON Lines (.jsonl)' },
  { value: 'csv', label: 'CSV (.csv)' },
] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number]['value'];

/**
 * Travels with the entries: how many, which range and filter, and the SHA-256 of everything
 * after the manifest, so a recipient can tell a complete file from a cut or edited one. Each
 * entry keeps its own `prev` and `mac`, which `skybridge audit verify` checks against the log.
 */
export interface ExportManifest {
  kind: 'skybridge-audit-export';
  version: 1;
  exportedAt: string;
  count: number;
  from?: string;
  to?: string;
  firstSeq?: number;
  lastSeq?: number;
  filter: Omit<AuditQuery, 'limit'>;
  /** Hex SHA-256 of the UTF-8 bytes after the manifest line(s). */
  sha256: string;
}

export interface AuditExport {
  blob: Blob;
  fileName: string;
  manifest: ExportManifest;
}

const CSV_COLUMNS = ['seq', 'time', 'subaccount', 'type', 'outcome', 'status', 'actor', 'target', 'reason', 'requestId', 'changes', 'detail', 'prev', 'mac'] as const;

/** Quoted, and defused when a spreadsheet would run it as a formula (=, +, -, @ at the start). */
function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  let s = typeof value === 'string' ? value : typeof value === 'number' ? String(value) : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

function csvRow(e: AuditEntry): string {
  const cells: Record<(typeof CSV_COLUMNS)[number], unknown> = {
    seq: e.seq,
    time: e.time,
    subaccount: e.subaccount,
    type: e.type,
    outcome: e.outcome,
    status: e.status,
    actor: actorText(e.actor),
    target: targetText(e.target),
    reason: e.reason,
    requestId: e.requestId,
    changes: e.changes,
    detail: e.detail,
    prev: e.prev,
    mac: e.mac,
  };
  return CSV_COLUMNS.map((c) => csvCell(cells[c])).join(',');
}

async function sha256Hex(text: string): Promise<string> {
  if (!globalThis.crypto?.subtle) throw new Error('This browser cannot compute SHA-256 here (it needs HTTPS or the desktop app).');
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Builds the file in the renderer (no Node, no round trip): `entries` oldest first. JSONL
 * starts with one `{"manifest":…}` line; CSV with `#` comment lines, then a header row.
 */
export async function buildAuditExport(entries: readonly AuditEntry[], format: ExportFormat, query: AuditQuery, now = new Date()): Promise<AuditExport> {
  const body =
    format === 'jsonl'
      ? entries.map((e) => `${JSON.stringify(e)}\n`).join('')
      : `${CSV_COLUMNS.join(',')}\r\n${entries.map((e) => `${csvRow(e)}\r\n`).join('')}`;
  const { limit: _limit, ...filter } = query;
  const first = entries[0];
  const last = entries[entries.length - 1];
  const from = query.from ?? first?.time;
  const to = query.to ?? last?.time;
  const manifest: ExportManifest = {
    kind: 'skybridge-audit-export',
    version: 1,
    exportedAt: now.toISOString(),
    count: entries.length,
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
    ...(first && last ? { firstSeq: first.seq, lastSeq: last.seq } : {}),
    filter,
    sha256: await sha256Hex(body),
  };
  const head =
    format === 'jsonl'
      ? `${JSON.stringify({ manifest })}\n`
      : `# ${manifest.kind} v1; sha256 covers every line after these comments\r\n# ${JSON.stringify(manifest)}\r\n`;
  const stamp = manifest.exportedAt.replace(/[:.]/g, '-');
  return {
    blob: new Blob([head, body], { type: format === 'jsonl' ? 'application/x-ndjson' : 'text/csv' }),
    fileName: `skybridge-audit-${stamp}.${format}`,
    manifest,
  };
}

/** Hands a blob to the browser's download (Electron shows its save dialog). */
export function downloadBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  // The download has started reading the URL by now; a delay keeps slower browsers safe.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
