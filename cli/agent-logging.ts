import fs from 'node:fs';
import path from 'node:path';
import { createFileLogger } from '../common/log-file.js';
import { createLogger, type Logger } from '../common/logger.js';
import { LOG_LOCATION_FILE } from '../electron/agent/support-bundle.js';

export interface AgentLoggingOptions {
  logFile?: string;
  logMaxSize: string;
  logKeep: number;
}

/**
 * The agent's logger: stderr by default; with --log-file, rotating JSON files,
 * and a note in `run/log-file.json` so `skybridge export` finds them.
 */
export async function agentLogging(dataDir: string, o: AgentLoggingOptions): Promise<{ logger: Logger; close: () => void }> {
  const note = path.join(dataDir, LOG_LOCATION_FILE);
  if (!o.logFile) {
    fs.rmSync(note, { force: true });
    return { logger: createLogger('agent'), close: () => undefined };
  }
  const file = path.resolve(o.logFile);
  const { logger, stream } = await createFileLogger('agent', { file, size: o.logMaxSize, keep: o.logKeep });
  fs.mkdirSync(path.dirname(note), { recursive: true, mode: 0o700 });
  fs.writeFileSync(note, `${JSON.stringify({ file })}\n`, { mode: 0o600 });
  return {
    logger,
    close: () => {
      try {
        stream.flushSync?.();
      } catch {
        // nothing buffered, or the file is gone
      }
      stream.end?.();
    },
  };
}
