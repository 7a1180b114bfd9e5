import fs from 'node:fs';
import path from 'node:path';
import type { DestinationStream } from 'pino';
import pinoRoll from 'pino-roll';
import { createLogger, type Logger } from './logger.js';

export interface LogFileOptions {
  /** e.g. /var/log/skybridge/agent.log: files become agent.2025-01-31.1.log, agent.2025-01-31.2.log, … */
  file: string;
  /** Rotate when a file reaches this size (pino-roll syntax: 10m, 500k) as well as every day. */
  size?: string;
  /** Rotated files kept besides the current one. */
  keep?: number;
}

/**
 * Structured JSON logs to files that roll daily and by size (pino-roll, from
 * pino's authors), with the same redaction as the stderr logger. Used when the
 * agent runs headless as a service, where nobody reads stderr.
 */
export async function createFileLogger(name: string, opts: LogFileOptions): Promise<{ logger: Logger; stream: DestinationStream & { flushSync?: () => void; end?: () => void } }> {
  const file = path.resolve(opts.file);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const stream = (await pinoRoll({
    file: file.replace(/\.log$/, ''),
    extension: '.log',
    frequency: 'daily',
    dateFormat: 'yyyy-MM-dd',
    size: opts.size ?? '10m',
    limit: { count: opts.keep ?? 14 },
    mkdir: true,
    mode: 0o600,
  })) as DestinationStream & { flushSync?: () => void; end?: () => void };
  return { logger: createLogger(name, undefined, stream), stream };
}
