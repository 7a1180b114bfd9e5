import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { SESSION_COOKIE, type Activity, type SessionEndCause } from '../../../shared/web-api.js';

export const DEFAULT_IDLE_MS = 30 * 60 * 1000;
export const DEFAULT_ABSOLUTE_MS = 12 * 60 * 60 * 1000;
/** Signed-in browsers kept at once; the oldest goes first (signing in needs the password, so this only bounds memory). */
const MAX_SESSIONS = 200;

export interface Session {
  /** SHA-256 of the cookie value: the store never keeps the bearer secret itself. */
  readonly key: string;
  readonly user: string;
  readonly csrfToken: string;
  readonly createdAt: number;
  /** The last time a person did something (sign-in, password change, a request marked `user`); the idle clock runs from here. */
  lastActiveAt: number;
  readonly mustChangePassword: boolean;
  /** The admin account's generation at sign-in; a password change or reset ends older sessions. */
  readonly generation: number;
}

export type EndReason = 'signed-out' | 'expired' | 'password-changed' | 'replaced';

export interface SessionStoreOptions {
  idleMs?: number;
  absoluteMs?: number;
  now?: () => number;
}

function keyOf(cookieValue: string): string {
  return createHash('sha256').update(cookieValue).digest('hex');
}

/**
 * Server-side sessions, in memory: a restart signs everyone out, which is the safe default
 * for an admin console. The cookie carries 32 random bytes and nothing else; each session
 * has its own CSRF token, an idle expiry and an absolute one. Only a person's activity
 * postpones the idle expiry: a browser tab that merely polls still goes idle.
 */
export class SessionStore {
  readonly idleMs: number;
  readonly absoluteMs: number;
  private readonly now: () => number;
  private readonly sessions = new Map<string, Session>();
  private readonly endListeners = new Set<(session: Session, reason: EndReason) => void>();

  constructor(opts: SessionStoreOptions = {}) {
    this.idleMs = opts.idleMs ?? DEFAULT_IDLE_MS;
    this.absoluteMs = opts.absoluteMs ?? DEFAULT_ABSOLUTE_MS;
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Called for every session that ends, however it ends (the event feed closes its sockets). */
  onEnd(listener: (session: Session, reason: EndReason) => void): () => void {
    this.endListeners.add(listener);
    return () => this.endListeners.delete(listener);
  }

  /** A new session; the returned cookie value is the only copy of its id. */
  create(user: string, opts: { mustChangePassword: boolean; generation: number }): { session: Session; cookieValue: string } {
    while (this.sessions.size >= MAX_SESSIONS) {
      const oldest = this.sessions.values().next().value as Session;
      this.end(oldest, 'replaced');
    }
    const cookieValue = randomBytes(32).toString('base64url');
    const now = this.now();
    const session: Session = {
      key: keyOf(cookieValue),
      user,
      csrfToken: randomBytes(32).toString('base64url'),
      createdAt: now,
      lastActiveAt: now,
      mustChangePassword: opts.mustChangePassword,
      generation: opts.generation,
    };
    this.sessions.set(session.key, session);
    return { session, cookieValue };
  }

  expiresAt(session: Session): number {
    return this.expiry(session).at;
  }

  /** When the session ends unless a person does something, and whether that could postpone it (`idle`) or not (`limit`). */
  expiry(session: Session): { at: number; cause: SessionEndCause } {
    const idle = session.lastActiveAt + this.idleMs;
    const limit = session.createdAt + this.absoluteMs;
    return idle < limit ? { at: idle, cause: 'idle' } : { at: limit, cause: 'limit' };
  }

  /** Milliseconds left and the cause, for the answer's session header. */
  remaining(session: Session): { inMs: number; cause: SessionEndCause } {
    const { at, cause } = this.expiry(session);
    return { inMs: Math.max(0, at - this.now()), cause };
  }

  /**
   * The live session for a cookie value, or undefined. An expired one, or one from an older
   * account generation, is ended on the spot. Only `user` activity restarts the idle clock.
   */
  get(cookieValue: string | undefined, currentGeneration: number | undefined, activity: Activity = 'background'): Session | undefined {
    if (!cookieValue) return undefined;
    const session = this.sessions.get(keyOf(cookieValue));
    if (!session) return undefined;
    if (!this.stillValid(session, currentGeneration)) return undefined;
    this.touch(session, activity);
    return session;
  }

  /** A person did something: the idle clock restarts. Background requests change nothing. */
  touch(session: Session, activity: Activity): void {
    if (activity !== 'user' || this.sessions.get(session.key) !== session) return;
    session.lastActiveAt = Math.max(session.lastActiveAt, this.now());
  }

  /** Ends the session if it has expired or its generation is gone; true while it lives. */
  stillValid(session: Session, currentGeneration: number | undefined): boolean {
    if (this.sessions.get(session.key) !== session) return false;
    if (currentGeneration !== session.generation) {
      this.end(session, 'password-changed');
      return false;
    }
    if (this.now() >= this.expiresAt(session)) {
      this.end(session, 'expired');
      return false;
    }
    return true;
  }

  /** Constant-time comparison of the header value with the session's token. */
  checkCsrf(session: Session, token: string | undefined): boolean {
    if (!token) return false;
    const a = Buffer.from(token);
    const b = Buffer.from(session.csrfToken);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  end(session: Session, reason: EndReason): void {
    if (this.sessions.get(session.key) !== session) return;
    this.sessions.delete(session.key);
    for (const l of this.endListeners) l(session, reason);
  }

  /** After a password change: every session of the old password ends, and the caller gets a fresh one (new id, new CSRF token). */
  rotate(old: Session, generation: number): { session: Session; cookieValue: string } {
    for (const s of [...this.sessions.values()]) this.end(s, s === old ? 'replaced' : 'password-changed');
    return this.create(old.user, { mustChangePassword: false, generation });
  }

  /** Ends expired sessions (and those of an older generation); run now and then so idle sockets close on time. */
  sweep(currentGeneration: number | undefined): void {
    for (const s of [...this.sessions.values()]) this.stillValid(s, currentGeneration);
  }

  clear(): void {
    for (const s of [...this.sessions.values()]) this.end(s, 'signed-out');
  }
}

/**
 * The activity a request declares in its `x-skybridge-activity` header. Anything but exactly
 * `user` is background: an old page, a script or a repeated header never keeps a session alive
 * by accident. (A page of another site cannot set the header at all without a CORS preflight.)
 */
export function parseActivity(header: string | string[] | undefined): Activity {
  return typeof header === 'string' && header.trim().toLowerCase() === 'user' ? 'user' : 'background';
}

/** `__Host-`: the browser keeps it only if Secure, host-only and for path /. Strict: never sent with cross-site requests. */
export function sessionCookie(cookieValue: string): string {
  return `${SESSION_COOKIE}=${cookieValue}; Secure; HttpOnly; SameSite=Strict; Path=/`;
}

export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; Secure; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;
}

/** The session cookie's value from a Cookie header; the first one wins if a browser sends two. */
export function sessionCookieValue(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    if (part.slice(0, i).trim() === SESSION_COOKIE) {
      const v = part.slice(i + 1).trim();
      return /^[A-Za-z0-9_-]{20,100}$/.test(v) ? v : undefined;
    }
  }
  return undefined;
}
