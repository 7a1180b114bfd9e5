import { isSkybridgeError } from '../shared/errors.js';

/** A value scripts capture: alone on one stdout line. */
export function printValue(value: string): void {
  process.stdout.write(`${value}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A message for people, on stderr so stdout stays clean for values. */
export function say(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** One sentence on stderr and exit 1; the code helps scripts tell failures apart. */
export function fail(err: unknown): never {
  const message = err instanceof Error ? err.message : String(err);
  const code = isSkybridgeError(err) ? ` [${err.code}]` : '';
  process.stderr.write(`skybridge: ${message}${code}\n`);
  process.exit(1);
}

/** Wraps an async action so every failure ends the same way. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      fail(err);
    }
  };
}

/** Resolves on SIGINT/SIGTERM, so long-running commands can shut down cleanly. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const done = (sig: NodeJS.Signals) => resolve(sig);
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}
