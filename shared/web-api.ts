import { z } from 'zod';

/**
 * The headless UI's HTTP contract (`skybridge agent start --ui-port 8444`). The same
 * ConnectorApi as over IPC, as `POST /api/call/<method>` with the input as the JSON body;
 * live events as JSON messages on a WebSocket at `/api/events`. Everything under /api/
 * except the session endpoints needs a signed-in session cookie; every request that
 * changes something also needs the session's CSRF token in `X-Skybridge-CSRF` and an
 * Origin header naming the UI itself.
 */

export const WEB_API = {
  call: '/api/call/',
  events: '/api/events',
  session: '/api/session',
  password: '/api/password',
  /**
   * GET /api/bundles/<file>: download a support bundle the UI exported. Over HTTP,
   * exportSupportBundle's `out` is optional and at most a bare `*.zip` file name (the server
   * writes into its own exports folder), and the result's `file` is that name, not a path.
   */
  bundles: '/api/bundles/',
} as const;

export const CSRF_HEADER = 'x-skybridge-csrf';

/**
 * Request header: did a person cause this request? `user` (the page saw a click, key or wheel
 * moments before) restarts the session's idle clock; `background` (polling, refetches after
 * live events, the page loading) and a missing or unknown value are served but do not, so a
 * tab left open still goes idle. Sign-in and a password change always start a fresh clock.
 */
export const ACTIVITY_HEADER = 'x-skybridge-activity';
export type Activity = 'user' | 'background';

/**
 * Response header on every answer to a signed-in session: how long it has left, relative (so
 * the browser's clock does not matter), and what ends it: `idle` (activity postpones it) or
 * `limit` (the absolute maximum; nothing postpones it). Example: `1799000; cause=idle`.
 */
export const SESSION_EXPIRES_HEADER = 'x-skybridge-session-expires-in';
export type SessionEndCause = 'idle' | 'limit';
export interface SessionExpiry {
  inMs: number;
  cause: SessionEndCause;
}

export function formatSessionExpiry(e: SessionExpiry): string {
  return `${Math.max(0, Math.round(e.inMs))}; cause=${e.cause}`;
}

export function parseSessionExpiry(value: string | null | undefined): SessionExpiry | undefined {
  const m = /^\s*(\d{1,12})\s*;\s*cause=(idle|limit)\s*$/.exec(value ?? '');
  return m ? { inMs: Number(m[1]), cause: m[2] as SessionEndCause } : undefined;
}

/** WebSocket close code on /api/events when the session behind it ends (expired, signed out, password changed). */
export const EVENTS_SESSION_ENDED = 4001;

/** Codes of the web layer's own refusals (the API's are ErrorCode values from errors.ts). */
export const WebErrorCode = {
  /** 401: no session, or it ended (expired, signed out, password changed elsewhere). */
  SignInRequired: 'SIGN_IN_REQUIRED',
  /** 403: the initial (or reset) password must be changed before anything else. */
  PasswordChangeRequired: 'PASSWORD_CHANGE_REQUIRED',
  /** 403: a change without the session's CSRF token or from another origin. */
  CsrfRejected: 'CSRF_REJECTED',
  /** 401 at sign-in, 403 at a password change. */
  WrongPassword: 'WRONG_PASSWORD',
  /** 429 with Retry-After: too many failed sign-ins. */
  TooManyAttempts: 'TOO_MANY_ATTEMPTS',
} as const;

/** __Host- prefix: the browser only accepts it Secure, for this host, on path /. */
export const SESSION_COOKIE = '__Host-skybridge-session';
export const ADMIN_USER = 'admin';

export const sessionInfoSchema = z.object({
  signedIn: z.boolean(),
  user: z.string().optional(),
  /** The first sign-in (or a reset) must choose a new password before anything else. */
  mustChangePassword: z.boolean().optional(),
  csrfToken: z.string().optional(),
  /** ISO time the session ends if left idle. */
  expiresAt: z.string().optional(),
});
export type SessionInfo = z.infer<typeof sessionInfoSchema>;

/** A user name the sign-in accepts: it ends up in the audit log and on terminals, so nothing that could forge a line or an escape. */
export const USER_NAME_PATTERN = /^[A-Za-z0-9._@-]{1,64}$/;
export const signInSchema = z.object({ user: z.string().regex(USER_NAME_PATTERN).default(ADMIN_USER), password: z.string().min(1).max(1024) });

export const MIN_PASSWORD_LENGTH = 12;
export const changePasswordSchema = z.object({
  current: z.string().min(1).max(1024),
  next: z.string().min(MIN_PASSWORD_LENGTH, `at least ${MIN_PASSWORD_LENGTH} characters`).max(1024),
});

/** Body of every /api/ reply that is not a success. */
export const webErrorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
export type WebError = z.infer<typeof webErrorSchema>;

/** Body of a successful `POST /api/call/<method>`. */
export type WebCallResult<T> = { result: T };
