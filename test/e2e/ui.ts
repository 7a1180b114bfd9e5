/**
 * What a person does in the headless UI, by the visible labels the pages promise
 * (brief "UI conventions"), plus the screenshots kept as test artefacts.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, type Page } from '@playwright/test';

export const SCREENSHOT_DIR = fileURLToPath(new URL('../../test-results/screenshots/', import.meta.url));

export const PAGE_NAMES = ['Dashboard', 'Pairing', 'Systems', 'Traffic', 'Audit', 'Settings'] as const;
export type PageName = (typeof PAGE_NAMES)[number];

/** The new admin password the tests choose (long enough for the 12-character rule). */
export const NEW_PASSWORD = 'correct horse battery staple 42';

/** Saves the whole page as test-results/screenshots/<name>.png, for people to look at. */
export async function shot(page: Page, name: string): Promise<void> {
  // Let fonts, charts and transitions settle so the picture shows what a person sees.
  await page.evaluate(() => document.fonts.ready.then(() => undefined));
  // A click near the bottom scrolls the window, and a full-page picture of a scrolled page
  // draws the sticky navigation half-way down: start every picture from the top.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true, animations: 'disabled' });
}

export function heading(page: Page) {
  return page.locator('#page-title');
}

/** Opens a page from the main navigation and waits for its heading. */
export async function openPage(page: Page, name: PageName): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();
  await expect(heading(page)).toHaveText(name);
}

export async function signIn(page: Page, password: string): Promise<void> {
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

export async function changePassword(page: Page, current: string, next: string, repeat = next): Promise<void> {
  await page.getByLabel('Current password', { exact: true }).fill(current);
  await page.getByLabel('New password', { exact: true }).fill(next);
  await page.getByLabel('Repeat new password', { exact: true }).fill(repeat);
  await page.getByRole('button', { name: 'Change password', exact: true }).click();
}

/** The first visit: sign in with the initial password, choose a new one, land on the Dashboard. */
export async function firstSignIn(page: Page, uiUrl: string, initialPassword: string): Promise<void> {
  await page.goto(uiUrl);
  await signIn(page, initialPassword);
  await changePassword(page, initialPassword, NEW_PASSWORD);
  await expect(heading(page)).toHaveText('Dashboard');
}
