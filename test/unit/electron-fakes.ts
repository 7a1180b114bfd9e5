/** Stand-ins for Electron objects and time, shared by the electron-*.test.ts files. */
import { EventEmitter } from 'node:events';

/** Timers that fire only when the test says so, and a clock the test moves. */
export class FakeClock {
  now = 0;
  #pending = new Map<number, { at: number; callback: () => void }>();
  #nextId = 1;
  readonly timers = {
    setTimeout: (callback: () => void, ms: number): unknown => {
      const id = this.#nextId++;
      this.#pending.set(id, { at: this.now + ms, callback });
      return id;
    },
    clearTimeout: (handle: unknown): void => {
      this.#pending.delete(handle as number);
    },
  };
  get pendingDelays(): number[] {
    return [...this.#pending.values()].map((t) => t.at - this.now);
  }
  advance(ms: number): void {
    const until = this.now + ms;
    // Timers set by callbacks that fall inside the window fire too, in time order.
    for (;;) {
      const next = [...this.#pending].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (!next) break;
      this.#pending.delete(next[0]);
      this.now = Math.max(this.now, next[1].at);
      next[1].callback();
    }
    this.now = until;
  }
}

/** A utility process: records what it was sent and kill() calls; the test makes it exit. */
export class FakeChild extends EventEmitter {
  killed = 0;
  posted: unknown[] = [];
  kill(): boolean {
    this.killed += 1;
    return true;
  }
  postMessage(message: unknown): void {
    this.posted.push(message);
  }
  exit(code: number): void {
    this.emit('exit', code);
  }
}
