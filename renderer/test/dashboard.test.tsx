import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../src/api/client.js';
import { DashboardPage } from '../src/pages/DashboardPage.js';
import { createFakeClient, fakeStatus, fakeSubaccount, renderWithClient } from './fake-client.js';

function card(name: string) {
  return screen.getByRole('article', { name });
}

describe('DashboardPage', () => {
  it('shows each subaccount with its live state, last error and next retry', async () => {
    const { client } = renderWithClient(<DashboardPage />);
    expect(await screen.findByRole('heading', { level: 1, name: 'Dashboard' })).toBeVisible();
    const acme = await screen.findByRole('article', { name: 'ACME Production' });
    expect(within(acme).getByText('Connected')).toBeVisible();
    expect(within(acme).getByText('https://relay.example.com')).toBeVisible();
    expect(within(acme).getByText('12 ms')).toBeVisible();

    client.emit({
      type: 'subaccount-state',
      subaccountId: 'acme',
      status: fakeStatus('reconnecting', { lastError: 'The relay closed the connection.', nextRetryAt: new Date(Date.now() + 5 * 60_000).toISOString(), reconnects: 2 }),
    });
    expect(await within(card('ACME Production')).findByText('Reconnecting')).toBeVisible();
    expect(within(card('ACME Production')).queryByText('Connected')).toBeNull();
    expect(within(card('ACME Production')).getByText('Last error: The relay closed the connection.')).toBeVisible();
    expect(within(card('ACME Production')).getByText('Next attempt in 5 minutes.')).toBeVisible();
  });

  it('disconnects and connects a subaccount', async () => {
    const user = userEvent.setup();
    const { client } = renderWithClient(<DashboardPage />);
    await user.click(await screen.findByRole('button', { name: 'Disconnect' }));
    expect(client.api.setSubaccountEnabled).toHaveBeenCalledWith({ subaccount: 'acme', enabled: false });
    expect(await within(card('ACME Production')).findByText('Disconnected')).toBeVisible();

    await user.click(await screen.findByRole('button', { name: 'Connect' }));
    expect(client.api.setSubaccountEnabled).toHaveBeenLastCalledWith({ subaccount: 'acme', enabled: true });
    expect(await within(card('ACME Production')).findByText('Connecting')).toBeVisible();
  });

  it("shows why a disconnect was refused and keeps the state", async () => {
    const user = userEvent.setup();
    const client = createFakeClient();
    client.api.setSubaccountEnabled.mockRejectedValueOnce(new ApiError('NOT_FOUND', 'There is no subaccount "acme".'));
    renderWithClient(<DashboardPage />, { client });
    await user.click(await screen.findByRole('button', { name: 'Disconnect' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Could not disconnect. There is no subaccount "acme".');
    expect(within(card('ACME Production')).getByText('Connected')).toBeVisible();
  });

  it('warns when a certificate expires within 30 days', async () => {
    const client = createFakeClient({
      data: {
        subaccounts: [
          fakeSubaccount({ certificateNotAfter: new Date(Date.now() + 10.5 * 86_400_000).toISOString() }),
          fakeSubaccount({ id: 'globex', name: 'Globex', status: fakeStatus('failed', { lastError: 'The certificate was revoked.' }) }),
        ],
      },
    });
    renderWithClient(<DashboardPage />, { client });
    const acme = await screen.findByRole('article', { name: 'ACME Production' });
    expect(within(acme).getByText('Renew soon')).toBeVisible();
    expect(within(acme).getByText(/in 10 days/)).toBeVisible();
    const globex = card('Globex');
    expect(within(globex).queryByText('Renew soon')).toBeNull();
    expect(within(globex).getByText('Failed')).toBeVisible();
  });

  it('points to Pairing when nothing is paired', async () => {
    renderWithClient(<DashboardPage />, { client: createFakeClient({ data: { subaccounts: [] } }) });
    expect(await screen.findByText('No subaccount is paired yet')).toBeVisible();
    expect(screen.getByRole('link', { name: 'Pair a subaccount' })).toHaveAttribute('href', '/pairing');
    expect(screen.queryByRole('button', { name: 'Disconnect' })).toBeNull();
  });
});
