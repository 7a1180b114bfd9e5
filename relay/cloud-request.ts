import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { OutgoingHttpHeaders } from 'node:http2';
import { ErrorCode } from '../shared/errors.js';
import { HOP_BY_HOP_HEADERS, LOCATION_HEADERS, META_PREFIX, MetaHeader } from '../shared/tunnel.js';
import type { App, RelayStore } from './store.js';
import type { LiveTunnel, TunnelRegistry } from './tunnel-registry.js';
import type { ProxyTarget } from './proxy-target.js';

export type Admission =
  | { ok: true; app: App; tunnel: LiveTunnel; location: string }
  | { ok: false; code: ErrorCode; message: string };

const LOCATION_MAX = 100;

/** Who is calling (app token) and which connector serves them (tenant + location). */
export function admit(req: IncomingMessage, target: Extract<ProxyTarget, { ok: true }>, store: RelayStore, registry: TunnelRegistry): Admission {
  const auth = req.headers['proxy-authorization'];
  const m = typeof auth === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(auth) : null;
  if (!m) {
    return { ok: false, code: ErrorCode.ProxyAuthRequired, message: 'Proxy authentication required: send "Proxy-Authorization: Bearer <app token>".' };
  }
  const app = store.findAppByToken(m[1]!);
  if (!app) {
    return { ok: false, code: ErrorCode.ProxyAuthRequired, message: 'The app token in Proxy-Authorization is not valid; create one with "skybridge relay app create".' };
  }
  let location = '';
  for (const h of LOCATION_HEADERS) {
    const v = req.headers[h];
    if (typeof v === 'string') {
      location = v.trim();
      break;
    }
  }
  if (location.length > LOCATION_MAX) {
    return { ok: false, code: ErrorCode.BadRequest, message: `The location ID is longer than ${LOCATION_MAX} characters.` };
  }
  const tunnel = registry.get(app.tenantId, location);
  if (!tunnel) {
    const where = location === '' ? 'the default (empty) location' : `location "${location}"`;
    return {
      ok: false,
      code: ErrorCode.NoConnector,
      message: `No connector is online for subaccount ${app.tenantName} and ${where}, so ${target.host}:${target.port} cannot be reached right now.`,
    };
  }
  return { ok: true, app, tunnel, location };
}

/**
 * The stream headers sent down the tunnel: the cloud app's end-to-end headers,
 * minus hop-by-hop and proxy-only ones, minus anything posing as our metadata,
 * plus the metadata the connector needs.
 */
export function tunnelRequestHeaders(req: IncomingMessage, target: Extract<ProxyTarget, { ok: true }>, app: App, requestId: string = randomUUID()): OutgoingHttpHeaders {
  const listedInConnection = new Set(
    String(req.headers.connection ?? '')
      .toLowerCase()
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  const out: OutgoingHttpHeaders = {
    ':method': req.method ?? 'GET',
    ':scheme': 'http',
    ':authority': `${target.host}:${target.port}`,
    ':path': target.pathAndQuery,
  };
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    if (HOP_BY_HOP_HEADERS.has(name) || listedInConnection.has(name)) continue;
    if (name.startsWith(META_PREFIX) || name.startsWith(`x-${META_PREFIX}`)) continue;
    if (name === 'sap-connectivity-scc-location_id' || name === 'expect') continue;
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[name] = [String(prev), value];
  }
  out[MetaHeader.RequestId] = requestId;
  out[MetaHeader.AppId] = app.id;
  out[MetaHeader.AppName] = app.name;
  return out;
}

/** Response headers from the tunnel, made fit for HTTP/1.1 towards the cloud app. */
export function cloudResponseHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name.startsWith(':') || HOP_BY_HOP_HEADERS.has(name)) continue;
    if (name === MetaHeader.Upgraded || name === MetaHeader.Timing) continue;
    out[name] = value;
  }
  return out;
}
