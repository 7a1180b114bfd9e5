/**
 * Where the shell finds its pieces, in a checkout and in a packaged app. `appRoot` is
 * `app.getAppPath()`: the folder (or app.asar) holding package.json, with the compiled
 * code under dist/ beside it.
 */
import path from 'node:path';

export interface ShellPaths {
  /** Sandboxed preloads must be CommonJS, hence .cjs (tsc's output for preload.cts). */
  preload: string;
  /** Written by the agent build; takes --data-dir and reports state over process.parentPort. */
  agentScript: string;
  /** The UI page: the bundled build when there is one, else the source page. */
  rendererHtml: string;
}

export function shellPaths(appRoot: string, exists: (file: string) => boolean): ShellPaths {
  const bundled = path.join(appRoot, 'dist', 'renderer', 'index.html');
  return {
    preload: path.join(appRoot, 'dist', 'electron', 'preload', 'preload.cjs'),
    agentScript: path.join(appRoot, 'dist', 'electron', 'agent', 'agent-process.js'),
    rendererHtml: exists(bundled) ? bundled : path.join(appRoot, 'renderer', 'index.html'),
  };
}

/**
 * The agent keeps its config, certificates and audit log in a folder of its own, so they
 * never mix with the shell's settings file in userData.
 */
export function agentDataDir(userData: string): string {
  return path.join(userData, 'agent');
}

export const TRAY_STATES = ['connected', 'degraded', 'offline'] as const;
export type TrayState = (typeof TRAY_STATES)[number];

/**
 * Tray icons ship as extraResources (build/electron-builder.yml), outside app.asar, because
 * some Linux trays load the file by path. Electron picks `<name>@2x.png` on HiDPI screens.
 */
export function trayIconPath(
  state: TrayState,
  where: { appRoot: string; isPackaged: boolean; resourcesPath: string },
): string {
  const folder = where.isPackaged ? path.join(where.resourcesPath, 'tray') : path.join(where.appRoot, 'build', 'tray');
  return path.join(folder, `${state}.png`);
}

/**
 * The app icon for the window (Linux shows it in the task switcher) and notifications. Shipped
 * as an extraResource too: build/ is not part of the packaged app.
 */
export function appIconPath(where: { appRoot: string; isPackaged: boolean; resourcesPath: string }): string {
  return where.isPackaged ? path.join(where.resourcesPath, 'icon.png') : path.join(where.appRoot, 'build', 'icons', '512x512.png');
}
