/**
 * The bench's results: their shape (also written to test-results/bench.json),
 * the targets of issue 2 judged against them, and the printed table.
 */
import type { LatencyResult, LoadResult, Transfer } from './measure.js';
import type { MuxResult } from './mux-compare.js';
import type { PhaseUsage, SystemUsage } from './procfs.js';

export type RouteName = 'direct' | 'skybridge' | 'ssh';
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: string };
export type Usage = { processes: Record<string, PhaseUsage>; system: SystemUsage };
export type Measured<T> = { ok: true; value: T; usage: Usage } | { ok: false; error: string };
export type PerRoute<T> = Partial<Record<RouteName, Measured<T>>>;

export interface SlowRun {
  transfer: Transfer;
  /** GET /small at the fixed rate while the upload runs. */
  during: LatencyResult;
  /** The upload was still running when the GETs ended. */
  overlapped: boolean;
}

export interface TargetResult {
  target: string;
  /** null: could not be judged (a column skipped or a step failed). */
  pass: boolean | null;
  detail: string;
}

export interface BenchResults {
  startedAt: string;
  machine: { cpus: number; cpuModel: string; node: string; kernel: string };
  settings: Record<string, number | boolean>;
  background: { loadavg: number[]; otherCoresBeforeRun: number };
  sshCipher?: string;
  skipped: Record<string, string>;
  latency: PerRoute<LatencyResult>;
  backToBack: PerRoute<LatencyResult>;
  slowUpload: PerRoute<SlowRun>;
  download: PerRoute<Transfer>;
  upload: PerRoute<Transfer>;
  load: PerRoute<LoadResult>;
  mux: Outcome<MuxResult>;
  targets?: TargetResult[];
  /** Highest RSS of relay and agent in any phase of the run. */
  runPeakRssMB?: Record<string, number>;
  durationSeconds: number;
}

const ROUTES: RouteName[] = ['direct', 'skybridge', 'ssh'];
const RSS_LIMIT_MB = 150;

const val = <T>(m: Measured<T> | undefined): T | undefined => (m?.ok ? m.value : undefined);
const fmt = (n: number | undefined | null, digits = 1) => (n === undefined || n === null || Number.isNaN(n) ? '-' : n.toFixed(digits));

function phases(r: BenchResults): [string, PerRoute<unknown>][] {
  return [
    ['GETs at fixed rate', r.latency],
    ['GETs back to back', r.backToBack],
    ['slow-reader upload', r.slowUpload],
    ['download', r.download],
    ['upload', r.upload],
    ['small GETs (wrk)', r.load],
  ];
}

export function runPeaks(r: BenchResults): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [, per] of phases(r)) {
    const m = per.skybridge;
    if (!m?.ok) continue;
    for (const name of ['relay', 'agent']) {
      const u = m.usage.processes[name];
      if (u) out[name] = Math.max(out[name] ?? 0, u.peakRssMB);
    }
  }
  return out;
}

export function evaluateTargets(r: BenchResults): TargetResult[] {
  const out: TargetResult[] = [];
  const noSsh = r.skipped.ssh ? `ssh -R skipped: ${r.skipped.ssh}` : undefined;
  const failed = (m: Measured<unknown> | undefined, what: string) => (m && !m.ok ? `${what} failed: ${m.error}` : `${what} did not run`);

  for (const dir of ['download', 'upload'] as const) {
    const sky = val(r[dir].skybridge)?.MBps;
    const ssh = val(r[dir].ssh)?.MBps;
    const target = `${dir} throughput >= 1.5x ssh -R`;
    if (sky === undefined) out.push({ target, pass: null, detail: failed(r[dir].skybridge, `the Skybridge ${dir}`) });
    else if (ssh === undefined) out.push({ target, pass: null, detail: noSsh ?? failed(r[dir].ssh, `the ssh -R ${dir}`) });
    else out.push({ target, pass: sky >= 1.5 * ssh, detail: `Skybridge ${fmt(sky)} MB/s vs 1.5 x ${fmt(ssh)} = ${fmt(1.5 * ssh)} MB/s (${(sky / ssh).toFixed(2)}x ssh -R)` });
  }

  {
    const sky = val(r.load.skybridge);
    const ssh = val(r.load.ssh);
    const target = 'small GETs req/s >= ssh -R';
    if (r.skipped.load) out.push({ target, pass: null, detail: r.skipped.load });
    else if (!sky) out.push({ target, pass: null, detail: failed(r.load.skybridge, 'the Skybridge load run') });
    else if (!ssh) out.push({ target, pass: null, detail: noSsh ?? failed(r.load.ssh, 'the ssh -R load run') });
    else {
      const clean = sky.non2xx === 0 && sky.socketErrors === 0;
      out.push({
        target,
        pass: sky.requestsPerSec >= ssh.requestsPerSec && clean,
        detail: `Skybridge ${fmt(sky.requestsPerSec, 0)}/s vs ssh -R ${fmt(ssh.requestsPerSec, 0)}/s (${(sky.requestsPerSec / ssh.requestsPerSec).toFixed(2)}x)${clean ? '' : `, but ${sky.non2xx} non-2xx and ${sky.socketErrors} socket errors`}`,
      });
    }
  }

  {
    const sky = val(r.latency.skybridge);
    const direct = val(r.latency.direct);
    const target = `added p50 latency <= 1 ms (GETs at ${r.settings.latencyRate}/s)`;
    if (!sky || !direct) out.push({ target, pass: null, detail: failed(sky ? r.latency.direct : r.latency.skybridge, 'a latency run') });
    else {
      const added = sky.p50Ms - direct.p50Ms;
      const b2b = val(r.backToBack.skybridge);
      const b2bDirect = val(r.backToBack.direct);
      const extra = b2b && b2bDirect ? `; back to back it adds ${fmt(b2b.p50Ms - b2bDirect.p50Ms, 3)} ms` : '';
      out.push({ target, pass: added <= 1, detail: `Skybridge p50 ${fmt(sky.p50Ms, 3)} ms - direct ${fmt(direct.p50Ms, 3)} ms = ${fmt(added, 3)} ms${extra}` });
    }
  }

  const slow = r.slowUpload.skybridge;
  for (const proc of ['relay', 'agent'] as const) {
    const target = `${proc} RSS < ${RSS_LIMIT_MB} MB during the slow-reader upload`;
    const u = slow?.ok ? slow.usage.processes[proc] : undefined;
    if (!u) out.push({ target, pass: null, detail: failed(slow, 'the slow upload') });
    else
      out.push({
        target,
        pass: u.peakRssMB < RSS_LIMIT_MB,
        detail: `peak ${fmt(u.peakRssMB)} MB (VmHWM ${fmt(u.hwmMB)}, sampled ${fmt(u.sampledMaxRssMB)}); highest in any phase of the run: ${fmt(runPeaks(r)[proc])} MB`,
      });
  }

  {
    const target = 'small GETs during the slow upload within 2x idle latency (p50 and p99)';
    const idle = val(r.latency.skybridge);
    const during = val(slow)?.during;
    if (!idle || !during) out.push({ target, pass: null, detail: failed(idle ? slow : r.latency.skybridge, idle ? 'the slow upload' : 'the latency run') });
    else {
      const p50 = during.p50Ms / idle.p50Ms;
      const p99 = during.p99Ms / idle.p99Ms;
      const overlapped = val(slow)!.overlapped;
      out.push({
        target,
        pass: p50 <= 2 && p99 <= 2 && during.errors === 0 && overlapped,
        detail:
          `p50 ${fmt(idle.p50Ms, 3)} -> ${fmt(during.p50Ms, 3)} ms (${p50.toFixed(2)}x), p99 ${fmt(idle.p99Ms, 3)} -> ${fmt(during.p99Ms, 3)} ms (${p99.toFixed(2)}x)` +
          (during.errors ? `, ${during.errors} failed` : '') +
          (overlapped ? '' : ', but the upload ended before the GETs did'),
      });
    }
  }
  return out;
}

const LABEL = 40;
const COL = 18;

function line(label: string, cells: string[]): string {
  return `${label.padEnd(LABEL)}${cells.map((c) => c.padStart(COL)).join('')}`;
}

function cell<T>(r: BenchResults, m: Measured<T> | undefined, route: RouteName, show: (v: T) => string): string {
  if (route === 'ssh' && r.skipped.ssh) return 'skipped';
  if (!m) return '-';
  return m.ok ? show(m.value) : 'ERROR';
}

/** direct: the back end; skybridge: relay / agent; ssh: ssh / sshd's session processes. */
function usageCell(r: BenchResults, m: Measured<unknown> | undefined, route: RouteName, pick: (u: PhaseUsage) => number | null, digits = 1): string {
  if (route === 'ssh' && r.skipped.ssh) return 'skipped';
  if (!m?.ok) return '-';
  const names = route === 'skybridge' ? ['relay', 'agent'] : route === 'ssh' ? ['ssh', 'sshd'] : ['backend'];
  return names.map((n) => (m.usage.processes[n] ? fmt(pick(m.usage.processes[n]!), digits) : '-')).join(' / ');
}

export function formatReport(r: BenchResults): string {
  r.targets ??= evaluateTargets(r);
  r.runPeakRssMB ??= runPeaks(r);
  const bytes = r.settings.bulkBytes as number;
  const size = bytes >= 1024 ** 3 ? `${bytes / 1024 ** 3} GiB` : `${bytes / 1024 ** 2} MiB`;
  const out: string[] = [];
  out.push(
    `Skybridge bench, ${r.startedAt}: ${r.machine.cpus} cores (${r.machine.cpuModel}), Node ${r.machine.node}, Linux ${r.machine.kernel}${r.settings.quick ? '  [--quick: a smoke run, NOT a measurement]' : ''}`,
    'Loopback. Skybridge: curl/wrk -> relay HTTP proxy -> HTTP/2 tunnel over TLS (mTLS) -> agent -> back end, each its own process.',
    `ssh -R: ${r.skipped.ssh ? `skipped (${r.skipped.ssh})` : `default cipher, negotiated ${r.sshCipher ?? 'unknown'}`}.  MB = 10^6 bytes.`,
    `Other programs before the run: ${fmt(r.background.otherCoresBeforeRun, 2)} cores busy (load average ${r.background.loadavg.join(' ')}).`,
    '',
    line('', ['direct', 'skybridge', 'ssh -R']),
  );
  const added = (per: PerRoute<LatencyResult>, pick: 'p50Ms' | 'p99Ms', route: RouteName) =>
    route === 'direct' ? '-' : cell(r, per[route], route, (v) => (per.direct?.ok ? `+${fmt(v[pick] - per.direct.value[pick], 3)}` : '-'));
  out.push(
    line(`${size} download, MB/s`, ROUTES.map((x) => cell(r, r.download[x], x, (v) => fmt(v.MBps)))),
    line(`${size} upload, MB/s`, ROUTES.map((x) => cell(r, r.upload[x], x, (v) => fmt(v.MBps)))),
  );
  if (r.skipped.load) out.push(line('small GETs, req/s', ROUTES.map(() => 'skipped')));
  else {
    out.push(
      line(`small GETs, ${r.settings.loadConnections} conns, ${r.settings.loadSeconds} s, req/s`, ROUTES.map((x) => cell(r, r.load[x], x, (v) => `${fmt(v.requestsPerSec, 0)}${v.non2xx + v.socketErrors > 0 ? ' (!)' : ''}`))),
      line('  wrk latency p50 / p99, ms', ROUTES.map((x) => cell(r, r.load[x], x, (v) => `${fmt(v.latencyP50Ms, 2)} / ${fmt(v.latencyP99Ms, 2)}`))),
    );
  }
  out.push(
    line(`GET at ${r.settings.latencyRate}/s, 1 conn: p50 ms`, ROUTES.map((x) => cell(r, r.latency[x], x, (v) => fmt(v.p50Ms, 3)))),
    line('  p99 ms', ROUTES.map((x) => cell(r, r.latency[x], x, (v) => fmt(v.p99Ms, 3)))),
    line('  added p50 / p99 vs direct, ms', ROUTES.map((x) => (x === 'direct' ? '-' : x === 'ssh' && r.skipped.ssh ? 'skipped' : `${added(r.latency, 'p50Ms', x)} / ${added(r.latency, 'p99Ms', x)}`))),
    line(`GETs back to back (${r.settings.backToBackRequests}): p50 ms`, ROUTES.map((x) => cell(r, r.backToBack[x], x, (v) => fmt(v.p50Ms, 3)))),
    line('  added p50 vs direct, ms', ROUTES.map((x) => added(r.backToBack, 'p50Ms', x))),
    '',
    `Slow reader: ${size} POST /sink?rateMBps=${r.settings.slowRateMBps}; GET /small at ${r.settings.latencyRate}/s over the same path meanwhile`,
    line('  upload, MB/s', ROUTES.map((x) => cell(r, r.slowUpload[x], x, (v) => fmt(v.transfer.MBps)))),
    line('  GET p50 idle -> during, ms', ROUTES.map((x) => cell(r, r.slowUpload[x], x, (v) => `${fmt(val(r.latency[x])?.p50Ms, 2)} -> ${fmt(v.during.p50Ms, 2)}`))),
    line('  GET p99 idle -> during, ms', ROUTES.map((x) => cell(r, r.slowUpload[x], x, (v) => `${fmt(val(r.latency[x])?.p99Ms, 2)} -> ${fmt(v.during.p99Ms, 2)}`))),
    '',
  );
  // CPU per unit of work barely moves when other programs compete for the cores; throughput does.
  const cost = (per: PerRoute<unknown>, route: RouteName, divisor: (v: unknown) => number, scale: number, digits: number) => {
    const m = per[route];
    if (route === 'ssh' && r.skipped.ssh) return 'skipped';
    if (!m?.ok) return '-';
    const names = route === 'skybridge' ? ['relay', 'agent'] : route === 'ssh' ? ['ssh', 'sshd'] : ['backend'];
    const cpu = names.reduce((sum, n) => sum + (m.usage.processes[n]?.cpuSeconds ?? 0), 0);
    return fmt((cpu / divisor(m.value)) * scale, digits);
  };
  const perGiB = (v: unknown) => (v as Transfer).bytes / 1024 ** 3;
  out.push(
    line('CPU cost (direct: back end only)', ['back end', 'relay + agent', 'ssh + sshd']),
    line('  per GiB downloaded, s', ROUTES.map((x) => cost(r.download, x, perGiB, 1, 2))),
    line('  per GiB uploaded, s', ROUTES.map((x) => cost(r.upload, x, perGiB, 1, 2))),
    line('  per small GET under load, us', ROUTES.map((x) => (r.skipped.load ? 'skipped' : cost(r.load, x, (v) => (v as LoadResult).requests, 1e6, 0)))),
    '',
    line('Per phase', ['back end', 'relay / agent', 'ssh / sshd']),
  );
  const blocks: [string, (u: PhaseUsage) => number | null, number][] = [
    ['peak RSS, MB', (u) => u.peakRssMB, 1],
    ['CPU, s', (u) => u.cpuSeconds, 2],
    ['waiting for a core, s', (u) => u.runQueueWaitS, 2],
  ];
  for (const [title, pick, digits] of blocks) {
    out.push(`  ${title}`);
    for (const [name, per] of phases(r)) out.push(line(`    ${name}`, ROUTES.map((x) => usageCell(r, per[x], x, pick, digits))));
  }
  out.push(line('  other programs, cores busy (at least)', ['direct', 'skybridge', 'ssh -R']));
  for (const [name, per] of phases(r)) out.push(line(`    ${name}`, ROUTES.map((x) => cell(r, per[x], x, () => fmt((per[x] as { usage: Usage }).usage.system.otherCores, 2)))));

  out.push('', 'Targets (issue 2; this machine, this run)');
  for (const t of r.targets) out.push(`  ${t.pass === null ? 'SKIP' : t.pass ? 'PASS' : 'FAIL'}  ${t.target}: ${t.detail}`);

  const notes: string[] = [];
  const maxOther = Math.max(r.background.otherCoresBeforeRun, ...phases(r).flatMap(([, per]) => Object.values(per).map((m) => (m?.ok ? m.usage.system.otherCores : 0))));
  if (maxOther > 0.25) notes.push(`  Other programs kept up to ${fmt(maxOther, 2)} of ${r.machine.cpus} cores busy during the run: every number above is lower than on an idle machine.`);
  for (const [name, per] of phases(r)) {
    for (const [route, m] of Object.entries(per)) {
      if (m && !m.ok) notes.push(`  ${name} via ${route} failed: ${m.error}`);
      const v = m?.ok ? (m.value as Partial<LoadResult>) : undefined;
      if (v && (v.non2xx ?? 0) + (v.socketErrors ?? 0) > 0) notes.push(`  (!) ${name} via ${route}: ${v.non2xx} non-2xx answers, ${v.socketErrors} socket errors`);
    }
  }
  if (r.skipped.load) notes.push(`  small GETs skipped: ${r.skipped.load}`);
  if (!r.mux.ok) notes.push(`  mux-compare failed: ${r.mux.error}`);
  if (notes.length > 0) out.push('', 'Notes', ...notes);
  return out.join('\n');
}
