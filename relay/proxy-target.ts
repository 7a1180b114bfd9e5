/**
 * Parses an absolute-form proxy request target (`http://erp.virtual:443/p?q`)
 * without normalising the path: the connector decides on the raw bytes, so a
 * `/api/../admin` must reach it as sent (and be refused there), never be
 * silently turned into `/admin` here.
 */
export type ProxyTarget =
  | { ok: true; host: string; port: number; pathAndQuery: string }
  | { ok: false; status: 400 | 405; reason: string };

const AUTHORITY = /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*|\d{1,3}(\.\d{1,3}){3})(:(\d{1,5}))?$/;

export function parseProxyTarget(url: string): ProxyTarget {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)(.*)$/.exec(url);
  if (!m) {
    return { ok: false, status: 400, reason: 'The request target must be an absolute http:// URL, as sent to a proxy (e.g. GET http://erp.virtual:443/path).' };
  }
  const scheme = m[1]!.toLowerCase();
  const authority = m[2]!.toLowerCase();
  const rest = m[3] ?? '';
  if (scheme === 'https') {
    return { ok: false, status: 405, reason: 'Call the virtual system with http://: the tunnel is encrypted, and the connector speaks HTTPS to back ends mapped with protocol https.' };
  }
  if (scheme !== 'http') return { ok: false, status: 400, reason: `The scheme "${scheme}" is not supported; use an http:// URL.` };
  if (authority.includes('@')) return { ok: false, status: 400, reason: 'User information in the URL is not accepted; send credentials in headers.' };
  const a = AUTHORITY.exec(authority);
  if (!a) return { ok: false, status: 400, reason: `"${authority.slice(0, 100)}" is not a valid host and port.` };
  const port = a[7] === undefined ? 80 : Number(a[7]);
  if (port < 1 || port > 65535) return { ok: false, status: 400, reason: `Port ${a[7]} is out of range.` };
  if (rest.includes('#')) return { ok: false, status: 400, reason: 'A request target must not contain a fragment (#).' };
  if (rest !== '' && !rest.startsWith('/') && !rest.startsWith('?')) return { ok: false, status: 400, reason: 'The path must start with "/".' };
  const pathAndQuery = rest === '' ? '/' : rest.startsWith('?') ? `/${rest}` : rest;
  return { ok: true, host: a[1]!, port, pathAndQuery };
}
