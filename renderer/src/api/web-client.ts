import { agentEventSchema, type AgentEvent } from '../../../shared/api.js';
import {
  ACTIVITY_HEADER,
  CSRF_HEADER,
  EVENTS_SESSION_ENDED,
  SESSION_EXPIRES_HEADER,
  WEB_API,
  parseSessionExpiry,
  sessionInfoSchema,
  type Activity,
  type SessionEndCause,
  type SessionInfo,
} from '../../../shared/web-api.js';
import { PageActivity, type ActivitySource } from '../web/activity.js';
import { ApiError, type Client } from './client.js';

/** While a person keeps using the page, input alone tells the server so at most this often (one small request a minute). */
export const KEEP_ALIVE_EVERY_MS = 60_000;
const UNREACHABLE = 'UNREACHABLE';
/** A 401 this close to (or after) the expected end is the expiry itself, not a sign-out elsewhere. */
const EXPIRY_SLACK_MS = 2_000;

/** When the session ends unless someone acts (browser clock, ms), and whether acting can postpone it. */
export interface SessionDeadline {
  at: number;
  cause: SessionEndCause;
}

/**
 * The browser transport of the headless agent: `POST /api/call/<method>` for the API, a
 * WebSocket on /api/events for live events (reconnecting with backoff), and the session
 * endpoints for sign-in. The session cookie is HttpOnly; the CSRF token from the session
 * goes in a header on every change.
 *
 * Every request says whether a person caused it (`x-skybridge-activity`, from the page's
 * recent input), and only those keep the session from going idle; polling does not. Input
 * with no request behind it (typing in a filter, scrolling a table) is reported by a keep-alive
 * at most once a minute. Each answer says how long the session has left, which the idle
 * warning shows; when that time is up the client checks and reports the end at once, so an
 * unattended page goes back to the sign-in screen even if it was not polling.
 */
export class WebClient implements Client {
  readonly kind = 'web' as const;
  #csrf: string | undefined;
  #listeners = new Set<(event: AgentEvent) => void>();
  #socket: WebSocket | undefined;
  #retryMs = 500;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #activity: ActivitySource;
  #deadline: SessionDeadline | undefined;
  readonly #deadlineListeners = new Set<() => void>();
  #lastUserRequestAt = Number.NEGATIVE_INFINITY;
  #keepingAlive: Promise<void> | undefined;
  #verifying: Promise<void> | undefined;
  /** A sign-in or password change in flight: a check must wait for its new cookie. */
  #sessionChange: Promise<unknown> | undefined;
  /**
   * Called when the server says the session is gone; `reason` is the session's end
   * (`idle` or `limit`) when it ran out, undefined when it ended otherwise (signed out
   * elsewhere, password changed).
   */
  onSignedOut: ((reason?: SessionEndCause) => void) | undefined;

  constructor(
    private readonly base: string = '',
    options: { activity?: ActivitySource } = {},
  ) {
    this.#activity = options.activity ?? new PageActivity();
    this.#activity.onInput(() => this.#inputSeen());
  }

  async #request(path: string, init: { method: string; body?: unknown; activity?: Activity }): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    if (this.#csrf && init.method !== 'GET') headers[CSRF_HEADER] = this.#csrf;
    const activity = init.activity ?? this.#activity.current();
    headers[ACTIVITY_HEADER] = activity;
    if (activity === 'user') this.#lastUserRequestAt = Date.now();
    let response: Response;
    try {
      response = await fetch(this.base + path, {
        method: init.method,
        headers,
        credentials: 'same-origin',
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });
    } catch {
      throw new ApiError(UNREACHABLE, 'The connector does not answer. Is the agent still running?');
    }
    const left = parseSessionExpiry(response.headers.get(SESSION_EXPIRES_HEADER));
    if (left) this.#setDeadline({ at: Date.now() + left.inMs, cause: left.cause });
    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (!response.ok) {
      const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
      if (response.status === 401) this.#ended();
      throw new ApiError(error?.code ?? `HTTP_${response.status}`, error?.message ?? `The connector answered ${response.status}.`, response.status);
    }
    return body;
  }

  /** The server's view of this browser's session. Loading the page is not activity: this does not extend it. */
  async session(): Promise<SessionInfo> {
    return this.#adopt(await this.#request(WEB_API.session, { method: 'GET', activity: 'background' }));
  }

  async signIn(password: string, user = 'admin'): Promise<SessionInfo> {
    return this.#adopt(await this.#changing(this.#request(WEB_API.session, { method: 'POST', body: { user, password } })));
  }

  async signOut(): Promise<void> {
    await this.#request(WEB_API.session, { method: 'DELETE' }).catch(() => undefined);
    this.#csrf = undefined;
    this.#setDeadline(undefined);
    this.#closeSocket();
  }

  async changePassword(current: string, next: string): Promise<SessionInfo> {
    return this.#adopt(await this.#changing(this.#request(WEB_API.password, { method: 'POST', body: { current, next } })));
  }

  /** When the session ends unless someone acts; undefined while signed out. */
  deadline(): SessionDeadline | undefined {
    return this.#deadline;
  }

  onDeadlineChange(listener: () => void): () => void {
    this.#deadlineListeners.add(listener);
    return () => this.#deadlineListeners.delete(listener);
  }

  /** "Stay signed in": a request that counts as the person's activity. A session already gone is reported through onSignedOut. */
  keepAlive(): Promise<void> {
    this.#keepingAlive ??= this.#check('user').finally(() => (this.#keepingAlive = undefined));
    return this.#keepingAlive;
  }

  /** Asks, without extending it, whether the session still lives (its time is up, or its event socket closed); reports an ended one. */
  verifySession(): Promise<void> {
    this.#verifying ??= this.#check('background').finally(() => (this.#verifying = undefined));
    return this.#verifying;
  }

  async #check(activity: Activity): Promise<void> {
    await this.#sessionChange?.catch(() => undefined);
    const signedIn = this.#csrf !== undefined;
    let body: unknown;
    try {
      body = await this.#request(WEB_API.session, { method: 'GET', activity });
    } catch (error) {
      // The connector is gone and the session's time is up: it cannot have lived on, so the console must not stay on screen.
      const due = this.#deadline !== undefined && Date.now() >= this.#deadline.at;
      if (signedIn && due && error instanceof ApiError && error.code === UNREACHABLE) return this.#ended();
      throw error;
    }
    const info = sessionInfoSchema.parse(body);
    if (info.signedIn) this.#csrf = info.csrfToken;
    else if (signedIn) this.#ended();
  }

  #adopt(body: unknown): SessionInfo {
    const info = sessionInfoSchema.parse(body);
    this.#csrf = info.signedIn ? info.csrfToken : undefined;
    if (!info.signedIn) this.#setDeadline(undefined);
    return info;
  }

  #changing<T>(request: Promise<T>): Promise<T> {
    this.#sessionChange = request;
    return request.finally(() => {
      if (this.#sessionChange === request) this.#sessionChange = undefined;
    });
  }

  /** The session is gone: say whether it simply ran out (the answer came at or after its expected end). */
  #ended(): void {
    const d = this.#deadline;
    const reason = d && Date.now() >= d.at - EXPIRY_SLACK_MS ? d.cause : undefined;
    this.#csrf = undefined;
    this.#setDeadline(undefined);
    this.onSignedOut?.(reason);
  }

  #setDeadline(deadline: SessionDeadline | undefined): void {
    if (deadline === this.#deadline) return;
    this.#deadline = deadline;
    for (const l of this.#deadlineListeners) l();
  }

  /** Input the page itself may never turn into a request still keeps the session: tell the server, at most once a minute. */
  #inputSeen(): void {
    if (this.#csrf === undefined || this.#deadline === undefined) return;
    if (Date.now() - this.#lastUserRequestAt < KEEP_ALIVE_EVERY_MS) return;
    void this.keepAlive().catch(() => undefined);
  }

  async call<M extends Parameters<Client['call']>[0]>(method: M, input: Parameters<Client['call']>[1]): Promise<never> {
    const body = (await this.#request(WEB_API.call + method, { method: 'POST', body: input ?? {} })) as { result: unknown };
    return body.result as never;
  }

  /** Where the browser can download a bundle the agent wrote (`exportSupportBundle` result's file name). */
  bundleUrl(fileName: string): string {
    return `${this.base}${WEB_API.bundles}${encodeURIComponent(fileName)}`;
  }

  subscribe(listener: (event: AgentEvent) => void): () => void {
    this.#listeners.add(listener);
    if (!this.#socket) this.#openSocket();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#closeSocket();
    };
  }

  #openSocket(): void {
    const url = new URL(this.base + WEB_API.events, window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(url);
    this.#socket = socket;
    socket.onopen = () => {
      this.#retryMs = 500;
    };
    socket.onmessage = (message) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(String(message.data));
      } catch {
        return;
      }
      const result = agentEventSchema.safeParse(parsed);
      if (!result.success) return;
      for (const l of this.#listeners) l(result.data);
    };
    socket.onclose = (event) => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      // The server closes the feed when the session ends; a page that is not polling learns it here.
      if (event.code === EVENTS_SESSION_ENDED) void this.verifySession().catch(() => undefined);
      if (this.#listeners.size === 0) return;
      this.#retryTimer = setTimeout(() => {
        if (this.#listeners.size > 0 && !this.#socket) this.#openSocket();
      }, this.#retryMs);
      this.#retryMs = Math.min(this.#retryMs * 2, 10_000);
    };
  }

  #closeSocket(): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.close();
  }
}
