/**
 * Keeps the tunnel agent running beside the desktop shell. The agent lives in its own
 * process so a crash in it (or in a native module it loads) never takes the window down;
 * when it dies without being asked to, it is started again after an exponential backoff.
 *
 * No `electron` import here: the shell passes in a `fork` that wraps
 * `utilityProcess.fork`, which keeps this file testable in plain Node.
 */

/** The part of Electron's UtilityProcess the supervisor uses. */
export interface AgentProcess {
  on(event: 'exit', listener: (code: number) => void): unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  postMessage(message: unknown): void;
  kill(): boolean;
}

/** Asks the agent to close its tunnels and flush its audit log (shared/agent-messages.ts). */
const SHUTDOWN_MESSAGE = { type: 'shutdown' } as const;

/** Timer functions, injected so tests can run time forward by hand. */
export interface SupervisorTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export type SupervisorEvent =
  | { type: 'started'; attempt: number }
  /** The agent exited or could not be started; `code` is absent when the fork itself threw. */
  | { type: 'crashed'; code?: number; reason?: string; restartInMs: number }
  | { type: 'stopped' };

export type SupervisorState = 'idle' | 'running' | 'waiting' | 'stopping' | 'stopped';

export interface SupervisorOptions {
  fork: () => AgentProcess;
  timers?: SupervisorTimers;
  now?: () => number;
  /** First restart delay; doubles after each crash in a row. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** A run at least this long counts as healthy: the next crash starts the backoff over. */
  healthyAfterMs?: number;
  /**
   * stop() first asks the agent to shut down over its message port, and kill()s it only if it
   * is still there after this long: on Windows kill() is TerminateProcess, which would cut off
   * the audit log mid-write.
   */
  killAfterMs?: number;
  /** How long stop() waits in all for the agent to exit before giving up on it. */
  stopTimeoutMs?: number;
  /** State messages the agent posts over process.parentPort. */
  onMessage?: (message: unknown) => void;
  onEvent?: (event: SupervisorEvent) => void;
}

const defaultTimers: SupervisorTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export class AgentSupervisor {
  readonly #fork: () => AgentProcess;
  readonly #timers: SupervisorTimers;
  readonly #now: () => number;
  readonly #initialDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #healthyAfterMs: number;
  readonly #killAfterMs: number;
  readonly #stopTimeoutMs: number;
  readonly #onMessage: (message: unknown) => void;
  readonly #onEvent: (event: SupervisorEvent) => void;

  #state: SupervisorState = 'idle';
  #child: AgentProcess | undefined;
  #startedAt = 0;
  #crashesInARow = 0;
  #attempts = 0;
  #restartTimer: unknown;
  #stopped: Promise<void> | undefined;
  #resolveStopped: (() => void) | undefined;

  constructor(options: SupervisorOptions) {
    this.#fork = options.fork;
    this.#timers = options.timers ?? defaultTimers;
    this.#now = options.now ?? Date.now;
    this.#initialDelayMs = options.initialDelayMs ?? 1_000;
    this.#maxDelayMs = options.maxDelayMs ?? 60_000;
    this.#healthyAfterMs = options.healthyAfterMs ?? 60_000;
    this.#stopTimeoutMs = options.stopTimeoutMs ?? 5_000;
    this.#killAfterMs = Math.min(options.killAfterMs ?? 2_000, this.#stopTimeoutMs);
    this.#onMessage = options.onMessage ?? (() => {});
    this.#onEvent = options.onEvent ?? (() => {});
  }

  get state(): SupervisorState {
    return this.#state;
  }

  /** How many times the agent has been started, the first start included. */
  get attempts(): number {
    return this.#attempts;
  }

  /**
   * Sends a message to the running agent. False when there is none to send to (waiting for a
   * restart, stopping, stopped) or the port refused it; the caller decides whether to retry.
   */
  postMessage(message: unknown): boolean {
    const child = this.#child;
    if (this.#state !== 'running' || !child) return false;
    try {
      child.postMessage(message);
      return true;
    } catch {
      return false;
    }
  }

  start(): void {
    if (this.#state === 'running' || this.#state === 'waiting') return;
    if (this.#state === 'stopping') {
      // A restart requested mid-stop: honour it once the old agent is gone.
      void this.#stopped?.then(() => this.start());
      return;
    }
    this.#crashesInARow = 0;
    this.#stopped = undefined;
    this.#launch();
  }

  /** Stops the agent and any pending restart; resolves once it has exited (or stopTimeoutMs passed). */
  stop(): Promise<void> {
    if (this.#stopped) return this.#stopped;
    if (this.#restartTimer !== undefined) {
      this.#timers.clearTimeout(this.#restartTimer);
      this.#restartTimer = undefined;
    }
    const child = this.#child;
    if (this.#state !== 'running' || !child) {
      this.#finishStop();
      this.#stopped = Promise.resolve();
      return this.#stopped;
    }
    this.#state = 'stopping';
    this.#stopped = new Promise<void>((resolve) => {
      this.#resolveStopped = resolve;
    });
    const giveUp = this.#timers.setTimeout(() => this.#finishStop(), this.#stopTimeoutMs);
    let forceKill: unknown;
    void this.#stopped.then(() => {
      this.#timers.clearTimeout(giveUp);
      if (forceKill !== undefined) this.#timers.clearTimeout(forceKill);
    });
    let asked = false;
    try {
      child.postMessage(SHUTDOWN_MESSAGE);
      asked = true;
    } catch {
      // The port is already closed: nothing to ask, go straight to kill().
    }
    if (asked && this.#killAfterMs > 0) forceKill = this.#timers.setTimeout(() => this.#killIfAlive(child), this.#killAfterMs);
    else this.#killIfAlive(child);
    return this.#stopped;
  }

  #killIfAlive(child: AgentProcess): void {
    if (this.#child !== child || this.#state !== 'stopping') return;
    try {
      child.kill();
    } catch {
      // Already gone; the exit event (or the stop timeout) finishes the stop.
    }
  }

  #launch(): void {
    this.#restartTimer = undefined;
    this.#attempts += 1;
    this.#startedAt = this.#now();
    let child: AgentProcess;
    try {
      child = this.#fork();
    } catch (error) {
      this.#child = undefined;
      this.#scheduleRestart({ reason: error instanceof Error ? error.message : String(error) });
      return;
    }
    this.#child = child;
    this.#state = 'running';
    child.on('message', (message) => {
      if (this.#child === child) this.#onMessage(message);
    });
    child.on('exit', (code) => this.#handleExit(child, code));
    this.#onEvent({ type: 'started', attempt: this.#attempts });
  }

  #handleExit(child: AgentProcess, code: number): void {
    if (this.#child !== child) return;
    this.#child = undefined;
    if (this.#state === 'stopping') {
      this.#finishStop();
      return;
    }
    if (this.#now() - this.#startedAt >= this.#healthyAfterMs) this.#crashesInARow = 0;
    this.#scheduleRestart({ code });
  }

  #scheduleRestart(cause: { code?: number; reason?: string }): void {
    this.#crashesInARow += 1;
    const delay = Math.min(this.#maxDelayMs, this.#initialDelayMs * 2 ** (this.#crashesInARow - 1));
    this.#state = 'waiting';
    this.#restartTimer = this.#timers.setTimeout(() => {
      if (this.#state === 'waiting') this.#launch();
    }, delay);
    this.#onEvent({ type: 'crashed', ...cause, restartInMs: delay });
  }

  #finishStop(): void {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    this.#child = undefined;
    this.#resolveStopped?.();
    this.#resolveStopped = undefined;
    this.#onEvent({ type: 'stopped' });
  }
}
