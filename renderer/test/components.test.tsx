import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../src/api/client.js';
import { AppLayout } from '../src/components/Layout.js';
import { ConfirmButton } from '../src/components/ConfirmButton.js';
import { ErrorMessage } from '../src/components/ErrorMessage.js';
import { Field } from '../src/components/Field.js';
import { StatusBadge } from '../src/components/StatusBadge.js';
import { SubaccountPicker } from '../src/components/SubaccountPicker.js';
import { useSelectedSubaccount } from '../src/components/selected-subaccount.js';
import { formatBytes, formatDaysLeft, formatDuration, formatRelative } from '../src/format.js';
import { WebSessionContext } from '../src/web/session.js';
import { createFakeClient, fakeStatus, fakeSubaccount, renderWithClient } from './fake-client.js';

describe('StatusBadge', () => {
  it.each([
    ['connected', 'Connected'],
    ['connecting', 'Connecting'],
    ['reconnecting', 'Reconnecting'],
    ['disconnected', 'Disconnected'],
    ['failed', 'Failed'],
  ] as const)('shows %s as the word "%s"', (state, text) => {
    renderWithClient(<StatusBadge state={state} />);
    expect(screen.getByText(text)).toHaveAttribute('data-state', state);
  });
});

describe('ErrorMessage', () => {
  it("announces an ApiError's sentence", () => {
    renderWithClient(<ErrorMessage error={new ApiError('CONFLICT', 'A system erp.virtual:443 already exists.')} />);
    expect(screen.getByRole('alert')).toHaveTextContent('A system erp.virtual:443 already exists.');
  });

  it('shows nothing without an error', () => {
    renderWithClient(<ErrorMessage error={null} />);
    expect(screen.queryByRole('alert')).toBeNull();
  });
});

describe('Field', () => {
  it('links the label, hint and error to the control', () => {
    renderWithClient(
      <Field label="Virtual host" hint="As cloud apps name it." error="a host name">
        <input />
      </Field>,
    );
    const input = screen.getByLabelText('Virtual host');
    expect(input).toHaveAttribute('aria-invalid', 'true');
    expect(input).toHaveAccessibleDescription('As cloud apps name it. a host name');
  });
});

describe('ConfirmButton', () => {
  it('acts only after Confirm, and Cancel backs out', async () => {
    const user = userEvent.setup();
    const onConfirm = vi.fn();
    renderWithClient(
      <ConfirmButton question="Remove this system?" onConfirm={onConfirm}>
        Remove
      </ConfirmButton>,
    );
    await user.click(screen.getByRole('button', { name: 'Remove' }));
    expect(screen.getByText('Remove this system?')).toBeVisible();
    expect(screen.getByRole('button', { name: 'Cancel' })).toHaveFocus();
    await user.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(onConfirm).not.toHaveBeenCalled();
    expect(screen.getByRole('button', { name: 'Remove' })).toHaveFocus();

    await user.click(screen.getByRole('button', { name: 'Remove' }));
    await user.keyboard('{Escape}');
    expect(onConfirm).not.toHaveBeenCalled();

    await user.click(screen.getByRole('button', { name: 'Remove' }));
    await user.click(screen.getByRole('button', { name: 'Confirm' }));
    expect(onConfirm).toHaveBeenCalledTimes(1);
  });
});

function ChosenName() {
  const { selected } = useSelectedSubaccount();
  return <p>Working on {selected?.name ?? 'nothing'}</p>;
}

describe('SubaccountPicker', () => {
  it('with one subaccount shows its name, without a select', async () => {
    renderWithClient(<SubaccountPicker />);
    expect(await screen.findByText('ACME Production')).toBeVisible();
    expect(screen.queryByRole('combobox')).toBeNull();
  });

  it('shares the choice with the rest of the page', async () => {
    const user = userEvent.setup();
    const client = createFakeClient({ data: { subaccounts: [fakeSubaccount(), fakeSubaccount({ id: 'globex', name: 'Globex Test' })] } });
    renderWithClient(
      <>
        <SubaccountPicker />
        <ChosenName />
      </>,
      { client },
    );
    expect(await screen.findByText('Working on ACME Production')).toBeVisible();
    await user.selectOptions(screen.getByRole('combobox', { name: 'Subaccount' }), 'Globex Test');
    expect(screen.getByText('Working on Globex Test')).toBeVisible();
  });
});

describe('AppLayout', () => {
  const pages = [
    { path: '/', label: 'Dashboard' },
    { path: '/systems', label: 'Systems' },
  ];

  it('marks the current page and shows the overall state live', async () => {
    const { client } = renderWithClient(
      <AppLayout pages={pages}>
        <p>content</p>
      </AppLayout>,
      { path: '/systems' },
    );
    const nav = screen.getByRole('navigation', { name: 'Main' });
    expect(within(nav).getByRole('link', { name: 'Systems' })).toHaveAttribute('aria-current', 'page');
    expect(within(nav).getByRole('link', { name: 'Dashboard' })).not.toHaveAttribute('aria-current');
    expect(await screen.findByRole('status', { name: 'Connection: All connected' })).toBeVisible();

    client.emit({ type: 'subaccount-state', subaccountId: 'acme', status: fakeStatus('reconnecting', { lastError: 'relay closed the connection' }) });
    expect(await screen.findByRole('status', { name: 'Connection: Offline' })).toBeVisible();
  });

  it('offers Sign out only in headless mode', async () => {
    const user = userEvent.setup();
    const signOut = vi.fn();
    renderWithClient(
      <WebSessionContext.Provider value={{ user: 'admin', signOut, changePassword: vi.fn() }}>
        <AppLayout pages={pages}>x</AppLayout>
      </WebSessionContext.Provider>,
    );
    await user.click(screen.getByRole('button', { name: 'Sign out' }));
    expect(signOut).toHaveBeenCalled();
  });

  it('has no Sign out button in the desktop app', () => {
    renderWithClient(<AppLayout pages={pages}>x</AppLayout>);
    expect(screen.queryByRole('button', { name: 'Sign out' })).toBeNull();
  });
});

describe('formatters', () => {
  it('reads like a person would say it', () => {
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(5 * 1024 * 1024)).toBe('5.0 MB');
    expect(formatDuration(42)).toBe('42 ms');
    expect(formatDuration(200_000)).toBe('3 min 20 s');
    expect(formatDuration(90_000_000)).toBe('1 d 1 h');
    expect(formatRelative(new Date(1_000_000 - 5 * 60_000).toISOString(), 1_000_000)).toBe('5 minutes ago');
    expect(formatDaysLeft(-2)).toBe('expired 2 days ago');
    expect(formatDaysLeft(12)).toBe('in 12 days');
  });
});
