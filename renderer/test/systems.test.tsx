import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../src/api/client.js';
import { SystemsPage } from '../src/pages/SystemsPage.js';
import { createFakeClient, fakeSystem, renderWithClient } from './fake-client.js';

async function openAddForm() {
  const user = userEvent.setup();
  await user.click(await screen.findByRole('button', { name: 'Add system' }));
  const form = screen.getByRole('form', { name: 'Add system' });
  return { user, form };
}

describe('Systems page: adding a system', () => {
  it('refuses an underscore host and port 70000 in the browser and calls nothing', async () => {
    const { client } = renderWithClient(<SystemsPage />);
    const { user, form } = await openAddForm();
    const f = within(form);
    await user.type(f.getByLabelText('Virtual host'), 'erp_test.virtual');
    await user.type(f.getByLabelText('Virtual port'), '70000');
    await user.type(f.getByLabelText('Internal host'), 'erp.corp');
    await user.type(f.getByLabelText('Internal port'), '8080');
    await user.click(f.getByRole('button', { name: 'Save system' }));

    expect(await f.findByText(/no underscores/)).toBeInTheDocument();
    expect(f.getByLabelText('Virtual host')).toHaveAttribute('aria-invalid', 'true');
    expect(f.getByLabelText('Virtual port')).toHaveAccessibleDescription(/a port from 1 to 65535/);
    expect(client.api.addSystem).not.toHaveBeenCalled();
  });

  it('sends a valid system to addSystem, then checks its availability', async () => {
    const { client } = renderWithClient(<SystemsPage />, { client: createFakeClient({ data: { systems: { acme: [] } } }) });
    const { user, form } = await openAddForm();
    const f = within(form);
    await user.type(f.getByLabelText('Virtual host'), 'HR.Virtual');
    await user.type(f.getByLabelText('Virtual port'), '443');
    await user.type(f.getByLabelText('Internal host'), '10.0.0.7');
    await user.type(f.getByLabelText('Internal port'), '8443');
    await user.selectOptions(f.getByLabelText('Protocol'), 'https');
    await user.selectOptions(f.getByLabelText('Host header'), 'internal');
    await user.type(f.getByLabelText('Connect timeout (seconds)'), '2.5');
    await user.click(f.getByRole('button', { name: 'Save system' }));

    await waitFor(() => expect(client.api.addSystem).toHaveBeenCalledTimes(1));
    expect(client.api.addSystem.mock.calls[0]![0]).toEqual({
      subaccount: 'acme',
      system: {
        virtualHost: 'hr.virtual',
        virtualPort: 443,
        internalHost: '10.0.0.7',
        internalPort: 8443,
        protocol: 'https',
        hostHeader: 'internal',
        connectTimeoutMs: 2500,
        responseTimeoutMs: 60_000,
        resources: [],
      },
    });
    await waitFor(() => expect(client.api.checkAvailability).toHaveBeenCalledWith({ subaccount: 'acme', system: 'hr.virtual:443' }));
    expect(await screen.findByRole('table', { name: 'System mappings' })).toHaveTextContent('hr.virtual:443');
    expect(await screen.findByText(/HEAD \/ on 10\.0\.0\.7:8443 answered 200/)).toBeInTheDocument();
    // Keyboard users land on the new system's row, not at the top of the page.
    await waitFor(() => expect(screen.getByRole('button', { name: 'hr.virtual:443' })).toHaveFocus());
  });

  it('keeps what was typed and shows the agent\u2019s sentence when it refuses', async () => {
    const client = createFakeClient();
    client.api.addSystem.mockRejectedValueOnce(new ApiError('CONFLICT', 'system erp.virtual:443 is already mapped in subaccount "acme"; update or remove it instead'));
    renderWithClient(<SystemsPage />, { client });
    const { user, form } = await openAddForm();
    const f = within(form);
    await user.type(f.getByLabelText('Virtual host'), 'erp.virtual');
    await user.type(f.getByLabelText('Virtual port'), '443');
    await user.type(f.getByLabelText('Internal host'), 'erp.corp');
    await user.type(f.getByLabelText('Internal port'), '8443');
    await user.click(f.getByRole('button', { name: 'Save system' }));

    expect(await f.findByRole('alert')).toHaveTextContent('is already mapped in subaccount "acme"');
    expect(f.getByLabelText('Virtual host')).toHaveValue('erp.virtual');
    expect(f.getByLabelText('Internal port')).toHaveValue('8443');
  });

  it('shows the TCP-only fields and the inspection warning only for TCP protocols', async () => {
    const { client } = renderWithClient(<SystemsPage />);
    const { user, form } = await openAddForm();
    const f = within(form);
    expect(f.queryByLabelText('Max connections')).toBeNull();
    await user.selectOptions(f.getByLabelText('Protocol'), 'tcp');
    expect(f.getByRole('note')).toHaveTextContent('Raw TCP cannot be inspected');
    await user.type(f.getByLabelText('Virtual host'), 'db.virtual');
    await user.type(f.getByLabelText('Virtual port'), '5432');
    await user.type(f.getByLabelText('Internal host'), 'db.corp');
    await user.type(f.getByLabelText('Internal port'), '6432');
    await user.type(f.getByLabelText('Port range end (optional)'), '5431');
    await user.click(f.getByRole('button', { name: 'Save system' }));
    expect(await f.findByText('must not be below the virtual port')).toBeInTheDocument();
    expect(client.api.addSystem).not.toHaveBeenCalled();

    await user.clear(f.getByLabelText('Port range end (optional)'));
    await user.type(f.getByLabelText('Port range end (optional)'), '5433');
    await user.type(f.getByLabelText('Max connections'), '20');
    await user.click(f.getByRole('button', { name: 'Save system' }));
    await waitFor(() => expect(client.api.addSystem).toHaveBeenCalledTimes(1));
    expect(client.api.addSystem.mock.calls[0]![0].system).toMatchObject({ protocol: 'tcp', virtualPortEnd: 5433, internalPortEnd: 6433, maxConnections: 20 });
  });
});

describe('Systems page: editing and removing', () => {
  it('cannot change the virtual host; the update sends only the internal side', async () => {
    const { client } = renderWithClient(<SystemsPage />);
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Edit system' }));
    const form = screen.getByRole('form', { name: 'Edit system erp.virtual:443' });
    const f = within(form);
    const virtualHost = f.getByLabelText('Virtual host');
    expect(virtualHost).toHaveAttribute('readonly');
    expect(virtualHost).toHaveAccessibleDescription(/cannot change/);
    await user.type(virtualHost, 'other');
    expect(virtualHost).toHaveValue('erp.virtual');

    await user.clear(f.getByLabelText('Internal host'));
    await user.type(f.getByLabelText('Internal host'), 'erp-standby.internal');
    await user.click(f.getByRole('button', { name: 'Save system' }));

    await waitFor(() => expect(client.api.updateSystem).toHaveBeenCalledTimes(1));
    const input = client.api.updateSystem.mock.calls[0]![0];
    expect(input.system).toBe('erp.virtual:443');
    expect(input.patch).toMatchObject({ internalHost: 'erp-standby.internal', internalPort: 8443 });
    expect(input.patch).not.toHaveProperty('virtualHost');
    expect(input.patch).not.toHaveProperty('virtualPort');
  });

  it('asks before removing a system', async () => {
    const { client } = renderWithClient(<SystemsPage />);
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Remove system' }));
    expect(client.api.removeSystem).not.toHaveBeenCalled();
    expect(screen.getByText(/Remove erp\.virtual:443\? Cloud apps lose access/)).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Remove system' }));
    await waitFor(() => expect(client.api.removeSystem).toHaveBeenCalledWith({ subaccount: 'acme', system: 'erp.virtual:443' }));
    expect(await screen.findByText('No systems yet')).toBeInTheDocument();
  });

  it('re-runs the availability check on demand and shows a warning when the host does not answer', async () => {
    const client = createFakeClient({ data: { systems: { acme: [fakeSystem()] } } });
    client.api.checkAvailability.mockResolvedValueOnce({
      system: 'erp.virtual:443',
      internal: 'erp.internal:8443',
      reachable: false,
      error: 'erp.internal:8443 refused the connection.',
      checkedAt: new Date().toISOString(),
    });
    renderWithClient(<SystemsPage />, { client });
    const user = userEvent.setup();
    expect(await screen.findAllByText('Not checked')).not.toHaveLength(0);
    await user.click(screen.getByRole('button', { name: 'Check availability' }));
    expect(await screen.findByText(/refused the connection/)).toBeInTheDocument();
    expect(within(screen.getByRole('table', { name: 'System mappings' })).getByText('Not reachable')).toBeInTheDocument();
  });
});

const PEM = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUFakeButShapedLikeACertificate0wCgYIKoZIzj0EAwIw\n-----END CERTIFICATE-----\n';

function pemFile(name = 'corp-root-ca.pem', text = PEM): File {
  return new File([text], name, { type: 'application/x-pem-file' });
}

describe('Systems page: trusted CA certificate', () => {
  it('uploads the picked PEM file, shows what the agent stored, and saves the system with the agent\u2019s path', async () => {
    const { client } = renderWithClient(<SystemsPage />, { client: createFakeClient({ data: { systems: { acme: [] } } }) });
    const { user, form } = await openAddForm();
    const f = within(form);
    await user.type(f.getByLabelText('Virtual host'), 'erp.virtual');
    await user.type(f.getByLabelText('Virtual port'), '443');
    await user.type(f.getByLabelText('Internal host'), 'erp.corp');
    await user.type(f.getByLabelText('Internal port'), '8443');
    expect(f.queryByLabelText('Trusted CA certificate (PEM)')).toBeNull(); // plain HTTP has no TLS to trust
    await user.selectOptions(f.getByLabelText('Protocol'), 'https');

    const picker = f.getByLabelText('Trusted CA certificate (PEM)');
    expect(picker).toHaveAttribute('type', 'file');
    expect(picker).toHaveAttribute('accept', '.pem,.crt,.cer');
    await user.upload(picker, pemFile());

    await waitFor(() => expect(client.api.importCaCertificate).toHaveBeenCalledWith({ pem: PEM }));
    const group = await f.findByRole('group', { name: 'Trusted CA certificate (PEM)' });
    expect(group).toHaveTextContent('O=Example Corp, CN=Example Corp Root CA');
    expect(group).toHaveTextContent(Array.from({ length: 32 }, () => 'C4').join(':'));
    expect(within(group).getByText(/in \d+ days/)).toBeInTheDocument();
    const { caFile } = await client.api.importCaCertificate.mock.results[0]!.value;

    await user.click(f.getByRole('button', { name: 'Save system' }));
    await waitFor(() => expect(client.api.addSystem).toHaveBeenCalledTimes(1));
    expect(client.api.addSystem.mock.calls[0]![0].system).toMatchObject({ protocol: 'https', caFile });
    expect(caFile).toMatch(/^\/var\/lib\/skybridge\/trusted-ca\/[0-9a-f]{32}\.pem$/);
  });

  it('a binary file is refused in the browser with the openssl command; the agent\u2019s refusal is shown as it says it; no CA is set', async () => {
    const client = createFakeClient({ data: { systems: { acme: [] } } });
    client.api.importCaCertificate.mockRejectedValueOnce(new ApiError('INVALID_INPUT', 'That is not a usable CA certificate: it contains a private key; upload only the CA certificate and keep the key where it is.'));
    renderWithClient(<SystemsPage />, { client });
    const { user, form } = await openAddForm();
    const f = within(form);
    await user.type(f.getByLabelText('Virtual host'), 'ldaps.virtual');
    await user.type(f.getByLabelText('Virtual port'), '636');
    await user.type(f.getByLabelText('Internal host'), 'dc01.corp');
    await user.type(f.getByLabelText('Internal port'), '636');
    await user.selectOptions(f.getByLabelText('Protocol'), 'ldaps');

    await user.upload(f.getByLabelText('Trusted CA certificate (PEM)'), new File([new Uint8Array([0x30, 0x82, 0x01, 0xb3])], 'corp-ca.cer'));
    expect(await f.findByRole('alert')).toHaveTextContent('corp-ca.cer is not a PEM certificate');
    expect(f.getByRole('alert')).toHaveTextContent('openssl x509 -inform der -in corp-ca.cer -out ca.pem');
    expect(client.api.importCaCertificate).not.toHaveBeenCalled();

    await user.upload(f.getByLabelText('Trusted CA certificate (PEM)'), pemFile('with-key.pem'));
    await waitFor(() => expect(f.getByRole('alert')).toHaveTextContent('it contains a private key'));
    expect(f.queryByRole('group', { name: 'Trusted CA certificate (PEM)' })).toBeNull();

    await user.click(f.getByRole('button', { name: 'Save system' }));
    await waitFor(() => expect(client.api.addSystem).toHaveBeenCalledTimes(1));
    expect(client.api.addSystem.mock.calls[0]![0].system).not.toHaveProperty('caFile');
  });

  it('holds Save while the upload is being checked', async () => {
    const client = createFakeClient({ data: { systems: { acme: [] } } });
    let finish: () => void = () => undefined;
    client.api.importCaCertificate.mockImplementationOnce(
      () =>
        new Promise((resolve) => {
          finish = () => resolve({ caFile: `/var/lib/skybridge/trusted-ca/${'a'.repeat(32)}.pem`, subject: 'CN=Slow CA', fingerprintSha256: 'AA', notAfter: new Date(Date.now() + 86_400_000 * 90).toISOString(), certificates: 1 });
        }),
    );
    renderWithClient(<SystemsPage />, { client });
    const { user, form } = await openAddForm();
    const f = within(form);
    await user.selectOptions(f.getByLabelText('Protocol'), 'https');
    await user.upload(f.getByLabelText('Trusted CA certificate (PEM)'), pemFile());
    expect(await f.findByRole('status')).toHaveTextContent('Checking the certificate');
    expect(f.getByRole('button', { name: 'Save system' })).toBeDisabled();
    finish();
    expect(await f.findByText('CN=Slow CA')).toBeInTheDocument();
    expect(f.getByRole('button', { name: 'Save system' })).toBeEnabled();
  });

  it('editing shows the current CA with Replace and Remove; an untouched CA is not sent, Remove sends null, Replace sends the new path', async () => {
    const current = `/var/lib/skybridge/trusted-ca/${'0'.repeat(32)}.pem`;
    const client = createFakeClient({ data: { systems: { acme: [fakeSystem({ caFile: current })] } } });
    renderWithClient(<SystemsPage />, { client });
    const user = userEvent.setup();
    const openEdit = async () => {
      await user.click(await screen.findByRole('button', { name: 'Edit system' }));
      return within(screen.getByRole('form', { name: 'Edit system erp.virtual:443' }));
    };

    let f = await openEdit();
    const group = f.getByRole('group', { name: 'Trusted CA certificate (PEM)' });
    expect(group).toHaveTextContent(`Current CA: ${'0'.repeat(32)}.pem`);
    expect(f.queryByLabelText('Trusted CA certificate (PEM)', { selector: 'input' })).toBeNull(); // no picker until Replace
    await user.clear(f.getByLabelText('Internal port'));
    await user.type(f.getByLabelText('Internal port'), '9443');
    await user.click(f.getByRole('button', { name: 'Save system' }));
    await waitFor(() => expect(client.api.updateSystem).toHaveBeenCalledTimes(1));
    expect(client.api.updateSystem.mock.calls[0]![0].patch).not.toHaveProperty('caFile');

    f = await openEdit();
    await user.click(f.getByRole('button', { name: 'Replace' }));
    await user.upload(f.getByLabelText('Trusted CA certificate (PEM)'), pemFile('new-root.pem'));
    const { caFile: replaced } = await waitFor(() => client.api.importCaCertificate.mock.results[0]!.value);
    await f.findByText('O=Example Corp, CN=Example Corp Root CA');
    await user.click(f.getByRole('button', { name: 'Save system' }));
    await waitFor(() => expect(client.api.updateSystem).toHaveBeenCalledTimes(2));
    expect(client.api.updateSystem.mock.calls[1]![0].patch).toMatchObject({ caFile: replaced });

    f = await openEdit();
    await user.click(f.getByRole('button', { name: 'Remove' }));
    expect(f.getByLabelText('Trusted CA certificate (PEM)')).toHaveAttribute('type', 'file');
    await user.click(f.getByRole('button', { name: 'Save system' }));
    await waitFor(() => expect(client.api.updateSystem).toHaveBeenCalledTimes(3));
    expect(client.api.updateSystem.mock.calls[2]![0].patch).toMatchObject({ caFile: null });
    expect(client.data.systems.acme![0]!.caFile).toBeNull();
  });
});
