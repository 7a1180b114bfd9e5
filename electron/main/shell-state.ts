/**
 * What the shell knows about the connector: the agent process's phase and each subaccount's
 * name, switch and tunnel state. The tray, the notifications and the window's `event:shell`
 * feed all read from here, so they never disagree.
 */
import type { SubaccountSummary, TunnelStatus } from '../../shared/api.js';
import type { ShellState } from '../../shared/ipc.js';
import { overallState, type AgentPhase, type TraySubaccount } from './tray-model.js';

export interface SubaccountChange {
  id: string;
  /** Undefined the first time the shell hears of it. */
  before: TraySubaccount | undefined;
  after: TraySubaccount;
}

export interface ShellModelListener {
  /** Anything the tray or the window shows changed. */
  onState?(state: ShellState): void;
  onSubaccount?(change: SubaccountChange): void;
  /** The agent no longer has it (removed). */
  onRemoved?(id: string): void;
}

/** What a subaccount looks like while no agent is running: its tunnel went with the process. */
const AGENT_DOWN_ERROR = 'The Skybridge agent stopped unexpectedly and is being restarted.';

export class ShellModel {
  #agent: AgentPhase = 'starting';
  #agentError: string | undefined;
  readonly #subaccounts = new Map<string, TraySubaccount>();
  readonly #listeners = new Set<ShellModelListener>();
  #lastStateKey = '';

  subscribe(listener: ShellModelListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get agent(): AgentPhase {
    return this.#agent;
  }

  get subaccounts(): TraySubaccount[] {
    return [...this.#subaccounts.values()];
  }

  has(id: string): boolean {
    return this.#subaccounts.has(id);
  }

  snapshot(): ShellState {
    const state: ShellState = { overall: overallState(this.#agent, this.subaccounts), agent: this.#agent };
    if (this.#agentError !== undefined) state.agentError = this.#agentError;
    return state;
  }

  setAgent(phase: AgentPhase, error?: string): void {
    this.#agent = phase;
    this.#agentError = phase === 'restarting' || phase === 'stopped' ? error : undefined;
    if (phase === 'restarting') {
      // Nothing is connected while the process is gone; say so, so a long outage is noticed.
      for (const [id, s] of this.#subaccounts) {
        if (s.state !== 'disconnected') this.#put(id, { ...s, state: 'reconnecting', lastError: AGENT_DOWN_ERROR });
      }
    }
    this.#emitState(true);
  }

  /** The agent's list is the truth: subaccounts it no longer has are dropped. */
  setSubaccounts(list: readonly SubaccountSummary[]): void {
    const seen = new Set<string>();
    for (const s of list) {
      seen.add(s.id);
      this.#put(s.id, fromSummary(s));
    }
    for (const id of [...this.#subaccounts.keys()]) {
      if (seen.has(id)) continue;
      this.#subaccounts.delete(id);
      for (const l of this.#listeners) l.onRemoved?.(id);
    }
    this.#emitState();
  }

  /** One subaccount's summary, e.g. the answer to setSubaccountEnabled. */
  putSubaccount(summary: SubaccountSummary): void {
    this.#put(summary.id, fromSummary(summary));
    this.#emitState();
  }

  /** A `subaccount-state` event. False for a subaccount the shell does not know yet (ask for the list). */
  applyStatus(id: string, status: TunnelStatus): boolean {
    const known = this.#subaccounts.get(id);
    if (!known) return false;
    this.#put(id, withStatus(known, status));
    this.#emitState();
    return true;
  }

  #put(id: string, next: TraySubaccount): void {
    const before = this.#subaccounts.get(id);
    this.#subaccounts.set(id, next);
    if (before && sameSubaccount(before, next)) return;
    for (const l of this.#listeners) l.onSubaccount?.({ id, before, after: next });
  }

  #emitState(force = false): void {
    const state = this.snapshot();
    // Per-subaccount detail matters to the tray even when the overall state stays the same.
    const key = JSON.stringify([state, this.subaccounts]);
    if (!force && key === this.#lastStateKey) return;
    this.#lastStateKey = key;
    for (const l of this.#listeners) l.onState?.(state);
  }
}

function fromSummary(s: SubaccountSummary): TraySubaccount {
  return withStatus({ id: s.id, name: s.name || s.tenantId, enabled: s.enabled, state: s.status.state }, s.status);
}

function withStatus(s: TraySubaccount, status: TunnelStatus): TraySubaccount {
  const next: TraySubaccount = { id: s.id, name: s.name, enabled: s.enabled, state: status.state };
  if (status.lastError !== undefined) next.lastError = status.lastError;
  return next;
}

function sameSubaccount(a: TraySubaccount, b: TraySubaccount): boolean {
  return a.name === b.name && a.enabled === b.enabled && a.state === b.state && a.lastError === b.lastError;
}
