/**
 * The shell's side of the conversation with the agent process: ConnectorApi calls go out as
 * `api-call` messages with an id, and each `api-result` settles the call with that id. The
 * agent's events come back unasked and are passed on as they are.
 *
 * Calls made while the agent is starting (or restarting after a crash) wait for its
 * `agent-ready`; calls the agent had already received when it died are refused, because
 * nobody can say whether they were carried out.
 *
 * No `electron` import: the shell hands in `post` (the supervisor's postMessage).
 */
import { agentToShellSchema, type ShellToAgent } from '../../shared/agent-messages.js';
import type { AgentEvent, ConnectorApiMethod } from '../../shared/api.js';
import { ErrorCode } from '../../shared/errors.js';
import type { SupervisorTimers } from './supervisor.js';
import { ShellError } from './shell-error.js';

const DEFAULT_TIMEOUT_MS = 30_000;

/** Calls that wait on the network or the disk for longer than a click should. */
const SLOW_CALL_TIMEOUT_MS: Partial<Record<ConnectorApiMethod, number>> = {
  pairSubaccount: 90_000,
  renewCertificate: 90_000,
  checkAvailability: 90_000,
  verifyAudit: 180_000,
  exportSupportBundle: 300_000,
};

/** A renderer stuck in a loop must not grow the shell's memory without bound. */
const MAX_PENDING = 2_000;

export interface AgentBridgeOptions {
  /** Sends to the current agent; false when there is none to send to right now. */
  post: (message: ShellToAgent) => boolean;
  timers?: SupervisorTimers;
  timeoutMs?: (method: ConnectorApiMethod) => number;
  onEvent?: (event: AgentEvent) => void;
  onReady?: (pid: number) => void;
  /** A message from the agent that does not fit the contract (logged by the shell, never thrown). */
  onInvalidMessage?: (reason: string) => void;
}

interface PendingCall {
  id: number;
  method: ConnectorApiMethod;
  input: unknown;
  /** Handed to the agent: if it dies now, the outcome is unknown. */
  sent: boolean;
  timer: unknown;
  resolve: (value: unknown) => void;
  reject: (error: ShellError) => void;
}

export type AgentLink = 'starting' | 'ready' | 'down' | 'stopped';

const defaultTimers: SupervisorTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

function seconds(ms: number): string {
  return ms % 1_000 === 0 ? `${ms / 1_000} seconds` : `${(ms / 1_000).toFixed(1)} seconds`;
}

export class AgentBridge {
  readonly #post: (message: ShellToAgent) => boolean;
  readonly #timers: SupervisorTimers;
  readonly #timeoutMs: (method: ConnectorApiMethod) => number;
  readonly #onEvent: (event: AgentEvent) => void;
  readonly #onReady: (pid: number) => void;
  readonly #onInvalidMessage: (reason: string) => void;
  readonly #pending = new Map<number, PendingCall>();
  #nextId = 1;
  #link: AgentLink = 'starting';

  constructor(options: AgentBridgeOptions) {
    this.#post = options.post;
    this.#timers = options.timers ?? defaultTimers;
    this.#timeoutMs = options.timeoutMs ?? ((method) => SLOW_CALL_TIMEOUT_MS[method] ?? DEFAULT_TIMEOUT_MS);
    this.#onEvent = options.onEvent ?? (() => {});
    this.#onReady = options.onReady ?? (() => {});
    this.#onInvalidMessage = options.onInvalidMessage ?? (() => {});
  }

  get link(): AgentLink {
    return this.#link;
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  /**
   * Calls one ConnectorApi method in the agent. Resolves with the agent's value (the caller
   * validates it); rejects with a ShellError carrying the agent's code and sentence, or one of
   * AGENT_NOT_RUNNING / AGENT_TIMEOUT when the agent could not answer.
   */
  call(method: ConnectorApiMethod, input: unknown): Promise<unknown> {
    if (this.#link === 'stopped') {
      return Promise.reject(new ShellError(ErrorCode.AgentNotRunning, 'The Skybridge agent has stopped; restart the app to use it again.'));
    }
    if (this.#pending.size >= MAX_PENDING) {
      return Promise.reject(new ShellError(ErrorCode.AgentNotRunning, 'Too many requests are waiting for the Skybridge agent; try again in a moment.'));
    }
    return new Promise<unknown>((resolve, reject) => {
      const id = this.#nextId++;
      const timeoutMs = this.#timeoutMs(method);
      const call: PendingCall = { id, method, input, sent: false, timer: undefined, resolve, reject };
      call.timer = this.#timers.setTimeout(() => this.#timeOut(call, timeoutMs), timeoutMs);
      this.#pending.set(id, call);
      if (this.#link === 'ready') this.#send(call);
    });
  }

  /** Feed every message the agent posts (the supervisor passes on only the current agent's). */
  handleMessage(raw: unknown): void {
    const parsed = agentToShellSchema.safeParse(raw);
    if (!parsed.success) {
      const kind = typeof raw === 'object' && raw !== null && 'type' in raw ? String((raw as { type: unknown }).type).slice(0, 40) : typeof raw;
      this.#onInvalidMessage(`unexpected message from the agent (${kind})`);
      return;
    }
    const message = parsed.data;
    switch (message.type) {
      case 'agent-ready':
        this.#link = 'ready';
        this.#onReady(message.pid);
        for (const call of this.#pending.values()) if (!call.sent) this.#send(call);
        return;
      case 'agent-event':
        this.#onEvent(message.event);
        return;
      case 'api-result': {
        const call = this.#pending.get(message.id);
        if (!call) return; // timed out already, or refused when the agent restarted
        this.#settle(call);
        if (message.ok) call.resolve(message.value);
        else {
          const code = message.error?.code ?? ErrorCode.Internal;
          const text = message.error?.message ?? `The agent could not carry out ${call.method}.`;
          call.reject(new ShellError(code, text));
        }
        return;
      }
    }
  }

  /** A new agent process was forked: calls wait for its agent-ready. */
  agentStarted(): void {
    this.#link = 'starting';
  }

  /**
   * The agent process exited. `restarting`: calls it had received are refused (their outcome
   * is unknown) and the rest wait for the next agent. `stopped`: every call is refused.
   */
  agentExited(kind: 'restarting' | 'stopped'): void {
    this.#link = kind === 'stopped' ? 'stopped' : 'down';
    for (const call of [...this.#pending.values()]) {
      if (kind === 'stopped') {
        this.#settle(call);
        call.reject(new ShellError(ErrorCode.AgentNotRunning, 'The Skybridge agent stopped before it answered.'));
      } else if (call.sent) {
        this.#settle(call);
        call.reject(
          new ShellError(
            ErrorCode.AgentNotRunning,
            'The agent restarted before it answered, so it is not known whether this was done; check, then try again.',
          ),
        );
      }
    }
  }

  #send(call: PendingCall): void {
    call.sent = this.#post({ type: 'api-call', id: call.id, method: call.method, input: call.input });
  }

  #settle(call: PendingCall): void {
    this.#pending.delete(call.id);
    this.#timers.clearTimeout(call.timer);
  }

  #timeOut(call: PendingCall, timeoutMs: number): void {
    if (!this.#pending.has(call.id)) return;
    this.#settle(call);
    if (call.sent) {
      call.reject(new ShellError(ErrorCode.AgentTimeout, `The Skybridge agent did not answer within ${seconds(timeoutMs)}.`));
    } else {
      call.reject(
        new ShellError(ErrorCode.AgentNotRunning, 'The Skybridge agent is not running yet (it is starting, or restarting after a crash); try again in a moment.'),
      );
    }
  }
}
