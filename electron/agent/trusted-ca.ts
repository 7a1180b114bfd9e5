import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { ErrorCode, SkybridgeError } from '../../shared/errors.js';

/**
 * A system mapping's `caFile`: the extra CAs trusted for its TLS back end. The file is
 * named in config.json, so anyone who can edit a mapping can make the agent open a path.
 * Every read goes through here and is refused unless the path ends at a regular file of at
 * most 1 MiB that holds PEM certificates: a FIFO, device or directory is never opened for
 * reading, so it cannot stall the event loop or fill memory.
 *
 * Symbolic links are followed on purpose: an administrator's CA often is one (Debian's
 * /etc/ssl/certs holds nothing else). The checks apply to what the link ends at, and they are
 * repeated on the opened descriptor, so a link swapped for a FIFO between the check and the
 * open is caught too. The UI transports cannot name such paths at all (ui-transport.ts).
 */

/** Mozilla's whole root store is about 220 KB; one CA is a couple of kilobytes. */
export const MAX_CA_FILE_BYTES = 1024 * 1024;

/** Where importCaCertificate stores uploaded CAs, inside the data dir. */
export const TRUSTED_CA_DIR = 'trusted-ca';

export function trustedCaDir(dataDir: string): string {
  return path.join(path.resolve(dataDir), TRUSTED_CA_DIR);
}

/** A refusal naming the file and, in `reason`, what is wrong with it; never any of its content. */
export class CaFileError extends SkybridgeError {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(ErrorCode.InvalidInput, `The CA file ${file} cannot be used: ${reason}.`);
    this.name = 'CaFileError';
  }
}

export interface ParsedCertificates {
  /** The certificates alone, re-encoded: what TLS is given and what an import stores (no keys, no comments). */
  pem: string;
  certificates: X509Certificate[];
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]{1,40})-----([^-]*)-----END \1-----/g;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * The certificates in a PEM text; text around the blocks (openssl's "Bag Attributes", comments)
 * is ignored. Throws a phrase saying what is wrong, without quoting the text: the caller words the
 * sentence. With `refuseKeys`, a private key in the text is refused rather than skipped, so a
 * person who picked the wrong file learns it before the key ends up anywhere.
 */
export function parsePemCertificates(text: string, opts: { refuseKeys?: boolean } = {}): ParsedCertificates {
  const certificates: X509Certificate[] = [];
  for (const m of text.matchAll(PEM_BLOCK)) {
    const label = m[1]!;
    if (label.includes('PRIVATE KEY')) {
      if (opts.refuseKeys) throw new Error('it contains a private key; upload only the CA certificate and keep the key where it is');
      continue;
    }
    if (label !== 'CERTIFICATE') continue;
    const b64 = m[2]!.replace(/\s+/g, '');
    const der = BASE64.test(b64) ? Buffer.from(b64, 'base64') : undefined;
    let cert: X509Certificate | undefined;
    try {
      cert = der ? new X509Certificate(der) : undefined;
    } catch {
      cert = undefined;
    }
    // Trailing bytes after the certificate would be dropped silently by the parser; refuse them instead.
    if (!cert || !der || !cert.raw.equals(der)) throw new Error(`certificate ${certificates.length + 1} in it is not a valid X.509 certificate`);
    certificates.push(cert);
  }
  if (certificates.length === 0) throw new Error('it holds no PEM certificate (a block beginning with -----BEGIN CERTIFICATE-----)');
  return { pem: certificates.map((c) => c.toString()).join(''), certificates };
}

/** What TLS needs: the system store plus the file's certificates. */
export interface TrustedCa {
  file: string;
  pem: string;
  certificates: X509Certificate[];
  /** For tls.connect / https.Agent `ca`: the system's roots and these. */
  ca: string[];
}

function kindOf(st: fs.Stats): string | undefined {
  if (st.isFile()) return undefined;
  if (st.isDirectory()) return 'it is a directory, not a file';
  if (st.isFIFO()) return 'it is a named pipe (FIFO), not a regular file';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'it is a device, not a regular file';
  if (st.isSocket()) return 'it is a socket, not a regular file';
  return 'it is not a regular file';
}

function checkStats(file: string, st: fs.Stats): void {
  const kind = kindOf(st);
  if (kind) throw new CaFileError(file, kind);
  if (st.size > MAX_CA_FILE_BYTES) throw new CaFileError(file, `it is larger than 1 MiB (${st.size} bytes), too large for a CA certificate file`);
}

function ioReason(err: unknown): string {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return 'it does not exist';
    case 'EACCES':
    case 'EPERM':
      return 'the connector is not allowed to read it';
    case 'ENOTDIR':
      return 'a part of its path is not a directory';
    case 'ELOOP':
      return 'it is a loop of symbolic links';
    case 'EISDIR':
      return 'it is a directory, not a file';
    default:
      return `it cannot be read (${(err as NodeJS.ErrnoException).code ?? 'unknown error'})`;
  }
}

function toError(file: string, err: unknown): CaFileError {
  return err instanceof CaFileError ? err : new CaFileError(file, ioReason(err));
}

/** Not every platform has it (Windows); there the stat before the open is what keeps pipes out. */
const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);

function parsed(file: string, bytes: Buffer): TrustedCa {
  let certs: ParsedCertificates;
  try {
    certs = parsePemCertificates(bytes.toString('latin1'));
  } catch (err) {
    throw new CaFileError(file, (err as Error).message);
  }
  return { file, ...certs, ca: [...tls.rootCertificates, certs.pem] };
}

/**
 * Reads a CA file off the event loop. For calls a person waits on (the availability check,
 * adding or changing a system): they see the file as it is now.
 */
export async function loadCaFile(file: string): Promise<TrustedCa> {
  let handle: fs.promises.FileHandle | undefined;
  try {
    checkStats(file, await fs.promises.stat(file));
    handle = await fs.promises.open(file, OPEN_FLAGS);
    const st = await handle.stat();
    checkStats(file, st);
    const buf = Buffer.alloc(Math.min(st.size, MAX_CA_FILE_BYTES) + 1);
    let total = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, total, buf.length - total, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total === buf.length) break;
    }
    if (total > MAX_CA_FILE_BYTES || total > st.size) throw new CaFileError(file, 'it grew while it was being read');
    return parsed(file, buf.subarray(0, total));
  } catch (err) {
    throw toError(file, err);
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * The same, synchronously, for the data plane, where connection setup is synchronous. The read
 * happens only after the path has been found to be a regular file of at most 1 MiB, and
 * CaFileCache does it once per version of the file, not per connection.
 */
export function loadCaFileSync(file: string): TrustedCa {
  let fd: number | undefined;
  try {
    checkStats(file, fs.statSync(file));
    fd = fs.openSync(file, OPEN_FLAGS);
    const st = fs.fstatSync(fd);
    checkStats(file, st);
    const buf = Buffer.alloc(Math.min(st.size, MAX_CA_FILE_BYTES) + 1);
    let total = 0;
    for (;;) {
      const n = fs.readSync(fd, buf, total, buf.length - total, null);
      if (n === 0) break;
      total += n;
      if (total === buf.length) break;
    }
    if (total > MAX_CA_FILE_BYTES || total > st.size) throw new CaFileError(file, 'it grew while it was being read');
    return parsed(file, buf.subarray(0, total));
  } catch (err) {
    throw toError(file, err);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

interface CacheEntry {
  /** Identifies the file's version: device, inode, size and times, or the stat error's code. */
  version: string;
  checkedAt: number;
  value?: TrustedCa;
  error?: CaFileError;
}

const MAX_ENTRIES = 256;

/**
 * CA files for the data plane, keyed by path and re-read only when the file changes (its
 * inode, size, mtime or ctime). Within `recheckMs` of the last look not even a stat is made,
 * so a busy TCP mapping costs one map lookup per connection. A broken file is remembered the
 * same way, so each connection is refused with its reason without touching the disk again.
 */
export class CaFileCache {
  private readonly entries = new Map<string, CacheEntry>();

  constructor(
    private readonly recheckMs = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The file's trust, or a CaFileError. The same object comes back while the file is unchanged. */
  get(file: string): TrustedCa {
    const t = this.now();
    let entry = this.entries.get(file);
    if (!entry || t - entry.checkedAt >= this.recheckMs) {
      let version: string;
      try {
        const st = fs.statSync(file);
        version = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.mode}`;
      } catch (err) {
        version = `error:${(err as NodeJS.ErrnoException).code ?? 'unknown'}`;
      }
      if (entry && entry.version === version) {
        entry.checkedAt = t;
      } else {
        entry = { version, checkedAt: t };
        try {
          entry.value = loadCaFileSync(file);
        } catch (err) {
          entry.error = toError(file, err);
        }
        this.entries.delete(file);
        if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
        this.entries.set(file, entry);
      }
    }
    if (entry.error) throw entry.error;
    return entry.value!;
  }
}

/** The agent's one cache: the HTTP pools and the TCP forwarder read the same files. */
export const caFileCache = new CaFileCache();
