/**
 * Memory and CPU of a process, from /proc (Linux only). VmHWM is the kernel's
 * own peak RSS; writing 5 to /proc/<pid>/clear_refs resets it, so each phase
 * of the bench gets its own peak. Sampled VmRSS is kept beside it as a check.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';

const MB = 1e6;
const CLOCK_TICKS = 100;

function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? (Number(m[1]) * 1024) / MB : undefined;
  } catch {
    return undefined;
  }
}

export const rssMB = (pid: number) => statusField(pid, 'VmRSS');
export const peakRssMB = (pid: number) => statusField(pid, 'VmHWM');

/** Resets VmHWM to the current RSS; false when the kernel does not allow it. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** User + system CPU seconds the process has used so far. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** Seconds the process spent runnable but waiting for a CPU (/proc/<pid>/schedstat): high values mean the cores were oversubscribed. */
export function runQueueWaitSeconds(pid: number): number | undefined {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e9;
  } catch {
    return undefined;
  }
}

interface ProcStat {
  ppid: number;
  /** utime + stime, seconds. */
  cpu: number;
}

function processTable(): Map<number, ProcStat> {
  const table = new Map<number, ProcStat>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      table.set(Number(entry), { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / CLOCK_TICKS });
    } catch {
      // Gone meanwhile.
    }
  }
  return table;
}

function treeOf(root: number, table: Map<number, ProcStat>): Set<number> {
  const tree = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, p] of table) {
      if (!tree.has(pid) && tree.has(p.ppid)) {
        tree.add(pid);
        grew = true;
      }
    }
  }
  return tree;
}

/**
 * CPU used by processes outside this bench (its own process tree) between two
 * snapshots: other people's builds and tests on a shared machine. A lower
 * bound: processes that start and end between the snapshots are not seen
 * (their parents' cutime would count their whole life, not the phase).
 */
export class OtherLoad {
  private readonly before = processTable();
  private readonly startedAt = performance.now();

  stop(): { seconds: number; otherCores: number } {
    const after = processTable();
    const ours = new Set([...treeOf(process.pid, this.before), ...treeOf(process.pid, after)]);
    let cpu = 0;
    for (const [pid, p] of after) {
      if (ours.has(pid)) continue;
      const b = this.before.get(pid);
      // A pid seen only now started during the phase; one with another parent was reused.
      cpu += b && b.ppid === p.ppid ? Math.max(0, p.cpu - b.cpu) : p.cpu;
    }
    const seconds = (performance.now() - this.startedAt) / 1000;
    return { seconds: round(seconds, 2), otherCores: round(cpu / seconds, 2) };
  }
}

/** Every process below `pid` (sshd's per-connection children, for instance). */
export function descendants(pid: number): number[] {
  return [...treeOf(pid, processTable())].filter((p) => p !== pid);
}

export interface Watched {
  name: string;
  pids: () => number[];
}

export interface PhaseUsage {
  /** Max of VmHWM (reset at phase start) and the sampled VmRSS, summed over the pids of one watched name. */
  peakRssMB: number;
  sampledMaxRssMB: number;
  hwmMB: number | null;
  cpuSeconds: number;
  /** Time spent ready to run but waiting for a core. */
  runQueueWaitS: number;
}

/** The machine as a whole during a phase: are other programs competing for the cores? */
export interface SystemUsage {
  seconds: number;
  /** Average cores used by processes outside the bench's own process tree (a lower bound). */
  otherCores: number;
}

/**
 * Watches a few processes through one phase: resets their peaks, samples
 * VmRSS every 100 ms, and reports peak memory and CPU used when stopped.
 */
export class PhaseMonitor {
  private readonly sampled = new Map<string, number>();
  private readonly cpuAtStart = new Map<number, number>();
  private readonly waitAtStart = new Map<number, number>();
  private readonly timer: NodeJS.Timeout;
  private hwmReset = true;
  private readonly other = new OtherLoad();

  constructor(private readonly watched: Watched[]) {
    for (const w of watched) {
      for (const pid of w.pids()) {
        this.hwmReset = resetPeak(pid) && this.hwmReset;
        this.cpuAtStart.set(pid, cpuSeconds(pid) ?? 0);
        this.waitAtStart.set(pid, runQueueWaitSeconds(pid) ?? 0);
      }
    }
    this.sample();
    this.timer = setInterval(() => this.sample(), 100);
  }

  private sample(): void {
    for (const w of this.watched) {
      const total = w.pids().reduce((sum, pid) => sum + (rssMB(pid) ?? 0), 0);
      this.sampled.set(w.name, Math.max(this.sampled.get(w.name) ?? 0, total));
    }
  }

  stop(): { processes: Record<string, PhaseUsage>; system: SystemUsage } {
    clearInterval(this.timer);
    this.sample();
    const processes: Record<string, PhaseUsage> = {};
    for (const w of this.watched) {
      const pids = w.pids();
      const hwm = this.hwmReset ? pids.reduce((sum, pid) => sum + (peakRssMB(pid) ?? 0), 0) : null;
      const sampledMax = this.sampled.get(w.name) ?? 0;
      const cpu = pids.reduce((sum, pid) => sum + ((cpuSeconds(pid) ?? 0) - (this.cpuAtStart.get(pid) ?? 0)), 0);
      const wait = pids.reduce((sum, pid) => sum + ((runQueueWaitSeconds(pid) ?? 0) - (this.waitAtStart.get(pid) ?? 0)), 0);
      processes[w.name] = {
        peakRssMB: round(Math.max(hwm ?? 0, sampledMax)),
        sampledMaxRssMB: round(sampledMax),
        hwmMB: hwm === null ? null : round(hwm),
        cpuSeconds: round(cpu, 2),
        runQueueWaitS: round(wait, 2),
      };
    }
    return { processes, system: this.other.stop() };
  }
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
