import type http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../../common/logger.js';
import { connectorApiSchemas, type ConnectorApi, type ConnectorApiMethod } from '../../../shared/api.js';
import { formatIssues } from '../../../shared/config.js';
import { ErrorCode, SkybridgeError } from '../../../shared/errors.js';
import {
  ACTIVITY_HEADER,
  CSRF_HEADER,
  SESSION_EXPIRES_HEADER,
  WEB_API,
  WebErrorCode,
  changePasswordSchema,
  formatSessionExpiry,
  signInSchema,
  type SessionInfo,
} from '../../../shared/web-api.js';
import { PasswordQueueFull, type AdminAuth } from './admin-auth.js';
import { INVALID_USER_PLACEHOLDER, signInDraft, type AuditSink, type SignInEvent } from './admin-audit.js';
import type { BundleFolder } from './bundles.js';
import { WebRefusal, clientAddress, readJson, sendJson } from './http-util.js';
import type { LoginThrottle, ThrottleTicket } from './login-throttle.js';
import { OriginPolicy } from './origin.js';
import { clearedSessionCookie, parseActivity, sessionCookie, sessionCookieValue, type Session, type SessionStore } from './sessions.js';

const SIGN_IN_BODY_LIMIT = 16 * 1024;
const API_BODY_LIMIT = 1024 * 1024;
/** A failed sign-in is answered after its wait, up to this long; later attempts in the wait get 429. */
const HOLD_FAILURE_MAX_MS = 3000;

export interface ApiRoutesDeps {
  api: ConnectorApi;
  auth: AdminAuth;
  sessions: SessionStore;
  throttle: LoginThrottle;
  bundles: BundleFolder;
  audit: AuditSink;
  logger: Logger;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * Everything under /api/ except the WebSocket: the session endpoints, the password change,
 * the ConnectorApi as POST /api/call/<method>, and bundle downloads. The checks run in a
 * fixed order: a signed-in session (401), then for every change the session's CSRF token
 * and this server's own Origin (403), then the password change the first sign-in demands
 * (403), then the input (400). A request that passed them restarts the session's idle clock
 * only if it says a person caused it (`x-skybridge-activity: user`); polling does not.
 */
export class ApiRoutes {
  constructor(private readonly d: ApiRoutesDeps) {}

  /** The account's generation; undefined (every session invalid) when admin.json cannot be read, instead of an error. */
  private generation(): number | undefined {
    try {
      return this.d.auth.state()?.generation;
    } catch {
      return undefined;
    }
  }

  /** The request's live session, if any. Looking never extends it (the WebSocket upgrade uses this too). */
  sessionOf(req: http.IncomingMessage): Session | undefined {
    return this.d.sessions.get(sessionCookieValue(req.headers.cookie), this.generation());
  }

  /** Restarts the idle clock if a person caused the request, and tells the page how long the session has left. */
  private attend(req: http.IncomingMessage, res: http.ServerResponse, session: Session): void {
    this.d.sessions.touch(session, parseActivity(req.headers[ACTIVITY_HEADER]));
    this.announce(res, session);
  }

  private announce(res: http.ServerResponse, session: Session): void {
    res.setHeader(SESSION_EXPIRES_HEADER, formatSessionExpiry(this.d.sessions.remaining(session)));
  }

  private requireSession(req: http.IncomingMessage): Session {
    const session = this.sessionOf(req);
    if (!session) throw new WebRefusal(401, WebErrorCode.SignInRequired, 'Sign in first (your session has ended or never began).');
    return session;
  }

  private requireSameOrigin(req: http.IncomingMessage, own: string): void {
    if (!OriginPolicy.same(req.headers.origin, own)) {
      throw new WebRefusal(403, WebErrorCode.CsrfRejected, `Refused: the request does not come from this UI's own page (Origin must be ${own}).`);
    }
  }

  private requireCsrf(req: http.IncomingMessage, session: Session, own: string): void {
    this.requireSameOrigin(req, own);
    const token = req.headers[CSRF_HEADER];
    if (!this.d.sessions.checkCsrf(session, typeof token === 'string' ? token : undefined)) {
      throw new WebRefusal(403, WebErrorCode.CsrfRejected, `Refused: the ${CSRF_HEADER} header is missing or does not match this session; reload the page.`);
    }
  }

  private requireReady(session: Session): void {
    if (session.mustChangePassword) {
      throw new WebRefusal(403, WebErrorCode.PasswordChangeRequired, 'Change the initial password first: nothing else is available until you do.');
    }
  }

  private info(session: Session | undefined): SessionInfo {
    if (!session) return { signedIn: false };
    return {
      signedIn: true,
      user: session.user,
      mustChangePassword: session.mustChangePassword,
      csrfToken: session.csrfToken,
      expiresAt: new Date(this.d.sessions.expiresAt(session)).toISOString(),
    };
  }

  private record(e: SignInEvent): Promise<void> {
    return this.d.audit(signInDraft(e));
  }

  /**
   * Starts a password check, or refuses it (429, audited once per wait) before the password is
   * even looked at. The ticket counts the attempt until it is settled, so parallel attempts
   * from one client are refused rather than all checked.
   */
  private async attempt(user: string, address: string): Promise<ThrottleTicket> {
    const decision = this.d.throttle.begin(address);
    if (decision.allowed) return decision;
    if (decision.firstRefusal) await this.record({ kind: 'throttled', user, address, retryAfterMs: decision.retryAfterMs, scope: decision.scope });
    const wait = seconds(decision.retryAfterMs);
    throw new WebRefusal(429, WebErrorCode.TooManyAttempts, `Too many failed sign-ins; try again in ${wait} s.`, { 'retry-after': String(wait) });
  }

  /** The account file's problems are the server's: the log gets the details, the caller a sentence without paths. */
  private unavailable(err: unknown): never {
    if (err instanceof SkybridgeError && err.code === ErrorCode.ConfigInvalid) {
      this.d.logger.error({ err: err.message }, 'the UI admin account cannot be read');
      throw new WebRefusal(503, ErrorCode.ConfigInvalid, "Sign-in is unavailable: the administrator account on the server is damaged. Run 'skybridge agent ui reset-password' there.");
    }
    throw err;
  }

  private async verify(user: string, password: string, ticket: ThrottleTicket): Promise<boolean> {
    try {
      return await this.d.auth.verify(user, password);
    } catch (err) {
      // Not checked, so not counted either way.
      ticket.cancel();
      if (err instanceof PasswordQueueFull) throw new WebRefusal(429, WebErrorCode.TooManyAttempts, 'Too many sign-ins at once; try again in a moment.', { 'retry-after': '1' });
      return this.unavailable(err);
    }
  }

  /** A wrong password: counted, audited, and answered only after the wait it earned. */
  private async wrongPassword(user: string, address: string, ticket: ThrottleTicket): Promise<void> {
    const { waitMs } = ticket.failed();
    await Promise.all([this.record({ kind: 'wrong-password', user, address, waitMs }), sleep(Math.min(waitMs, HOLD_FAILURE_MAX_MS))]);
  }

  async handle(req: http.IncomingMessage, res: http.ServerResponse, pathname: string, own: string): Promise<void> {
    const method = req.method ?? 'GET';
    const notAllowed = (allowed: string) => new WebRefusal(405, ErrorCode.MethodNotAllowed, `${method} is not supported here; use ${allowed}.`, { allow: allowed });
    if (pathname === WEB_API.session) {
      if (method === 'GET') return this.sessionInfo(req, res);
      if (method === 'POST') return this.signIn(req, res, own);
      if (method === 'DELETE') return this.signOut(req, res, own);
      throw notAllowed('GET, POST, DELETE');
    }
    if (pathname === WEB_API.password) {
      if (method !== 'POST') throw notAllowed('POST');
      return this.changePassword(req, res, own);
    }
    if (pathname.startsWith(WEB_API.call)) {
      if (method !== 'POST') throw notAllowed('POST');
      return this.call(req, res, pathname.slice(WEB_API.call.length), own);
    }
    if (pathname.startsWith(WEB_API.bundles)) {
      if (method !== 'GET' && method !== 'HEAD') throw notAllowed('GET');
      const session = this.requireSession(req);
      this.requireReady(session);
      this.attend(req, res, session);
      return this.d.bundles.send(pathname.slice(WEB_API.bundles.length), res);
    }
    if (pathname === WEB_API.events) throw new WebRefusal(426, ErrorCode.BadRequest, 'Live events are a WebSocket: connect with an Upgrade request.', { upgrade: 'websocket' });
    throw new WebRefusal(404, ErrorCode.NotFound, `There is no API at ${pathname}.`);
  }

  private sessionInfo(req: http.IncomingMessage, res: http.ServerResponse): void {
    const session = this.sessionOf(req);
    if (session) this.attend(req, res, session);
    sendJson(res, 200, this.info(session));
  }

  private async signIn(req: http.IncomingMessage, res: http.ServerResponse, own: string): Promise<void> {
    // No session yet, so no CSRF token: the Origin (when a browser sends one) and the JSON content type keep other sites out.
    if (req.headers.origin !== undefined) this.requireSameOrigin(req, own);
    const address = clientAddress(req);
    const body = await readJson(req, SIGN_IN_BODY_LIMIT);
    const parsed = signInSchema.safeParse(body);
    if (!parsed.success) {
      if (parsed.error.issues.some((i) => i.path[0] === 'user')) return this.invalidUser(address);
      throw new SkybridgeError(ErrorCode.InvalidInput, formatIssues(parsed.error));
    }
    const { user, password } = parsed.data;
    const ticket = await this.attempt(user, address);
    if (!(await this.verify(user, password, ticket))) {
      await this.wrongPassword(user, address, ticket);
      throw new WebRefusal(401, WebErrorCode.WrongPassword, 'Wrong user name or password.');
    }
    ticket.succeeded();
    // A cookie that came with the request is never promoted to a signed-in session (session fixation).
    const previous = this.sessionOf(req);
    if (previous) this.d.sessions.end(previous, 'replaced');
    let state;
    try {
      state = this.d.auth.state();
    } catch (err) {
      return this.unavailable(err);
    }
    if (!state) throw new WebRefusal(503, ErrorCode.ConfigInvalid, "Sign-in is unavailable: the administrator account is missing. Run 'skybridge agent ui reset-password' on the server.");
    const { session, cookieValue } = this.d.sessions.create(state.user, { mustChangePassword: state.mustChangePassword, generation: state.generation });
    await this.record({ kind: 'signed-in', user: state.user, address, mustChangePassword: state.mustChangePassword });
    this.announce(res, session);
    sendJson(res, 200, this.info(session), { 'set-cookie': sessionCookie(cookieValue) });
  }

  /**
   * A user name outside the allowed characters can never be right. It is counted and audited
   * like a failed sign-in (so it cannot flood the log), under a placeholder: what an outsider
   * typed never reaches the audit log or a terminal.
   */
  private async invalidUser(address: string): Promise<never> {
    const ticket = await this.attempt(INVALID_USER_PLACEHOLDER, address);
    const { waitMs } = ticket.failed();
    await this.record({ kind: 'wrong-password', user: INVALID_USER_PLACEHOLDER, address, waitMs });
    throw new SkybridgeError(ErrorCode.InvalidInput, 'user: use the administrator\'s user name (letters, digits, dot, underscore, @ and dash; at most 64).');
  }

  private async signOut(req: http.IncomingMessage, res: http.ServerResponse, own: string): Promise<void> {
    const session = this.sessionOf(req);
    if (session) {
      this.requireCsrf(req, session, own);
      this.d.sessions.end(session, 'signed-out');
      await this.record({ kind: 'signed-out', user: session.user, address: clientAddress(req) });
    }
    sendJson(res, 200, this.info(undefined), { 'set-cookie': clearedSessionCookie() });
  }

  private async changePassword(req: http.IncomingMessage, res: http.ServerResponse, own: string): Promise<void> {
    const session = this.requireSession(req);
    this.requireCsrf(req, session, own);
    const address = clientAddress(req);
    const parsed = changePasswordSchema.safeParse(await readJson(req, SIGN_IN_BODY_LIMIT));
    if (!parsed.success) {
      const message = parsed.error.issues.some((i) => i.path[0] === 'next') ? `The new password needs ${parsed.error.issues.find((i) => i.path[0] === 'next')!.message}.` : formatIssues(parsed.error);
      throw new SkybridgeError(ErrorCode.InvalidInput, message);
    }
    const ticket = await this.attempt(session.user, address);
    let state;
    try {
      state = await this.d.auth.changePassword(session.user, parsed.data.current, parsed.data.next);
    } catch (err) {
      if (err instanceof SkybridgeError && err.code === ErrorCode.AccessDenied) {
        // Knowing the session is not knowing the password: a wrong current one counts like a failed sign-in.
        await this.wrongPassword(session.user, address, ticket);
        throw new WebRefusal(403, WebErrorCode.WrongPassword, 'The current password is wrong.');
      }
      // The new password was refused after the current one was checked: the check itself succeeded.
      if (err instanceof SkybridgeError && err.code === ErrorCode.InvalidInput) ticket.succeeded();
      else ticket.cancel();
      if (err instanceof PasswordQueueFull) throw new WebRefusal(429, WebErrorCode.TooManyAttempts, 'Too many password checks at once; try again in a moment.', { 'retry-after': '1' });
      if (err instanceof SkybridgeError && err.code === ErrorCode.InvalidInput) await this.record({ kind: 'password-change-refused', user: session.user, address, reason: err.message });
      return this.unavailable(err);
    }
    ticket.succeeded();
    const { session: next, cookieValue } = this.d.sessions.rotate(session, state.generation);
    await this.record({ kind: 'password-changed', user: session.user, address });
    this.announce(res, next);
    sendJson(res, 200, this.info(next), { 'set-cookie': sessionCookie(cookieValue) });
  }

  private async call(req: http.IncomingMessage, res: http.ServerResponse, name: string, own: string): Promise<void> {
    const session = this.requireSession(req);
    this.requireCsrf(req, session, own);
    this.requireReady(session);
    this.attend(req, res, session);
    if (!/^[A-Za-z]{1,64}$/.test(name) || !Object.hasOwn(connectorApiSchemas, name)) {
      throw new WebRefusal(404, ErrorCode.NotFound, `There is no API method "${name.slice(0, 64)}".`);
    }
    const method = name as ConnectorApiMethod;
    const fn = (this.d.api as unknown as Record<string, unknown>)[method];
    if (typeof fn !== 'function') throw new WebRefusal(501, ErrorCode.NotFound, `${method} is not available in this connector.`);
    let body = await readJson(req, API_BODY_LIMIT);
    let bundleName: string | undefined;
    if (method === 'exportSupportBundle') {
      // The browser names at most a file; where it goes on this machine is the server's choice.
      if (!isPlainObject(body)) throw new SkybridgeError(ErrorCode.InvalidInput, 'Send the input as a JSON object, for example {"out": "bundle.zip"} or {}.');
      const raw = body;
      const target = this.d.bundles.target(raw.out);
      bundleName = target.name;
      body = { ...raw, out: target.file };
    }
    const schema = connectorApiSchemas[method];
    const input = schema.input.safeParse(body);
    if (!input.success) throw new SkybridgeError(ErrorCode.InvalidInput, formatIssues(input.error));
    const result: unknown = await (fn as (input: unknown) => Promise<unknown>).call(this.d.api, input.data);
    // Only what the contract allows goes to the browser (zod drops anything else).
    const output = schema.output.safeParse(result);
    if (!output.success) {
      this.d.logger.error({ method, issues: formatIssues(output.error) }, 'API result does not match its contract; not sent to the UI');
      throw new Error('contract');
    }
    let value: unknown = output.data;
    if (bundleName) {
      this.d.bundles.prune();
      value = { ...(output.data as object), file: bundleName };
    }
    sendJson(res, 200, { result: value });
  }
}
