import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  overallState,
  trayIconState,
  trayMenuTemplate,
  trayTooltip,
  trayView,
  type TrayActions,
  type TrayInput,
  type TrayMenuItem,
  type TraySubaccount,
} from '../../electron/main/tray-model.js';
import { ShellModel, type SubaccountChange } from '../../electron/main/shell-state.js';
import { TRAY_STATES } from '../../electron/main/paths.js';
import type { SubaccountSummary } from '../../shared/api.js';
import type { ShellState } from '../../shared/ipc.js';

const sub = (id: string, state: TraySubaccount['state'], enabled = true, name = id.toUpperCase()): TraySubaccount => ({ id, name, enabled, state });

function recordingActions() {
  const calls: string[] = [];
  const actions: TrayActions = {
    open: () => calls.push('open'),
    setSubaccountEnabled: (id, enabled) => calls.push(`${enabled ? 'connect' : 'disconnect'} ${id}`),
    exportLogs: () => calls.push('export'),
    setStartAtLogin: (on) => calls.push(`start-at-login ${on}`),
    quit: () => calls.push('quit'),
  };
  return { calls, actions };
}

function find(items: TrayMenuItem[], id: string): TrayMenuItem {
  for (const item of items) {
    if (item.id === id) return item;
    const inner = item.submenu && findOrUndefined(item.submenu, id);
    if (inner) return inner;
  }
  throw new Error(`no menu item ${id}`);
}

function findOrUndefined(items: TrayMenuItem[], id: string): TrayMenuItem | undefined {
  try {
    return find(items, id);
  } catch {
    return undefined;
  }
}

function click(items: TrayMenuItem[], id: string): void {
  const item = find(items, id);
  assert.notEqual(item.enabled, false, `${id} is disabled`);
  assert.ok(item.click, `${id} has no click handler`);
  item.click();
}

describe('tray overall state, icon and tooltip', () => {
  it('is connected, degraded, offline or idle from the subaccounts the user wants connected', () => {
    assert.equal(overallState('running', [sub('a', 'connected'), sub('b', 'connected')]), 'connected');
    assert.equal(overallState('running', [sub('a', 'connected'), sub('b', 'reconnecting')]), 'degraded');
    assert.equal(overallState('running', [sub('a', 'failed'), sub('b', 'connecting')]), 'offline');
    assert.equal(overallState('running', []), 'idle');
    // Switched off on purpose: not a fault, so not degraded.
    assert.equal(overallState('running', [sub('a', 'connected'), sub('b', 'disconnected', false)]), 'connected');
    assert.equal(overallState('running', [sub('a', 'disconnected', false)]), 'idle');
    // Without a running agent nothing is connected, whatever was last heard.
    assert.equal(overallState('restarting', [sub('a', 'connected')]), 'offline');
  });

  it('has an icon file for every state', () => {
    for (const overall of ['connected', 'degraded', 'offline', 'idle'] as const) {
      assert.ok((TRAY_STATES as readonly string[]).includes(trayIconState(overall)), overall);
    }
    assert.equal(trayIconState('idle'), 'offline');
  });

  it('sums the state up in one line', () => {
    const running = (subaccounts: TraySubaccount[]) => trayTooltip({ agent: 'running', subaccounts });
    assert.equal(running([sub('a', 'connected'), sub('b', 'connected'), sub('c', 'reconnecting')]), 'Skybridge: 2 of 3 subaccounts connected');
    assert.equal(running([sub('a', 'connected')]), 'Skybridge: 1 of 1 subaccount connected');
    assert.equal(running([sub('a', 'connected'), sub('b', 'disconnected', false)]), 'Skybridge: 1 of 1 subaccount connected, 1 switched off');
    assert.equal(running([]), 'Skybridge: no subaccount paired yet');
    assert.equal(trayTooltip({ agent: 'restarting', subaccounts: [sub('a', 'connected')] }), 'Skybridge: the agent is restarting');
    const long = trayTooltip({ agent: 'running', subaccounts: Array.from({ length: 5 }, (_, i) => sub(`s${i}`, 'connected')) });
    assert.ok(long.length <= 127);
  });
});

describe('tray menu', () => {
  const input: TrayInput = {
    agent: 'running',
    subaccounts: [sub('erp', 'connected', true, 'ERP & HR'), sub('crm', 'disconnected', false, 'CRM')],
    startAtLogin: false,
  };

  it('lists every action, one submenu per subaccount with its state', () => {
    const { actions } = recordingActions();
    const menu = trayMenuTemplate(input, actions);
    const top = menu.filter((i) => i.type !== 'separator').map((i) => i.label);
    assert.deepEqual(top, ['Open Skybridge', '1 of 1 subaccount connected, 1 switched off', 'ERP && HR: Connected', 'CRM: Disconnected', 'Export logs…', 'Start at login', 'Quit Skybridge']);
    assert.equal(find(menu, 'status').enabled, false);
    const startAtLogin = find(menu, 'start-at-login');
    assert.equal(startAtLogin.type, 'checkbox');
    assert.equal(startAtLogin.checked, false);
  });

  it('offers Connect only for a disconnected subaccount and Disconnect only for a connected one', () => {
    const { actions } = recordingActions();
    const menu = trayMenuTemplate(input, actions);
    assert.equal(find(menu, 'connect:erp').enabled, false);
    assert.equal(find(menu, 'disconnect:erp').enabled, true);
    assert.equal(find(menu, 'connect:crm').enabled, true);
    assert.equal(find(menu, 'disconnect:crm').enabled, false);
  });

  it('calls the right action for each item', () => {
    const { calls, actions } = recordingActions();
    const menu = trayMenuTemplate(input, actions);
    for (const id of ['open', 'disconnect:erp', 'connect:crm', 'export-logs', 'start-at-login', 'quit']) click(menu, id);
    assert.deepEqual(calls, ['open', 'disconnect erp', 'connect crm', 'export', 'start-at-login true', 'quit']);

    const on = recordingActions();
    click(trayMenuTemplate({ ...input, startAtLogin: true }, on.actions), 'start-at-login');
    assert.deepEqual(on.calls, ['start-at-login false']);
  });

  it('disables agent actions while the agent is restarting, but keeps Open and Quit', () => {
    const { actions } = recordingActions();
    const menu = trayMenuTemplate({ ...input, agent: 'restarting' }, actions);
    assert.equal(find(menu, 'export-logs').enabled, false);
    assert.equal(find(menu, 'disconnect:erp').enabled, false);
    assert.equal(find(menu, 'connect:crm').enabled, false);
    assert.equal(find(menu, 'subaccount:erp').label, 'ERP && HR: Waiting for the agent');
    assert.notEqual(find(menu, 'open').enabled, false);
    assert.notEqual(find(menu, 'quit').enabled, false);
  });

  it('points to pairing when there is no subaccount', () => {
    const menu = trayMenuTemplate({ agent: 'running', subaccounts: [], startAtLogin: false }, recordingActions().actions);
    assert.equal(find(menu, 'no-subaccounts').enabled, false);
  });

  it('gives the same key for the same look, and a new key when anything visible changes', () => {
    const { actions } = recordingActions();
    const a = trayView(input, actions);
    assert.equal(trayView(structuredClone(input), actions).key, a.key);
    assert.notEqual(trayView({ ...input, startAtLogin: true }, actions).key, a.key);
    const degraded = trayView({ ...input, subaccounts: [sub('erp', 'reconnecting'), sub('crm', 'connected')] }, actions);
    assert.notEqual(degraded.key, a.key);
    assert.equal(degraded.icon, 'degraded');
    assert.equal(a.icon, 'connected');
  });
});

describe('shell model', () => {
  const summary = (id: string, state: SubaccountSummary['status']['state'], enabled = true): SubaccountSummary => ({
    id,
    name: `Sub ${id}`,
    relayUrl: 'https://relay.example',
    tenantId: `t-${id}`,
    location: '',
    connectorId: 'c',
    enabled,
    systemCount: 0,
    status: { state, reconnects: 0 },
  });

  it('tracks states from the list and from events, and tells listeners what changed', () => {
    const model = new ShellModel();
    const states: ShellState[] = [];
    const changes: SubaccountChange[] = [];
    const removed: string[] = [];
    model.subscribe({ onState: (s) => states.push(s), onSubaccount: (c) => changes.push(c), onRemoved: (id) => removed.push(id) });

    model.setAgent('running');
    model.setSubaccounts([summary('a', 'connected'), summary('b', 'connecting')]);
    assert.deepEqual(model.snapshot(), { overall: 'degraded', agent: 'running' });
    assert.equal(model.applyStatus('b', { state: 'connected', reconnects: 0 }), true);
    assert.deepEqual(model.snapshot(), { overall: 'connected', agent: 'running' });
    assert.equal(model.applyStatus('unknown', { state: 'connected', reconnects: 0 }), false, 'an unknown subaccount must make the shell reread the list');

    const before = states.length;
    model.applyStatus('b', { state: 'connected', reconnects: 0 });
    assert.equal(states.length, before, 'an unchanged state was announced again');

    model.setSubaccounts([summary('a', 'connected')]);
    assert.deepEqual(removed, ['b']);
    assert.deepEqual(
      changes.map((c) => `${c.id}:${c.before?.state ?? '-'}>${c.after.state}`),
      ['a:->connected', 'b:->connecting', 'b:connecting>connected'],
    );
  });

  it('marks every tunnel as reconnecting while the agent restarts, with the reason', () => {
    const model = new ShellModel();
    model.setAgent('running');
    model.setSubaccounts([summary('a', 'connected'), summary('off', 'disconnected', false)]);
    model.setAgent('restarting', 'The Skybridge agent stopped unexpectedly (exit code 1); restarting in 1 s.');
    assert.deepEqual(model.snapshot(), {
      overall: 'offline',
      agent: 'restarting',
      agentError: 'The Skybridge agent stopped unexpectedly (exit code 1); restarting in 1 s.',
    });
    assert.equal(model.subaccounts.find((s) => s.id === 'a')?.state, 'reconnecting');
    assert.equal(model.subaccounts.find((s) => s.id === 'off')?.state, 'disconnected', 'a switched-off subaccount is not reconnecting');
    model.setAgent('running');
    assert.equal(model.snapshot().agentError, undefined);
  });
});
