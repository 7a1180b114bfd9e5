import fs from 'node:fs';
import { fsyncDirSync } from '../../common/durable-fs.js';
import path from 'node:path';
import { agentConfigSchema, type AgentConfig } from '../../shared/config.js';
import { ErrorCode, SkybridgeError, isSkybridgeError } from '../../shared/errors.js';
import { checkAgentConfig } from './config-ops.js';

/**
 * `<dataDir>/config.json`, shared by the running agent and the CLI. Writes are
 * atomic (temp file + fsync + rename) and edits go through a lock file, so a
 * crash never leaves half a file and two writers never lose each other's
 * change. Synchronous on purpose: the file is small, and a sync read-modify-
 * write cannot interleave with other work in the same process.
 */

const LOCK_STALE_MS = 10_000;
const LOCK_WAIT_MS = 5_000;
const WATCH_DEBOUNCE_MS = 100;

export class ConfigStore {
  readonly file: string;
  readonly backupFile: string;
  readonly lockFile: string;
  private holdingLock = false;

  constructor(readonly dataDir: string) {
    this.file = path.join(dataDir, 'config.json');
    this.backupFile = `${this.file}.bak`;
    this.lockFile = `${this.file}.lock`;
  }

  /** The current configuration; a missing file is the empty default (and is not created). */
  load(): AgentConfig {
    return this.read() ?? defaultConfig();
  }

  /** Validates, then writes atomically; the previous file is kept as config.json.bak. */
  save(cfg: AgentConfig): void {
    this.withLock(() => this.write(cfg));
  }

  /** Read-modify-write under the lock. If the mutator throws or its result is invalid, nothing is written. */
  update<T>(mutator: (cfg: AgentConfig) => { config: AgentConfig; result: T }): T {
    return this.withLock(() => {
      const { config, result } = mutator(this.load());
      this.write(config);
      return result;
    });
  }

  /**
   * Calls onChange with each new, fully valid configuration written to the file
   * (by the CLI, an editor or this process) and onError when the file is
   * invalid or removed, in which case the caller keeps running the old one.
   * `current` is what the caller already runs; it defaults to the file as it
   * is now. Returns a function that stops watching.
   */
  watch(onChange: (cfg: AgentConfig) => void, onError: (err: SkybridgeError) => void, current?: AgentConfig): () => void {
    fs.mkdirSync(this.dataDir, { recursive: true, mode: 0o700 });
    let seenFile = fs.existsSync(this.file);
    let last: string | undefined;
    try {
      last = contentOf(current ?? this.load());
    } catch {
      last = undefined; // the first valid file will be delivered
    }
    let lastError: string | undefined;
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;

    const report = (err: SkybridgeError) => {
      // An editor may save the same broken file several times; one log line per distinct problem is enough.
      if (err.message === lastError) return;
      lastError = err.message;
      onError(err);
    };
    const reload = () => {
      timer = undefined;
      if (stopped) return;
      let cfg: AgentConfig | undefined;
      try {
        cfg = this.read();
      } catch (e) {
        report(asConfigError(e));
        return;
      }
      if (!cfg) {
        // A vanished file is far more often an accident or an editor mid-save than a wish to unpair everything.
        if (seenFile) {
          report(
            new SkybridgeError(
              ErrorCode.ConfigInvalid,
              `${this.file} was removed; the running configuration stays in effect until a valid file is written`,
            ),
          );
        }
        return;
      }
      seenFile = true;
      lastError = undefined;
      const text = contentOf(cfg);
      if (text === last) return;
      last = text;
      onChange(cfg);
    };

    const name = path.basename(this.file);
    // Watch the directory, not the file: an atomic rename replaces the inode a file watch would follow.
    const watcher = fs.watch(this.dataDir, (_event, filename) => {
      if (stopped || (filename && filename !== name)) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(reload, WATCH_DEBOUNCE_MS);
    });
    watcher.on('error', (e) => {
      report(new SkybridgeError(ErrorCode.ConfigInvalid, `stopped watching ${this.dataDir} for configuration changes: ${e.message}`));
    });
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      watcher.close();
    };
  }

  /** The parsed file, or undefined when there is none. */
  private read(): AgentConfig | undefined {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (e) {
      if (errno(e) === 'ENOENT') return undefined;
      throw new SkybridgeError(ErrorCode.ConfigInvalid, `cannot read ${this.file}: ${(e as Error).message}`);
    }
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // Windows editors like to add a BOM
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new SkybridgeError(ErrorCode.ConfigInvalid, `${this.file} is not valid JSON: ${describeJsonError(e as Error, text)}`);
    }
    const checked = checkAgentConfig(raw);
    if (!checked.ok) throw new SkybridgeError(ErrorCode.ConfigInvalid, `${this.file} is invalid: ${checked.issues}`);
    return checked.config;
  }

  private write(cfg: AgentConfig): void {
    const checked = checkAgentConfig(cfg);
    if (!checked.ok) {
      throw new SkybridgeError(ErrorCode.ConfigInvalid, `the configuration was not saved to ${this.file} because it is invalid: ${checked.issues}`);
    }
    const text = `${contentOf(checked.config, 2)}\n`;
    fs.mkdirSync(this.dataDir, { recursive: true, mode: 0o700 });

    let previous: string | undefined;
    try {
      previous = fs.readFileSync(this.file, 'utf8');
    } catch (e) {
      if (errno(e) !== 'ENOENT') throw e;
    }
    // Rewriting identical content would only overwrite the useful .bak with a copy of the current file.
    if (previous === text) return;

    const tmp = `${this.file}.${process.pid}.${Date.now().toString(36)}.tmp`;
    try {
      const fd = fs.openSync(tmp, 'wx', 0o600);
      try {
        fs.writeFileSync(fd, text);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      if (previous !== undefined) fs.writeFileSync(this.backupFile, previous, { mode: 0o600 });
      renameWithRetry(tmp, this.file);
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      throw new SkybridgeError(ErrorCode.ConfigInvalid, `cannot write ${this.file}: ${(e as Error).message}`);
    }
    fsyncDirSync(this.dataDir);
  }

  private withLock<T>(fn: () => T): T {
    if (this.holdingLock) return fn();
    fs.mkdirSync(this.dataDir, { recursive: true, mode: 0o700 });
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        const fd = fs.openSync(this.lockFile, 'wx', 0o600);
        try {
          fs.writeFileSync(fd, JSON.stringify({ pid: process.pid, at: new Date().toISOString() }));
        } finally {
          fs.closeSync(fd);
        }
        break;
      } catch (e) {
        if (errno(e) !== 'EEXIST') {
          throw new SkybridgeError(ErrorCode.ConfigInvalid, `cannot create the lock file ${this.lockFile}: ${(e as Error).message}`);
        }
      }
      const holder = this.lockHolder();
      if (holder.stale) {
        fs.rmSync(this.lockFile, { force: true });
        continue;
      }
      if (Date.now() >= deadline) {
        throw new SkybridgeError(
          ErrorCode.Conflict,
          `${this.file} is being changed by another process${holder.pid ? ` (pid ${holder.pid})` : ''}; ` +
            `try again, or delete ${this.lockFile} if no skybridge process is running`,
        );
      }
      sleepSync(20 + Math.random() * 30);
    }
    this.holdingLock = true;
    try {
      return fn();
    } finally {
      this.holdingLock = false;
      fs.rmSync(this.lockFile, { force: true });
    }
  }

  /** A lock is stale when it is older than LOCK_STALE_MS or its owner on this machine has exited. */
  private lockHolder(): { stale: boolean; pid?: number } {
    let stat: fs.Stats;
    let pid: number | undefined;
    try {
      stat = fs.statSync(this.lockFile);
      const parsed = JSON.parse(fs.readFileSync(this.lockFile, 'utf8')) as { pid?: unknown };
      if (typeof parsed.pid === 'number' && Number.isInteger(parsed.pid) && parsed.pid > 0) pid = parsed.pid;
    } catch (e) {
      // Gone meanwhile: simply try again. Unparsable: its owner may still be writing it, so only age can make it stale.
      if (errno(e) === 'ENOENT') return { stale: false };
      try {
        stat = fs.statSync(this.lockFile);
      } catch {
        return { stale: false };
      }
    }
    if (Date.now() - stat.mtimeMs > LOCK_STALE_MS) return { stale: true, pid };
    if (pid !== undefined && pid !== process.pid && !processAlive(pid)) return { stale: true, pid };
    return { stale: false, pid };
  }
}

export function defaultConfig(): AgentConfig {
  return agentConfigSchema.parse({});
}

/** The config as it is written: without `$schema`, which is an editor hint, not configuration. */
function contentOf(cfg: AgentConfig, indent?: number): string {
  const { $schema: _hint, ...rest } = cfg;
  return JSON.stringify(rest, null, indent);
}

/** V8's message, on one line, with a line and column a person can jump to. */
function describeJsonError(err: Error, text: string): string {
  let msg = err.message;
  let pos: number | undefined;
  const m = /at position (\d+)/.exec(msg);
  if (m) {
    pos = Number(m[1]);
    msg = msg.replace(/ in JSON at position \d+[^]*$/, '');
  } else if (msg.startsWith('Unexpected token')) {
    // V8 gives no position here, only an excerpt (the whole file when it is short).
    pos = unexpectedTokenPosition(text);
    msg = msg.replace(/, (\.\.\.)?"[^]*$/, '');
  }
  msg = msg.replace(/\s*\n\s*/g, ' ');
  if (pos === undefined) return msg;
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const column = pos - before.lastIndexOf('\n');
  return `${msg} at line ${line}, column ${column}`;
}

/**
 * A truncated but otherwise valid prefix never fails with "Unexpected token"
 * (it fails with "Unexpected end" or a message with a position), and every
 * prefix that contains the bad character does; so the shortest failing
 * prefix ends at it.
 */
function unexpectedTokenPosition(text: string): number | undefined {
  const fails = (k: number) => {
    try {
      JSON.parse(text.slice(0, k));
      return false;
    } catch (e) {
      return (e as Error).message.startsWith('Unexpected token');
    }
  };
  if (!fails(text.length)) return undefined;
  let lo = 1;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (fails(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo - 1;
}

function asConfigError(e: unknown): SkybridgeError {
  return isSkybridgeError(e) ? e : new SkybridgeError(ErrorCode.ConfigInvalid, (e as Error).message);
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errno(e) === 'EPERM'; // exists, owned by someone else
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** On Windows a rename fails while another process (a reader, an antivirus) briefly holds the target open. */
function renameWithRetry(from: string, to: string): void {
  for (let attempt = 0; ; attempt++) {
    try {
      fs.renameSync(from, to);
      return;
    } catch (e) {
      const code = errno(e);
      if (attempt >= 10 || (code !== 'EPERM' && code !== 'EACCES' && code !== 'EBUSY')) throw e;
      sleepSync(20);
    }
  }
}

