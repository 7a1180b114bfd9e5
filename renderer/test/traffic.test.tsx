import { Profiler, useState } from 'react';
import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AgentEvent } from '../../shared/api.js';
import type { TrafficRecord } from '../../shared/evidence.js';
import { TrafficPage } from '../src/pages/TrafficPage.js';
import { createFakeClient, fakeTraffic, renderWithClient } from './fake-client.js';

// jsdom does no layout: give every element a viewport so the virtualiser renders a window of rows (320 px / 32 px rows).
const VIEWPORT = { clientHeight: 320, clientWidth: 1200 };
const saved = new Map<string, PropertyDescriptor | undefined>();
beforeAll(() => {
  for (const [name, value] of Object.entries(VIEWPORT)) {
    saved.set(name, Object.getOwnPropertyDescriptor(HTMLElement.prototype, name));
    Object.defineProperty(HTMLElement.prototype, name, { configurable: true, get: () => value });
  }
});
afterAll(() => {
  for (const [name, descriptor] of saved) {
    if (descriptor) Object.defineProperty(HTMLElement.prototype, name, descriptor);
    else delete (HTMLElement.prototype as unknown as Record<string, unknown>)[name];
  }
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Live events emitted since the page was rendered (renderPage resets it). */
let sent = 0;
/**
 * Lets the page's batched flush (every 250 ms) happen inside act(), then waits until the
 * counter shows every event sent, so a slow machine delays the test instead of failing it.
 */
async function settle() {
  await act(() => sleep(300));
  const expected = new RegExp(`${sent.toLocaleString()} received live`);
  await waitFor(() => expect(screen.getByText(expected)).toBeInTheDocument());
}

let seq = 0;
function requestEvent(overrides: Partial<TrafficRecord> = {}): AgentEvent {
  seq += 1;
  sent += 1;
  return { type: 'request', ...fakeTraffic({ requestId: `live-${seq}`, at: new Date(Date.now() + seq).toISOString(), ...overrides }) };
}

function liveTable() {
  return screen.getByRole('table', { name: 'Live traffic' });
}

/** Data rows in the DOM (the header row is the first row). */
function dataRows() {
  return within(liveTable()).getAllByRole('row').slice(1);
}

async function renderPage(records: TrafficRecord[] = []) {
  const client = createFakeClient({ data: { traffic: records } });
  sent = 0;
  let commits = 0;
  const view = renderWithClient(
    <Profiler id="traffic" onRender={() => (commits += 1)}>
      <TrafficPage />
    </Profiler>,
    { client },
  );
  await waitFor(() => expect(client.api.recentTraffic).toHaveBeenCalled());
  await settle();
  return { ...view, commits: () => commits };
}

describe('Traffic page', () => {
  it('absorbs 1,000 requests in a few batched renders and keeps only a window of rows in the DOM', async () => {
    const { client, commits } = await renderPage();
    const before = commits();
    for (let i = 0; i < 1000; i++) client.emit(requestEvent({ path: `/odata/Orders(${i})` }));
    await settle();
    await waitFor(() => expect(screen.getByText(/Showing 1,000 of 1,000 requests/)).toBeInTheDocument());
    expect(screen.getByText(/1,000 received live/)).toBeInTheDocument();
    // One render per event would be 1,000 commits.
    expect(commits() - before).toBeLessThan(10);
    const rendered = dataRows().length;
    expect(rendered).toBeGreaterThan(5);
    expect(rendered).toBeLessThan(50);
    expect(liveTable()).toHaveAttribute('aria-rowcount', '1001');
    // Newest first: the last event is the first row.
    expect(within(dataRows()[0]!).getByText('/odata/Orders(999)')).toBeInTheDocument();
  });

  it('updates the table from a steady stream at most every 250 ms', async () => {
    const { client } = await renderPage();
    let updates = 0;
    const observer = new MutationObserver((records) => (updates += records.length));
    observer.observe(liveTable(), { attributes: true, attributeFilter: ['aria-rowcount'] });
    // Simulated time, so slow rendering in jsdom cannot stretch the stream.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      // 600 ms of bursts every 50 ms: an update per event or per burst would be 240 or 12 updates.
      for (let burst = 0; burst < 12; burst++) {
        for (let i = 0; i < 20; i++) client.emit(requestEvent());
        act(() => vi.advanceTimersByTime(50));
      }
      act(() => vi.advanceTimersByTime(300));
    } finally {
      vi.useRealTimers();
    }
    updates += observer.takeRecords().length;
    observer.disconnect();
    expect(screen.getByText(/240 received live/)).toBeInTheDocument();
    expect(updates).toBeGreaterThanOrEqual(2);
    expect(updates).toBeLessThanOrEqual(4);
  });

  it('shows the recent history first and counts a request seen both ways once', async () => {
    const old = fakeTraffic({ requestId: 'hist-1', path: '/odata/Customers', at: new Date(Date.now() - 60_000).toISOString() });
    const { client } = await renderPage([old]);
    expect(within(dataRows()[0]!).getByText('/odata/Customers')).toBeInTheDocument();
    client.emit({ type: 'request', ...old });
    sent += 1;
    client.emit(requestEvent({ path: '/odata/Invoices' }));
    await settle();
    expect(screen.getByText(/Showing 2 of 2 requests/)).toBeInTheDocument();
    expect(within(dataRows()[0]!).getByText('/odata/Invoices')).toBeInTheDocument();
  });

  it('lists the requests that passed while the page was closed when it is opened again', async () => {
    const user = userEvent.setup();
    const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000).toISOString();
    // The agent's history, newest first as it answers.
    const before = fakeTraffic({ requestId: 'before', path: '/odata/Customers', at: minutesAgo(10) });
    const client = createFakeClient({ data: { traffic: [before] } });
    /** Another page in between, as the navigation does it: TrafficPage unmounts, the query cache stays. */
    function LeaveAndComeBack() {
      const [open, setOpen] = useState(true);
      return (
        <>
          <button type="button" onClick={() => setOpen(!open)}>
            {open ? 'Leave' : 'Come back'}
          </button>
          {open ? <TrafficPage /> : <p>Another page</p>}
        </>
      );
    }
    renderWithClient(<LeaveAndComeBack />, { client });
    await waitFor(() => expect(screen.getByText(/Showing 1 of 1 requests/)).toBeInTheDocument());

    const seenLive = fakeTraffic({ requestId: 'live', path: '/odata/Orders', at: minutesAgo(5) });
    client.data.traffic.unshift(seenLive);
    client.emit({ type: 'request', ...seenLive });
    await waitFor(() => expect(screen.getByText(/Showing 2 of 2 requests/)).toBeInTheDocument());

    await user.click(screen.getByRole('button', { name: 'Leave' }));
    const whileAway = fakeTraffic({ requestId: 'away', path: '/admin', outcome: 'denied', status: 403, at: minutesAgo(1) });
    client.data.traffic.unshift(whileAway);
    await user.click(screen.getByRole('button', { name: 'Come back' }));

    // The page asks again, and the newer request goes on top of the ones from the last visit, each once.
    await waitFor(() => expect(screen.getByText(/Showing 3 of 3 requests/)).toBeInTheDocument());
    expect(client.api.recentTraffic).toHaveBeenCalledTimes(2);
    expect(dataRows().map((r) => within(r).getByText(/^\/(odata|admin)/).textContent)).toEqual(['/admin', '/odata/Orders', '/odata/Customers']);
  });

  it('holds the table still while paused, counts what arrives, and applies it on Resume', async () => {
    const user = userEvent.setup();
    const { client } = await renderPage();
    client.emit(requestEvent({ path: '/before-pause' }));
    await settle();
    await user.click(screen.getByRole('button', { name: 'Pause' }));
    for (let i = 0; i < 25; i++) client.emit(requestEvent({ path: `/while-paused/${i}` }));
    await settle();
    expect(screen.getByText(/25 new while paused/)).toBeInTheDocument();
    expect(dataRows()).toHaveLength(1);
    expect(screen.queryByText('/while-paused/24')).not.toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Resume' }));
    expect(screen.getByRole('button', { name: 'Pause' })).toBeInTheDocument();
    expect(screen.queryByText(/new while paused/)).not.toBeInTheDocument();
    expect(screen.getByText(/Showing 26 of 26 requests/)).toBeInTheDocument();
    expect(within(dataRows()[0]!).getByText('/while-paused/24')).toBeInTheDocument();
  });

  it('hides rows whose outcome does not match the filter', async () => {
    const user = userEvent.setup();
    const { client } = await renderPage();
    client.emit(requestEvent({ path: '/ok-1' }));
    client.emit(requestEvent({ path: '/admin', outcome: 'denied', status: 403, reason: 'No resource allows /admin.' }));
    client.emit(requestEvent({ path: '/ok-2' }));
    await settle();
    expect(dataRows()).toHaveLength(3);

    await user.selectOptions(screen.getByLabelText('Outcome'), 'denied');
    expect(dataRows()).toHaveLength(1);
    expect(within(liveTable()).getByText('/admin')).toBeInTheDocument();
    expect(within(liveTable()).queryByText('/ok-1')).not.toBeInTheDocument();
    expect(screen.getByText(/Showing 1 of 3 requests/)).toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Clear filters' }));
    expect(dataRows()).toHaveLength(3);
  });

  it('filters by text and status class', async () => {
    const user = userEvent.setup();
    const { client } = await renderPage();
    client.emit(requestEvent({ path: '/odata/Orders', status: 200 }));
    client.emit(requestEvent({ path: '/odata/Broken', status: 502, outcome: 'error', reason: 'The back end refused the connection.' }));
    client.emit(requestEvent({ path: '/sap/bc/ping', status: 200 }));
    await settle();
    await user.selectOptions(screen.getByLabelText('Status'), '5');
    expect(dataRows()).toHaveLength(1);
    await user.selectOptions(screen.getByLabelText('Status'), '');
    await user.type(screen.getByLabelText('Search'), 'sap/bc');
    await waitFor(() => expect(dataRows()).toHaveLength(1));
    expect(within(liveTable()).getByText('/sap/bc/ping')).toBeInTheDocument();
  });

  it('opens the details of a row with its timing split and the reason of a denial', async () => {
    const user = userEvent.setup();
    const { client } = await renderPage();
    client.emit(
      requestEvent({
        path: '/odata/Orders',
        internalHost: 'erp.internal',
        internalPort: 8443,
        resource: '/odata',
        bytesIn: 512,
        bytesOut: 2048,
        timing: { relayMs: 3, tunnelMs: 12, connectMs: 8, backendMs: 120, totalMs: 150 },
      }),
    );
    client.emit(requestEvent({ path: '/admin', outcome: 'denied', status: 403, reason: 'No resource allows /admin.', timing: { totalMs: 2 } }));
    await settle();

    await user.click(within(liveTable()).getByText('/odata/Orders'));
    const details = screen.getByRole('region', { name: 'GET /odata/Orders' });
    const split = within(details).getByRole('table', { name: 'Timing split' });
    const parts = within(split)
      .getAllByRole('row')
      .map((r) => r.textContent);
    expect(parts).toEqual(['Relay3 ms', 'Tunnel12 ms', 'Back-end connect8 ms', 'Back-end response120 ms', 'Connector7 ms', 'Total150 ms']);
    expect(within(details).getByText('erp.internal:8443')).toBeInTheDocument();
    expect(within(details).getByText('/odata')).toBeInTheDocument();

    // Keyboard: Escape closes and returns to the table; Enter on a row opens it.
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('region', { name: 'GET /odata/Orders' })).not.toBeInTheDocument();
    dataRows()[0]!.focus();
    await user.keyboard('{Enter}');
    const denied = screen.getByRole('region', { name: 'GET /admin' });
    expect(within(denied).getByText('No resource allows /admin.')).toBeInTheDocument();
  });

  it('moves between rows with the arrow keys, one row in the tab order', async () => {
    const user = userEvent.setup();
    const { client } = await renderPage();
    for (let i = 0; i < 3; i++) client.emit(requestEvent({ path: `/row/${i}` }));
    await settle();
    const rows = dataRows();
    expect(rows.map((r) => r.tabIndex)).toEqual([0, -1, -1]);
    rows[0]!.focus();
    await user.keyboard('{ArrowDown}');
    await waitFor(() => expect(document.activeElement).toHaveTextContent('/row/1'));
    await user.keyboard('{End}');
    await waitFor(() => expect(document.activeElement).toHaveTextContent('/row/0'));
    expect(dataRows().map((r) => r.tabIndex)).toEqual([-1, -1, 0]);
  });

  it('shows a TCP connection as a CONNECT row without status', async () => {
    const { client } = await renderPage();
    client.emit({
      type: 'connection',
      at: new Date().toISOString(),
      subaccountId: 'acme',
      connectionId: 'c-1',
      app: 'hana-client',
      virtualHost: 'db.virtual',
      virtualPort: 30015,
      outcome: 'allowed',
      ended: 'closed',
      bytesToBackend: 1000,
      bytesFromBackend: 24,
      connectMs: 4,
      durationMs: 900,
    });
    sent += 1;
    await settle();
    const row = dataRows()[0]!;
    expect(within(row).getByText('CONNECT')).toBeInTheDocument();
    expect(within(row).getByText('db.virtual:30015')).toBeInTheDocument();
    expect(within(row).getByText('TCP connection')).toBeInTheDocument();
  });

  it('draws the latency histogram per system and lists the top time consumers', async () => {
    const client = createFakeClient();
    const histogram = [5, 3, 0, 0, 0, 0, 0, 0, 0, 1];
    const aggregate = { subaccount: 'acme', system: 'erp.virtual:443', count: 9, errors: 1, denied: 0, bytesIn: 0, bytesOut: 0, totalMs: 6200, maxMs: 6000, histogram };
    client.api.trafficStats.mockResolvedValue({
      since: new Date().toISOString(),
      bucketsMs: [10, 25, 50, 100, 250, 500, 1000, 2500, 5000],
      systems: [aggregate, { ...aggregate, system: 'crm.virtual:443', histogram: [0, 0, 0, 2, 0, 0, 0, 0, 0, 0], count: 2 }],
      resources: [],
      topConsumers: [{ ...aggregate, resource: '/odata' }],
      slowest: [],
    });
    const user = userEvent.setup();
    renderWithClient(<TrafficPage />, { client });
    const caption = await screen.findByText(/Latency histogram of all systems/);
    expect(caption).toHaveTextContent('≤10 ms: 5, ≤25 ms: 3, ≤50 ms: 0, ≤100 ms: 2');
    expect(caption).toHaveTextContent('>5 s: 1');
    await user.selectOptions(screen.getByLabelText('Latency of'), 'crm.virtual:443');
    expect(screen.getByText(/Latency histogram of crm.virtual:443/)).toHaveTextContent('≤10 ms: 0, ≤25 ms: 0, ≤50 ms: 0, ≤100 ms: 2');

    const consumers = screen.getByRole('region', { name: 'Top time consumers' });
    const row = within(consumers).getByRole('row', { name: /erp.virtual:443 \/odata/ });
    expect(row).toHaveTextContent('6.2 s');
  });
});
