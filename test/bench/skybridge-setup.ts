/**
 * A relay and a connector as two processes, set up only through the CLI, the
 * way an administrator would: tenant, app token, pairing code, pairing, one
 * system (bench.virtual:80 → the back end) and one resource per bench path.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, startProcess, waitFor, type Proc } from './procs.js';

/** This file runs as dist/test/bench/skybridge-setup.js. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = path.join(REPO_ROOT, 'bin', 'skybridge.js');

export const VIRTUAL_HOST = 'bench.virtual';
export const VIRTUAL_PORT = 80;

export interface Skybridge {
  relay: Proc;
  agent: Proc;
  proxyPort: number;
  token: string;
}

/** The relay and agent log warnings only: logging every request would be measured too. */
const QUIET = { SKYBRIDGE_LOG_LEVEL: 'warn' };

/**
 * Extra node flags for the relay and agent only, e.g.
 * `SKYBRIDGE_BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'` (node refuses --cpu-prof in NODE_OPTIONS).
 */
const NODE_ARGS = (process.env.SKYBRIDGE_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);

async function cli(...args: string[]): Promise<string> {
  const { stdout } = await run(`skybridge ${args.slice(0, 3).join(' ')}`, process.execPath, [BIN, ...args], { env: QUIET, timeoutMs: 30_000 });
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  return lines.at(-1)?.trim() ?? '';
}

export async function startSkybridge(dir: string, backendPort: number): Promise<Skybridge> {
  const relayDir = path.join(dir, 'relay');
  const agentDir = path.join(dir, 'agent');
  const relay = startProcess('relay', process.execPath, [...NODE_ARGS, BIN, 'relay', 'start', '--data-dir', relayDir, '--host', '127.0.0.1', '--port', '0', '--proxy-port', '0', '--socks-port', '0'], { env: QUIET });
  const proxyPort = await waitFor('the relay to listen', 30_000, () => {
    if (!relay.alive()) throw new Error(`the relay exited: ${relay.stderr().slice(-1000)}`);
    const m = /HTTP proxy on http:\/\/127\.0\.0\.1:(\d+)/.exec(relay.stderr());
    return m ? Number(m[1]) : undefined;
  });

  const tenant = await cli('relay', 'tenant', 'create', 'bench', '--data-dir', relayDir);
  const token = await cli('relay', 'app', 'create', 'bench-app', '--tenant', tenant, '--data-dir', relayDir);
  const code = await cli('relay', 'pairing-code', '--tenant', tenant, '--data-dir', relayDir);
  const subaccount = await cli('agent', 'pair', code, '--data-dir', agentDir, '--name', 'bench');
  const system = `${VIRTUAL_HOST}:${VIRTUAL_PORT}`;
  await cli('agent', 'system', 'add', '--data-dir', agentDir, '--virtual', system, '--internal', `127.0.0.1:${backendPort}`, '--protocol', 'http');
  await cli('agent', 'resource', 'add', '--data-dir', agentDir, '--system', system, '--path', '/small', '--methods', 'GET');
  await cli('agent', 'resource', 'add', '--data-dir', agentDir, '--system', system, '--path', '/blob', '--methods', 'GET');
  await cli('agent', 'resource', 'add', '--data-dir', agentDir, '--system', system, '--path', '/sink', '--methods', 'POST');

  const agent = startProcess('agent', process.execPath, [...NODE_ARGS, BIN, 'agent', 'start', '--data-dir', agentDir], { env: QUIET });
  await waitFor('the agent tunnel to connect', 30_000, () => {
    if (!agent.alive()) throw new Error(`the agent exited: ${agent.stderr().slice(-1000)}`);
    const status = JSON.parse(readFileSync(path.join(agentDir, 'run', 'status.json'), 'utf8')) as { subaccounts: { id: string; status: { state: string; lastError?: string } }[] };
    const sub = status.subaccounts.find((s) => s.id === subaccount);
    if (sub?.status.state !== 'connected') throw new Error(`state ${sub?.status.state ?? 'unknown'}${sub?.status.lastError ? `: ${sub.status.lastError}` : ''}`);
    return true;
  });
  return { relay, agent, proxyPort, token };
}
