import { defineConfig } from '@playwright/test';
import { CHROMIUM } from './test/e2e/chromium.js';

/**
 * End-to-end tests (`npm run test:e2e`, and the `e2e` suite of `npm test`).
 *
 * headless-ui: Debian's Chromium (never a downloaded browser) against `skybridge agent
 * start --ui-port`, a real relay and a real back end; each spec file builds its own world
 * (test/e2e/fixtures.ts). electron: Playwright's `_electron` against the desktop app; that
 * spec skips itself where no Electron binary is installed.
 *
 * One worker: each world is several Node processes and the machine has two cores.
 * Playwright empties its outputDir on every run, so it gets a folder of its own inside
 * test-results/, next to the other suites' logs and the screenshots people look at.
 */
export default defineConfig({
  testDir: './test/e2e',
  outputDir: './test-results/playwright',
  globalSetup: './test/e2e/global-setup.ts',
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 90_000,
  expect: { timeout: 15_000 },
  reporter: [['list'], ['json', { outputFile: './test-results/e2e.json' }]],
  use: {
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    actionTimeout: 15_000,
    navigationTimeout: 20_000,
  },
  projects: [
    {
      name: 'headless-ui',
      testIgnore: /electron\.spec\.ts$/,
      use: {
        browserName: 'chromium',
        launchOptions: {
          executablePath: CHROMIUM,
          args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
        },
        // The agent's UI certificate is self-signed for loopback; a site would install its own.
        ignoreHTTPSErrors: true,
        viewport: { width: 1280, height: 800 },
        acceptDownloads: true,
      },
    },
    {
      // Launches the app with _electron itself: no browser from this config.
      name: 'electron',
      testMatch: /electron\.spec\.ts$/,
    },
  ],
});
