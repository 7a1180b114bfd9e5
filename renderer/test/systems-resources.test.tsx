import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { SystemsPage } from '../src/pages/SystemsPage.js';
import { createFakeClient, fakeSystem, renderWithClient } from './fake-client.js';

async function resourceForm() {
  const user = userEvent.setup();
  const form = await screen.findByRole('form', { name: 'Add resource to erp.virtual:443' });
  return { user, f: within(form) };
}

describe('Systems page: resources', () => {
  it('refuses /a/../b and /api/ in the browser with the reason, and adds nothing', async () => {
    const { client } = renderWithClient(<SystemsPage />);
    const { user, f } = await resourceForm();
    await user.type(f.getByLabelText('Path'), '/a/../b');
    await user.tab();
    expect(await f.findByText('a path without empty, "." or ".." segments')).toBeInTheDocument();
    await user.click(f.getByRole('button', { name: 'Add resource' }));
    expect(client.api.addResource).not.toHaveBeenCalled();

    await user.clear(f.getByLabelText('Path'));
    await user.type(f.getByLabelText('Path'), '/api/');
    expect(await f.findByText('a path without a trailing slash')).toBeInTheDocument();
    await user.click(f.getByRole('button', { name: 'Add resource' }));
    expect(client.api.addResource).not.toHaveBeenCalled();
  });

  it('adds a resource with its flags and shows it in the list', async () => {
    const { client } = renderWithClient(<SystemsPage />);
    const { user, f } = await resourceForm();
    await user.type(f.getByLabelText('Path'), '/sap/opu');
    await user.click(f.getByLabelText('Path and everything below it'));
    await user.click(f.getByLabelText('GET'));
    await user.click(f.getByLabelText('POST'));
    await user.click(f.getByLabelText('Allow WebSocket'));
    expect(f.getByText(/\/sap\/opu-old is not included/)).toBeInTheDocument();
    await user.click(f.getByRole('button', { name: 'Add resource' }));

    await waitFor(() =>
      expect(client.api.addResource).toHaveBeenCalledWith({
        subaccount: 'acme',
        system: 'erp.virtual:443',
        resource: { path: '/sap/opu', subPaths: true, methods: ['GET', 'POST'], websocket: true },
      }),
    );
    const list = await screen.findByRole('table', { name: 'Resources of erp.virtual:443' });
    await waitFor(() => expect(within(list).getByText('/sap/opu', { selector: 'code' })).toBeInTheDocument());
    expect(f.getByLabelText('Path')).toHaveValue('');
  });

  it('switches a resource off without removing it, and asks before removing', async () => {
    const { client } = renderWithClient(<SystemsPage />);
    const user = userEvent.setup();
    const toggle = await screen.findByRole('switch', { name: 'Enabled: /odata' });
    expect(toggle).toBeChecked();
    await user.click(toggle);
    await waitFor(() =>
      expect(client.api.updateResource).toHaveBeenCalledWith({ subaccount: 'acme', system: 'erp.virtual:443', path: '/odata', patch: { enabled: false } }),
    );
    await waitFor(() => expect(screen.getByRole('switch', { name: 'Enabled: /odata' })).not.toBeChecked());

    await user.click(screen.getByRole('button', { name: 'Remove /odata' }));
    expect(client.api.removeResource).not.toHaveBeenCalled();
    await user.click(screen.getByRole('button', { name: 'Remove' }));
    await waitFor(() => expect(client.api.removeResource).toHaveBeenCalledWith({ subaccount: 'acme', system: 'erp.virtual:443', path: '/odata' }));
  });

  it('has no resource list for a TCP system, only the warning', async () => {
    const client = createFakeClient({
      data: { systems: { acme: [fakeSystem({ virtualHost: 'db.virtual', virtualPort: 5432, internalPort: 5432, protocol: 'tcp', resources: [] })] } },
    });
    renderWithClient(<SystemsPage />, { client });
    expect(await screen.findByText(/raw TCP cannot be inspected/)).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Add resource' })).toBeNull();
  });
});

describe('Systems page: access tester', () => {
  it('shows whether a request is allowed and which resource matched', async () => {
    const { client } = renderWithClient(<SystemsPage />);
    const user = userEvent.setup();
    const tester = within(await screen.findByRole('form', { name: 'Access tester' }));
    // Prefilled with the selected system.
    expect(tester.getByLabelText('Virtual host')).toHaveValue('erp.virtual');
    expect(tester.getByLabelText('Virtual port')).toHaveValue('443');
    await user.selectOptions(tester.getByLabelText('Method'), 'GET');
    await user.clear(tester.getByLabelText('Request path'));
    await user.type(tester.getByLabelText('Request path'), '/odata/Orders?$top=1');
    await user.click(tester.getByRole('button', { name: 'Test' }));

    await waitFor(() =>
      expect(client.api.testAccess).toHaveBeenCalledWith({ subaccount: 'acme', method: 'GET', host: 'erp.virtual', port: 443, target: '/odata/Orders?$top=1' }),
    );
    const result = within(await screen.findByRole('group', { name: 'Access test result' }));
    expect(result.getByText('Allowed')).toBeInTheDocument();
    expect(result.getByText('Allowed by /odata and below.')).toBeInTheDocument();
    expect(result.getByText('Matched system').nextElementSibling).toHaveTextContent('erp.virtual:443');
    expect(result.getByText('Matched resource').nextElementSibling).toHaveTextContent('/odata (path and everything below it; all methods)');
    expect(result.getByText('Normalised path').nextElementSibling).toHaveTextContent('/odata/Orders');
  });

  it('shows a refusal with its reason', async () => {
    renderWithClient(<SystemsPage />);
    const user = userEvent.setup();
    const tester = within(await screen.findByRole('form', { name: 'Access tester' }));
    await user.clear(tester.getByLabelText('Request path'));
    await user.type(tester.getByLabelText('Request path'), '/admin');
    await user.click(tester.getByRole('button', { name: 'Test' }));
    const result = within(await screen.findByRole('group', { name: 'Access test result' }));
    expect(result.getByText('Refused (403)')).toBeInTheDocument();
    expect(result.getByText('No resource of erp.virtual:443 allows /admin.')).toBeInTheDocument();
    expect(result.getByText('Matched resource').nextElementSibling).toHaveTextContent('none');
  });
});
