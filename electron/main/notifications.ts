/**
 * When the desktop tells the administrator something: a subaccount went down (and stayed down
 * long enough to matter), came back, or its certificate needs attention. A tunnel that drops
 * and recovers within the grace period says nothing; one that flaps does not produce a
 * notification every few seconds; switching a subaccount off yourself is not news.
 *
 * The policy is pure (timers and clock injected); `desktopNotifier` is the thin wiring to
 * Electron's Notification, handed in by main.ts so this file needs no `electron` import.
 */
import type { AgentEvent } from '../../shared/api.js';
import type { SupervisorTimers } from './supervisor.js';
import type { SubaccountChange } from './shell-state.js';

export interface DesktopNotice {
  /** Same key = same story; a newer notice with it may replace an older one. */
  key: string;
  title: string;
  body: string;
  /** A file to show in its folder when the notice is clicked (an exported bundle); else clicking opens the window. */
  file?: string;
}

export interface NotificationPolicyOptions {
  show: (notice: DesktopNotice) => void;
  /** The user's setting, read when a notice is due. */
  enabled: () => boolean;
  timers: SupervisorTimers;
  now: () => number;
  /** How long a subaccount must stay down before it is reported. */
  downGraceMs?: number;
  /** At most one notice per subaccount in this window; later ones wait for it to pass. */
  minIntervalMs?: number;
  /** The same certificate warning is repeated at most this often. */
  certificateRepeatMs?: number;
}

type Told = 'up' | 'down';

interface Tracked {
  name: string;
  /**
   * What the administrator was last told, taken as 'up' once the subaccount has been seen
   * connected. Undefined until then: a subaccount that never came up (a relay unreachable at
   * start-up) shows in the tray, but "went down" would not be true.
   */
  told: Told | undefined;
  actual: Told;
  lastError: string | undefined;
  lastShownAt: number;
  timer: unknown;
  timerFor: Told | undefined;
}

export class NotificationPolicy {
  readonly #options: NotificationPolicyOptions;
  readonly #downGraceMs: number;
  readonly #minIntervalMs: number;
  readonly #certificateRepeatMs: number;
  readonly #tracked = new Map<string, Tracked>();
  readonly #certificateShownAt = new Map<string, number>();

  constructor(options: NotificationPolicyOptions) {
    this.#options = options;
    this.#downGraceMs = options.downGraceMs ?? 30_000;
    this.#minIntervalMs = options.minIntervalMs ?? 5 * 60_000;
    this.#certificateRepeatMs = options.certificateRepeatMs ?? 24 * 60 * 60_000;
  }

  /** Feed every subaccount change from the ShellModel. */
  observe(change: SubaccountChange): void {
    const { after } = change;
    const actual: Told = after.state === 'connected' ? 'up' : 'down';
    let t = this.#tracked.get(change.id);
    if (!t) {
      t = { name: after.name, told: undefined, actual, lastError: undefined, lastShownAt: -Infinity, timer: undefined, timerFor: undefined };
      this.#tracked.set(change.id, t);
    }
    t.name = after.name;
    t.lastError = after.lastError;
    t.actual = actual;
    if (!after.enabled) {
      // Switched off on purpose: the user knows, and nothing pending is still true.
      this.#cancel(t);
      t.told = undefined;
      return;
    }
    if (t.told === undefined) {
      if (actual === 'up') t.told = 'up';
      return;
    }
    if (actual === t.told) {
      this.#cancel(t); // back within the grace period, or down again before "back" was said
      return;
    }
    // Already on its way, unless the tunnel has now given up: that is news without a grace period.
    if (t.timerFor === actual && after.state !== 'failed') return;
    this.#cancel(t);
    const settle = actual === 'down' && after.state !== 'failed' ? this.#downGraceMs : 0;
    const now = this.#options.now();
    const due = Math.max(now + settle, t.lastShownAt + this.#minIntervalMs);
    t.timerFor = actual;
    t.timer = this.#options.timers.setTimeout(() => this.#fire(change.id), Math.max(0, due - now));
  }

  /** A subaccount the agent no longer has (removed): forget it without a word. */
  forget(id: string): void {
    const t = this.#tracked.get(id);
    if (t) this.#cancel(t);
    this.#tracked.delete(id);
  }

  /** Certificate warnings from the agent; the same one is not repeated within a day. */
  observeEvent(event: AgentEvent, nameOf: (subaccountId: string) => string): void {
    if (event.type !== 'certificate-warning') return;
    const key = `certificate:${event.subaccountId}:${event.notAfter}`;
    const now = this.#options.now();
    const last = this.#certificateShownAt.get(key);
    if (last !== undefined && now - last < this.#certificateRepeatMs) return;
    this.#certificateShownAt.set(key, now);
    this.#show({ key, title: `${nameOf(event.subaccountId)}: certificate needs attention`, body: event.message });
  }

  dispose(): void {
    for (const t of this.#tracked.values()) this.#cancel(t);
  }

  #fire(id: string): void {
    const t = this.#tracked.get(id);
    if (!t) return;
    t.timer = undefined;
    const intent = t.timerFor;
    t.timerFor = undefined;
    if (intent === undefined || t.actual !== intent || t.told === intent) return;
    t.told = intent;
    t.lastShownAt = this.#options.now();
    this.#show(
      intent === 'down'
        ? { key: `subaccount:${id}`, title: `${t.name} is not connected`, body: t.lastError ?? 'Skybridge keeps trying to reconnect.' }
        : { key: `subaccount:${id}`, title: `${t.name} is connected again`, body: 'Cloud applications can reach its systems again.' },
    );
  }

  #show(notice: DesktopNotice): void {
    // Off means off, but the bookkeeping goes on: turning it back on must not replay old news.
    if (this.#options.enabled()) this.#options.show(notice);
  }

  #cancel(t: Tracked): void {
    if (t.timer !== undefined) this.#options.timers.clearTimeout(t.timer);
    t.timer = undefined;
    t.timerFor = undefined;
  }
}

/** The part of Electron's Notification class the shell uses. */
export interface NotificationClass {
  isSupported(): boolean;
  new (options: { title: string; body: string; icon?: string; silent?: boolean }): {
    show(): void;
    close(): void;
    on(event: 'click', listener: () => void): unknown;
  };
}

/**
 * Shows notices through Electron, one per key at a time (a newer one replaces the older), and
 * keeps a reference to each shown one: a collected Notification loses its click handler.
 */
export function desktopNotifier(Notification: NotificationClass, options: { icon?: string; onClick?: (notice: DesktopNotice) => void }) {
  const open = new Map<string, InstanceType<NotificationClass>>();
  return (notice: DesktopNotice): void => {
    if (!Notification.isSupported()) return;
    open.get(notice.key)?.close();
    const n = new Notification({ title: notice.title, body: notice.body, ...(options.icon ? { icon: options.icon } : {}) });
    n.on('click', () => options.onClick?.(notice));
    open.set(notice.key, n);
    n.show();
  };
}
