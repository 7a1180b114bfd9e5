import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SettingsPage } from '../src/pages/SettingsPage.js';
import { WebSessionContext } from '../src/web/session.js';
import { createFakeClient, fakeSubaccount, renderWithClient } from './fake-client.js';

afterEach(() => vi.restoreAllMocks());

describe('SettingsPage: audit', () => {
  it.each(['-3', '1.5', 'thirty', '40000'])('refuses retention "%s" with a message and saves nothing', async (typed) => {
    const user = userEvent.setup();
    const { client } = renderWithClient(<SettingsPage />);
    const retention = await screen.findByLabelText('Retention (days)');
    expect(retention).toHaveValue('90');
    await user.clear(retention);
    await user.type(retention, typed);
    await user.click(screen.getByRole('button', { name: 'Save audit settings' }));
    expect(await screen.findByText(/whole number of days|At most 36,500 days/)).toBeVisible();
    expect(retention).toHaveAttribute('aria-invalid', 'true');
    expect(client.api.setAuditRetention).not.toHaveBeenCalled();
    expect(client.api.setAuditLevel).not.toHaveBeenCalled();
  });

  it('saves only what changed: the level of one subaccount and the retention', async () => {
    const user = userEvent.setup();
    const client = createFakeClient({ data: { subaccounts: [fakeSubaccount(), fakeSubaccount({ id: 'globex', name: 'Globex' })] } });
    renderWithClient(<SettingsPage />, { client });
    const levels = await screen.findAllByLabelText('Audit level');
    expect(levels).toHaveLength(2);
    await user.selectOptions(levels[1]!, 'all');
    expect(screen.getByText(/plus every allowed request/)).toBeVisible();
    const retention = screen.getByLabelText('Retention (days)');
    await user.clear(retention);
    await user.type(retention, '0');
    await user.click(screen.getByRole('button', { name: 'Save audit settings' }));
    expect(await screen.findByText('Saved.')).toBeVisible();
    expect(client.api.setAuditLevel).toHaveBeenCalledTimes(1);
    expect(client.api.setAuditLevel).toHaveBeenCalledWith({ subaccount: 'globex', level: 'all' });
    expect(client.api.setAuditRetention).toHaveBeenCalledWith({ days: 0 });
    expect(client.data.settings.auditRetentionDays).toBe(0);
  });
});

describe('SettingsPage: headless mode', () => {
  function renderWeb() {
    const client = createFakeClient({ kind: 'web' });
    const changePassword = vi.fn(async () => undefined);
    renderWithClient(
      <WebSessionContext.Provider value={{ user: 'admin', signOut: vi.fn(), changePassword }}>
        <SettingsPage />
      </WebSessionContext.Provider>,
      { client },
    );
    return { client, changePassword };
  }

  it('exports a support bundle and downloads it', async () => {
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => undefined);
    const user = userEvent.setup();
    const { client } = renderWeb();
    await user.click(await screen.findByRole('button', { name: 'Export support bundle' }));
    const link = await screen.findByRole('link', { name: /^skybridge-support-.*\.zip$/ });
    const name = link.textContent!;
    expect(client.api.exportSupportBundle).toHaveBeenCalledWith({ out: name });
    expect(link).toHaveAttribute('href', `/api/bundles/${name}`);
    // The download starts by itself; the link is there to fetch it again.
    expect(click).toHaveBeenCalledTimes(1);
    expect((click.mock.contexts[0] as HTMLAnchorElement).getAttribute('href')).toBe(`/api/bundles/${name}`);
  });

  it('changes the admin password after checking it', async () => {
    const user = userEvent.setup();
    const { changePassword } = renderWeb();
    await user.type(await screen.findByLabelText('Current password'), 'the old passphrase');
    await user.type(screen.getByLabelText('New password'), 'a brand new passphrase');
    await user.type(screen.getByLabelText('Repeat new password'), 'a brand new passphrase');
    await user.click(screen.getByRole('button', { name: 'Change password' }));
    expect(await screen.findByText(/Password changed/)).toBeVisible();
    expect(changePassword).toHaveBeenCalledWith('the old passphrase', 'a brand new passphrase');
    expect(screen.getByLabelText('New password')).toHaveValue('');
  });

  it('has no desktop options', async () => {
    renderWeb();
    await screen.findByLabelText('Retention (days)');
    expect(screen.queryByLabelText('Start Skybridge when I log in')).toBeNull();
  });
});

describe('SettingsPage: desktop app', () => {
  it('warns when secrets have no OS key store and saves start at login', async () => {
    const user = userEvent.setup();
    const client = createFakeClient({ shell: { secureStorage: false, secureStorageBackend: 'basic_text' } });
    renderWithClient(<SettingsPage />, { client });
    expect(await screen.findByText(/Secrets are not protected by an operating-system key store/)).toBeVisible();
    const startAtLogin = screen.getByLabelText('Start Skybridge when I log in');
    expect(startAtLogin).not.toBeChecked();
    await user.click(startAtLogin);
    expect(client.shellMocks!.setSettings).toHaveBeenCalledWith({ startAtLogin: true });
    expect(await screen.findByLabelText('Start Skybridge when I log in')).toBeChecked();
    expect(screen.queryByLabelText('Current password')).toBeNull();
  });

  it('exports through the save dialog and can show the file', async () => {
    const user = userEvent.setup();
    const client = createFakeClient({ shell: true });
    renderWithClient(<SettingsPage />, { client });
    await user.click(await screen.findByRole('button', { name: 'Export support bundle' }));
    expect(await screen.findByText('/home/admin/skybridge-support.zip')).toBeVisible();
    expect(client.api.exportSupportBundle).not.toHaveBeenCalled();
    await user.click(screen.getByRole('button', { name: 'Show in folder' }));
    expect(client.shellMocks!.showItemInFolder).toHaveBeenCalledWith({ file: '/home/admin/skybridge-support.zip' });
  });
});
