import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AuditEntry } from '../../shared/evidence.js';
import { AuditPage } from '../src/pages/AuditPage.js';
import { createFakeClient, fakeAuditEntry, renderWithClient } from './fake-client.js';

// jsdom does no layout: give every element a viewport so the virtualiser renders a window of rows.
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
afterEach(() => vi.restoreAllMocks());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const T0 = Date.parse('2026-03-12T08:00:00Z');
function entry(seq: number, overrides: Partial<AuditEntry> = {}): AuditEntry {
  return fakeAuditEntry({ seq, time: new Date(T0 + seq * 60_000).toISOString(), mac: seq.toString(16).padStart(64, '0'), ...overrides });
}

const denied = entry(1, { reason: 'No resource allows /admin.' });
const configChange = entry(2, {
  type: 'config-change',
  actor: { kind: 'local-admin', user: 'maria', via: 'api' },
  target: { object: 'system erp.virtual:443' },
  outcome: 'success',
  reason: undefined,
  status: undefined,
  changes: [
    { path: 'subaccounts[acme].systems[erp.virtual:443].internalPort', before: 8443, after: 9443 },
    { path: 'subaccounts[acme].systems[erp.virtual:443].resources[/odata]', after: { path: '/odata', subPaths: true } },
  ],
});
const tunnelUp = entry(3, { type: 'tunnel-connected', actor: { kind: 'connector' }, target: { relay: 'relay.example.com' }, outcome: 'info', reason: undefined, status: undefined });

function table() {
  return screen.getByRole('table', { name: 'Audit entries' });
}
function dataRows() {
  return within(table()).getAllByRole('row').slice(1);
}

async function renderPage(audit: AuditEntry[] = [denied, configChange, tunnelUp]) {
  const client = createFakeClient({ data: { audit } });
  const view = renderWithClient(<AuditPage />, { client });
  await waitFor(() => expect(table()).toHaveAttribute('aria-rowcount', String(audit.length + 1)));
  return view;
}

/** Reads a Blob in jsdom, which has FileReader but not Blob.text(). */
function readBlob(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsText(blob);
  });
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Captures what the page hands to the browser's download instead of letting jsdom navigate. */
function captureDownloads() {
  const files: { blob: Blob; name: string }[] = [];
  const blobs = new Map<string, Blob>();
  vi.spyOn(URL, 'createObjectURL').mockImplementation((blob) => {
    const url = `blob:test/${blobs.size}`;
    blobs.set(url, blob as Blob);
    return url;
  });
  vi.spyOn(URL, 'revokeObjectURL').mockImplementation(() => undefined);
  vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
    files.push({ blob: blobs.get(this.href)!, name: this.download });
  });
  return files;
}

describe('Audit page', () => {
  it('lists entries newest first with time, type, outcome, actor, target and message', async () => {
    await renderPage();
    const rows = dataRows();
    expect(rows).toHaveLength(3);
    expect(within(rows[0]!).getByText('Tunnel connected')).toBeInTheDocument();
    expect(within(rows[0]!).getByText('relay.example.com')).toBeInTheDocument();
    expect(within(rows[1]!).getByText('maria (UI)')).toBeInTheDocument();
    expect(within(rows[1]!).getByText(/^2 changes: subaccounts\[acme\]/)).toBeInTheDocument();
    expect(within(rows[2]!).getByText('Access denied')).toBeInTheDocument();
    expect(within(rows[2]!).getByText('GET erp.virtual:443/admin')).toBeInTheDocument();
    expect(within(rows[2]!).getByText('No resource allows /admin.')).toBeInTheDocument();
    expect(screen.getByText('3 entries')).toBeInTheDocument();
  });

  it('filters by type and text through listAudit, and refuses a range that ends before it starts', async () => {
    const user = userEvent.setup();
    const { client } = await renderPage();
    await user.selectOptions(screen.getByLabelText('Type'), 'config-change');
    await waitFor(() => expect(dataRows()).toHaveLength(1));
    expect(client.api.listAudit).toHaveBeenLastCalledWith(expect.objectContaining({ types: ['config-change'] }));

    await user.selectOptions(screen.getByLabelText('Type'), '');
    await user.type(screen.getByLabelText('Text'), 'ADMIN');
    await waitFor(() => expect(client.api.listAudit).toHaveBeenLastCalledWith(expect.objectContaining({ text: 'ADMIN' })));
    await waitFor(() => expect(dataRows()).toHaveLength(2));

    const calls = client.api.listAudit.mock.calls.length;
    fireEvent.change(screen.getByLabelText('From'), { target: { value: '2026-03-12T12:00' } });
    fireEvent.change(screen.getByLabelText('To'), { target: { value: '2026-03-12T09:00' } });
    expect(await screen.findByText('From must be before To.')).toBeInTheDocument();
    expect(screen.getByLabelText('From')).toHaveAttribute('aria-invalid', 'true');
    await act(() => sleep(350));
    expect(client.api.listAudit.mock.calls.length).toBe(calls + 1);
    expect(client.api.listAudit).toHaveBeenLastCalledWith(expect.objectContaining({ from: new Date('2026-03-12T12:00').toISOString() }));
    expect(client.api.listAudit).not.toHaveBeenLastCalledWith(expect.objectContaining({ to: expect.anything() }));
  });

  it('adds live entries that match the filter and ignores the rest', async () => {
    const user = userEvent.setup();
    const { client } = await renderPage();
    await user.selectOptions(screen.getByLabelText('Type'), 'access-denied');
    await waitFor(() => expect(dataRows()).toHaveLength(1));
    client.emit({ type: 'audit', entry: entry(4, { reason: 'No resource allows /secret.' }) });
    client.emit({ type: 'audit', entry: entry(5, { type: 'tunnel-disconnected', outcome: 'info', reason: 'The relay closed the tunnel.' }) });
    await waitFor(() => expect(dataRows()).toHaveLength(2));
    await act(() => sleep(300));
    expect(dataRows()).toHaveLength(2);
    expect(within(dataRows()[0]!).getByText('No resource allows /secret.')).toBeInTheDocument();
    expect(screen.queryByText('The relay closed the tunnel.')).not.toBeInTheDocument();
  });

  it('shows every field of an entry and the diff of a configuration change', async () => {
    const user = userEvent.setup();
    await renderPage();
    await user.click(within(table()).getByText('maria (UI)'));
    const details = screen.getByRole('region', { name: 'Configuration change #2' });
    expect(within(details).getByText('maria')).toBeInTheDocument();
    expect(within(details).getByText('the UI')).toBeInTheDocument();
    expect(within(details).getByText('system erp.virtual:443')).toBeInTheDocument();
    const port = within(details).getByRole('row', { name: /internalPort/ });
    expect(within(port).getAllByRole('cell').map((c) => c.textContent)).toEqual(['8443', '9443']);
    const added = within(details).getByRole('row', { name: /resources\[\/odata\]/ });
    expect(within(added).getAllByRole('cell')[0]).toHaveTextContent('(none)');
    expect(within(added).getAllByRole('cell')[1]).toHaveTextContent('{"path":"/odata","subPaths":true}');
    expect(within(details).getByText('2'.padStart(64, '0'))).toBeInTheDocument();

    await user.keyboard('{Escape}');
    expect(screen.queryByRole('region', { name: 'Configuration change #2' })).not.toBeInTheDocument();
  });

  it('says plainly when the log is intact', async () => {
    const user = userEvent.setup();
    await renderPage();
    await user.click(screen.getByRole('button', { name: 'Verify integrity' }));
    expect(await screen.findByRole('status')).toHaveTextContent('The audit log is intact: 3 entries in 1 file (seq 1–3).');
    expect(screen.queryByRole('list', { name: 'Problems' })).not.toBeInTheDocument();
  });

  it('lists each integrity problem with its file and line', async () => {
    const user = userEvent.setup();
    const client = createFakeClient({ data: { audit: [denied] } });
    client.api.verifyAudit.mockResolvedValue({
      ok: false,
      files: 2,
      entries: 120,
      firstSeq: 1,
      lastSeq: 126,
      problems: [
        { kind: 'edited', file: 'audit-2026-03-12.jsonl', line: 41, seq: 41, message: 'The MAC of seq 41 does not match its content.' },
        { kind: 'removed', file: 'audit-2026-03-13.jsonl', line: 7, lastLine: 12, message: 'seq 80–85 are missing.' },
        { kind: 'key', message: 'The audit key is missing.' },
      ],
      warnings: ['The relay relay.example.com could not be asked.'],
      relaysChecked: [],
    });
    renderWithClient(<AuditPage />, { client });
    await user.click(screen.getByLabelText('Compare with the relays'));
    await user.click(screen.getByRole('button', { name: 'Verify integrity' }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('3 problems found in 120 entries in 2 files');
    const problems = within(screen.getByRole('list', { name: 'Problems' })).getAllByRole('listitem');
    expect(problems.map((p) => p.textContent)).toEqual([
      'audit-2026-03-12.jsonl:41EDITEDThe MAC of seq 41 does not match its content.',
      'audit-2026-03-13.jsonl:7–12REMOVEDseq 80–85 are missing.',
      'KEYThe audit key is missing.',
    ]);
    expect(screen.getByText('The relay relay.example.com could not be asked.')).toBeInTheDocument();
    expect(client.api.verifyAudit).toHaveBeenCalledWith({ offline: true });
  });

  it('shows an error from the agent when verifying fails', async () => {
    const user = userEvent.setup();
    const client = createFakeClient();
    const { ApiError } = await import('../src/api/client.js');
    client.api.verifyAudit.mockRejectedValue(new ApiError('INTERNAL', 'The audit folder cannot be read.'));
    renderWithClient(<AuditPage />, { client });
    await user.click(screen.getByRole('button', { name: 'Verify integrity' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Could not verify the audit log. The audit folder cannot be read.');
  });

  it('exports the filtered entries as JSON Lines with a manifest and a matching SHA-256', async () => {
    const user = userEvent.setup();
    const files = captureDownloads();
    const { client } = await renderPage();
    await user.selectOptions(screen.getByLabelText('Type'), 'access-denied');
    await waitFor(() => expect(dataRows()).toHaveLength(1));
    client.emit({ type: 'audit', entry: entry(4, { reason: 'No resource allows /secret.' }) });
    await waitFor(() => expect(dataRows()).toHaveLength(2));

    await user.click(screen.getByRole('button', { name: 'Export' }));
    await screen.findByText(/Exported 2 entries/);
    expect(files).toHaveLength(1);
    expect(files[0]!.name).toMatch(/^skybridge-audit-.*\.jsonl$/);
    const text = await readBlob(files[0]!.blob);
    const [head, ...rest] = text.split('\n');
    const { manifest } = JSON.parse(head!);
    const lines = rest.filter(Boolean).map((l) => JSON.parse(l) as AuditEntry);
    expect(lines.map((e) => e.seq)).toEqual([1, 4]);
    expect(lines[0]).toEqual(denied);
    expect(manifest).toMatchObject({ kind: 'skybridge-audit-export', count: 2, firstSeq: 1, lastSeq: 4, from: denied.time, filter: { types: ['access-denied'] } });
    expect(manifest.sha256).toBe(await sha256(text.slice(head!.length + 1)));
  });

  it('exports CSV with a manifest comment, a header and one defused row per entry', async () => {
    const user = userEvent.setup();
    const files = captureDownloads();
    await renderPage([denied, entry(2, { reason: '=HYPERLINK("http://evil")' })]);
    await user.selectOptions(screen.getByLabelText('Format'), 'csv');
    await user.click(screen.getByRole('button', { name: 'Export' }));
    await screen.findByText(/Exported 2 entries/);
    const text = await readBlob(files[0]!.blob);
    const lines = text.split('\r\n');
    expect(lines[0]).toMatch(/^# skybridge-audit-export/);
    const manifest = JSON.parse(lines[1]!.slice(2));
    expect(manifest.count).toBe(2);
    expect(lines[2]).toBe('seq,time,subaccount,type,outcome,status,actor,target,reason,requestId,changes,detail,prev,mac');
    expect(lines[3]).toContain('"No resource allows /admin."');
    expect(lines[4]).toContain(`"'=HYPERLINK(""http://evil"")"`);
    expect(manifest.sha256).toBe(await sha256(lines.slice(2).join('\r\n')));
  });

  it('keeps a long log virtualised', async () => {
    const many = Array.from({ length: 3000 }, (_, i) => entry(i + 1));
    await renderPage(many);
    expect(screen.getByText('3,000 entries')).toBeInTheDocument();
    expect(table()).toHaveAttribute('aria-rowcount', '3001');
    expect(dataRows().length).toBeLessThan(50);
  });
});
