import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { createLogger } from '../../common/logger.js';
import type { AgentToShell } from '../../shared/agent-messages.js';
import { ConnectorAgent } from './agent.js';
import { handleShellMessage } from './api/shell-messages.js';

/**
 * Entry point of the agent as a child process: Electron's utilityProcess in the
 * desktop app (the UI's API calls and the agent's events go over
 * `process.parentPort`), or any supervisor that passes `--data-dir`. Pure Node:
 * no `electron` import here.
 */
interface ParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
}

const { values } = parseArgs({ options: { 'data-dir': { type: 'string' } }, strict: true });
const dataDir = values['data-dir'];
if (!dataDir) {
  process.stderr.write('agent-process: --data-dir is required\n');
  process.exit(2);
}

const logger = createLogger('agent');
const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
const post = (message: AgentToShell) => parentPort?.postMessage(message);
const agent = new ConnectorAgent({ dataDir, logger });
agent.api.subscribe((event) => post({ type: 'agent-event', event }));
agent.start();
post({ type: 'agent-ready', pid: process.pid });

let stopping = false;
const shutdown = () => {
  if (stopping) return;
  stopping = true;
  void agent.stop().then(() => process.exit(0));
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
// agent.api is already wrapped so that config changes are audited as the local admin via 'api'.
parentPort?.on('message', (e) => handleShellMessage(e.data, { api: agent.api, post, shutdown, logger }));
