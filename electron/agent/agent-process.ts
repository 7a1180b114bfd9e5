import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { ConnectorAgent } from './agent.js';

/**
 * Entry point of the agent as a child process: Electron's utilityProcess in the
 * desktop app (events go to the parent over `process.parentPort`), or any
 * supervisor that passes `--data-dir`. Pure Node: no `electron` import here.
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

const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
const agent = new ConnectorAgent({ dataDir });
agent.api.subscribe((event) => parentPort?.postMessage({ type: 'agent-event', event }));
agent.start();
parentPort?.postMessage({ type: 'agent-ready', pid: process.pid });

const shutdown = () => void agent.stop().then(() => process.exit(0));
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
parentPort?.on('message', (e) => {
  if ((e.data as { type?: string } | undefined)?.type === 'shutdown') shutdown();
});
