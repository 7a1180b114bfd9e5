import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { desktopNotifier, NotificationPolicy, type DesktopNotice } from '../../electron/main/notifications.js';
import type { SubaccountChange } from '../../electron/main/shell-state.js';
import type { TraySubaccount } from '../../electron/main/tray-model.js';
import { FakeClock } from './electron-fakes.js';

function harness(options: { enabled?: boolean } = {}) {
  const clock = new FakeClock();
  const shown: DesktopNotice[] = [];
  let enabled = options.enabled ?? true;
  const policy = new NotificationPolicy({
    show: (n) => shown.push(n),
    enabled: () => enabled,
    timers: clock.timers,
    now: () => clock.now,
    downGraceMs: 30_000,
    minIntervalMs: 300_000,
  });
  let last: TraySubaccount | undefined;
  /** Feeds one state of subaccount "erp", as the ShellModel would. */
  const to = (state: TraySubaccount['state'], extra: Partial<TraySubaccount> = {}) => {
    const after: TraySubaccount = { id: 'erp', name: 'ERP', enabled: true, state, ...extra };
    const change: SubaccountChange = { id: 'erp', before: last, after };
    last = after;
    policy.observe(change);
  };
  const titles = () => shown.map((n) => n.title);
  return { clock, shown, policy, to, titles, setEnabled: (on: boolean) => (enabled = on) };
}

describe('notification decisions', () => {
  it('says nothing about the state at start-up, nor about a tunnel that never came up', () => {
    const h = harness();
    h.to('connecting');
    h.to('reconnecting', { lastError: 'relay unreachable' });
    h.clock.advance(3_600_000);
    assert.deepEqual(h.titles(), []);
  });

  it('reports a subaccount that stays down past the grace period, then its return', () => {
    const h = harness();
    h.to('connecting');
    h.to('connected');
    h.to('reconnecting', { lastError: 'The relay closed the tunnel.' });
    h.clock.advance(29_999);
    assert.deepEqual(h.titles(), []);
    h.clock.advance(1);
    assert.deepEqual(h.shown, [{ key: 'subaccount:erp', title: 'ERP is not connected', body: 'The relay closed the tunnel.' }]);
    h.clock.advance(400_000);
    h.to('connected');
    h.clock.advance(0);
    assert.deepEqual(h.titles(), ['ERP is not connected', 'ERP is connected again']);
  });

  it('stays quiet when the tunnel drops and recovers within the grace period', () => {
    const h = harness();
    h.to('connected');
    h.to('reconnecting');
    h.clock.advance(10_000);
    h.to('connected');
    h.clock.advance(600_000);
    assert.deepEqual(h.titles(), []);
  });

  it('reports a failure at once, also one that ends a reconnect attempt', () => {
    const h = harness();
    h.to('connected');
    h.to('failed', { lastError: 'The certificate was revoked.' });
    h.clock.advance(0);
    assert.deepEqual(h.titles(), ['ERP is not connected']);

    const g = harness();
    g.to('connected');
    g.to('reconnecting');
    g.clock.advance(5_000);
    g.to('failed', { lastError: 'The relay refused the certificate.' });
    g.clock.advance(0);
    assert.deepEqual(g.shown.map((n) => n.body), ['The relay refused the certificate.']);
  });

  it('does not flood a flapping subaccount: at most one notice per interval, and the last word is the truth', () => {
    const h = harness();
    h.to('connected');
    // Down 40 s, up 20 s, over and over for 10 minutes.
    for (let i = 0; i < 10; i++) {
      h.to('reconnecting');
      h.clock.advance(40_000);
      h.to('connected');
      h.clock.advance(20_000);
    }
    assert.ok(h.shown.length <= 3, `too many notices: ${h.titles().join(', ')}`);
    h.clock.advance(600_000);
    assert.equal(h.titles().at(-1) === 'ERP is not connected', false, 'the last notice says down while it is up');
  });

  it('is silent when the user disconnects it, and when they connect it again', () => {
    const h = harness();
    h.to('connected');
    h.to('disconnected', { enabled: false });
    h.clock.advance(600_000);
    h.to('connecting');
    h.to('connected');
    h.clock.advance(600_000);
    assert.deepEqual(h.titles(), []);
  });

  it('counts a disconnection the user did not ask for as down', () => {
    const h = harness();
    h.to('connected');
    h.to('disconnected');
    h.clock.advance(30_000);
    assert.deepEqual(h.titles(), ['ERP is not connected']);
  });

  it('forgets a removed subaccount without a word', () => {
    const h = harness();
    h.to('connected');
    h.to('disconnected');
    h.policy.forget('erp');
    h.clock.advance(600_000);
    assert.deepEqual(h.titles(), []);
  });

  it('shows nothing while notifications are off, and does not replay old news when they come back on', () => {
    const h = harness({ enabled: false });
    h.to('connected');
    h.to('reconnecting');
    h.clock.advance(60_000);
    h.setEnabled(true);
    h.clock.advance(600_000);
    assert.deepEqual(h.titles(), []);
    h.to('connected');
    h.clock.advance(0);
    assert.deepEqual(h.titles(), ['ERP is connected again'], 'the return after a (silent) outage is news');
  });

  it('reports a certificate warning once a day, not on every repeat', () => {
    const h = harness();
    const warning = {
      type: 'certificate-warning' as const,
      at: '2025-01-01T00:00:00Z',
      subaccountId: 'erp',
      notAfter: '2025-01-10T00:00:00Z',
      message: 'The certificate expires in 9 days and renewal keeps failing.',
    };
    const nameOf = (id: string) => (id === 'erp' ? 'ERP' : id);
    h.policy.observeEvent(warning, nameOf);
    h.policy.observeEvent(warning, nameOf);
    h.clock.advance(3_600_000);
    h.policy.observeEvent(warning, nameOf);
    assert.deepEqual(h.shown, [{ key: 'certificate:erp:2025-01-10T00:00:00Z', title: 'ERP: certificate needs attention', body: warning.message }]);
    h.clock.advance(24 * 3_600_000);
    h.policy.observeEvent(warning, nameOf);
    assert.equal(h.shown.length, 2);
    h.policy.observeEvent({ type: 'config-reloaded', at: '2025-01-01T00:00:00Z' }, nameOf);
    assert.equal(h.shown.length, 2);
  });
});

describe('desktop notifier', () => {
  it('replaces an older notice with the same key and keeps click handlers alive', () => {
    const made: { title: string; closed: boolean; click?: () => void }[] = [];
    class FakeNotification {
      static isSupported() {
        return true;
      }
      readonly record: { title: string; closed: boolean; click?: () => void };
      constructor(options: { title: string; body: string }) {
        this.record = { title: options.title, closed: false };
        made.push(this.record);
      }
      show() {}
      close() {
        this.record.closed = true;
      }
      on(_event: 'click', listener: () => void) {
        this.record.click = listener;
        return this;
      }
    }
    const clicked: DesktopNotice[] = [];
    const notify = desktopNotifier(FakeNotification, { onClick: (n) => clicked.push(n) });
    notify({ key: 'subaccount:erp', title: 'ERP is not connected', body: '' });
    notify({ key: 'subaccount:erp', title: 'ERP is connected again', body: '' });
    notify({ key: 'export', title: 'Support bundle saved', body: '', file: '/tmp/b.zip' });
    assert.deepEqual(
      made.map((m) => [m.title, m.closed]),
      [
        ['ERP is not connected', true],
        ['ERP is connected again', false],
        ['Support bundle saved', false],
      ],
    );
    made[2]?.click?.();
    assert.equal(clicked[0]?.file, '/tmp/b.zip');
  });
});
