import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { encodePairingCode } from '../../shared/pairing-code.js';
import { ApiError } from '../src/api/client.js';
import { PairingPage } from '../src/pages/PairingPage.js';
import { createFakeClient, fakeStatus, fakeSubaccount, renderWithClient } from './fake-client.js';

const CODE = encodePairingCode({
  url: 'https://relay.example.net',
  tenantId: 'globex',
  location: 'frankfurt',
  caFingerprint: 'ab'.repeat(32),
  secret: 'one-time-secret-0123456789',
});

/** Pastes like a person would (one input event), not key by key. */
async function paste(user: ReturnType<typeof userEvent.setup>, target: HTMLElement, text: string) {
  await user.click(target);
  await user.paste(text);
}

describe('Pairing page: pairing', () => {
  it('shows the relay, tenant and location of a pasted code before pairing', async () => {
    const { client } = renderWithClient(<PairingPage />);
    const user = userEvent.setup();
    await paste(user, await screen.findByLabelText('Pairing code'), CODE);

    const preview = within(screen.getByRole('group', { name: 'This code pairs with' }));
    expect(preview.getByText('Relay').nextElementSibling).toHaveTextContent('https://relay.example.net');
    expect(preview.getByText('Tenant').nextElementSibling).toHaveTextContent('globex');
    expect(preview.getByText('Location').nextElementSibling).toHaveTextContent('frankfurt');
    expect(preview.getByText(/The relay fixes the location/)).toBeInTheDocument();
    expect(screen.getByRole('group', { name: 'This code pairs with' })).not.toHaveTextContent('one-time-secret');
    expect(client.api.pairSubaccount).not.toHaveBeenCalled();
  });

  it('shows why a damaged code is refused and does not send it', async () => {
    const { client } = renderWithClient(<PairingPage />);
    const user = userEvent.setup();
    const textarea = await screen.findByLabelText('Pairing code');
    await paste(user, textarea, CODE.slice(0, 40));
    expect(textarea).toHaveAccessibleDescription(/This is not a Skybridge pairing code \(it is cut off or damaged\)/);
    expect(screen.queryByRole('group', { name: 'This code pairs with' })).toBeNull();

    fireEvent.change(textarea, { target: { value: 'hello' } });
    expect(textarea).toHaveAccessibleDescription(/it should start with SKB1\./);
    await user.click(screen.getByRole('button', { name: 'Pair' }));
    expect(client.api.pairSubaccount).not.toHaveBeenCalled();
  });

  it('pairs with the code and name, then shows the new subaccount and its state', async () => {
    const client = createFakeClient();
    const added = fakeSubaccount({ id: 'globex', name: 'Globex EU', tenantId: 'globex', location: 'frankfurt', systemCount: 0, status: fakeStatus('connecting') });
    client.api.pairSubaccount.mockImplementationOnce(async () => {
      client.data.subaccounts.push(added);
      return added;
    });
    renderWithClient(<PairingPage />, { client });
    const user = userEvent.setup();
    await paste(user, await screen.findByLabelText('Pairing code'), CODE);
    await user.type(screen.getByLabelText('Name'), 'Globex EU');
    await user.click(screen.getByRole('button', { name: 'Pair' }));

    await waitFor(() => expect(client.api.pairSubaccount).toHaveBeenCalledWith({ code: CODE, name: 'Globex EU' }));
    const notice = await screen.findByRole('status');
    expect(notice).toHaveTextContent('Paired with tenant globex as Globex EU (location frankfurt).');
    expect(within(notice).getByText('Connecting')).toBeInTheDocument();
    // The single-use code is cleared once it has worked.
    expect(screen.getByLabelText('Pairing code')).toHaveValue('');
    expect(await screen.findByRole('article', { name: 'Globex EU (globex)' })).toBeInTheDocument();

    client.emit({ type: 'subaccount-state', subaccountId: 'globex', status: fakeStatus('connected') });
    expect(await within(screen.getByRole('status')).findByText('Connected')).toBeInTheDocument();
  });

  it('shows the relay\u2019s refusal and keeps the pasted code', async () => {
    const client = createFakeClient();
    client.api.pairSubaccount.mockRejectedValueOnce(new ApiError('PAIRING_CODE_USED', 'This pairing code has already been used; ask the relay administrator for a new one.'));
    renderWithClient(<PairingPage />, { client });
    const user = userEvent.setup();
    await paste(user, await screen.findByLabelText('Pairing code'), CODE);
    await user.click(screen.getByRole('button', { name: 'Pair' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Pairing failed. This pairing code has already been used');
    expect(screen.getByLabelText('Pairing code')).toHaveValue(CODE);
  });
});

describe('Pairing page: paired subaccounts', () => {
  it('shows the certificate with a warning under 30 days, and renews it', async () => {
    const client = createFakeClient({ data: { subaccounts: [fakeSubaccount({ certificateNotAfter: new Date(Date.now() + 12.5 * 86_400_000).toISOString() })] } });
    renderWithClient(<PairingPage />, { client });
    const user = userEvent.setup();
    const card = within(await screen.findByRole('article', { name: 'ACME Production (acme)' }));
    expect(await card.findByText('CN=conn-1')).toBeInTheDocument();
    expect(card.getByText('Fingerprint (SHA-256)').nextElementSibling).toHaveTextContent(/^AB:AB:/);
    expect(card.getByText('Expires in 12 days')).toBeInTheDocument();
    expect(card.getByRole('alert')).toHaveTextContent('This certificate expires in 12 days.');

    await user.click(card.getByRole('button', { name: 'Renew' }));
    await waitFor(() => expect(client.api.renewCertificate).toHaveBeenCalledWith({ subaccount: 'acme' }));
    expect(await card.findByText(/^Renewed: the new certificate is valid until/)).toBeInTheDocument();
    expect(card.getByText('Valid')).toBeInTheDocument();
    expect(card.queryByText(/Expires in/)).toBeNull();
  });

  it('disconnects after confirming, then offers Connect', async () => {
    const { client } = renderWithClient(<PairingPage />);
    const user = userEvent.setup();
    const card = within(await screen.findByRole('article', { name: 'ACME Production (acme)' }));
    await user.click(card.getByRole('button', { name: 'Disconnect' }));
    expect(client.api.setSubaccountEnabled).not.toHaveBeenCalled();
    await user.click(card.getByRole('button', { name: 'Disconnect' }));
    await waitFor(() => expect(client.api.setSubaccountEnabled).toHaveBeenCalledWith({ subaccount: 'acme', enabled: false }));
    expect(await card.findByText('Disconnected')).toBeInTheDocument();
    await user.click(card.getByRole('button', { name: 'Connect' }));
    await waitFor(() => expect(client.api.setSubaccountEnabled).toHaveBeenLastCalledWith({ subaccount: 'acme', enabled: true }));
  });

  it('removes a subaccount only after its id is typed', async () => {
    const { client } = renderWithClient(<PairingPage />);
    const user = userEvent.setup();
    const card = within(await screen.findByRole('article', { name: 'ACME Production (acme)' }));
    await user.click(card.getByRole('button', { name: 'Remove' }));
    const confirm = card.getByRole('button', { name: 'Remove subaccount' });
    expect(confirm).toBeDisabled();
    const input = card.getByLabelText('Subaccount id');
    expect(input).toHaveFocus();
    await user.type(input, 'acm');
    expect(confirm).toBeDisabled();
    await user.type(input, 'e');
    expect(confirm).toBeEnabled();
    expect(client.api.removeSubaccount).not.toHaveBeenCalled();
    await user.click(confirm);
    await waitFor(() => expect(client.api.removeSubaccount).toHaveBeenCalledWith({ subaccount: 'acme', confirm: 'acme' }));
    expect(await screen.findByText('Not paired yet')).toBeInTheDocument();
  });

  it('backs out of removal with Escape', async () => {
    const { client } = renderWithClient(<PairingPage />);
    const user = userEvent.setup();
    const card = within(await screen.findByRole('article', { name: 'ACME Production (acme)' }));
    await user.click(card.getByRole('button', { name: 'Remove' }));
    await user.keyboard('{Escape}');
    expect(card.queryByLabelText('Subaccount id')).toBeNull();
    await waitFor(() => expect(card.getByRole('button', { name: 'Remove' })).toHaveFocus());
    expect(client.api.removeSubaccount).not.toHaveBeenCalled();
  });
});
