import { useCallback, useEffect, useState, useSyncExternalStore } from 'react';
import type { SessionDeadline } from '../api/web-client.js';
import { ErrorMessage } from '../components/ErrorMessage.js';
import './session-notice.css';

/** The warning shows this long before the session ends. */
export const WARN_BEFORE_MS = 2 * 60_000;
const MINUTE = 60_000;
/** The server's clock decides: ask it this long after the expected end, then less and less often if it does not answer. */
const CHECK_AFTER_END_MS = 1_000;
const CHECK_AT_MOST_EVERY_MS = 30_000;

/** What the notice needs from the client (WebClient has it). */
export interface SessionTimer {
  deadline(): SessionDeadline | undefined;
  onDeadlineChange(listener: () => void): () => void;
  /** A request that counts as the person's activity. */
  keepAlive(): Promise<void>;
  /** Asks the server without extending the session; reports an ended one through onSignedOut. */
  verifySession(): Promise<void>;
}

function minutes(n: number): string {
  return n === 1 ? '1 minute' : `${n} minutes`;
}

/**
 * A small, non-blocking notice shortly before the session ends: "Stay signed in" when the
 * end is an idle expiry, a plain note when it is the absolute limit (nothing postpones that).
 * When the time is up it asks the server, which ends the session, so an unattended page
 * returns to the sign-in screen on its own. Before warning it asks once too: another tab of
 * the same browser may have kept the session alive meanwhile.
 */
export function SessionNotice({ timer }: { timer: SessionTimer }) {
  const subscribe = useCallback((listener: () => void) => timer.onDeadlineChange(listener), [timer]);
  const deadline = useSyncExternalStore(subscribe, () => timer.deadline());
  const [minutesLeft, setMinutesLeft] = useState<number | undefined>(undefined);
  const [tick, setTick] = useState(0);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    if (!deadline) {
      setMinutesLeft(undefined);
      return;
    }
    const left = deadline.at - Date.now();
    setMinutesLeft(left <= WARN_BEFORE_MS ? Math.max(1, Math.ceil(left / MINUTE)) : undefined);
    const again = () => setTick((n) => n + 1);
    const ask = () => void timer.verifySession().catch(() => undefined).finally(again);
    let id: ReturnType<typeof setTimeout>;
    if (left > WARN_BEFORE_MS) id = setTimeout(ask, left - WARN_BEFORE_MS);
    // Next when the whole minutes left drop by one, the last time at the end itself.
    else if (left > 0) id = setTimeout(again, left - (Math.ceil(left / MINUTE) - 1) * MINUTE);
    else id = setTimeout(ask, Math.min(CHECK_AT_MOST_EVERY_MS, CHECK_AFTER_END_MS - left));
    return () => clearTimeout(id);
  }, [deadline, tick, timer]);

  if (!deadline || minutesLeft === undefined) return null;

  const stay = async () => {
    setBusy(true);
    setError(null);
    try {
      await timer.keepAlive();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="session-notice" role="alert">
      {deadline.cause === 'idle' ? (
        <>
          <p>You will be signed out in {minutes(minutesLeft)} due to inactivity.</p>
          <button type="button" className="button button-primary button-small" disabled={busy} onClick={() => void stay()}>
            Stay signed in
          </button>
        </>
      ) : (
        <p>Your session reaches its maximum length in {minutes(minutesLeft)}; then you will need to sign in again.</p>
      )}
      <ErrorMessage error={error} />
    </div>
  );
}
