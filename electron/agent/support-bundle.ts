import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { ZipFile } from 'yazl';
import { VERSION } from '../../common/version.js';
import type { BundleSummary } from '../../shared/evidence.js';
import { maskSecrets } from './audit/config-diff.js';
import { exportAudit } from './audit/export.js';
import { parseTimeBound } from './audit/query.js';
import { verifyWithRelays } from './audit/verify-with-relays.js';
import { collectDiagnostics, formatDiagnostics } from './diagnostics.js';
import type { EvidenceSource } from './evidence-api.js';

/** Where `agent start --log-file` said it writes, so the bundle can find the logs. */
export const LOG_LOCATION_FILE = path.join('run', 'log-file.json');

const LOG_BYTES_PER_FILE = 2 * 1024 * 1024;
const LOG_BYTES_TOTAL = 10 * 1024 * 1024;
const DEFAULT_AUDIT_RANGE = '7d';

export interface BundleOptions {
  out: string;
  /** Audit range; default the last 7 days. */
  from?: string;
  to?: string;
}

/** Secrets that must never reach a bundle, even if some code logged them by mistake. */
export function scrubText(text: string): string {
  return text
    .replace(/-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]*?-----END \1PRIVATE KEY-----/g, '[redacted private key]')
    .replace(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*$/g, '[redacted private key]')
    .replace(/\bsbt_[A-Za-z0-9_-]+/g, '[redacted token]')
    .replace(/(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, '$1 [redacted]')
    .replace(/("?(?:password|passwd|secret|pairingCode|token)"?\s*[:=]\s*)"[^"]*"/gi, '$1"[redacted]"');
}

function logFiles(dataDir: string): string[] {
  const dirs = new Map<string, string>([[path.join(dataDir, 'logs'), '']]);
  try {
    const { file } = JSON.parse(fs.readFileSync(path.join(dataDir, LOG_LOCATION_FILE), 'utf8')) as { file?: string };
    if (file) dirs.set(path.dirname(file), path.basename(file).replace(/\.log$/, ''));
  } catch {
    // logs went to stderr only
  }
  const found: { file: string; mtime: number }[] = [];
  for (const [dir, prefix] of dirs) {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names) {
      if (!n.startsWith(prefix) || !/\.log$/.test(n)) continue;
      const file = path.join(dir, n);
      try {
        const st = fs.statSync(file);
        if (st.isFile()) found.push({ file, mtime: st.mtimeMs });
      } catch {
        // gone meanwhile
      }
    }
  }
  return found.sort((a, b) => b.mtime - a.mtime).map((f) => f.file);
}

/** The end of a file, at most `max` bytes, starting at a whole line. */
function tail(file: string, max: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const start = Math.max(0, size - max);
    const buf = Buffer.alloc(size - start);
    fs.readSync(fd, buf, 0, buf.length, start);
    if (start === 0) return buf;
    const nl = buf.indexOf(0x0a);
    return nl === -1 ? buf : buf.subarray(nl + 1);
  } finally {
    fs.closeSync(fd);
  }
}

function dependencyVersions(): Record<string, string> {
  const require = createRequire(import.meta.url);
  const out: Record<string, string> = {};
  for (const name of ['ws', 'libsql', 'pino', 'prom-client', 'yazl', 'zod', 'commander', '@peculiar/x509']) {
    try {
      out[name] = (require(`${name}/package.json`) as { version: string }).version;
    } catch {
      // not resolvable from here
    }
  }
  return out;
}

/**
 * The support bundle: one ZIP a person can send. It carries the configuration
 * with secrets masked, recent logs (scrubbed again), the audit of a range with
 * its manifest and a verification, the traffic history, usage, versions and a
 * diagnostics report. Keys, certificates' private halves, the audit key and
 * proxy passwords are never read.
 */
export async function writeSupportBundle(src: EvidenceSource, opts: BundleOptions): Promise<BundleSummary> {
  const dataDir = src.dataDir;
  const cfg = src.config();
  const from = opts.from ?? DEFAULT_AUDIT_RANGE;
  parseTimeBound(from, 'from');
  parseTimeBound(opts.to, 'to');
  await src.flushAudit();
  const scratch = await fsp.mkdtemp(path.join(os.tmpdir(), 'skybridge-bundle-'));
  const zip = new ZipFile();
  const names: string[] = [];
  const mtime = new Date();
  const add = (name: string, data: string | Buffer) => {
    names.push(name);
    zip.addBuffer(Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8'), name, { mtime, mode: 0o644 });
  };
  const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;
  try {
    add(
      'versions.json',
      json({ skybridge: VERSION, node: process.version, platform: process.platform, arch: process.arch, os: `${os.type()} ${os.release()}`, dependencies: dependencyVersions() }),
    );
    add('config.json', json(maskSecrets(cfg)));
    const diagnostics = await collectDiagnostics(dataDir, cfg);
    add('diagnostics.json', json(diagnostics));
    add('diagnostics.txt', formatDiagnostics(diagnostics));
    try {
      add('run/status.json', fs.readFileSync(path.join(dataDir, 'run', 'status.json')));
    } catch {
      // no agent has run yet
    }

    const auditOut = path.join(scratch, 'audit.jsonl');
    const exported = await exportAudit(dataDir, { from, to: opts.to }, auditOut, 'jsonl');
    const auditEntries = exported.manifest.entries;
    add('audit/audit.jsonl', await fsp.readFile(auditOut));
    add('audit/audit.jsonl.manifest.json', await fsp.readFile(exported.manifestFile));
    add('audit/verify.json', json(await verifyWithRelays(dataDir, cfg, { agentFor: (id) => src.agentFor?.(id) })));

    add('traffic/recent.jsonl', src.history().map((r) => JSON.stringify(r)).join('\n') + '\n');
    add('traffic/stats.json', json(src.stats()));
    add('traffic/usage.json', json(src.usage(cfg)));

    let budget = LOG_BYTES_TOTAL;
    for (const file of logFiles(dataDir)) {
      if (budget <= 0) break;
      const data = tail(file, Math.min(LOG_BYTES_PER_FILE, budget));
      budget -= data.length;
      add(`logs/${path.basename(file)}`, scrubText(data.toString('utf8')));
    }
    add(
      'README.txt',
      [
        `Skybridge support bundle, ${mtime.toISOString()}, connector ${VERSION} on ${os.hostname()}.`,
        '',
        'diagnostics.txt   tunnel state per subaccount, clock skew with the relay, certificate expiry, reachability of each mapped system',
        'config.json       the connector configuration (it holds no secrets; anything secret-looking is masked as ***)',
        `audit/            audit entries from ${from}${opts.to ? ` to ${opts.to}` : ''} as stored (JSONL), the manifest with counts and SHA-256, and a verification of the whole chain`,
        'traffic/          the most recent requests, aggregates per system and resource, usage statistics',
        'logs/             the end of the recent log files (secrets scrubbed)',
        'versions.json     software versions',
        '',
        'Not included, ever: private keys, the audit key, proxy passwords, app tokens.',
        '',
      ].join('\n'),
    );
    zip.end();
    const out = path.resolve(opts.out);
    await fsp.mkdir(path.dirname(out), { recursive: true });
    const tmp = `${out}.${process.pid}.tmp`;
    const ws = fs.createWriteStream(tmp, { mode: 0o600 });
    zip.outputStream.pipe(ws);
    await once(ws, 'close');
    await fsp.rename(tmp, out);
    return { file: out, bytes: fs.statSync(out).size, files: names, auditEntries };
  } finally {
    await fsp.rm(scratch, { recursive: true, force: true });
  }
}
