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
  /** GET /api/bundles/<file>: download a support bundle the UI exported. */
  bundles: '/api/bundles/',
} as const;

export const CSRF_HEADER = 'x-skybridge-csrf';
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

export const signInSchema = z.object({ user: z.string().min(1).max(100).default(ADMIN_USER), password: z.string().min(1).max(1024) });

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
