import fs from 'node:fs';
import type http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../../common/logger.js';
import type { ConnectorApi } from '../../../shared/api.js';
import { ErrorCode } from '../../../shared/errors.js';
import { ADMIN_USER, WEB_API, WebErrorCode } from '../../../shared/web-api.js';
import { withAdminNotes } from '../audit/actor.js';
import { restrictToUiTransport } from '../ui-transport.js';
import { AdminAuth, type AdminAuthOptions } from './admin-auth.js';
import type { AuditSink } from './admin-audit.js';
import { ApiRoutes } from './api-routes.js';
import { BundleFolder } from './bundles.js';
import { EventFeed, refuseUpgrade } from './event-feed.js';
import { BASE_HEADERS, WebRefusal, errorReply, sendJson } from './http-util.js';
import { LoginThrottle, type LoginThrottleOptions } from './login-throttle.js';
import { OriginPolicy } from './origin.js';
import { SessionStore, type SessionStoreOptions } from './sessions.js';
import { DEFAULT_RENDERER_DIR, StaticFiles, contentSecurityPolicy, isPlainPath } from './static-files.js';
import type { UiCertificate } from './tls.js';
import { uiPaths } from './ui-paths.js';

export interface WebUiServerOptions {
  dataDir: string;
  /** The running agent's API; config changes through it are credited to the UI's admin. */
  api: ConnectorApi;
  /** Writes admin-login entries to the agent's audit log. */
  audit: AuditSink;
  logger: Logger;
  host: string;
  /** 0 picks a free port. */
  port: number;
  certificate: UiCertificate;
  rendererDir?: string;
  auth?: AdminAuth | AdminAuthOptions;
  sessions?: SessionStoreOptions;
  throttle?: LoginThrottleOptions;
  /** How often expired sessions are ended (and their sockets closed). */
  sweepIntervalMs?: number;
  maxBufferedEventBytes?: number;
}

export interface WebUiServer {
  /** https://HOST:PORT/ as a person would type it (loopback name when bound to a wildcard). */
  url: string;
  port: number;
  auth: AdminAuth;
  /** False when dist/renderer has not been built: the API works, the pages do not. */
  rendererAvailable: boolean;
  close(): Promise<void>;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * The headless UI: the renderer's files and the typed API over HTTPS, and live events over
 * a WebSocket on the same port. Pure Node, started by `skybridge agent start --ui-port`.
 */
export async function startWebUiServer(opts: WebUiServerOptions): Promise<WebUiServer> {
  const { logger } = opts;
  const auth = opts.auth instanceof AdminAuth ? opts.auth : new AdminAuth(opts.dataDir, opts.auth);
  const sessions = new SessionStore(opts.sessions);
  const throttle = new LoginThrottle(opts.throttle);
  const statics = new StaticFiles(opts.rendererDir ?? DEFAULT_RENDERER_DIR);
  const origins = new OriginPolicy(opts.certificate.names, opts.host);
  const generation = () => {
    try {
      return auth.state()?.generation;
    } catch {
      return undefined;
    }
  };
  const feed = new EventFeed({ logger, isLive: (s) => sessions.stillValid(s, generation()), maxBufferedBytes: opts.maxBufferedEventBytes });
  sessions.onEnd((s) => feed.sessionEnded(s));
  const routes = new ApiRoutes({
    // The browser may set caFile only to a CA it uploaded; the restriction is outermost, so a refused call leaves no admin note.
    api: restrictToUiTransport(withAdminNotes(opts.api, opts.dataDir, 'api', ADMIN_USER), opts.dataDir),
    auth,
    sessions,
    throttle,
    bundles: new BundleFolder(uiPaths(opts.dataDir).exports),
    audit: opts.audit,
    logger,
  });
  const unsubscribe = opts.api.subscribe((event) => feed.broadcast(event));

  const server = https.createServer({ cert: opts.certificate.certPem, key: opts.certificate.keyPem, minVersion: 'TLSv1.2' }, (req, res) => {
    void handle(req, res);
  });
  server.requestTimeout = 60_000;
  server.headersTimeout = 20_000;
  server.keepAliveTimeout = 5_000;
  // TLS handshakes that fail (a browser rejecting the self-signed certificate) are normal; keep them out of the log.
  server.on('tlsClientError', () => undefined);

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const rawPath = (req.url ?? '/').split('?')[0]!;
    const own = origins.ownOrigin(req.headers.host);
    if (!own) {
      sendJson(res, 421, { error: { code: ErrorCode.BadRequest, message: 'This UI does not answer under that host name; use the address the agent printed.' } });
      return;
    }
    if (rawPath === '/api' || rawPath.startsWith('/api/')) {
      try {
        if (!isPlainPath(rawPath)) throw new WebRefusal(400, ErrorCode.BadRequest, 'The request path is ambiguous (dot segments or encoded separators).');
        await routes.handle(req, res, rawPath, own);
      } catch (err) {
        const reply = errorReply(err);
        if (reply.internal) logger.error({ err: (err as Error).message, path: rawPath }, 'UI API request failed');
        if (res.headersSent) {
          res.destroy();
          return;
        }
        const close: Record<string, string> = reply.status === 413 ? { connection: 'close' } : {};
        sendJson(res, reply.status, reply.body, { ...reply.headers, ...close });
      }
      return;
    }
    serveStatic(req, res, rawPath, own);
  }

  function serveStatic(req: http.IncomingMessage, res: http.ServerResponse, rawPath: string, own: string): void {
    const csp = contentSecurityPolicy(statics.cspTemplate, own);
    const plain = (status: number, text: string, extra: Record<string, string> = {}) => {
      res.writeHead(status, { ...BASE_HEADERS, 'content-security-policy': csp, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'content-length': String(Buffer.byteLength(text)), ...extra });
      res.end(req.method === 'HEAD' ? undefined : text);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return plain(405, 'Only GET and HEAD are served here.\n', { allow: 'GET, HEAD' });
    if (!statics.available) return plain(503, `The UI files are missing (${statics.root}); build them with 'npm run build', then restart the agent. The API under /api/ works meanwhile.\n`);
    const found = statics.lookup(rawPath);
    if (found === 'bad') return plain(400, 'The request path is ambiguous (dot segments or encoded separators).\n');
    if (!found) return plain(404, 'Not found.\n');
    let size: number;
    try {
      size = fs.statSync(found.file).size;
    } catch {
      return plain(404, 'Not found.\n');
    }
    res.writeHead(200, {
      ...BASE_HEADERS,
      'content-security-policy': csp,
      'content-type': found.contentType,
      'content-length': String(size),
      'cache-control': found.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    if (req.method === 'HEAD') return void res.end();
    fs.createReadStream(found.file).on('error', () => res.destroy()).pipe(res);
  }

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    // A synchronous throw here would be an uncaught exception and take the whole agent (and its tunnels) down.
    try {
      upgrade(req, socket, head);
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'UI event socket upgrade failed');
      refuseUpgrade(socket, 503, ErrorCode.Internal, 'Live events are unavailable right now; the agent log has the details.');
    }
  });

  function upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const own = origins.ownOrigin(req.headers.host);
    const rawPath = (req.url ?? '/').split('?')[0];
    if (!own) return refuseUpgrade(socket, 421, ErrorCode.BadRequest, 'This UI does not answer under that host name.');
    if (rawPath !== WEB_API.events) return refuseUpgrade(socket, 404, ErrorCode.NotFound, `WebSocket connections go to ${WEB_API.events}.`);
    // Browsers send Origin on every WebSocket; a page of another site must not ride on the session cookie.
    if (!OriginPolicy.same(req.headers.origin, own)) return refuseUpgrade(socket, 403, WebErrorCode.CsrfRejected, `The WebSocket must come from this UI's own page (Origin ${own}).`);
    const session = routes.sessionOf(req);
    if (!session) return refuseUpgrade(socket, 401, WebErrorCode.SignInRequired, 'Sign in first.');
    if (session.mustChangePassword) return refuseUpgrade(socket, 403, WebErrorCode.PasswordChangeRequired, 'Change the initial password first.');
    feed.accept(req, socket, head, session);
  }

  // Often enough that a socket outlives its session by at most a quarter of the idle time.
  const sweepMs = opts.sweepIntervalMs ?? Math.min(15_000, Math.max(250, Math.floor(sessions.idleMs / 4)));
  const sweep = setInterval(() => sessions.sweep(generation()), sweepMs);
  sweep.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  origins.port = port;
  server.on('error', (err) => logger.error({ err: err.message }, 'UI server error'));
  if (!statics.available) logger.warn({ dir: statics.root }, 'the UI files are missing; the headless UI serves only its API until they are built');

  return {
    url: `https://${urlHost(opts.host)}:${port}/`,
    port,
    auth,
    rendererAvailable: statics.available,
    async close() {
      clearInterval(sweep);
      unsubscribe();
      sessions.clear();
      feed.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
