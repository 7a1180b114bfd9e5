import fs from 'node:fs';
import path from 'node:path';

/**
 * Where the audit log lives: `<dataDir>/audit/`, one append-only file per UTC
 * day (`audit-YYYY-MM-DD.jsonl`), the installation's key and the last head
 * the connector knows to be on disk.
 */
export const AUDIT_DIR = 'audit';
export const KEY_FILE = 'audit.key';
export const HEAD_FILE = 'head.json';
export const SNAPSHOT_FILE = 'config-snapshot.json';

const FILE_RE = /^audit-(\d{4}-\d{2}-\d{2})\.jsonl$/;

export function auditDir(dataDir: string): string {
  return path.join(dataDir, AUDIT_DIR);
}

/** `YYYY-MM-DD` of an ISO time or Date, in UTC: the day a file covers. */
export function dayOf(time: string | Date | number): string {
  // The common case, an ISO time in UTC as toISOString() writes it, needs no parsing.
  if (typeof time === 'string' && time.length === 24 && time.endsWith('Z') && time[10] === 'T') return time.slice(0, 10);
  return new Date(time).toISOString().slice(0, 10);
}

export function fileForDay(day: string): string {
  return `audit-${day}.jsonl`;
}

export function dayOfFile(name: string): string | undefined {
  return FILE_RE.exec(name)?.[1];
}

/** The daily files, oldest first. */
export function listAuditFiles(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return names.filter((n) => FILE_RE.test(n)).sort();
}

export { fsyncDirSync } from '../../../common/durable-fs.js';
