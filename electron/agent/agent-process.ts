import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { createLogger } from '../../common/logger.js';
import { shellToAgentSchema, type AgentToShell } from '../../shared/agent-messages.js';
import type { ConnectorApi } from '../../shared/api.js';
import { ErrorCode } from '../../shared/errors.js';
import { ConnectorAgent } from './agent.js';
import { handleShellMessage } from './api/shell-messages.js';
import { restrictToUiTransport } from './ui-transport.js';
import { applyUnlock } from './unlock.js';

/**
 * Entry point of the agent as a child process: Electron's utilityProcess in the
 * desktop app (the UI's API calls and the agent's events go over
 * `process.parentPort`), or any supervisor that passes `--data-dir`. Pure Node:
 * no `electron` import here.
 *
 * `--key-store shell`: the desktop shell holds the key that encrypts private keys
 * and passwords (safeStorage) and sends it as the first message, `unlock`; no
 * secret is read before it. Without the flag secrets are owner-only files.
 */
interface ParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
}

const { values } = parseArgs({ options: { 'data-dir': { type: 'string' }, 'key-store': { type: 'string' } }, strict: true });
const dataDir = values['data-dir'];
if (!dataDir) {
  process.stderr.write('agent-process: --data-dir is required\n');
  process.exit(2);
}
const keyFromShell = values['key-store'] !== undefined;
if (keyFromShell && values['key-store'] !== 'shell') {
  process.stderr.write('agent-process: --key-store takes only "shell" (the desktop app sends the key over its message port)\n');
  process.exit(2);
}

const logger = createLogger('agent');
const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
if (keyFromShell && !parentPort) {
  process.stderr.write('agent-process: --key-store shell needs the desktop app: there is no parent port to receive the key on\n');
  process.exit(2);
}
const post = (message: AgentToShell) => parentPort?.postMessage(message);

let agent: ConnectorAgent | undefined;
let unlocking = false;
let stopping = false;

function startAgent(): void {
  if (stopping) return;
  const started = new ConnectorAgent({ dataDir: dataDir!, logger });
  started.api.subscribe((event) => post({ type: 'agent-event', event }));
  started.start();
  agent = started;
  post({ type: 'agent-ready', pid: process.pid });
}

const shutdown = () => {
  if (stopping) return;
  stopping = true;
  if (!agent) process.exit(0);
  void agent.stop().then(() => process.exit(0));
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);

/** Until the key has come: only `unlock` and `shutdown` are acted on; a call is told the agent is not ready. */
function beforeStart(data: unknown): void {
  const parsed = shellToAgentSchema.safeParse(data);
  if (!parsed.success) {
    // Never echoed: a malformed unlock could still carry the key.
    logger.warn('ignored a malformed message from the desktop shell while waiting for the key');
    return;
  }
  const msg = parsed.data;
  if (msg.type === 'shutdown') return shutdown();
  if (msg.type === 'api-call') {
    post({ type: 'api-result', id: msg.id, ok: false, error: { code: ErrorCode.AgentNotRunning, message: 'The Skybridge agent is starting: it is waiting for its key from the desktop app.' } });
    return;
  }
  if (unlocking) return logger.warn('ignored a second data-protection key');
  unlocking = true;
  applyUnlock(dataDir!, msg, logger).then(startAgent, (err: unknown) => {
    logger.fatal({ err: (err as Error).message }, 'could not take the data-protection key');
    process.exit(1);
  });
}

// agent.api is already wrapped so that config changes are audited as the local admin via 'api'. Calls come from the
// renderer, so like the headless UI they may set a system's caFile only to an uploaded CA (ui-transport.ts).
let uiApi: ConnectorApi | undefined;
parentPort?.on('message', (e) => {
  if (!agent) return beforeStart(e.data);
  uiApi ??= restrictToUiTransport(agent.api, dataDir!);
  handleShellMessage(e.data, { api: uiApi, post, shutdown, logger });
});
if (!keyFromShell) startAgent();
