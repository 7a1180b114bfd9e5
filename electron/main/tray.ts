/**
 * The system tray icon, alive for the whole session. The reference is module-level on purpose:
 * a Tray held only by a closure can be garbage-collected, and the icon then silently vanishes
 * from the panel. Everything it shows comes from tray-model.ts.
 */
import { Menu, Tray, nativeImage } from 'electron';
import type { TrayState } from './paths.js';
import type { TrayMenuItem, TrayView } from './tray-model.js';

let tray: Tray | undefined;
let shown: TrayView | undefined;

export interface TrayWiring {
  iconPath: (state: TrayState) => string;
  /** A left click on the icon (Windows, macOS without a menu; Linux trays show the menu instead). */
  onClick: () => void;
}

let wiring: TrayWiring | undefined;

export function createTray(view: TrayView, options: TrayWiring): void {
  if (tray && !tray.isDestroyed()) return;
  wiring = options;
  tray = new Tray(nativeImage.createFromPath(options.iconPath(view.icon)));
  // Windows opens the window on click; the menu stays on the right button.
  if (process.platform === 'win32') tray.on('click', () => options.onClick());
  shown = undefined;
  updateTray(view);
}

/**
 * Applies a new view; a view that looks the same changes nothing (a rebuilt menu would close
 * if open). `force`: rebuild anyway, e.g. after Electron flipped a checkbox whose action failed.
 */
export function updateTray(view: TrayView, options: { force?: boolean } = {}): void {
  if (!tray || tray.isDestroyed() || !wiring) return;
  // The key covers every label, flag and checkbox, so the old menu's click handlers still fit.
  if (shown?.key === view.key && !options.force) return;
  if (shown?.icon !== view.icon) tray.setImage(nativeImage.createFromPath(wiring.iconPath(view.icon)));
  tray.setToolTip(view.tooltip);
  // Linux (AppIndicator) only picks up a changed menu when it is set again.
  tray.setContextMenu(Menu.buildFromTemplate(view.template));
  shown = view;
}

export function destroyTray(): void {
  tray?.destroy();
  tray = undefined;
  shown = undefined;
}

export function trayExists(): boolean {
  return tray !== undefined && !tray.isDestroyed();
}

/** What the tray shows, for the e2e test hook (Electron cannot read a tray's tooltip back). */
export function trayInfo(): { exists: boolean; icon?: TrayState; tooltip?: string; menu?: string[] } {
  if (!trayExists() || !shown) return { exists: false };
  return { exists: true, icon: shown.icon, tooltip: shown.tooltip, menu: labels(shown.template) };
}

function labels(items: TrayMenuItem[], prefix = ''): string[] {
  return items.flatMap((item) => {
    if (item.type === 'separator') return [];
    const label = `${prefix}${item.label ?? ''}`;
    return [label, ...(item.submenu ? labels(item.submenu, `${label} > `) : [])];
  });
}
