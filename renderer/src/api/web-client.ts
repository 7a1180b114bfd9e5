import { agentEventSchema, type AgentEvent } from '../../../shared/api.js';
import { CSRF_HEADER, WEB_API, sessionInfoSchema, type SessionInfo } from '../../../shared/web-api.js';
import { ApiError, type Client } from './client.js';

/**
 * The browser transport of the headless agent: `POST /api/call/<method>` for the API, a
 * WebSocket on /api/events for live events (reconnecting with backoff), and the session
 * endpoints for sign-in. The session cookie is HttpOnly; the CSRF token from the session
 * goes in a header on every change.
 */
export class WebClient implements Client {
  readonly kind = 'web' as const;
  #csrf: string | undefined;
  #listeners = new Set<(event: AgentEvent) => void>();
  #socket: WebSocket | undefined;
  #retryMs = 500;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Called when the server says the session is gone (expired, signed out elsewhere). */
  onSignedOut: (() => void) | undefined;

  constructor(private readonly base: string = '') {}

  async #request(path: string, init: { method: string; body?: unknown }): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    if (this.#csrf && init.method !== 'GET') headers[CSRF_HEADER] = this.#csrf;
    let response: Response;
    try {
      response = await fetch(this.base + path, {
        method: init.method,
        headers,
        credentials: 'same-origin',
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });
    } catch {
      throw new ApiError('UNREACHABLE', 'The connector does not answer. Is the agent still running?');
    }
    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (!response.ok) {
      const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
      if (response.status === 401) this.onSignedOut?.();
      throw new ApiError(error?.code ?? `HTTP_${response.status}`, error?.message ?? `The connector answered ${response.status}.`, response.status);
    }
    return body;
  }

  async session(): Promise<SessionInfo> {
    const info = sessionInfoSchema.parse(await this.#request(WEB_API.session, { method: 'GET' }));
    this.#csrf = info.csrfToken;
    return info;
  }

  async signIn(password: string, user = 'admin'): Promise<SessionInfo> {
    const info = sessionInfoSchema.parse(await this.#request(WEB_API.session, { method: 'POST', body: { user, password } }));
    this.#csrf = info.csrfToken;
    return info;
  }

  async signOut(): Promise<void> {
    await this.#request(WEB_API.session, { method: 'DELETE' }).catch(() => undefined);
    this.#csrf = undefined;
    this.#closeSocket();
  }

  async changePassword(current: string, next: string): Promise<SessionInfo> {
    const info = sessionInfoSchema.parse(await this.#request(WEB_API.password, { method: 'POST', body: { current, next } }));
    this.#csrf = info.csrfToken;
    return info;
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
    socket.onclose = () => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
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
