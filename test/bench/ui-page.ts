/**
 * What runs inside Chromium for the Traffic page benchmark (ui-traffic.ts): a stand-in for
 * the desktop preload's `window.skybridge`, the event source, and the frame measurement.
 *
 * Playwright ships each exported function to the page as source text, so none of them may
 * use anything from module scope (only types, which vanish). The root tsconfig compiles Node
 * code without the DOM lib, so the few browser APIs used here are typed by hand below.
 */
import type { AgentEvent } from '../../shared/api.js';

export type RequestEvent = Extract<AgentEvent, { type: 'request' }>;

export interface BridgeConfig {
  version: string;
  platform: string;
  /** Every method of the real preload, so the page finds the same functions it would in the app. */
  apiMethods: string[];
  shellMethods: string[];
  /** Canned answers by method name; any other method answers with a refusal. */
  apiReplies: Record<string, unknown>;
  shellReplies: Record<string, unknown>;
  /** Same-origin URL of the event source (the page's CSP allows workers from 'self' only). */
  workerUrl: string;
  subaccountId: string;
}

export interface PageMeasurement {
  /** Events a second asked for; 0 for an idle baseline. */
  rate: number;
  /** Events the source sent, every one of them delivered to the page's listeners. */
  sent: number;
  durationMs: number;
  /** Milliseconds between consecutive animation frames. */
  frameIntervals: number[];
  /** Durations of tasks of 50 ms or more. */
  longTasks: number[];
  /** Most `role="row"` elements seen at once in the "Live traffic" table (header row included). */
  maxTableRows: number;
  maxDomNodes: number;
  /** performance.memory.usedJSHeapSize (Chromium only), bytes. */
  heapStart?: number;
  heapEnd?: number;
}

export interface CspProbe {
  bridgePresent: boolean;
  inlineScriptRan: boolean;
  violationReported: boolean;
}

/** Hooks the init script leaves on the page for measureInPage and the runner. */
interface BenchHooks {
  /** Streams `rate` request events a second for `seconds`; resolves with how many were delivered. */
  stream(rate: number, seconds: number): Promise<number>;
  /** Bridge calls by method name, e.g. `api:recentTraffic`. */
  calls: Record<string, number>;
}

interface ElementLike {
  textContent: string | null;
  querySelectorAll(selector: string): { length: number };
  appendChild(child: ElementLike): void;
  remove(): void;
}

interface PerformanceEntryLike {
  duration: number;
}

interface PerformanceObserverLike {
  observe(options: { type: string; buffered?: boolean }): void;
  takeRecords(): PerformanceEntryLike[];
  disconnect(): void;
}

interface WorkerLike {
  postMessage(message: unknown): void;
  onmessage: ((message: { data: EmitterMessage }) => void) | null;
  onerror: ((error: { message: string }) => void) | null;
}

type EmitterMessage = { event: RequestEvent } | { done: number };
type EmitterCommand = { rate: number; seconds: number; subaccountId: string };

interface PageGlobals {
  skybridge?: unknown;
  __skybridgeBench?: BenchHooks;
  __inlineScriptRan?: boolean;
  top: unknown;
  document: {
    head: ElementLike;
    querySelector(selector: string): ElementLike | null;
    getElementsByTagName(name: string): { length: number };
    createElement(tag: string): ElementLike;
    addEventListener(type: string, listener: () => void): void;
  };
  performance: { now(): number; memory?: { usedJSHeapSize: number } };
  requestAnimationFrame(callback: (time: number) => void): number;
  setTimeout(callback: () => void, ms: number): number;
  setInterval(callback: () => void, ms: number): number;
  clearInterval(id: number): void;
  PerformanceObserver: new (callback: (list: { getEntries(): PerformanceEntryLike[] }) => void) => PerformanceObserverLike;
  Worker: new (url: string) => WorkerLike;
}

interface WorkerScope {
  performance: { now(): number };
  onmessage: ((message: { data: EmitterCommand }) => void) | null;
  postMessage(message: EmitterMessage): void;
  setTimeout(callback: () => void, ms: number): number;
}

/**
 * Request number `n` as the agent reports it: a mix of systems, paths, apps and outcomes
 * (about 7% denied, 2% failed), with the detail fields the row drawer shows. Deterministic,
 * so two runs render the same text.
 */
export function makeRequestEvent(n: number, subaccountId: string, atMs: number): RequestEvent {
  const hosts = ['erp.internal', 'crm.internal', 'hr.internal', 'files.internal', 'bw.internal'];
  const paths = [
    '/sap/opu/odata/sap/API_BUSINESS_PARTNER/A_BusinessPartner',
    '/api/v1/orders',
    '/api/v1/customers/4711/addresses',
    '/health',
    '/files/reports/2025/q3.pdf',
    '/sap/bc/rest/material/search',
  ];
  const outcome = n % 50 === 7 ? 'error' : n % 15 === 3 ? 'denied' : 'allowed';
  const status = outcome === 'allowed' ? (n % 9 === 0 ? 201 : 200) : outcome === 'denied' ? 403 : 502;
  const backendMs = ((n * 7919) % 4000) / 100;
  const host = hosts[n % hosts.length]!;
  return {
    type: 'request',
    at: new Date(atMs).toISOString(),
    subaccountId,
    requestId: `bench-${n}`,
    app: `app-${n % 7}`,
    method: n % 4 === 0 ? 'POST' : 'GET',
    virtualHost: host,
    virtualPort: 443,
    path: `${paths[n % paths.length]!}?page=${n % 100}`,
    status,
    outcome,
    ...(outcome === 'denied' ? { reason: 'No resource allows this path.' } : {}),
    ...(outcome === 'error' ? { reason: 'The internal system did not answer in time.' } : {}),
    durationMs: backendMs + 3,
    user: `user${n % 13}@example.com`,
    internalHost: host.replace('.internal', '.corp.example'),
    internalPort: 8443,
    resource: paths[n % paths.length]!,
    bytesIn: 200 + (n % 800),
    bytesOut: 1000 + ((n * 31) % 40_000),
    timing: { relayMs: 1, tunnelMs: 1.5, connectMs: n % 10 === 0 ? 2 : 0, backendMs, totalMs: backendMs + 3 },
  };
}

/**
 * The event source, run in a Web Worker: events are built off the page's main thread and each
 * arrives as its own message, structured-cloned, the way the preload's IPC delivers them in
 * the app. Sends whatever is due every timer tick, so the rate holds even when ticks are late.
 */
export function emitterMain(): void {
  const scope = globalThis as unknown as WorkerScope;
  scope.onmessage = ({ data }) => {
    const total = Math.round(data.rate * data.seconds);
    const start = scope.performance.now();
    let sent = 0;
    const tick = () => {
      const due = Math.min(total, Math.floor(((scope.performance.now() - start) * data.rate) / 1000));
      const now = Date.now();
      for (; sent < due; sent += 1) scope.postMessage({ event: makeRequestEvent(sent, data.subaccountId, now) });
      if (sent < total) scope.setTimeout(tick, 1);
      else scope.postMessage({ done: sent });
    };
    tick();
  };
}

/** The init script: `window.skybridge` shaped as DesktopBridge (shared/ipc.ts), plus the bench hooks. */
export function installBridge(config: BridgeConfig): void {
  const w = globalThis as unknown as PageGlobals;
  if (w.top !== w) return;
  const calls: Record<string, number> = {};
  const listeners = new Map<string, Set<(payload: unknown) => void>>();

  const answer = (prefix: string, name: string, replies: Record<string, unknown>) => () => {
    const channel = `${prefix}:${name}`;
    calls[channel] = (calls[channel] ?? 0) + 1;
    // A fresh copy each time, like IPC: the page must not see its own edits in the next answer.
    return Promise.resolve(
      name in replies
        ? { ok: true, value: structuredClone(replies[name]) }
        : { ok: false, error: { code: 'unavailable', message: `${channel} is not answered in the UI benchmark.` } },
    );
  };
  const group = (prefix: string, names: string[], replies: Record<string, unknown>) =>
    Object.freeze(Object.fromEntries(names.map((name) => [name, answer(prefix, name, replies)])));

  const on = (channel: string, listener: (payload: unknown) => void) => {
    let set = listeners.get(channel);
    if (!set) listeners.set(channel, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  };

  let worker: WorkerLike | undefined;
  const stream = (rate: number, seconds: number) =>
    new Promise<number>((resolve, reject) => {
      worker ??= new w.Worker(config.workerUrl);
      worker.onerror = (e) => reject(new Error(`event source failed: ${e.message}`));
      worker.onmessage = ({ data }) => {
        if ('event' in data) {
          for (const listener of listeners.get('event:agent') ?? []) listener(data.event);
        } else {
          resolve(data.done);
        }
      };
      worker.postMessage({ rate, seconds, subaccountId: config.subaccountId } satisfies EmitterCommand);
    });

  w.skybridge = Object.freeze({
    version: config.version,
    platform: config.platform,
    api: group('api', config.apiMethods, config.apiReplies),
    shell: group('shell', config.shellMethods, config.shellReplies),
    on,
  });
  w.__skybridgeBench = { stream, calls };
}

/**
 * Shows that the page's CSP is in force (an inline script is refused) while the init script
 * still ran: Playwright injects it through the DevTools protocol, which CSP does not govern.
 */
export function probeCsp(): Promise<CspProbe> {
  const w = globalThis as unknown as PageGlobals;
  let violationReported = false;
  w.document.addEventListener('securitypolicyviolation', () => {
    violationReported = true;
  });
  const script = w.document.createElement('script');
  script.textContent = 'window.__inlineScriptRan = true;';
  w.document.head.appendChild(script);
  script.remove();
  return new Promise((resolve) => {
    // The violation event is queued as a task: let it arrive.
    w.setTimeout(() => resolve({ bridgePresent: typeof w.skybridge === 'object', inlineScriptRan: w.__inlineScriptRan === true, violationReported }), 100);
  });
}

/**
 * Measures the page for one stream (or `seconds` of idle when rate is 0): every animation
 * frame's time, long tasks, the table's row count and the DOM size sampled five times a
 * second, and the JS heap before and after.
 */
export async function measureInPage(options: { rate: number; seconds: number }): Promise<PageMeasurement> {
  const w = globalThis as unknown as PageGlobals;
  const hooks = w.__skybridgeBench;
  if (!hooks) throw new Error('the bench init script did not run');
  const tableRows = () => w.document.querySelector('[role="table"][aria-label="Live traffic"]')?.querySelectorAll('[role="row"]').length ?? 0;

  const stamps: number[] = [];
  let running = true;
  const onFrame = (time: number) => {
    stamps.push(time);
    if (running) w.requestAnimationFrame(onFrame);
  };
  const longTasks: number[] = [];
  const observer = new w.PerformanceObserver((list) => {
    for (const entry of list.getEntries()) longTasks.push(entry.duration);
  });
  observer.observe({ type: 'longtask' });
  let maxTableRows = 0;
  let maxDomNodes = 0;
  const sample = () => {
    maxTableRows = Math.max(maxTableRows, tableRows());
    maxDomNodes = Math.max(maxDomNodes, w.document.getElementsByTagName('*').length);
  };
  const sampler = w.setInterval(sample, 200);

  const heapStart = w.performance.memory?.usedJSHeapSize;
  const start = w.performance.now();
  w.requestAnimationFrame(onFrame);
  const sent =
    options.rate > 0
      ? await hooks.stream(options.rate, options.seconds)
      : await new Promise<number>((resolve) => w.setTimeout(() => resolve(0), options.seconds * 1000));
  const durationMs = w.performance.now() - start;
  running = false;
  w.clearInterval(sampler);
  sample();
  for (const entry of observer.takeRecords()) longTasks.push(entry.duration);
  observer.disconnect();

  return {
    rate: options.rate,
    sent,
    durationMs,
    frameIntervals: stamps.slice(1).map((t, i) => t - stamps[i]!),
    longTasks,
    maxTableRows,
    maxDomNodes,
    heapStart,
    heapEnd: w.performance.memory?.usedJSHeapSize,
  };
}

export function readHeap(): number | undefined {
  return (globalThis as unknown as PageGlobals).performance.memory?.usedJSHeapSize;
}

export function readBridgeCalls(): Record<string, number> {
  return { ...(globalThis as unknown as PageGlobals).__skybridgeBench?.calls };
}
