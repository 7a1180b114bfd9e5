import https from 'node:https';
import http2 from 'node:http2';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { EventEmitter } from 'node:events';
import type { Logger } from '../../common/logger.js';
import { Backoff } from '../../common/backoff.js';
import { startHeartbeat } from '../../common/heartbeat.js';
import { VERSION } from '../../common/version.js';
import type { TunnelSettings } from '../../shared/config.js';
import type { TunnelStatus } from '../../shared/api.js';
import { ErrorCode } from '../../shared/errors.js';
import { SESSION_WINDOW_BYTES, STREAM_WINDOW_BYTES, TUNNEL_PATH, TUNNEL_UPGRADE_TOKEN } from '../../shared/tunnel.js';

export interface TunnelCredentials {
  /** May be a getter that decrypts on first read and throws (SECRET_LOCKED) when it cannot. */
  readonly keyPem: string;
  certPem: string;
  /** The relay's TLS trust anchor, pinned at pairing: the only CA this tunnel trusts. */
  trustAnchorPem: string;
}

export interface TunnelClientOptions {
  subaccountId: string;
  relayUrl: string;
  /** Changes when the subaccount is paired again. */
  identity: string;
  credentials: () => TunnelCredentials;
  settings: () => TunnelSettings;
  onStream: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void;
  /** A CONNECT agent when the relay is reached through an outbound HTTP proxy; undefined dials directly. */
  agent?: () => https.Agent | undefined;
  logger: Logger;
}

/** Refusals a retry will not fix until a person acts: shown as `failed`, retried slowly. */
const NEEDS_A_PERSON = new Set<string>([ErrorCode.CertificateExpired, ErrorCode.CertificateInvalid, ErrorCode.ConnectorRevoked, ErrorCode.ConnectorUnknown, ErrorCode.CertificateMissing, ErrorCode.LocationTaken]);

function describeTlsError(err: NodeJS.ErrnoException, relayUrl: string): string {
  const code = err.code ?? '';
  if (code === 'ECONNREFUSED') return `the relay at ${relayUrl} refused the connection (is it running?)`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `the relay host in ${relayUrl} could not be resolved`;
  if (code === 'ETIMEDOUT') return `the relay at ${relayUrl} did not answer in time`;
  if (code === 'ECONNRESET') return `the connection to ${relayUrl} was reset`;
  if (code.includes('CERT') || code.startsWith('UNABLE_TO') || code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `the relay's TLS certificate is not signed by the CA pinned at pairing (${code}); a TLS-inspecting proxy or a different server is in between`;
  }
  return `${err.message} (${relayUrl})`;
}

/**
 * One subaccount's tunnel. Dials out, upgrades, then serves HTTP/2 on the
 * dialled socket; on any loss, reconnects with backoff and jitter, forever,
 * until stopped. Emits `status` with a TunnelStatus on every change.
 */
export class TunnelClient extends EventEmitter {
  private status: TunnelStatus = { state: 'disconnected', reconnects: 0 };
  private running = false;
  private session?: http2.ServerHttp2Session;
  private pendingReq?: ReturnType<typeof https.request>;
  private retryTimer?: NodeJS.Timeout;
  private stopHeartbeat?: () => void;
  private backoff: Backoff;
  private hadTunnel = false;

  constructor(private readonly opts: TunnelClientOptions) {
    super();
    const s = opts.settings();
    this.backoff = new Backoff(s.reconnectMinMs, s.reconnectMaxMs);
  }

  /** What this tunnel is for: a change of relay or connector identity (re-pairing) needs a new tunnel. */
  get identity(): string {
    return `${this.opts.relayUrl}|${this.opts.identity}`;
  }

  get currentStatus(): TunnelStatus {
    return { ...this.status };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const s = this.opts.settings();
    this.backoff = new Backoff(s.reconnectMinMs, s.reconnectMaxMs);
    this.connect();
  }

  /** Closes the tunnel; in-flight streams are cut. */
  stop(): void {
    this.running = false;
    clearTimeout(this.retryTimer);
    this.pendingReq?.destroy();
    this.stopHeartbeat?.();
    this.session?.destroy();
    this.session = undefined;
    this.setStatus({ state: 'disconnected', reconnects: this.status.reconnects });
  }

  private setStatus(next: TunnelStatus): void {
    this.status = next;
    this.emit('status', this.currentStatus);
  }

  private connect(): void {
    if (!this.running) return;
    const url = new URL(this.opts.relayUrl);
    let creds: TunnelCredentials;
    let keyPem: string;
    try {
      creds = this.opts.credentials();
      // Read here: an encrypted key is opened on first use, and a locked one must fail this attempt, not the process.
      keyPem = creds.keyPem;
    } catch (err) {
      return this.fail(`the connector's key or certificate cannot be read: ${(err as Error).message}`, true);
    }
    let viaProxy: https.Agent | undefined;
    try {
      viaProxy = this.opts.agent?.();
    } catch (err) {
      return this.fail(`the outbound proxy cannot be used: ${(err as Error).message}`, true);
    }
    this.setStatus({ state: this.hadTunnel ? 'reconnecting' : 'connecting', reconnects: this.status.reconnects, lastError: this.status.lastError });
    const hostname = url.hostname.replace(/^\[|\]$/g, '');
    const req = https.request({
      host: hostname,
      port: Number(url.port || 443),
      path: TUNNEL_PATH,
      method: 'GET',
      headers: { Connection: 'Upgrade', Upgrade: TUNNEL_UPGRADE_TOKEN, 'Skybridge-Agent-Version': VERSION },
      key: keyPem,
      cert: creds.certPem,
      ca: [creds.trustAnchorPem],
      rejectUnauthorized: true,
      agent: viaProxy ?? false,
      timeout: 15_000,
      minVersion: 'TLSv1.2',
    });
    this.pendingReq = req;
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (this.pendingReq !== req) return;
      this.pendingReq = undefined;
      this.fail(describeTlsError(err, this.opts.relayUrl), false);
    });
    req.on('response', (res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body.length < 4096 ? (body += c) : undefined));
      res.on('end', () => {
        this.pendingReq = undefined;
        const code = String(res.headers['skybridge-error'] ?? '');
        // The relay marks every refusal; an unmarked answer on a proxied connection is the proxy's own.
        if (viaProxy && code === '') {
          const auth = res.statusCode === 407 || res.statusCode === 401;
          return this.fail(
            auth
              ? `the outbound proxy refused the connection to the relay: proxy authentication failed (HTTP ${res.statusCode}); check the proxy user and password`
              : `the outbound proxy refused the connection to the relay (HTTP ${res.statusCode})`,
            auth,
          );
        }
        const reason = body.trim() || `the relay answered ${res.statusCode} instead of switching to the tunnel protocol`;
        this.fail(`the relay refused the tunnel: ${reason}`, NEEDS_A_PERSON.has(code));
      });
    });
    req.on('upgrade', (_res: IncomingMessage, socket, head: Buffer) => {
      this.pendingReq = undefined;
      if (!this.running) return socket.destroy();
      this.serve(socket as TLSSocket, head);
    });
    req.end();
  }

  private serve(socket: TLSSocket, head: Buffer): void {
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    if (head.length > 0) socket.unshift(head);
    // The relay is the HTTP/2 client on this connection; performServerHandshake accepts a socket that did not negotiate ALPN h2.
    const session = http2.performServerHandshake(socket, {
      settings: { initialWindowSize: STREAM_WINDOW_BYTES, maxConcurrentStreams: 4096, enablePush: false },
      maxSessionMemory: 256,
    });
    this.session = session;
    session.setLocalWindowSize(SESSION_WINDOW_BYTES);
    session.on('stream', (stream, headers) => {
      stream.on('error', () => undefined);
      this.opts.onStream(stream, headers);
    });
    session.on('error', (err) => this.opts.logger.debug({ subaccount: this.opts.subaccountId, err: err.message }, 'tunnel session error'));
    const settings = this.opts.settings();
    this.stopHeartbeat = startHeartbeat(session, socket, {
      intervalMs: settings.heartbeatIntervalMs,
      timeoutMs: settings.heartbeatTimeoutMs,
      onRtt: (ms) => {
        if (this.session === session && this.status.state === 'connected') this.setStatus({ ...this.status, rttMs: Math.round(ms * 100) / 100 });
      },
      onDead: (reason) => {
        this.opts.logger.warn({ subaccount: this.opts.subaccountId, reason }, 'tunnel heartbeat lost');
        session.destroy();
      },
    });
    session.on('close', () => {
      this.stopHeartbeat?.();
      if (this.session !== session) return;
      this.session = undefined;
      if (this.running) this.fail('the tunnel to the relay was lost', false);
    });
    this.hadTunnel = true;
    this.backoff.reset();
    this.opts.logger.info({ subaccount: this.opts.subaccountId, relay: this.opts.relayUrl }, 'tunnel connected');
    this.setStatus({ state: 'connected', reconnects: this.status.reconnects, connectedSince: new Date().toISOString() });
  }

  private fail(reason: string, needsAPerson: boolean): void {
    if (!this.running) return;
    const delay = needsAPerson ? this.opts.settings().reconnectMaxMs : this.backoff.next();
    const nextRetryAt = new Date(Date.now() + delay).toISOString();
    this.opts.logger.warn({ subaccount: this.opts.subaccountId, reason, retryInMs: delay }, 'tunnel down');
    this.setStatus({ state: needsAPerson ? 'failed' : 'reconnecting', lastError: reason, nextRetryAt, reconnects: this.status.reconnects + 1 });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }
}
