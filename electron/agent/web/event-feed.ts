import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../../../common/logger.js';
import { agentEventSchema, type AgentEvent } from '../../../shared/api.js';
import { EVENTS_SESSION_ENDED } from '../../../shared/web-api.js';
import type { Session } from './sessions.js';

/** A browser that falls this far behind is cut off; it reconnects and reloads what it shows. */
export const DEFAULT_MAX_BUFFERED = 4 * 1024 * 1024;
const PING_MS = 30_000;
/** Close code sent when the session behind a socket ends (signed out, expired, password changed). */
export const CLOSE_SESSION_ENDED = EVENTS_SESSION_ENDED;

export interface EventFeedOptions {
  logger: Logger;
  /** Is this session still signed in? Asked before each delivery. */
  isLive: (session: Session) => boolean;
  maxBufferedBytes?: number;
  pingIntervalMs?: number;
}

interface Client {
  session: Session;
  socket: WebSocket;
  alive: boolean;
}

/**
 * Live agent events for signed-in browsers, one WebSocket each on /api/events. Each event
 * is serialised once and sent to every socket. Memory stays bounded: a socket whose unsent
 * data grows past the limit (a slow or stalled browser) is terminated rather than buffered.
 */
export class EventFeed {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 4096, perMessageDeflate: false, clientTracking: false });
  private readonly clients = new Set<Client>();
  private readonly maxBuffered: number;
  private readonly pingTimer: NodeJS.Timeout;
  /** Event types already reported as off-contract, so a noisy emitter logs once, not per event. */
  private readonly reportedInvalid = new Set<string>();

  constructor(private readonly opts: EventFeedOptions) {
    this.maxBuffered = opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED;
    this.pingTimer = setInterval(() => this.ping(), opts.pingIntervalMs ?? PING_MS);
    this.pingTimer.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /** Completes the upgrade for a request already checked (session and Origin). */
  accept(req: http.IncomingMessage, socket: Duplex, head: Buffer, session: Session): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const client: Client = { session, socket: ws, alive: true };
      this.clients.add(client);
      ws.on('pong', () => (client.alive = true));
      // The feed is one-way; anything a browser sends is ignored (maxPayload bounds it).
      ws.on('message', () => undefined);
      ws.on('error', (err) => this.opts.logger.debug({ err: err.message }, 'UI event socket error'));
      ws.on('close', () => this.clients.delete(client));
    });
  }

  /**
   * Sends an event to every live socket. Only what the contract names goes out (zod drops any
   * other field); an event that does not match it is not sent at all, as over IPC.
   */
  broadcast(event: AgentEvent): void {
    if (this.clients.size === 0) return;
    const checked = agentEventSchema.safeParse(event);
    if (!checked.success) {
      const type = typeof (event as { type?: unknown } | null)?.type === 'string' ? String((event as { type: string }).type).slice(0, 64) : '(no type)';
      if (!this.reportedInvalid.has(type) && this.reportedInvalid.size < 100) {
        this.reportedInvalid.add(type);
        this.opts.logger.error({ type }, 'an agent event does not match its contract; not sent to the UI');
      }
      return;
    }
    const text = JSON.stringify(checked.data);
    for (const c of this.clients) {
      if (!this.opts.isLive(c.session)) {
        this.drop(c, CLOSE_SESSION_ENDED, 'session ended');
        continue;
      }
      if (c.socket.bufferedAmount > this.maxBuffered) {
        this.opts.logger.warn({ buffered: c.socket.bufferedAmount }, 'a browser is not keeping up with live events; its event socket was closed');
        this.clients.delete(c);
        c.socket.terminate();
        continue;
      }
      c.socket.send(text);
    }
  }

  /** Closes every socket of a session that has ended. */
  sessionEnded(session: Session): void {
    for (const c of this.clients) if (c.session.key === session.key) this.drop(c, CLOSE_SESSION_ENDED, 'session ended');
  }

  private drop(c: Client, code: number, reason: string): void {
    this.clients.delete(c);
    c.socket.close(code, reason);
    // A peer that does not answer the close handshake is not waited for.
    setTimeout(() => c.socket.terminate(), 2000).unref();
  }

  private ping(): void {
    for (const c of this.clients) {
      if (!c.alive) {
        this.clients.delete(c);
        c.socket.terminate();
        continue;
      }
      c.alive = false;
      c.socket.ping();
    }
  }

  close(): void {
    clearInterval(this.pingTimer);
    for (const c of this.clients) c.socket.terminate();
    this.clients.clear();
    this.wss.close();
  }
}

/** Answers a refused upgrade with a plain HTTP response on the raw socket. */
export function refuseUpgrade(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  const reason = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 421: 'Misdirected Request', 503: 'Service Unavailable' }[status] ?? 'Error';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nCache-Control: no-store\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  socket.on('error', () => undefined);
  setTimeout(() => socket.destroy(), 1000).unref();
}
