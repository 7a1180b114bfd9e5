import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type { AuditEntry, AuditHeadReport, AuditProblem, AuditVerifyReport } from '../../../shared/evidence.js';
import { GENESIS, openLine } from './chain.js';
import { auditDir, dayOf, dayOfFile, HEAD_FILE, listAuditFiles } from './files.js';
import { readAuditKey } from './key.js';
import type { AuditHead } from './log.js';

/** Heads one relay has recorded for this connector (see relay-heads.ts). */
export interface RelayHeads {
  subaccount: string;
  relay: string;
  heads: (AuditHeadReport & { receivedAt?: string })[];
}

interface Link {
  seq: number;
  mac: string;
  prev: string;
  file: string;
  line: number;
}

const where = (l: { file: string; line: number }) => `${l.file} line ${l.line}`;

/**
 * Checks the whole chain: every MAC, every link, the order, the start (or a
 * retention purge that explains it), the end against `head.json`, and each
 * relay's copy of the head. Each problem names the file and line, so a person
 * can look at the spot.
 */
export async function verifyAuditLog(dataDir: string, relays: RelayHeads[] = []): Promise<AuditVerifyReport> {
  const dir = auditDir(dataDir);
  const problems: AuditProblem[] = [];
  const warnings: string[] = [];
  const files = listAuditFiles(dir);
  let key: Buffer | undefined;
  try {
    key = readAuditKey(dataDir);
  } catch (e) {
    problems.push({ kind: 'key', message: (e as Error).message });
  }
  if (!key && files.length > 0 && problems.length === 0) {
    problems.push({ kind: 'key', message: `the audit key ${path.join(dir, 'audit.key')} is missing, so no entry can be checked; it was deleted or this is not the installation that wrote the log` });
  }

  const links: Link[] = [];
  const bySeq = new Map<number, Link>();
  let lastPurge: AuditEntry | undefined;
  let entries = 0;

  for (let fi = 0; fi < files.length; fi++) {
    const name = files[fi]!;
    const fileDay = dayOfFile(name)!;
    const full = path.join(dir, name);
    const endsClean = endsWithNewline(full);
    const rl = readline.createInterface({ input: fs.createReadStream(full, { encoding: 'utf8' }), crlfDelay: Infinity });
    let lineNo = 0;
    let firstInFile = true;
    const lines: string[] = [];
    for await (const line of rl) lines.push(line);
    for (const line of lines) {
      lineNo += 1;
      const isLast = lineNo === lines.length;
      if (isLast && !endsClean && fi === files.length - 1) {
        warnings.push(`${name} ends in an incomplete entry at line ${lineNo}: the connector stopped while writing it (the agent removes it at its next start)`);
        break;
      }
      if (line.trim() === '') {
        problems.push({ kind: 'unreadable', file: name, line: lineNo, message: `${name} line ${lineNo} is empty: a line was blanked out or added` });
        continue;
      }
      const opened = openLine(key, line);
      if (!opened.ok) {
        problems.push({ kind: 'unreadable', file: name, line: lineNo, message: `${name} line ${lineNo} is not an audit entry (${opened.reason}): it was edited or inserted` });
        continue;
      }
      entries += 1;
      const e = opened.entry;
      if (key && !opened.macValid) {
        problems.push({ kind: 'edited', file: name, line: lineNo, seq: e.seq, message: `${name} line ${lineNo} (seq ${e.seq}) was edited: its content does not match its hash` });
      } else if (e.type === 'audit-purged') {
        lastPurge = e;
      }
      const entryDay = dayOf(e.time);
      if (firstInFile && entryDay !== fileDay) {
        problems.push({ kind: 'misplaced', file: name, line: lineNo, seq: e.seq, message: `${name} starts with an entry from ${entryDay}: the file was renamed or replaced` });
      } else if (entryDay > fileDay) {
        problems.push({ kind: 'misplaced', file: name, line: lineNo, seq: e.seq, message: `${name} line ${lineNo} (seq ${e.seq}) is dated ${entryDay}, after the file's day: it was moved here` });
      }
      firstInFile = false;
      const link: Link = { seq: e.seq, mac: e.mac, prev: e.prev, file: name, line: lineNo };
      links.push(link);
      if (!bySeq.has(e.seq)) bySeq.set(e.seq, link);
    }
  }

  checkLinks(links, bySeq, lastPurge, problems, warnings);

  const first = links[0];
  const last = links[links.length - 1];
  let maxSeq = 0;
  for (const l of links) maxSeq = Math.max(maxSeq, l.seq);

  // head.json: the connector's own record of how far the chain reached on disk.
  let head: AuditHead | undefined;
  try {
    head = JSON.parse(fs.readFileSync(path.join(dir, HEAD_FILE), 'utf8')) as AuditHead;
  } catch {
    if (links.length > 0) warnings.push(`${HEAD_FILE} is missing or unreadable, so a cut-off tail can only be found with the relay's copy`);
  }
  if (head && last) checkHead(head, 'the connector recorded', bySeq, last, maxSeq, problems);
  if (head && !last && head.seq > 0) {
    problems.push({ kind: 'truncated', message: `the audit folder holds no entries, but the connector recorded seq ${head.seq} as written: the log was deleted` });
  }

  const relaysChecked: AuditVerifyReport['relaysChecked'] = [];
  for (const r of relays) {
    relaysChecked.push({ subaccount: r.subaccount, relay: r.relay, heads: r.heads.length });
    const firstSeq = first?.seq ?? Number.POSITIVE_INFINITY;
    // The earliest contradiction is the one worth reading; later heads follow from it.
    for (const h of [...r.heads].sort((a, b) => a.seq - b.seq)) {
      if (h.seq < firstSeq && links.length > 0) continue; // removed by retention
      const before = problems.length;
      if (!last) {
        problems.push({ kind: 'truncated', message: `the relay ${r.relay} recorded seq ${h.seq} (at ${h.receivedAt ?? h.time}), but the audit folder holds no entries` });
      } else {
        checkHead(h, `the relay ${r.relay} recorded (at ${h.receivedAt ?? h.time})`, bySeq, last, maxSeq, problems);
      }
      if (problems.length > before) break;
    }
  }

  return {
    ok: problems.length === 0,
    files: files.length,
    entries,
    firstSeq: first?.seq,
    lastSeq: last?.seq,
    headMac: last?.mac,
    problems,
    warnings,
    relaysChecked,
  };
}

function checkHead(head: { seq: number; mac: string }, who: string, bySeq: Map<number, Link>, last: Link, maxSeq: number, problems: AuditProblem[]): void {
  if (head.seq > maxSeq) {
    problems.push({
      kind: 'truncated',
      file: last.file,
      line: last.line,
      seq: last.seq,
      message: `the log was cut off after ${where(last)} (seq ${last.seq}): ${who} seq ${head.seq}, so entries ${last.seq + 1}–${head.seq} are gone`,
    });
    return;
  }
  const local = bySeq.get(head.seq);
  if (!local) return; // reported as removed already
  if (local.mac !== head.mac) {
    problems.push({
      kind: 'rewritten',
      file: local.file,
      line: local.line,
      seq: head.seq,
      message: `${where(local)} (seq ${head.seq}) differs from the entry ${who}: the chain was rewritten at or before this entry`,
    });
  }
}

/** Walks the links in file order; each break is classified with the whole log in view. */
function checkLinks(links: Link[], bySeq: Map<number, Link>, lastPurge: AuditEntry | undefined, problems: AuditProblem[], warnings: string[]): void {
  const first = links[0];
  if (!first) return;
  if (first.seq !== 1 || first.prev !== GENESIS) {
    const d = lastPurge?.detail as { firstSeq?: number; firstPrev?: string } | undefined;
    if (d && d.firstSeq === first.seq && d.firstPrev === first.prev) {
      warnings.push(`entries before seq ${first.seq} were removed by the retention setting (recorded at ${lastPurge!.time})`);
    } else {
      problems.push({
        kind: 'removed',
        file: first.file,
        line: first.line,
        seq: first.seq,
        message: `the log starts at ${where(first)} with seq ${first.seq}: entries before it were removed (a deleted file or lines) and no retention purge accounts for them`,
      });
    }
  }
  const seqs = new Set(links.map((l) => l.seq));
  const found: AuditProblem[] = [];
  const visited = new Set<number>([first.seq]);
  for (let i = 1; i < links.length; i++) {
    const a = links[i - 1]!;
    const b = links[i]!;
    visited.add(b.seq);
    if (b.seq === a.seq + 1) {
      if (b.prev !== a.mac) {
        found.push({ kind: 'inserted', file: b.file, line: b.line, seq: b.seq, message: `${where(b)} (seq ${b.seq}) does not follow ${where(a)}: an entry was replaced or inserted here` });
      }
      continue;
    }
    if (b.seq <= a.seq) {
      const original = bySeq.get(b.seq);
      if (original && original !== b && original.mac === b.mac) {
        found.push({ kind: 'inserted', file: b.file, line: b.line, seq: b.seq, message: `${where(b)} is a copy of seq ${b.seq} from ${where(original)}: an entry was inserted` });
      } else {
        found.push({ kind: 'reordered', file: b.file, line: b.line, seq: b.seq, message: `${where(b)} (seq ${b.seq}) comes after seq ${a.seq}: entries were reordered` });
      }
      continue;
    }
    let missing = 0;
    let earlier = 0;
    for (let s = a.seq + 1; s < b.seq; s++) {
      if (!seqs.has(s)) missing += 1;
      else if (visited.has(s)) earlier += 1;
    }
    // The skipped entries came just before: this entry is back in place after a reordering already reported.
    if (missing === 0 && earlier === b.seq - a.seq - 1) continue;
    if (missing === 0) {
      found.push({ kind: 'reordered', file: b.file, line: b.line, seq: b.seq, message: `${where(b)} (seq ${b.seq}) comes right after seq ${a.seq}: entries were reordered` });
    } else {
      const range = a.seq + 2 === b.seq ? `seq ${a.seq + 1} is` : `seq ${a.seq + 1}–${b.seq - 1} are`;
      found.push({
        kind: 'removed',
        file: b.file,
        line: b.line,
        seq: b.seq,
        message: `entries were removed before ${where(b)}: ${range} missing between ${where(a)} and ${where(b)}`,
      });
    }
  }
  // One swap breaks up to three links; report it once, as a range of lines.
  for (const p of found) {
    const prev = problems[problems.length - 1];
    if (prev && prev.kind === 'reordered' && p.kind === 'reordered' && prev.file === p.file && p.line !== undefined && (prev.lastLine ?? prev.line ?? -9) + 1 >= p.line - 1) {
      prev.lastLine = p.line;
      prev.message = `${prev.file} lines ${prev.line}–${p.line}: entries are out of order (reordered)`;
      continue;
    }
    problems.push(p);
  }
}

function endsWithNewline(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    if (size === 0) return true;
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, size - 1);
    return b[0] === 0x0a;
  } finally {
    fs.closeSync(fd);
  }
}
