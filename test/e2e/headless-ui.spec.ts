/**
 * The headless UI in a real Chromium, against a real relay, agent and back end: what a site
 * administrator does on day one, step by step, in one browser session. Each step leaves a
 * screenshot in test-results/screenshots/.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { ERP_VIRTUAL_HOST, ERP_VIRTUAL_PORT, PARTNER_PATH, expect, test, useWorld } from './fixtures.js';
import { readAgentConfig, waitFor } from '../integration/harness.js';
import { NEW_PASSWORD, PAGE_NAMES, changePassword, heading, openPage, shot, signIn } from './ui.js';
import { unzip } from './zip.js';

const { world, page } = useWorld();
const SITE_NAME = 'Plant Leipzig';
const VIRTUAL = `${ERP_VIRTUAL_HOST}:${ERP_VIRTUAL_PORT}`;

test('sign in with the initial password, then the password must be changed', async () => {
  const p = page();
  await p.goto(world().uiUrl);
  await expect(p.getByLabel('Password', { exact: true })).toBeVisible();
  await shot(p, '01-sign-in');

  await signIn(p, world().initialPassword);
  await expect(p.getByLabel('Current password', { exact: true })).toBeVisible();
  // Forced: nothing of the app is reachable until the initial password is gone.
  await expect(p.getByRole('navigation', { name: 'Main' })).toHaveCount(0);
  await shot(p, '02-change-password');

  await changePassword(p, world().initialPassword, NEW_PASSWORD);
  await expect(heading(p)).toHaveText('Dashboard');
  await expect(p.getByRole('navigation', { name: 'Main' })).toBeVisible();
  await shot(p, '03-dashboard-nothing-paired');
});

test('pair with a code created on the relay; the Dashboard shows it Connected', async () => {
  const p = page();
  const code = await world().newPairingCode();
  await openPage(p, 'Pairing');
  await p.getByLabel('Pairing code', { exact: true }).fill(code);
  await p.getByLabel('Name', { exact: true }).fill(SITE_NAME);
  await shot(p, '04-pairing-code-pasted');
  await p.getByRole('button', { name: 'Pair', exact: true }).click();
  await expect(p.getByText(SITE_NAME).first()).toBeVisible();
  await shot(p, '05-pairing-paired');

  await openPage(p, 'Dashboard');
  await expect(p.getByText(SITE_NAME).first()).toBeVisible();
  await expect(p.getByText('Connected', { exact: true }).first()).toBeVisible({ timeout: 30_000 });
  // The UI's word is backed by the tunnel itself.
  expect(world().tunnelStates()).toEqual(['connected']);
  await shot(p, '06-dashboard-connected');
});

test('add a system and a resource on the Systems page', async () => {
  const p = page();
  await openPage(p, 'Systems');
  await p.getByRole('button', { name: 'Add system', exact: true }).click();
  await p.getByLabel('Virtual host', { exact: true }).fill(ERP_VIRTUAL_HOST);
  await p.getByLabel('Virtual port', { exact: true }).fill(String(ERP_VIRTUAL_PORT));
  await p.getByLabel('Internal host', { exact: true }).fill('127.0.0.1');
  await p.getByLabel('Internal port', { exact: true }).fill(String(world().erpPort));
  await p.getByLabel('Protocol', { exact: true }).selectOption('http');
  await shot(p, '07-systems-add-form');
  await p.getByRole('button', { name: 'Save system', exact: true }).click();
  await expect(p.getByText(VIRTUAL).first()).toBeVisible();

  // The resource form belongs to a system; open it from the table when it is not already shown.
  const pathField = p.getByLabel('Path', { exact: true });
  if (!(await pathField.isVisible())) await p.getByText(VIRTUAL).first().click();
  await pathField.fill(PARTNER_PATH);
  await p.getByLabel('Path and everything below it', { exact: true }).check();
  await p.getByRole('button', { name: 'Add resource', exact: true }).click();
  await expect(p.getByText(PARTNER_PATH).first()).toBeVisible();

  // Saved where the agent reads it, not only on screen.
  await waitFor(
    () => {
      const systems = (readAgentConfig(world().agentDir).subaccounts[0]?.systems ?? []) as Array<{ virtualHost: string; resources?: Array<{ path: string; subPaths?: boolean }> }>;
      const erp = systems.find((s) => s.virtualHost === ERP_VIRTUAL_HOST);
      return erp?.resources?.some((r) => r.path === PARTNER_PATH && r.subPaths === true);
    },
    5000,
    'the system and its resource in config.json',
  );

  await p.getByRole('button', { name: 'Check availability' }).first().click();
  await expect(p.getByText(/reachable/i).first()).toBeVisible();
  await shot(p, '08-systems-with-resource');

  // "Would this request be allowed?" names the rule that decides, and refuses the rest.
  const verdict = p.getByRole('group', { name: 'Access test result' });
  await p.getByLabel('Method', { exact: true }).selectOption('GET');
  await p.getByLabel('Request path', { exact: true }).fill(`${PARTNER_PATH}/A_BusinessPartner`);
  await p.getByRole('button', { name: 'Test', exact: true }).click();
  await expect(verdict).toContainText('Allowed');
  await expect(verdict).toContainText(PARTNER_PATH);
  await p.getByLabel('Request path', { exact: true }).fill('/admin');
  await p.getByRole('button', { name: 'Test', exact: true }).click();
  await expect(verdict).toContainText('Refused (403)');
  await shot(p, '08b-systems-access-tester');
});

test('a cloud request through the relay shows up live in Traffic', async () => {
  const p = page();
  await openPage(p, 'Traffic');
  const table = p.getByRole('table', { name: 'Live traffic' });
  await expect(table).toBeVisible();

  const r = await world().cloudGet(`${PARTNER_PATH}/A_BusinessPartner`);
  expect(r.status, r.stderr).toBe(200);
  expect(r.body.toString()).toContain('Harbour Tools Ltd');

  // No reload: the row arrives over the event feed.
  const row = table.getByRole('row').filter({ hasText: `${PARTNER_PATH}/A_BusinessPartner` });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('200');
  await expect(row).toContainText('billing');
  await shot(p, '09-traffic-live');
});

test('a request outside the allowlist is refused and shows up in Audit', async () => {
  const p = page();
  const r = await world().cloudGet('/admin');
  expect(r.status).toBe(403);
  expect(r.body.toString()).not.toContain('ERP administration');

  await openPage(p, 'Audit');
  const denied = p.getByRole('table', { name: 'Audit entries' }).getByRole('row').filter({ hasText: 'Access denied' });
  await expect(denied).toHaveCount(1);
  await expect(denied).toContainText(`GET ${VIRTUAL}/admin`);
  await expect(denied).toContainText('billing');
  await shot(p, '10-audit-denied');

  await p.getByRole('button', { name: 'Verify integrity', exact: true }).click();
  await expect(p.getByText('The audit log is intact')).toBeVisible();
  await shot(p, '11-audit-verified');
});

test('export a support bundle from Settings and get the file', async () => {
  const p = page();
  await openPage(p, 'Settings');
  await expect(p.getByLabel('Audit level').first()).toBeVisible();
  await expect(p.getByLabel('Retention (days)', { exact: true })).toBeVisible();
  await shot(p, '12-settings');

  const download = p.waitForEvent('download');
  await p.getByRole('button', { name: 'Export support bundle' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/\.zip$/);
  const saved = test.info().outputPath(file.suggestedFilename());
  await file.saveAs(saved);
  expect(existsSync(saved) && statSync(saved).size > 0).toBe(true);

  const entries = await unzip(saved);
  for (const name of ['README.txt', 'config.json', 'versions.json', 'audit/audit.jsonl.manifest.json']) {
    expect([...entries.keys()], `${path.basename(saved)} holds ${name}`).toContain(name);
  }
  const everything = Buffer.concat([...entries.values()]).toString('utf8');
  expect(everything).not.toContain('PRIVATE KEY');
  expect(everything).not.toContain(world().appToken);
  expect(everything).not.toContain(NEW_PASSWORD);
  await shot(p, '13-settings-bundle-exported');
});

test('disconnect the subaccount on the Dashboard and connect it again', async () => {
  const p = page();
  await openPage(p, 'Dashboard');
  await p.getByRole('button', { name: 'Disconnect', exact: true }).click();
  await expect(p.getByText('Disconnected', { exact: true }).first()).toBeVisible();
  await waitFor(() => world().tunnelStates()[0] === 'disconnected', 10_000, 'the tunnel to go down');
  await shot(p, '14-dashboard-disconnected');
  const refused = await world().cloudGet(`${PARTNER_PATH}/A_BusinessPartner`);
  expect(refused.status).toBe(503);

  await p.getByRole('button', { name: 'Connect', exact: true }).click();
  await expect(p.getByText('Connected', { exact: true }).first()).toBeVisible({ timeout: 30_000 });
  await waitFor(() => world().tunnelStates()[0] === 'connected', 10_000, 'the tunnel to come back');
  await shot(p, '15-dashboard-reconnected');
});

test('every page in light and dark', async () => {
  const p = page();
  const backgrounds: Record<string, string> = {};
  for (const scheme of ['light', 'dark'] as const) {
    await p.emulateMedia({ colorScheme: scheme });
    for (const name of PAGE_NAMES) {
      await openPage(p, name);
      await shot(p, `page-${name.toLowerCase()}-${scheme}`);
    }
    backgrounds[scheme] = await p.evaluate(() => getComputedStyle(document.body).backgroundColor);
  }
  expect(backgrounds.dark, 'the dark theme has its own background').not.toBe(backgrounds.light);
  await p.emulateMedia({ colorScheme: 'light' });
});

// Last in the file, so that its failure does not stop the steps above.
test('Traffic still lists earlier requests after leaving the page and coming back', async () => {
  const p = page();
  await openPage(p, 'Dashboard');
  await openPage(p, 'Traffic');
  const table = p.getByRole('table', { name: 'Live traffic' });
  // The allowed request (and, on the same path, the one refused while disconnected never reached the agent).
  await expect(table.getByRole('row').filter({ hasText: `${PARTNER_PATH}/A_BusinessPartner` }).first()).toBeVisible();
  await expect(table.getByRole('row').filter({ hasText: '/admin' })).toHaveCount(1);
  await shot(p, '16-traffic-history');
});
