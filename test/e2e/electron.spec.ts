/**
 * The real desktop app, launched with Playwright's `_electron` on a fresh user-data folder:
 * the window shows the Dashboard, the page sees only the preload's bridge, main validates
 * what comes over IPC, the tray is there with every action, and closing the window hides it
 * to the tray. Runs wherever an Electron binary is installed (node_modules/electron/dist, or
 * ELECTRON_OVERRIDE_DIST_PATH); skips itself, saying why, where there is none.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron as electron, expect, test, type ElectronApplication, type Page } from '@playwright/test';
import { electronBinary } from '../../build/start.mjs';
import { heading, shot } from './ui.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BINARY = electronBinary();
const NO_DISPLAY = process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY;

/** What main.ts installs on globalThis under SKYBRIDGE_TEST_HOOKS=1. */
interface TestHooks {
  tray(): { exists: boolean; icon?: string; tooltip?: string; menu?: string[] };
  state(): { overall: string; agent: string };
  windowVisible(): boolean;
}

type BridgeResult = { ok: true; value: unknown } | { ok: false; error: { code: string; message: string } };
type Bridge = {
  api: Record<string, (input?: unknown) => Promise<BridgeResult>>;
  shell: Record<string, (input?: unknown) => Promise<BridgeResult>>;
};

test.describe('desktop app', () => {
  test.skip(!BINARY, 'No Electron binary is installed (node_modules/electron/dist, or ELECTRON_OVERRIDE_DIST_PATH), so the desktop app cannot be launched here.');
  test.skip(NO_DISPLAY, 'No display to open a window on; run the tests under xvfb-run.');

  let app: ElectronApplication;
  let userData: string;

  test.beforeEach(async () => {
    userData = mkdtempSync(path.join(os.tmpdir(), 'skybridge-desktop-'));
    const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined && e[0] !== 'ELECTRON_RUN_AS_NODE'));
    app = await electron.launch({
      executablePath: BINARY,
      args: [ROOT],
      cwd: ROOT,
      env: { ...env, SKYBRIDGE_USER_DATA_DIR: userData, SKYBRIDGE_TEST_HOOKS: '1', SKYBRIDGE_LOG_LEVEL: 'warn' },
    });
  });

  test.afterEach(async () => {
    await app?.close();
    rmSync(userData, { recursive: true, force: true });
  });

  // Evaluated in the main process, where main.ts put the hooks.
  const trayInfo = () => app.evaluate(() => (globalThis as unknown as { __skybridgeTest: TestHooks }).__skybridgeTest.tray());
  const agentPhase = () => app.evaluate(() => (globalThis as unknown as { __skybridgeTest: TestHooks }).__skybridgeTest.state().agent);
  const windowVisible = () => app.evaluate(() => (globalThis as unknown as { __skybridgeTest: TestHooks }).__skybridgeTest.windowVisible());

  async function mainWindow(): Promise<Page> {
    const page = await app.firstWindow();
    await expect(heading(page)).toHaveText('Dashboard');
    return page;
  }

  test('opens the Dashboard, and the page sees the bridge and nothing of Node or Electron', async () => {
    const page = await mainWindow();
    await expect(page.getByRole('link', { name: 'Dashboard', exact: true })).toBeVisible();
    await shot(page, 'desktop-dashboard');

    const surface = await page.evaluate(() => {
      const w = window as unknown as Record<string, unknown>;
      const bridge = (w.skybridge ?? {}) as Record<string, unknown>;
      return {
        keys: Object.keys(bridge).sort(),
        require: typeof w.require,
        process: typeof w.process,
        electron: typeof w.electron,
        ipcRenderer: typeof w.ipcRenderer,
        invoke: 'invoke' in bridge || 'send' in bridge,
      };
    });
    expect(surface).toEqual({ keys: ['api', 'on', 'platform', 'shell', 'version'], require: 'undefined', process: 'undefined', electron: 'undefined', ipcRenderer: 'undefined', invoke: false });
  });

  test('main answers over IPC, refuses bad payloads, and keeps the export path to the save dialog', async () => {
    const page = await mainWindow();
    const results = await page.evaluate(async () => {
      const bridge = (window as unknown as { skybridge: Bridge }).skybridge;
      return {
        state: await bridge.shell.getState!({}),
        settings: await bridge.shell.getSettings!({}),
        bad: await bridge.api.setSubaccountEnabled!({ subaccount: 42, enabled: 'yes' }),
        exportAnywhere: await bridge.api.exportSupportBundle!({ out: '/tmp/anywhere.zip' }),
      };
    });
    expect(results.state).toMatchObject({ ok: true, value: { agent: expect.stringMatching(/starting|running/) } });
    expect(results.settings).toMatchObject({ ok: true, value: { startAtLogin: false, notifications: true } });
    expect(results.bad).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    expect(results.exportAnywhere).toMatchObject({ ok: false, error: { code: 'ACCESS_DENIED' } });
  });

  test('keeps a tray icon with the state and every action', async () => {
    await mainWindow();
    await expect.poll(agentPhase).toBe('running');
    const tray = await trayInfo();
    expect(tray.exists).toBe(true);
    expect(tray.tooltip).toBe('Skybridge: no subaccount paired yet');
    expect(tray.icon).toBe('offline');
    expect(tray.menu).toEqual(expect.arrayContaining(['Open Skybridge', 'Export logs…', 'Start at login', 'Quit Skybridge']));
  });

  test('closing the window hides it to the tray and remembers that the user was told', async () => {
    await mainWindow();
    await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows()[0]?.close());
    await expect.poll(windowVisible).toBe(false);
    expect(await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().length), 'the window was destroyed, not hidden').toBe(1);
    const settings = JSON.parse(readFileSync(path.join(userData, 'shell-settings.json'), 'utf8')) as { closeToTrayNoticeShown?: boolean };
    expect(settings.closeToTrayNoticeShown).toBe(true);
  });
});
