/**
 * The headless UI's door: wrong passwords are refused with a message, the API answers
 * nothing without a session, a short new password is refused, and once changed the
 * initial password no longer opens anything.
 */
import { CSRF_HEADER, WEB_API } from '../../shared/web-api.js';
import { expect, test, useWorld } from './fixtures.js';
import { NEW_PASSWORD, changePassword, heading, openPage, shot, signIn } from './ui.js';

const { world, page, context } = useWorld();

test('the API refuses every call without a session', async ({ request }) => {
  const call = await request.post(new URL(`${WEB_API.call}dashboard`, world().uiUrl).href, { data: {} });
  expect(call.status()).toBe(401);
  const body = (await call.json()) as { error?: { code?: string; message?: string } };
  expect(body.error?.message, 'a sentence saying why').toBeTruthy();

  const session = await request.get(new URL(WEB_API.session, world().uiUrl).href);
  expect(session.status()).toBe(200);
  expect(((await session.json()) as { signedIn: boolean }).signedIn).toBe(false);
});

test('a wrong password is refused with a message and opens nothing', async () => {
  const p = page();
  await p.goto(world().uiUrl);
  await signIn(p, 'not the password at all');
  await expect(p.getByText(/password/i).and(p.getByRole('alert')).first()).toBeVisible();
  await expect(p.getByLabel('Password', { exact: true })).toBeVisible();
  await expect(p.getByRole('navigation', { name: 'Main' })).toHaveCount(0);
  await shot(p, 'sign-in-wrong-password');
});

test('the new password must be long enough and typed twice alike', async () => {
  const p = page();
  await signIn(p, world().initialPassword);
  await changePassword(p, world().initialPassword, 'short');
  const next = p.getByLabel('New password', { exact: true });
  await expect(next).toHaveAttribute('aria-invalid', 'true');
  await expect(next).toHaveAccessibleDescription(/Use at least 12 characters/);
  await changePassword(p, world().initialPassword, NEW_PASSWORD, `${NEW_PASSWORD}!`);
  await expect(p.getByLabel('Repeat new password', { exact: true })).toHaveAccessibleDescription(/do not match/);
  await expect(p.getByRole('navigation', { name: 'Main' })).toHaveCount(0);
  await shot(p, 'change-password-refused');

  // The server holds the same line when the form is bypassed.
  const api = context().request;
  const session = (await (await api.get(new URL(WEB_API.session, world().uiUrl).href)).json()) as { mustChangePassword?: boolean; csrfToken?: string };
  expect(session.mustChangePassword).toBe(true);
  const short = await api.post(new URL(WEB_API.password, world().uiUrl).href, {
    data: { current: world().initialPassword, next: 'short' },
    headers: { [CSRF_HEADER]: session.csrfToken ?? '', origin: new URL(world().uiUrl).origin },
  });
  expect(short.status()).toBe(400);
});

test('changes need the CSRF token even with a session cookie', async () => {
  const p = page();
  await changePassword(p, world().initialPassword, NEW_PASSWORD);
  await expect(heading(p)).toHaveText('Dashboard');
  // Same cookies as the page, but without the header the UI sends: what a forged form post looks like.
  const forged = await context().request.post(new URL(`${WEB_API.call}setAuditRetention`, world().uiUrl).href, {
    data: { days: 1 },
    headers: { origin: new URL(world().uiUrl).origin },
  });
  expect(forged.status()).toBe(403);
  // The same call with the session's token goes through: the token, nothing else, made the difference.
  const { csrfToken } = (await (await context().request.get(new URL(WEB_API.session, world().uiUrl).href)).json()) as { csrfToken?: string };
  const genuine = await context().request.post(new URL(`${WEB_API.call}setAuditRetention`, world().uiUrl).href, {
    data: { days: 30 },
    headers: { origin: new URL(world().uiUrl).origin, [CSRF_HEADER]: csrfToken ?? '' },
  });
  expect(genuine.status(), await genuine.text()).toBe(200);
});

test('after the change the initial password no longer signs in', async ({ browser }) => {
  const fresh = await browser.newContext();
  const p = await fresh.newPage();
  await p.goto(world().uiUrl);
  await signIn(p, world().initialPassword);
  await expect(p.getByRole('alert').first()).toBeVisible();
  await expect(p.getByRole('navigation', { name: 'Main' })).toHaveCount(0);
  await signIn(p, NEW_PASSWORD);
  await expect(heading(p)).toHaveText('Dashboard');

  // Every refused sign-in is in the audit log, for the administrator to see.
  await openPage(p, 'Audit');
  const refused = p.getByRole('table', { name: 'Audit entries' }).getByRole('row').filter({ hasText: /Administrator sign/ }).filter({ hasText: 'failure' });
  await expect(refused).toHaveCount(2);
  await shot(p, 'audit-refused-sign-ins');
  await fresh.close();
});
