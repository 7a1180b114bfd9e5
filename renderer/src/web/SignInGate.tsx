import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { WebErrorCode, type SessionEndCause, type SessionInfo } from '../../../shared/web-api.js';
import { ApiError, type Client } from '../api/client.js';
import { ClientProvider } from '../api/context.js';
import { ErrorMessage } from '../components/ErrorMessage.js';
import { Field } from '../components/Field.js';
import { ChangePasswordForm } from './ChangePasswordForm.js';
import { SessionNotice, type SessionTimer } from './SessionNotice.js';
import { WebSessionContext, type WebSession } from './session.js';

/** The part of WebClient the gate uses (a fake in tests). */
export interface SessionClient extends Client {
  session(): Promise<SessionInfo>;
  signIn(password: string, user?: string): Promise<SessionInfo>;
  signOut(): Promise<void>;
  changePassword(current: string, next: string): Promise<SessionInfo>;
  /** Set by the gate; `reason` says the session ran out (idle or its limit) rather than ended otherwise. */
  onSignedOut: ((reason?: SessionEndCause) => void) | undefined;
  // The idle warning's needs (WebClient has them; a client without them shows no warning).
  deadline?: SessionTimer['deadline'];
  onDeadlineChange?: SessionTimer['onDeadlineChange'];
  keepAlive?: SessionTimer['keepAlive'];
  verifySession?: SessionTimer['verifySession'];
}

function timerOf(client: SessionClient): SessionTimer | undefined {
  const { deadline, onDeadlineChange, keepAlive, verifySession } = client;
  if (!deadline || !onDeadlineChange || !keepAlive || !verifySession) return undefined;
  return {
    deadline: () => deadline.call(client),
    onDeadlineChange: (listener) => onDeadlineChange.call(client, listener),
    keepAlive: () => keepAlive.call(client),
    verifySession: () => verifySession.call(client),
  };
}

type GateState =
  | { kind: 'loading' }
  | { kind: 'unreachable'; error: unknown }
  | { kind: 'signed-out'; notice?: string }
  | { kind: 'must-change'; user: string }
  | { kind: 'signed-in'; user: string };

const EXPIRED = 'Your session has ended (signed out elsewhere or idle too long). Sign in again to continue.';
const ENDED_BY: Record<SessionEndCause, string> = {
  idle: 'Your session expired after a period of inactivity. Sign in again to continue.',
  limit: 'Your session reached its maximum length. Sign in again to continue.',
};
const SIGNED_OUT = 'You are signed out.';

/** Failed sign-ins are slowed down by the server (HTTP 429); say so rather than only "wrong password". */
function isThrottled(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 429 || error.code === WebErrorCode.TooManyAttempts);
}

function stateFor(info: SessionInfo): GateState {
  if (!info.signedIn) return { kind: 'signed-out' };
  const user = info.user ?? 'admin';
  return info.mustChangePassword ? { kind: 'must-change', user } : { kind: 'signed-in', user };
}

/**
 * Headless mode: nothing of the app renders until the browser has a session. Asks the
 * agent for the session on load; shows the sign-in form when there is none, the forced
 * password change on first sign-in, and goes back to sign-in (with a note) when the server
 * says the session is gone.
 */
export function SignInGate({ client, children }: { client: SessionClient; children: ReactNode }) {
  const [state, setState] = useState<GateState>({ kind: 'loading' });
  const queryClient = useQueryClient();
  // A wrong password answers 401 too; while the gate itself is asking, that is not an expiry.
  const asking = useRef(false);
  const stateRef = useRef(state);
  stateRef.current = state;

  const load = useCallback(async () => {
    setState({ kind: 'loading' });
    try {
      setState(stateFor(await client.session()));
    } catch (error) {
      setState({ kind: 'unreachable', error });
    }
  }, [client]);

  useEffect(() => {
    void load();
  }, [load]);

  useEffect(() => {
    client.onSignedOut = (reason) => {
      if (asking.current) return;
      const kind = stateRef.current.kind;
      if (kind !== 'signed-in' && kind !== 'must-change') return;
      queryClient.clear();
      setState({ kind: 'signed-out', notice: reason ? ENDED_BY[reason] : EXPIRED });
    };
    return () => {
      client.onSignedOut = undefined;
    };
  }, [client, queryClient]);

  const ask = useCallback(async <T,>(fn: () => Promise<T>): Promise<T> => {
    asking.current = true;
    try {
      return await fn();
    } finally {
      asking.current = false;
    }
  }, []);

  const signOut = useCallback(() => {
    void client.signOut().finally(() => {
      // Nothing of the last session may linger for whoever signs in next.
      queryClient.clear();
      setState({ kind: 'signed-out', notice: SIGNED_OUT });
    });
  }, [client, queryClient]);

  const changePassword = useCallback(
    async (current: string, next: string) => {
      const info = await ask(() => client.changePassword(current, next));
      setState(stateFor(info));
    },
    [ask, client],
  );

  const timer = useMemo(() => timerOf(client), [client]);
  const notice = timer ? <SessionNotice timer={timer} /> : null;
  const user = state.kind === 'signed-in' || state.kind === 'must-change' ? state.user : undefined;
  const session = useMemo<WebSession | undefined>(() => (user ? { user, signOut, changePassword } : undefined), [user, signOut, changePassword]);

  switch (state.kind) {
    case 'loading':
      return (
        <main className="signin">
          <p className="loading" role="status">
            Connecting to the Skybridge connector…
          </p>
        </main>
      );
    case 'unreachable':
      return (
        <main className="signin">
          <div className="signin-box">
            <h1>Skybridge</h1>
            <ErrorMessage error={state.error} title="The connector did not answer." />
            <button type="button" className="button button-primary" onClick={() => void load()}>
              Try again
            </button>
          </div>
        </main>
      );
    case 'signed-out':
      return <SignInForm notice={state.notice} onSignIn={async (password) => setState(stateFor(await ask(() => client.signIn(password))))} />;
    case 'must-change':
      return (
        <main className="signin">
          <div className="signin-box">
            <h1>Choose your password</h1>
            <p className="info-message">
              This is the first sign-in with the initial password. Choose your own before you continue; the initial one stops working.
            </p>
            <ChangePasswordForm onSubmit={changePassword} />
            <button type="button" className="button-link" onClick={signOut}>
              Sign out instead
            </button>
          </div>
          {notice}
        </main>
      );
    case 'signed-in':
      return (
        <WebSessionContext.Provider value={session}>
          <ClientProvider client={client}>{children}</ClientProvider>
          {notice}
        </WebSessionContext.Provider>
      );
  }
}

function SignInForm({ notice, onSignIn }: { notice?: string | undefined; onSignIn: (password: string) => Promise<void> }) {
  const input = useRef<HTMLInputElement>(null);
  const [password, setPassword] = useState('');
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!password) {
      setMissing(true);
      return;
    }
    setMissing(false);
    setError(null);
    setBusy(true);
    try {
      await onSignIn(password);
    } catch (e) {
      setError(e);
      setPassword('');
      setBusy(false);
      // Ready for the next try without reaching for the mouse.
      input.current?.focus();
    }
  };

  return (
    <main className="signin">
      <div className="signin-box">
        <div>
          <h1>Sign in to Skybridge</h1>
          <p className="muted small">Local administration of this connector (user admin).</p>
        </div>
        {notice ? (
          <p className="info-message" role="status">
            {notice}
          </p>
        ) : null}
        <form className="form" onSubmit={(e) => void submit(e)} noValidate aria-label="Sign in">
          <Field label="Password" error={missing ? 'Enter the password.' : undefined}>
            <input ref={input} type="password" name="password" autoComplete="current-password" autoFocus value={password} onChange={(e) => setPassword(e.target.value)} />
          </Field>
          <ErrorMessage error={error} />
          {isThrottled(error) ? (
            <p className="warning-message">
              Too many failed attempts: sign-in is slowed down for a while. Wait a moment before trying again.
            </p>
          ) : null}
          <button type="submit" className="button button-primary" disabled={busy}>
            Sign in
          </button>
        </form>
        <p className="muted small">
          Forgot the password? On the connector host, run <code>skybridge agent ui reset-password</code>.
        </p>
      </div>
    </main>
  );
}
