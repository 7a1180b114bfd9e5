import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/renderer, as vite builds it: this file runs as dist/electron/agent/web/static-files.js. */
export const DEFAULT_RENDERER_DIR = fileURLToPath(new URL('../../../renderer/', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

/** Used only when the built index.html carries no policy of its own. */
const FALLBACK_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; object-src 'none'";

export interface StaticFile {
  file: string;
  contentType: string;
  /** Vite's content-hashed assets never change under the same name, so browsers may keep them. */
  immutable: boolean;
}

/**
 * The built UI, served from a list made once at start: only regular files that were inside
 * the folder then can ever be answered. There is no directory listing and no way for a
 * request path to reach outside the folder, because a request is looked up in the list and
 * never joined to a path. Ambiguous paths (dot segments, encoded dots or slashes,
 * backslashes) are refused before the lookup.
 */
export class StaticFiles {
  private readonly files = new Map<string, StaticFile>();
  /** The renderer's own Content-Security-Policy (from index.html), the base of the header. */
  readonly cspTemplate: string;

  constructor(readonly root: string) {
    this.walk(root, '');
    let csp: string | undefined;
    try {
      const html = fs.readFileSync(path.join(root, 'index.html'), 'utf8');
      csp = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]+)"/i.exec(html)?.[1];
    } catch {
      // no build yet; `available` says so
    }
    this.cspTemplate = (csp ?? FALLBACK_CSP).replace(/\s+/g, ' ').trim();
  }

  get available(): boolean {
    return this.files.has('/index.html');
  }

  private walk(dir: string, prefix: string): void {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      // Symbolic links are not followed: what is served is what the build wrote.
      if (e.isDirectory()) this.walk(path.join(dir, e.name), `${prefix}/${e.name}`);
      else if (e.isFile()) {
        const urlPath = `${prefix}/${e.name}`;
        const ext = path.extname(e.name).toLowerCase();
        this.files.set(urlPath, { file: path.join(dir, e.name), contentType: CONTENT_TYPES[ext] ?? 'application/octet-stream', immutable: prefix === '/assets' });
      }
    }
  }

  /** 'bad' for a path that tries to be clever; undefined when there is no such file. */
  lookup(pathname: string): StaticFile | 'bad' | undefined {
    if (!isPlainPath(pathname)) return 'bad';
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return 'bad';
    }
    return this.files.get(decoded === '/' ? '/index.html' : decoded);
  }
}

/** A path with no dot segments, no encoded dot, slash, backslash or NUL, no backslash, no empty segment. */
export function isPlainPath(pathname: string): boolean {
  if (!pathname.startsWith('/') || pathname.includes('//') || pathname.includes('\\')) return false;
  if (/%(2e|2f|5c|00)/i.test(pathname)) return false;
  return !pathname.split('/').some((seg) => seg === '.' || seg === '..');
}

/**
 * The header policy: the renderer's own, with connect-src narrowed to this server and its
 * WebSocket (the meta tag allows any ws:/wss: because the desktop build has no server to
 * name), and framing forbidden (only a header can say that).
 */
export function contentSecurityPolicy(template: string, ownOrigin: string): string {
  const wss = ownOrigin.replace(/^https:/, 'wss:');
  const directives = template
    .split(';')
    .map((d) => d.trim())
    .filter(Boolean)
    .filter((d) => !/^frame-ancestors\b/.test(d))
    .map((d) => (/^connect-src\b/.test(d) ? `connect-src 'self' ${wss}` : d));
  if (!directives.some((d) => d.startsWith('connect-src'))) directives.push(`connect-src 'self' ${wss}`);
  directives.push("frame-ancestors 'none'");
  return directives.join('; ');
}
