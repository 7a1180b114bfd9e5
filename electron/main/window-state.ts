/**
 * The window comes back where the user left it, unless that place is gone (a monitor that
 * was unplugged): a window restored off-screen looks to the user like an app that never
 * opened. And closing the window is not quitting: the tunnels keep running in the tray.
 */
import type { WindowBounds } from './settings-store.js';

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export const DEFAULT_SIZE = { width: 1100, height: 760 } as const;
export const MIN_SIZE = { width: 720, height: 480 } as const;

function overlap(a: Rect, b: Rect): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

/**
 * Where to open the window: the saved bounds when most of it is on one of today's displays
 * (shrunk to fit that display), else the default size, centred by Electron.
 */
export function initialBounds(saved: WindowBounds | undefined, workAreas: readonly Rect[]): Partial<Rect> & { width: number; height: number } {
  if (!saved) return { ...DEFAULT_SIZE };
  let best: Rect | undefined;
  let bestOverlap = 0;
  for (const area of workAreas) {
    const o = overlap(saved, area);
    if (o > bestOverlap) {
      best = area;
      bestOverlap = o;
    }
  }
  // Half of the window, or half of the screen for a window larger than the screen.
  if (!best || bestOverlap < Math.min(saved.width * saved.height, best.width * best.height) / 2) return { ...DEFAULT_SIZE };
  const width = Math.max(MIN_SIZE.width, Math.min(saved.width, best.width));
  const height = Math.max(MIN_SIZE.height, Math.min(saved.height, best.height));
  const x = Math.min(Math.max(saved.x, best.x), best.x + best.width - width);
  const y = Math.min(Math.max(saved.y, best.y), best.y + best.height - height);
  return { x, y, width, height };
}

export type CloseAction =
  /** Hide to the tray (and tell the user, the first time). */
  | { action: 'hide'; notice: boolean }
  /** Let the window close (the app is quitting, or there is no tray to come back from). */
  | { action: 'close' };

export function onCloseRequested(state: { quitting: boolean; trayShown: boolean; noticeShown: boolean }): CloseAction {
  if (state.quitting || !state.trayShown) return { action: 'close' };
  return { action: 'hide', notice: !state.noticeShown };
}

export const CLOSE_TO_TRAY_NOTICE = {
  key: 'close-to-tray',
  title: 'Skybridge is still running',
  body: 'The tunnels stay open in the background. Open the window or quit from the Skybridge icon in the tray.',
} as const;
