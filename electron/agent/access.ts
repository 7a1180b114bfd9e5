import { HTTP_METHODS, isTcpProtocol, systemKey, type Resource, type SystemMapping } from '../../shared/config.js';
import { ErrorCode } from '../../shared/errors.js';
import { findSystemForPort } from './tcp-access.js';

/**
 * The connector's allowlist: deny by default, match whole path segments after
 * normalising, and refuse every form of a path that two servers could read
 * differently (dot segments, encoded slashes, double encoding). Pure: no I/O,
 * so the data plane, the CLI's "would this be allowed" check and the tests
 * share exactly one implementation.
 */

export type NormalizedTarget = { ok: true; path: string; query: string } | { ok: false; reason: string };

export type AccessRequest = {
  host: string;
  port: number;
  method: string;
  /** The origin-form request target exactly as received: path and optional `?query`. */
  rawTarget: string;
  /** The Upgrade token the cloud app asked for, if any. */
  upgrade?: string;
};

export type AccessDecision =
  | {
      allowed: true;
      system: SystemMapping;
      resource: Resource;
      /** The normalised path that was checked (no query). */
      path: string;
      /** What to forward: the normalised path plus the original query, so the back end sees what was checked. */
      target: string;
    }
  | {
      allowed: false;
      code: typeof ErrorCode.AccessDenied | typeof ErrorCode.BadRequest;
      reason: string;
      system?: SystemMapping;
      /** The resource the path matched, when the refusal is about the method or the upgrade. */
      resource?: Resource;
    };

const UNRESERVED = /^[A-Za-z0-9\-_~]$/;
// Escapes of `/`, `\`, `.` and `%`: a back end that decodes (again) would see a different path than we checked.
const AMBIGUOUS_ESCAPE = /%(2f|5c|2e|25)/i;
const ESCAPE_OR_PERCENT = /%([0-9A-Fa-f]{2})?/g;

export function normalizeRequestPath(rawTarget: string): NormalizedTarget {
  const q = rawTarget.indexOf('?');
  const rawPath = q === -1 ? rawTarget : rawTarget.slice(0, q);
  const query = q === -1 ? '' : rawTarget.slice(q + 1);

  if (!rawPath.startsWith('/')) return refuse('the request target must be a path starting with "/"');
  if (rawTarget.includes('#')) return refuse('the request target must not contain a fragment ("#")');
  // Whole target: a space or control byte could split or smuggle a request line downstream.
  if (!/^[\x21-\x7e]*$/.test(rawTarget)) {
    return refuse('the request target must be printable ASCII without spaces or control characters');
  }
  if (rawPath.includes('\\')) return refuse('the path must not contain a backslash');
  if (AMBIGUOUS_ESCAPE.test(rawPath)) {
    return refuse('the path must not contain an encoded slash, backslash, dot or percent sign');
  }

  let malformed = false;
  const path = rawPath.replace(ESCAPE_OR_PERCENT, (match: string, hex: string | undefined) => {
    if (hex === undefined) {
      malformed = true;
      return match;
    }
    const ch = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(ch) ? ch : `%${hex.toUpperCase()}`;
  });
  if (malformed) return refuse('the path contains a "%" that is not followed by two hex digits');

  const segments = path.split('/').slice(1);
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] as string;
    const isLast = i === segments.length - 1;
    // One trailing slash is meaningful (`/api/` is below `/api`); any other empty segment is ambiguous.
    if (seg === '' && !isLast) return refuse('the path must not contain empty segments ("//")');
    // Servlet containers drop `;params` before resolving dot segments, so `..;` acts as `..` there.
    const base = seg.split(';', 1)[0];
    if (base === '.' || base === '..') return refuse('the path must not contain "." or ".." segments');
    if (base === '' && seg !== '') return refuse('the path must not contain a segment that is only parameters (";")');
  }
  return { ok: true, path, query };
}

function refuse(reason: string): NormalizedTarget {
  return { ok: false, reason };
}

/** True when `path` is `resourcePath` itself or, with subPaths, lies below it on a segment boundary. */
export function pathMatches(resourcePath: string, subPaths: boolean, path: string): boolean {
  if (path === resourcePath) return true;
  if (!subPaths) return false;
  if (resourcePath === '/') return true;
  return path.startsWith(`${resourcePath}/`);
}

/** The canonical form of a configured resource path, or undefined when it could never match safely. */
export function canonicalResourcePath(path: string): string | undefined {
  const n = normalizeRequestPath(path);
  if (!n.ok || n.query !== '' || path.includes('?')) return undefined;
  return n.path;
}

const ALL_METHODS: ReadonlySet<string> = new Set(HTTP_METHODS);

export function methodAllowed(resource: Resource, method: string): boolean {
  if (!ALL_METHODS.has(method)) return false;
  const list: readonly string[] = resource.methods ?? HTTP_METHODS;
  if (list.includes(method)) return true;
  return method === 'HEAD' && list.includes('GET');
}

export function checkAccess(systems: SystemMapping[], req: AccessRequest): AccessDecision {
  const host = req.host.toLowerCase();
  const system = findSystemForPort(systems, host, req.port);
  const name = system ? systemKey(system) : `${printable(host)}:${req.port}`;
  const deny = (reason: string, resource?: Resource): AccessDecision => ({
    allowed: false,
    code: ErrorCode.AccessDenied,
    reason: `access denied to system ${name}: ${reason}`,
    ...(system ? { system } : {}),
    ...(resource ? { resource } : {}),
  });
  if (!system) return deny('no such system is mapped');
  // Raw TCP has no paths to check: such a system is reachable only through SOCKS5.
  if (isTcpProtocol(system.protocol)) return deny(`it is a TCP system (protocol ${system.protocol}), reachable only through the SOCKS5 proxy`);

  const target = normalizeRequestPath(req.rawTarget);
  if (!target.ok) {
    return { allowed: false, code: ErrorCode.BadRequest, reason: `bad request to system ${name}: ${target.reason}`, system };
  }
  const path = target.path;
  const shownPath = printable(path);

  if (!ALL_METHODS.has(req.method)) return deny(`method ${printable(req.method)} is never allowed`);

  let best: { resource: Resource; length: number } | undefined;
  for (const resource of system.resources) {
    if (!resource.enabled) continue;
    const rp = canonicalResourcePath(resource.path);
    if (rp === undefined || !pathMatches(rp, resource.subPaths, path)) continue;
    // Longest wins; on a tie the first in the file wins, so order in the file is a stable tie-break.
    if (!best || rp.length > best.length) best = { resource, length: rp.length };
  }
  if (!best) return deny(`no resource allows ${shownPath}`);
  const resource = best.resource;

  if (!methodAllowed(resource, req.method)) {
    const allowed = resource.methods ? [...resource.methods] : [...HTTP_METHODS];
    if (allowed.includes('GET') && !allowed.includes('HEAD')) allowed.push('HEAD');
    return deny(`method ${req.method} is not allowed on ${shownPath} (resource ${resource.path} allows ${allowed.join(', ')})`, resource);
  }

  if (req.upgrade !== undefined) {
    const token = req.upgrade.trim().toLowerCase();
    if (token !== 'websocket') return deny(`upgrade to "${printable(req.upgrade)}" is not supported, only websocket`, resource);
    if (!resource.websocket) return deny(`WebSocket upgrade is not allowed on ${shownPath} (resource ${resource.path})`, resource);
  }

  return {
    allowed: true,
    system,
    resource,
    path,
    target: req.rawTarget.includes('?') ? `${path}?${target.query}` : path,
  };
}

/** Echoes caller-supplied text into a reason without letting it forge log lines or grow without bound. */
function printable(text: string): string {
  const clean = text.replace(/[^\x21-\x7e]/g, '?');
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}
