/**
 * What the tray shows, computed from the shell's state alone: the overall state and its icon,
 * a one-line tooltip, and the menu. Pure, so every label, enabled flag and click can be
 * tested without a tray; tray.ts hands the result to Electron.
 */
import { SUBACCOUNT_STATE_LABELS, type SubaccountStateName } from '../../shared/api.js';
import type { ShellState } from '../../shared/ipc.js';
import type { TrayState } from './paths.js';

export type OverallState = ShellState['overall'];
export type AgentPhase = ShellState['agent'];

export interface TraySubaccount {
  id: string;
  name: string;
  /** The user's choice (Connect / Disconnect), saved by the agent. */
  enabled: boolean;
  state: SubaccountStateName;
  lastError?: string;
}

export interface TrayInput {
  agent: AgentPhase;
  subaccounts: readonly TraySubaccount[];
  startAtLogin: boolean;
}

/**
 * Only subaccounts the user wants connected count: one switched off on purpose is not a fault.
 * Nothing to connect is `idle`; while the agent is not running nothing is connected.
 */
export function overallState(agent: AgentPhase, subaccounts: readonly TraySubaccount[]): OverallState {
  const wanted = subaccounts.filter((s) => s.enabled);
  if (wanted.length === 0) return 'idle';
  if (agent !== 'running') return 'offline';
  const connected = wanted.filter((s) => s.state === 'connected').length;
  if (connected === wanted.length) return 'connected';
  return connected === 0 ? 'offline' : 'degraded';
}

/** build/tray has connected, degraded and offline; idle (nothing to connect) looks like offline. */
export function trayIconState(overall: OverallState): TrayState {
  return overall === 'idle' ? 'offline' : overall;
}

export const STATE_LABELS = SUBACCOUNT_STATE_LABELS;

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Without the "Skybridge: " prefix; also the status line at the top of the menu. */
export function statusSummary(input: Pick<TrayInput, 'agent' | 'subaccounts'>): string {
  if (input.agent === 'stopped') return 'the agent has stopped';
  if (input.agent === 'restarting') return 'the agent is restarting';
  if (input.subaccounts.length === 0) return 'no subaccount paired yet';
  const wanted = input.subaccounts.filter((s) => s.enabled);
  const off = input.subaccounts.length - wanted.length;
  const offNote = off > 0 ? `, ${off} switched off` : '';
  if (wanted.length === 0) return `${plural(off, 'subaccount')} switched off`;
  if (input.agent === 'starting') return `starting ${plural(wanted.length, 'subaccount')}${offNote}`;
  const connected = wanted.filter((s) => s.state === 'connected').length;
  return `${connected} of ${plural(wanted.length, 'subaccount')} connected${offNote}`;
}

/** Windows cuts tray tooltips at 127 characters. */
const MAX_TOOLTIP = 127;

export function trayTooltip(input: Pick<TrayInput, 'agent' | 'subaccounts'>): string {
  const text = `Skybridge: ${statusSummary(input)}`;
  return text.length <= MAX_TOOLTIP ? text : `${text.slice(0, MAX_TOOLTIP - 1)}…`;
}

/** Structurally a subset of Electron's MenuItemConstructorOptions. */
export interface TrayMenuItem {
  id?: string;
  label?: string;
  type?: 'normal' | 'separator' | 'submenu' | 'checkbox';
  enabled?: boolean;
  checked?: boolean;
  toolTip?: string;
  click?: () => void;
  submenu?: TrayMenuItem[];
}

export interface TrayActions {
  open(): void;
  setSubaccountEnabled(id: string, enabled: boolean): void;
  exportLogs(): void;
  setStartAtLogin(on: boolean): void;
  quit(): void;
}

/** Names come from the user; on Windows and Linux a lone '&' would turn into a keyboard mnemonic. */
function menuText(text: string): string {
  return text.replace(/&/g, '&&');
}

export function trayMenuTemplate(input: TrayInput, actions: TrayActions): TrayMenuItem[] {
  const agentUp = input.agent === 'running';
  const subaccountItems: TrayMenuItem[] = input.subaccounts.map((s) => ({
    id: `subaccount:${s.id}`,
    label: `${menuText(s.name)}: ${agentUp ? STATE_LABELS[s.state] : 'Waiting for the agent'}`,
    type: 'submenu',
    submenu: [
      { id: `connect:${s.id}`, label: 'Connect', enabled: agentUp && !s.enabled, click: () => actions.setSubaccountEnabled(s.id, true) },
      { id: `disconnect:${s.id}`, label: 'Disconnect', enabled: agentUp && s.enabled, click: () => actions.setSubaccountEnabled(s.id, false) },
    ],
  }));
  return [
    { id: 'open', label: 'Open Skybridge', click: () => actions.open() },
    { type: 'separator' },
    { id: 'status', label: menuText(capitalise(statusSummary(input))), enabled: false },
    ...(subaccountItems.length > 0 ? subaccountItems : [{ id: 'no-subaccounts', label: 'Pair a subaccount in the Skybridge window', enabled: false }]),
    { type: 'separator' },
    { id: 'export-logs', label: 'Export logs…', enabled: agentUp, click: () => actions.exportLogs() },
    {
      id: 'start-at-login',
      label: 'Start at login',
      type: 'checkbox',
      checked: input.startAtLogin,
      click: () => actions.setStartAtLogin(!input.startAtLogin),
    },
    { type: 'separator' },
    { id: 'quit', label: 'Quit Skybridge', click: () => actions.quit() },
  ];
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export interface TrayView {
  icon: TrayState;
  tooltip: string;
  template: TrayMenuItem[];
  /** Equal keys mean nothing visible changed, so the menu need not be rebuilt (it would close if open). */
  key: string;
}

export function trayView(input: TrayInput, actions: TrayActions): TrayView {
  const icon = trayIconState(overallState(input.agent, input.subaccounts));
  const tooltip = trayTooltip(input);
  const template = trayMenuTemplate(input, actions);
  const key = JSON.stringify([icon, tooltip, template]);
  return { icon, tooltip, template, key };
}
