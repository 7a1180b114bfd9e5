import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { agentToShellSchema, type AgentToShell } from '../../shared/agent-messages.js';

/** The compiled agent-process.js, running as the desktop shell runs it, and what it has said. */
export interface ForkedAgent {
  child: ChildProcess;
  /** Every message it posted, parsed against the contract (a message outside it fails the test). */
  messages: AgentToShell[];
  /** Its stdout and stderr so far. */
  output: () => string;
  exited: Promise<number | null>;
  /** Polls `pick` until it returns something; fails naming `what`, with the output, on a timeout or an exit. */
  waitFor<T>(pick: () => T | undefined, what: string): Promise<T>;
  /** The api-result for call `id`. */
  result(id: number): Promise<Extract<AgentToShell, { type: 'api-result' }>>;
}

// Electron gives a utilityProcess `process.parentPort`; this shim builds one over Node's fork channel.
const PARENT_PORT_SHIM =
  "process.parentPort = { postMessage: (m) => process.send(m), on: (event, fn) => process.on(event, (data) => fn({ data })) };\n";

export function forkAgentProcess(dataDir: string, args: string[] = [], opts: { logLevel?: string; timeoutMs?: number } = {}): ForkedAgent {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-agent-fork-'));
  const shim = path.join(scratch, 'parent-port.mjs');
  fs.writeFileSync(shim, PARENT_PORT_SHIM);
  const script = fileURLToPath(new URL('../../electron/agent/agent-process.js', import.meta.url));
  const child = fork(script, ['--data-dir', dataDir, ...args], {
    execArgv: ['--import', shim],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, SKYBRIDGE_LOG_LEVEL: opts.logLevel ?? 'silent' },
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const messages: AgentToShell[] = [];
  child.on('message', (m) => messages.push(agentToShellSchema.parse(m)));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      fs.rmSync(scratch, { recursive: true, force: true });
      resolve(code);
    }),
  );
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const waitFor = async <T>(pick: () => T | undefined, what: string): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = pick();
      if (v !== undefined) return v;
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no ${what}; output: ${output}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return {
    child,
    messages,
    output: () => output,
    exited,
    waitFor,
    result: (id) =>
      waitFor(() => messages.find((m): m is Extract<AgentToShell, { type: 'api-result' }> => m.type === 'api-result' && m.id === id), `api-result ${id}`),
  };
}
