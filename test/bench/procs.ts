/**
 * Child processes and temp dirs of one bench run. Everything started here is
 * tracked and ended by its own pid (or its own process group, for sshd, whose
 * per-connection children would otherwise outlive it) when the run ends,
 * fails, or is interrupted; temp dirs are removed the same way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or -1 for a signal) once the process ended. */
  readonly exited: Promise<number>;
  alive(): boolean;
}

export interface SpawnOptions {
  env?: Record<string, string>;
  /** Own process group, so stop() also reaches grandchildren. */
  group?: boolean;
  /** Killed with SIGKILL after this long, so no step can hang the run. */
  timeoutMs?: number;
  stdin?: 'ignore' | 'pipe';
}

const live = new Set<Proc & { group: boolean }>();
const dirs = new Set<string>();

/** Proxy variables would reroute curl and friends away from loopback. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(https?|all|no|ftp)_proxy$/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

export function startProcess(name: string, file: string, args: string[], opts: SpawnOptions = {}): Proc {
  const child = spawn(file, args, { env: cleanEnv(opts.env), stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'], detached: opts.group ?? false });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out = (out + d).slice(-200_000)));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-200_000)));
  let ended = false;
  let timer: NodeJS.Timeout | undefined;
  const exited = new Promise<number>((resolve) => {
    child.once('error', (e) => {
      err += `\n${e.message}`;
      ended = true;
      resolve(-1);
    });
    child.once('exit', (code) => {
      ended = true;
      clearTimeout(timer);
      resolve(code ?? -1);
    });
  });
  if (child.pid === undefined) {
    return { name, child, pid: -1, stdout: () => out, stderr: () => err, exited, alive: () => false };
  }
  const proc = { name, child, pid: child.pid, stdout: () => out, stderr: () => err, exited, alive: () => !ended, group: opts.group ?? false };
  live.add(proc);
  void exited.then(() => live.delete(proc));
  if (opts.timeoutMs) timer = setTimeout(() => signal(proc, 'SIGKILL'), opts.timeoutMs);
  return proc;
}

function signal(p: Proc & { group: boolean }, sig: NodeJS.Signals): void {
  try {
    process.kill(p.group ? -p.pid : p.pid, sig);
  } catch {
    // Already gone.
  }
}

/** SIGTERM, then SIGKILL after `graceMs`. */
export async function stopProcess(p: Proc, graceMs = 3000): Promise<void> {
  const tracked = [...live].find((x) => x.pid === p.pid);
  if (!tracked) return;
  signal(tracked, 'SIGTERM');
  const timer = setTimeout(() => signal(tracked, 'SIGKILL'), graceMs);
  await p.exited;
  clearTimeout(timer);
  // The leader may go first; make sure the rest of its group follows.
  if (tracked.group) signal(tracked, 'SIGKILL');
}

/** Runs a command to completion; rejects with its stderr when it fails. */
export async function run(name: string, file: string, args: string[], opts: SpawnOptions = {}): Promise<{ stdout: string; stderr: string }> {
  const p = startProcess(name, file, args, { timeoutMs: 60_000, ...opts });
  const code = await p.exited;
  if (code !== 0) throw new Error(`${name} exited ${code}: ${(p.stderr().trim() || p.stdout().trim()).slice(-2000)}`);
  return { stdout: p.stdout(), stderr: p.stderr() };
}

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}

/** Ends every process still running (newest first) and removes the temp dirs. */
export async function cleanupAll(): Promise<void> {
  await Promise.all([...live].reverse().map((p) => stopProcess(p, 2000)));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs.clear();
}

function lastResort(): void {
  for (const p of live) signal(p, 'SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

/** Ctrl+C, SIGTERM or an unexpected exit still leave nothing behind. */
export function installExitHandlers(): void {
  process.on('exit', lastResort);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      process.stderr.write(`\nbench: ${sig}, stopping every process it started…\n`);
      void cleanupAll().finally(() => process.exit(130));
    });
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls until `probe` returns a value, or throws naming `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? ` (${last.message})` : ''}`);
    await sleep(100);
  }
}

/** Writes a bench's results as JSON under test-results/ and says where. */
export function writeResults(repoRoot: string, fileName: string, results: unknown, durationSeconds: number): void {
  const outDir = path.join(repoRoot, 'test-results');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, fileName), `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`\nResults written to ${path.join(outDir, fileName)} (run took ${durationSeconds} s).\n`);
}

/** Runs a bench's main: exit 0 when done; on failure, log, stop every child process, exit 1. */
export function runBench(main: () => Promise<void>, log: (msg: string) => void): void {
  main().then(
    () => process.exit(0),
    (err: Error) => {
      log(`failed: ${err.stack ?? err.message}`);
      void cleanupAll().finally(() => process.exit(1));
    },
  );
}
