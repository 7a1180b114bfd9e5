import fs from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { Logger } from '../../../common/logger.js';
import type { AuditDraft, AuditEntry } from '../../../shared/evidence.js';
import { GENESIS, openLine, seal } from './chain.js';
import { auditDir, dayOf, dayOfFile, fileForDay, fsyncDirSync, HEAD_FILE, listAuditFiles } from './files.js';
import { loadOrCreateAuditKey } from './key.js';

/** The newest entry known to be on disk. */
export interface AuditHead {
  seq: number;
  mac: string;
  time: string;
  file: string;
}

export interface AuditLogOptions {
  logger: Logger;
  /** Read at each rotation; 0 keeps everything. */
  retentionDays: () => number;
  /** How long an entry that did not ask for durability may stay unsynced. */
  syncIntervalMs?: number;
  now?: () => Date;
  /** Called after each entry is written (not necessarily synced). */
  onWritten?: (entry: AuditEntry) => void;
  onWriteError?: (err: Error) => void;
}

const NOOP = () => undefined;

interface Pending {
  line: string;
  entry: AuditEntry;
  day: string;
  durable: boolean;
  settled: boolean;
  resolve: (entry: AuditEntry) => void;
  reject: (err: Error) => void;
}

const MAX_BATCH_BYTES = 4 * 1024 * 1024;
/** Entries nobody waits for are gathered this long, so a busy connector writes a few large batches, not one per request. */
const BATCH_MS = 5;
const HEAD_WRITE_INTERVAL_MS = 1000;

/**
 * The append-only, hash-chained audit log (docs/audit.md).
 *
 * `append` seals the entry at once (sequence number, link to the previous
 * entry, MAC: cheap CPU work, no I/O) and queues it; one writer drains the
 * queue in batches with a single write each, so the request path never waits
 * on the disk unless it asks to. An entry appended with `durable` resolves only
 * after a datasync that covers it; concurrent durable entries share one
 * datasync (group commit). Everything else is synced within `syncIntervalMs`
 * and on close. A failed write keeps its batch and retries, so the chain on
 * disk never skips a link.
 */
export class AuditLog {
  readonly dir: string;
  private readonly key: Buffer;
  private seq = 0;
  private lastMac = GENESIS;
  /** The day of the file entries currently go to; never moves backwards, so a clock step back cannot reopen an old file. */
  private fileDay: string | undefined;
  private queue: Pending[] = [];
  private drainPromise: Promise<void> | undefined;
  private fh: FileHandle | undefined;
  private fhDay: string | undefined;
  private written: AuditHead | undefined;
  private synced: AuditHead | undefined;
  private headOnDisk: AuditHead | undefined;
  private lastHeadWrite = 0;
  private syncWanted = false;
  private purgeWanted = true;
  private syncTimer: NodeJS.Timeout | undefined;
  private batchTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private failures = 0;
  private recovered: { file: string; bytes: number; sha256: string } | undefined;

  private constructor(dataDir: string, private readonly opts: AuditLogOptions) {
    this.dir = auditDir(dataDir);
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.key = loadOrCreateAuditKey(dataDir);
  }

  /** Opens the log and finds where the chain ends. Synchronous: it runs once, at start, before any request. */
  static open(dataDir: string, opts: AuditLogOptions): AuditLog {
    const log = new AuditLog(dataDir, opts);
    log.resume();
    return log;
  }

  get pending(): number {
    return this.queue.length;
  }

  /** The newest entry that is synced to disk: what is safe to report to the relay. */
  get head(): AuditHead | undefined {
    return this.synced;
  }

  private now(): Date {
    return this.opts.now?.() ?? new Date();
  }

  /** Reads the tail of the newest file; an incomplete last line (a crash mid-write) is cut off and recorded. */
  private resume(): void {
    const files = listAuditFiles(this.dir);
    for (let i = files.length - 1; i >= 0; i--) {
      const name = files[i]!;
      const file = path.join(this.dir, name);
      const tail = readLastLine(file);
      if (tail.torn && i === files.length - 1) {
        fs.truncateSync(file, tail.keepBytes);
        this.recovered = { file: name, bytes: tail.torn.length, sha256: createHash('sha256').update(tail.torn).digest('hex') };
      }
      if (!tail.line) continue;
      const opened = openLine(this.key, tail.line);
      if (!opened.ok) {
        this.opts.logger.error({ file: name }, 'the last audit entry is unreadable; the chain continues after it and verify will report the damage');
        continue;
      }
      if (!opened.macValid) this.opts.logger.error({ file: name, seq: opened.entry.seq }, 'the last audit entry does not match the audit key; verify will report it');
      this.seq = opened.entry.seq;
      this.lastMac = opened.entry.mac;
      this.fileDay = dayOfFile(name);
      this.written = this.synced = { seq: this.seq, mac: this.lastMac, time: opened.entry.time, file: name };
      break;
    }
    try {
      this.headOnDisk = JSON.parse(fs.readFileSync(path.join(this.dir, HEAD_FILE), 'utf8')) as AuditHead;
    } catch {
      this.headOnDisk = undefined;
    }
    if (this.recovered) {
      const r = this.recovered;
      void this.append(
        {
          subaccount: '',
          type: 'audit-recovered',
          actor: { kind: 'connector' },
          target: {},
          outcome: 'info',
          reason: `an incomplete entry at the end of ${r.file} (${r.bytes} bytes, written when the connector stopped uncleanly) was removed`,
          detail: r,
        },
        { durable: true },
      ).catch(() => undefined);
    }
  }

  /** Seals and queues an entry; resolves once it is written (and synced, with `durable`). */
  append(draft: AuditDraft, opts: { durable: boolean }): Promise<AuditEntry> {
    if (this.closed) return Promise.reject(new Error('the audit log is closed'));
    return new Promise<AuditEntry>((resolve, reject) => this.enqueue(draft, opts.durable, resolve, reject, true));
  }

  /** For entries nobody waits on (`all`-level requests): no promise to make per request; a failure is logged by the writer. */
  appendLater(draft: AuditDraft): void {
    if (!this.closed) this.enqueue(draft, false, NOOP, NOOP, false);
  }

  private enqueue(draft: AuditDraft, durable: boolean, resolve: (e: AuditEntry) => void, reject: (err: Error) => void, urgent: boolean): void {
    const time = draft.time ?? this.now().toISOString();
    const entryDay = dayOf(time);
    const day = this.fileDay && this.fileDay > entryDay ? this.fileDay : entryDay;
    this.fileDay = day;
    this.seq += 1;
    const sealed = seal(this.key, draft, { time, seq: this.seq, prev: this.lastMac });
    this.lastMac = sealed.mac;
    this.queue.push({ line: sealed.line, entry: sealed.entry, day, durable, settled: false, resolve, reject });
    this.kick(urgent);
  }

  /** Resolves when everything appended so far is written and synced. */
  async flush(): Promise<void> {
    this.syncWanted = true;
    this.kick(true);
    while (this.drainPromise) await this.drainPromise;
  }

  /** Writes what is queued, syncs, records the head, and refuses further appends. */
  async close(): Promise<void> {
    if (this.closed && !this.fh) return;
    await this.flush();
    this.closed = true;
    clearTimeout(this.syncTimer);
    await this.writeHead(true);
    await this.fh?.close().catch(() => undefined);
    this.fh = undefined;
  }

  /** Starts the writer now (`urgent`: someone waits) or after BATCH_MS; a running writer picks new entries up itself. */
  private kick(urgent: boolean): void {
    if (this.drainPromise) return;
    if (!urgent) {
      this.batchTimer ??= setTimeout(() => {
        this.batchTimer = undefined;
        this.kick(true);
      }, BATCH_MS);
      return;
    }
    clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    this.drainPromise = this.drain().finally(() => {
      this.drainPromise = undefined;
      // Work that arrived while the last round was finishing.
      if (this.queue.length > 0 || this.syncWanted) this.kick(this.syncWanted || this.queue.some((p) => p.resolve !== NOOP));
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 || this.syncWanted || this.purgeWanted) {
      if (this.purgeWanted && this.queue.length === 0) {
        this.purgeWanted = false;
        await this.purge().catch((err: Error) => this.opts.logger.warn({ err: err.message }, 'audit retention could not remove old files'));
        continue;
      }
      if (this.queue.length === 0) {
        this.syncWanted = false;
        try {
          if (this.fh && this.written !== this.synced) await this.syncNow();
          else await this.writeHead(false);
        } catch (err) {
          await this.failed(err as Error, []);
        }
        continue;
      }
      const day = this.queue[0]!.day;
      const batch: Pending[] = [];
      let bytes = 0;
      for (const p of this.queue) {
        if (p.day !== day || (bytes > 0 && bytes + p.line.length > MAX_BATCH_BYTES)) break;
        batch.push(p);
        bytes += p.line.length + 1;
      }
      try {
        const fh = await this.fileFor(day);
        await fh.write(batch.map((p) => `${p.line}\n`).join(''));
        const last = batch[batch.length - 1]!.entry;
        this.written = { seq: last.seq, mac: last.mac, time: last.time, file: fileForDay(day) };
        this.queue.splice(0, batch.length);
        const durable = batch.some((p) => p.durable) || this.syncWanted;
        if (durable) await this.syncNow();
        else this.armSyncTimer();
        this.failures = 0;
        for (const p of batch) {
          this.opts.onWritten?.(p.entry);
          if (!p.settled) {
            p.settled = true;
            p.resolve(p.entry);
          }
        }
      } catch (err) {
        await this.failed(err as Error, batch);
      }
    }
  }

  /** Keeps the batch queued for another try; callers waiting on it are told now, so a denial is not held up by a broken disk. */
  private async failed(err: Error, batch: Pending[]): Promise<void> {
    this.failures += 1;
    this.opts.onWriteError?.(err);
    if (this.failures === 1 || this.failures % 50 === 0) {
      this.opts.logger.error({ err: err.message, queued: this.queue.length, attempt: this.failures }, 'cannot write the audit log; retrying');
    }
    for (const p of batch) {
      if (!p.settled) {
        p.settled = true;
        p.reject(err);
      }
    }
    await this.fh?.close().catch(() => undefined);
    this.fh = undefined;
    this.fhDay = undefined;
    if (this.closed) {
      this.queue = [];
      return;
    }
    await new Promise((r) => setTimeout(r, Math.min(5000, 50 * 2 ** Math.min(this.failures, 7))));
  }

  private armSyncTimer(): void {
    if (this.syncTimer || this.closed) return;
    this.syncTimer = setTimeout(() => {
      this.syncTimer = undefined;
      this.syncWanted = true;
      this.kick(true);
    }, this.opts.syncIntervalMs ?? 1000);
    this.syncTimer.unref();
  }

  private async syncNow(): Promise<void> {
    if (!this.fh) return;
    await this.fh.datasync();
    this.synced = this.written;
    await this.writeHead(false);
  }

  /** `head.json`: the newest synced entry, so a cut-off tail is noticed even without the relay. At most once a second, and on close. */
  private async writeHead(force: boolean): Promise<void> {
    const head = this.synced;
    if (!head || head === this.headOnDisk) return;
    if (!force && Date.now() - this.lastHeadWrite < HEAD_WRITE_INTERVAL_MS) {
      this.armSyncTimer();
      return;
    }
    this.lastHeadWrite = Date.now();
    const file = path.join(this.dir, HEAD_FILE);
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      await fsp.writeFile(tmp, `${JSON.stringify(head)}\n`, { mode: 0o600 });
      await fsp.rename(tmp, file);
      this.headOnDisk = head;
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message }, 'could not record the audit head');
    }
  }

  private async fileFor(day: string): Promise<FileHandle> {
    if (this.fh && this.fhDay === day) return this.fh;
    if (this.fh) {
      await this.syncNow();
      await this.fh.close();
      this.fh = undefined;
    }
    const name = fileForDay(day);
    const isNew = !fs.existsSync(path.join(this.dir, name));
    this.fh = await fsp.open(path.join(this.dir, name), 'a', 0o600);
    this.fhDay = day;
    if (isNew) {
      fsyncDirSync(this.dir);
      this.purgeWanted = true;
    }
    return this.fh;
  }

  /** Retention: whole daily files older than the setting go, the current one never; the removal is itself an entry. */
  private async purge(): Promise<void> {
    const days = this.opts.retentionDays();
    if (days <= 0) return;
    const cutoff = dayOf(this.now().getTime() - days * 86_400_000);
    const files = listAuditFiles(this.dir);
    const current = this.fhDay ? fileForDay(this.fhDay) : files[files.length - 1];
    const doomed = files.filter((f) => dayOfFile(f)! < cutoff && f !== current);
    if (doomed.length === 0) return;
    const kept = files.filter((f) => !doomed.includes(f));
    const first = kept.length > 0 ? readFirstLine(path.join(this.dir, kept[0]!)) : undefined;
    const opened = first ? openLine(this.key, first) : undefined;
    for (const f of doomed) await fsp.rm(path.join(this.dir, f), { force: true });
    fsyncDirSync(this.dir);
    this.opts.logger.info({ removed: doomed }, 'old audit files removed by the retention setting');
    void this.append(
      {
        subaccount: '',
        type: 'audit-purged',
        actor: { kind: 'connector' },
        target: {},
        outcome: 'info',
        reason: `${doomed.length} daily audit file(s) older than ${days} days removed by the retention setting`,
        detail: {
          removed: doomed,
          retentionDays: days,
          ...(opened?.ok ? { firstSeq: opened.entry.seq, firstPrev: opened.entry.prev } : { firstSeq: this.seq + 1, firstPrev: this.lastMac }),
        },
      },
      { durable: true },
    ).catch(() => undefined);
  }
}

/** The last complete line of a file, reading backwards in growing chunks; `torn` holds bytes after the last newline. */
function readLastLine(file: string): { line?: string; torn?: Buffer; keepBytes: number } {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    if (size === 0) return { keepBytes: 0 };
    let chunk = 64 * 1024;
    for (;;) {
      const start = Math.max(0, size - chunk);
      const buf = Buffer.alloc(size - start);
      fs.readSync(fd, buf, 0, buf.length, start);
      const lastNl = buf.lastIndexOf(0x0a);
      const tornBytes = lastNl === -1 ? (start === 0 ? buf : undefined) : buf.subarray(lastNl + 1);
      if (lastNl !== -1 || start === 0) {
        const keepBytes = lastNl === -1 ? 0 : start + lastNl + 1;
        const torn = tornBytes && tornBytes.length > 0 ? Buffer.from(tornBytes) : undefined;
        if (lastNl === -1) return { torn, keepBytes };
        const prevNl = buf.lastIndexOf(0x0a, lastNl - 1);
        if (prevNl !== -1 || start === 0) {
          return { line: buf.subarray(prevNl + 1, lastNl).toString('utf8'), torn, keepBytes };
        }
      }
      chunk *= 4;
    }
  } finally {
    fs.closeSync(fd);
  }
}

function readFirstLine(file: string): string | undefined {
  const fd = fs.openSync(file, 'r');
  try {
    let size = 64 * 1024;
    for (;;) {
      const buf = Buffer.alloc(size);
      const n = fs.readSync(fd, buf, 0, size, 0);
      const nl = buf.subarray(0, n).indexOf(0x0a);
      if (nl !== -1) return buf.subarray(0, nl).toString('utf8');
      if (n < size) return undefined;
      size *= 4;
    }
  } finally {
    fs.closeSync(fd);
  }
}
