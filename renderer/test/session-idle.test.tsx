/**
 * Idle sign-out in the browser: the real WebClient and SignInGate against a fake agent behind
 * `fetch` that keeps the session the way the server does (only requests marked
 * `x-skybridge-activity: user` restart its idle clock).
 */
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { useAgentEvents, useApiQuery } from '../src/api/hooks.js';
import { KEEP_ALIVE_EVERY_MS, WebClient } from '../src/api/web-client.js';
import { PageActivity, RECENT_INPUT_MS, type ActivitySource } from '../src/web/activity.js';
import { SignInGate } from '../src/web/SignInGate.js';

interface Seen {
  method: string;
  path: string;
  activity: string | undefined;
}

/** The agent's session rules in miniature: answers /api/session and /api/call/*, ends the session when its time is up. */
function fakeAgent(o: { idleMs: number; leftMs?: number; cause?: 'idle' | 'limit' }) {
  let signedIn = true;
  let endsAt = Date.now() + (o.leftMs ?? o.idleMs);
  const seen: Seen[] = [];
  const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
  const fetchMock = vi.fn(async (url: string | URL, init: RequestInit = {}) => {
    const headers = (init.headers ?? {}) as Record<string, string>;
    const path = String(url);
    const method = init.method ?? 'GET';
    seen.push({ method, path, activity: headers['x-skybridge-activity'] });
    const now = Date.now();
    if (signedIn && now >= endsAt) signedIn = false;
    if (signedIn && headers['x-skybridge-activity'] === 'user' && o.cause !== 'limit') endsAt = now + o.idleMs;
    const left: Record<string, string> = signedIn ? { 'x-skybridge-session-expires-in': `${endsAt - now}; cause=${o.cause ?? 'idle'}` } : {};
    if (path === '/api/session' && method === 'GET') {
      return json(200, signedIn ? { signedIn: true, user: 'admin', mustChangePassword: false, csrfToken: 'csrf' } : { signedIn: false }, left);
    }
    if (path.startsWith('/api/call/')) {
      if (!signedIn) return json(401, { error: { code: 'SIGN_IN_REQUIRED', message: 'Sign in first (your session has ended or never began).' } });
      return json(200, { result: [] }, left);
    }
    return json(404, { error: { code: 'NOT_FOUND', message: 'no' } });
  });
  vi.stubGlobal('fetch', fetchMock);
  return {
    seen,
    /** What a person did elsewhere (another tab) or what the server decided. */
    setLeft(ms: number) {
      endsAt = Date.now() + ms;
    },
    signOutElsewhere() {
      signedIn = false;
    },
    calls: () => seen.filter((s) => s.path.startsWith('/api/call/')),
    sessionChecks: () => seen.filter((s) => s.path === '/api/session'),
  };
}

/** A page that only reads, on a timer, like the dashboard. */
function PollingPage({ everyMs }: { everyMs: number }) {
  const query = useApiQuery('listSubaccounts', {}, { refetchInterval: everyMs });
  return <p>Polled {query.dataUpdatedAt ? 'yes' : 'not yet'}</p>;
}

/** A page that shows live events and does not poll. */
function LivePage() {
  useAgentEvents(() => undefined);
  return <p>Live</p>;
}

/** Stands in for the browser's WebSocket: the test closes it as the server would. */
class FakeSocket {
  static last: FakeSocket | undefined;
  onopen: (() => void) | null = null;
  onmessage: ((m: { data: string }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  constructor(readonly url: URL) {
    FakeSocket.last = this;
  }
  close(): void {}
}

function renderGate(client: WebClient, page = <p>The console</p>) {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false, refetchOnWindowFocus: false } } });
  return render(
    <QueryClientProvider client={queryClient}>
      <SignInGate client={client}>{page}</SignInGate>
    </QueryClientProvider>,
  );
}

/** No person at the keyboard: every request is background. */
const nobody: ActivitySource = { current: () => 'background', onInput: () => () => undefined };

beforeEach(() => {
  vi.useRealTimers();
});

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe('page activity', () => {
  it('counts a click, a key or a wheel turn for a few seconds, and nothing else', () => {
    let t = 1_000_000;
    const target = new EventTarget();
    const activity = new PageActivity(target, () => t);
    const inputs = vi.fn();
    activity.onInput(inputs);
    expect(activity.current()).toBe('background');
    target.dispatchEvent(new Event('pointermove'));
    expect(activity.current()).toBe('background');
    target.dispatchEvent(new Event('pointerdown'));
    expect(activity.current()).toBe('user');
    t += RECENT_INPUT_MS + 1;
    expect(activity.current()).toBe('background');
    target.dispatchEvent(new Event('keydown'));
    expect(activity.current()).toBe('user');
    t += RECENT_INPUT_MS + 1;
    target.dispatchEvent(new Event('wheel'));
    expect(activity.current()).toBe('user');
    expect(inputs).toHaveBeenCalledTimes(3);
  });
});

describe('WebClient and the session clock', () => {
  it('marks requests as the person\'s only right after input; input alone keeps the session at most once a minute', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-03-01T10:00:00Z'));
    const agent = fakeAgent({ idleMs: 30 * 60_000 });
    const client = new WebClient('', { activity: new PageActivity(window) });
    await client.session();
    expect(agent.seen.at(-1)?.activity).toBe('background');
    expect(client.deadline()?.at).toBe(Date.now() + 30 * 60_000);

    await client.call('listSubaccounts', {});
    expect(agent.calls().at(-1)?.activity).toBe('background');

    fireEvent.keyDown(document.body, { key: 'a' });
    await client.call('listSubaccounts', {});
    expect(agent.calls().at(-1)?.activity).toBe('user');

    vi.setSystemTime(Date.now() + RECENT_INPUT_MS + 1);
    await client.call('listSubaccounts', {});
    expect(agent.calls().at(-1)?.activity).toBe('background');

    // Typing where no request follows: the first key after a quiet minute sends a keep-alive, the next ones do not.
    vi.setSystemTime(Date.now() + KEEP_ALIVE_EVERY_MS);
    const before = agent.sessionChecks().length;
    fireEvent.keyDown(document.body, { key: 'b' });
    fireEvent.pointerDown(document.body);
    await waitFor(() => expect(agent.sessionChecks().length).toBe(before + 1));
    expect(agent.sessionChecks().at(-1)?.activity).toBe('user');
    vi.setSystemTime(Date.now() + KEEP_ALIVE_EVERY_MS / 2);
    fireEvent.keyDown(document.body, { key: 'c' });
    await new Promise((r) => setTimeout(r, 20));
    expect(agent.sessionChecks().length).toBe(before + 1);
  });
});

describe('the idle warning and sign-out', () => {
  it('warns before an idle sign-out, and "Stay signed in" keeps the session', async () => {
    const agent = fakeAgent({ idleMs: 30 * 60_000, leftMs: 60_000 });
    renderGate(new WebClient('', { activity: nobody }));
    expect(await screen.findByText('The console')).toBeVisible();
    const notice = await screen.findByRole('alert');
    expect(notice).toHaveTextContent('You will be signed out in 1 minute due to inactivity.');
    expect(agent.seen.every((s) => s.activity === 'background')).toBe(true);

    await userEvent.setup().click(screen.getByRole('button', { name: 'Stay signed in' }));
    await waitFor(() => expect(screen.queryByText(/You will be signed out/)).toBeNull());
    expect(agent.sessionChecks().at(-1)).toMatchObject({ method: 'GET', activity: 'user' });
    expect(screen.getByText('The console')).toBeVisible();
  });

  it('says nothing while plenty of time is left', async () => {
    fakeAgent({ idleMs: 30 * 60_000 });
    renderGate(new WebClient('', { activity: nobody }));
    expect(await screen.findByText('The console')).toBeVisible();
    await new Promise((r) => setTimeout(r, 50));
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('near the absolute limit it says so, without a button that could not help', async () => {
    fakeAgent({ idleMs: 30 * 60_000, leftMs: 90_000, cause: 'limit' });
    renderGate(new WebClient('', { activity: nobody }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Your session reaches its maximum length in 2 minutes');
    expect(screen.queryByRole('button', { name: 'Stay signed in' })).toBeNull();
  });

  it('a page left polling is signed out when the session runs out: the background 401 brings back the sign-in screen', async () => {
    const agent = fakeAgent({ idleMs: 400 });
    renderGate(new WebClient('', { activity: nobody }), <PollingPage everyMs={100} />);
    expect(await screen.findByText('Polled yes')).toBeVisible();
    expect(await screen.findByText('Your session expired after a period of inactivity. Sign in again to continue.', {}, { timeout: 3000 })).toBeVisible();
    expect(screen.getByLabelText('Password')).toBeVisible();
    expect(screen.queryByText(/Polled/)).toBeNull();
    const calls = agent.calls();
    expect(calls.length).toBeGreaterThanOrEqual(3);
    expect(calls.every((c) => c.activity === 'background')).toBe(true);
    // What did it: a poll was refused, not the page's own check at the deadline.
    expect(agent.sessionChecks()).toHaveLength(1);
  });

  it('a page that does not poll goes back to sign-in by itself once the time is up', async () => {
    const agent = fakeAgent({ idleMs: 300 });
    renderGate(new WebClient('', { activity: nobody }));
    expect(await screen.findByText('The console')).toBeVisible();
    expect(await screen.findByText(/Your session expired after a period of inactivity/, {}, { timeout: 4000 })).toBeVisible();
    expect(screen.queryByText('The console')).toBeNull();
    expect(agent.sessionChecks().length).toBeGreaterThanOrEqual(2);
    expect(agent.seen.every((s) => s.activity === 'background')).toBe(true);
  });

  it('signed out in another tab: the event socket closing (4001) brings back sign-in without waiting for a poll', async () => {
    vi.stubGlobal('WebSocket', FakeSocket);
    const agent = fakeAgent({ idleMs: 30 * 60_000 });
    renderGate(new WebClient('', { activity: nobody }), <LivePage />);
    expect(await screen.findByText('Live')).toBeVisible();
    await waitFor(() => expect(FakeSocket.last).toBeDefined());
    agent.signOutElsewhere();
    act(() => FakeSocket.last!.onclose!({ code: 4001 }));
    expect(await screen.findByText(/Your session has ended/)).toBeVisible();
    expect(agent.sessionChecks().at(-1)?.activity).toBe('background');
    expect(agent.calls()).toHaveLength(0);
  });

  it('if another tab kept the session alive, the check at the deadline finds it and the page stays', async () => {
    const agent = fakeAgent({ idleMs: 300 });
    renderGate(new WebClient('', { activity: nobody }));
    expect(await screen.findByText('The console')).toBeVisible();
    act(() => agent.setLeft(30 * 60_000));
    await waitFor(() => expect(agent.sessionChecks().length).toBeGreaterThanOrEqual(2), { timeout: 4000 });
    await waitFor(() => expect(screen.queryByRole('alert')).toBeNull());
    expect(screen.getByText('The console')).toBeVisible();
  });
});
