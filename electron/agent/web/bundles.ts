import fs from 'node:fs';
import path from 'node:path';
import type http from 'node:http';
import { pipeline } from 'node:stream';
import { ErrorCode, SkybridgeError } from '../../../shared/errors.js';
import { BASE_HEADERS, WebRefusal } from './http-util.js';

/** A bare file name: no folders, no dot files, nothing a shell or a header would have to quote. */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,120}\.zip$/;
/** Windows device names: with any extension they open the device, not a file (CON.zip is the console). */
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$/i;
/** Not following a symlink when opening; Windows has no such flag (and no symlinks made by accident there). */
const O_NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;
/** Bundles kept in <dataDir>/exports/; older ones are removed when a new one is written. */
export const KEEP_BUNDLES = 20;

export function isSafeBundleName(name: string): boolean {
  return SAFE_NAME.test(name) && !name.includes('..') && !WINDOWS_DEVICE.test(name);
}

export function defaultBundleName(now = new Date()): string {
  return `skybridge-support-${now.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-')}.zip`;
}

/**
 * Support bundles for the browser. The browser cannot (and must not) name a path on the
 * server, so the web API accepts at most a bare file name, writes into <dataDir>/exports/,
 * answers with that name only, and serves the file back to signed-in sessions.
 */
export class BundleFolder {
  constructor(readonly dir: string) {}

  /** The full path for a name the browser sent (or a generated one); refuses anything else. */
  target(name: unknown): { name: string; file: string } {
    const chosen = name === undefined || name === '' ? defaultBundleName() : name;
    if (typeof chosen !== 'string' || !isSafeBundleName(chosen)) {
      throw new SkybridgeError(ErrorCode.InvalidInput, 'Name the bundle with a plain file name ending in .zip (letters, digits, dot, dash, underscore), or leave the name out.');
    }
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    return { name: chosen, file: path.join(this.dir, chosen) };
  }

  /** Keeps the newest bundles only, so exports from the browser do not fill the disk. */
  prune(): void {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir).filter(isSafeBundleName);
    } catch {
      return;
    }
    const byAge = names
      .map((n) => ({ n, t: fs.statSync(path.join(this.dir, n), { throwIfNoEntry: false })?.mtimeMs ?? 0 }))
      .sort((a, b) => b.t - a.t);
    for (const old of byAge.slice(KEEP_BUNDLES)) fs.rmSync(path.join(this.dir, old.n), { force: true });
  }

  /**
   * GET /api/bundles/<name>: the file as a download, or 404. The file is opened once, without
   * following a symlink, and what was opened is checked and sent, so nothing can be swapped
   * in between the check and the read.
   */
  async send(rawName: string, res: http.ServerResponse): Promise<void> {
    let name: string;
    try {
      name = decodeURIComponent(rawName);
    } catch {
      name = '';
    }
    if (!isSafeBundleName(name)) throw new WebRefusal(400, ErrorCode.InvalidInput, 'That is not the name of a support bundle.');
    const missing = () => new WebRefusal(404, ErrorCode.NotFound, `There is no support bundle named ${name}; export one first.`);
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(path.join(this.dir, name), fs.constants.O_RDONLY | O_NOFOLLOW);
    } catch {
      throw missing();
    }
    let size: number;
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) throw missing();
      size = stat.size;
    } catch (err) {
      await handle.close();
      throw err;
    }
    res.writeHead(200, {
      ...BASE_HEADERS,
      'content-type': 'application/zip',
      'content-length': String(size),
      'content-disposition': `attachment; filename="${name}"`,
      'cache-control': 'no-store',
    });
    // The stream owns the handle from here; pipeline closes it (and the response) on an error or an aborted download.
    pipeline(handle.createReadStream(), res, () => undefined);
  }
}
