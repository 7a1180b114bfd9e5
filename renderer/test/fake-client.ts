/**
 * An in-memory connector for component tests. Every API method is a `vi.fn` with a small
 * stateful default (adding a system makes listSystems return it, disconnecting changes the
 * state), so a test can drive a page like a user and still override one method:
 *
 *   const client = createFakeClient();
 *   client.api.addSystem.mockRejectedValueOnce(new ApiError('CONFLICT', 'That virtual host is taken.'));
 *   renderWithClient(<SystemsPage />, { client });
 *   client.emit({ type: 'subaccount-state', subaccountId: 'acme', status: { state: 'failed', reconnects: 3 } });
 *
 * `createFakeClient({ kind: 'web' })` adds the session methods SignInGate uses; `{ shell: true }`
 * adds a desktop shell (start at login, export dialog).
 */
import { createElement, type ReactElement } from 'react';
import { act, render, type RenderResult } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { Router } from 'wouter';
import { memoryLocation } from 'wouter/memory-location';
import { vi, type Mock } from 'vitest';
import type { AgentEvent, AgentSettings, ApiInput, ApiOutput, ConnectorApiMethod, SubaccountSummary, TunnelStatus } from '../../shared/api.js';
import type { AuditEntry, TrafficRecord } from '../../shared/evidence.js';
import type { IpcResult, ShellSettings } from '../../shared/ipc.js';
import type { SessionInfo } from '../../shared/web-api.js';
import { ApiError, type Client } from '../src/api/client.js';
import { ClientProvider } from '../src/api/context.js';
import { SelectedSubaccountProvider } from '../src/components/selected-subaccount.js';

export type System = ApiOutput<'listSystems'>[number];
type ApiMocks = { [M in ConnectorApiMethod]: Mock<(input: ApiInput<M>) => Promise<ApiOutput<M>>> };
type ShellMocks = { [K in keyof NonNullable<Client['shell']>]: Mock<NonNullable<Client['shell']>[K]> };

/** What the fake connector holds; every field can be replaced through createFakeClient({ data }). */
export interface FakeData {
  subaccounts: SubaccountSummary[];
  /** Systems per subaccount id. */
  systems: Record<string, System[]>;
  settings: AgentSettings;
  audit: AuditEntry[];
  traffic: TrafficRecord[];
}

export interface FakeClient extends Client {
  /** One mock per ConnectorApi method; `client.call(m, input)` goes through `client.api[m]`. */
  readonly api: ApiMocks;
  /** The live state behind the defaults; tests may read or change it. */
  readonly data: FakeData;
  /** Delivers a live event to every subscriber (wrapped in act()). React Query re-renders on a later tick: assert with `await screen.findBy…`. */
  emit(event: AgentEvent): void;
  /** How many listeners are subscribed right now. */
  listenerCount(): number;
  readonly shell?: Client['shell'];
  readonly shellMocks?: ShellMocks;
  // Web mode only (kind 'web'): the WebClient session surface SignInGate uses.
  session?: Mock<() => Promise<SessionInfo>>;
  signIn?: Mock<(password: string, user?: string) => Promise<SessionInfo>>;
  signOut?: Mock<() => Promise<void>>;
  changePassword?: Mock<(current: string, next: string) => Promise<SessionInfo>>;
  bundleUrl?: (fileName: string) => string;
  onSignedOut?: (() => void) | undefined;
  /** Web mode: the server forgets the session and the client reports it, as WebClient does on a 401. */
  expireSession?: () => void;
}

export function fakeStatus(state: TunnelStatus['state'], extra: Partial<TunnelStatus> = {}): TunnelStatus {
  return {
    state,
    reconnects: 0,
    ...(state === 'connected' ? { connectedSince: new Date(Date.now() - 3_600_000).toISOString(), rttMs: 12 } : {}),
    ...extra,
  };
}

export function fakeSubaccount(overrides: Partial<SubaccountSummary> = {}): SubaccountSummary {
  return {
    id: 'acme',
    name: 'ACME Production',
    relayUrl: 'https://relay.example.com',
    tenantId: 'acme',
    location: 'berlin',
    connectorId: 'conn-1',
    enabled: true,
    systemCount: 1,
    certificateNotAfter: new Date(Date.now() + 200 * 86_400_000).toISOString(),
    status: fakeStatus('connected'),
    ...overrides,
  };
}

export function fakeSystem(overrides: Partial<System> = {}): System {
  return {
    virtualHost: 'erp.virtual',
    virtualPort: 443,
    internalHost: 'erp.internal',
    internalPort: 8443,
    protocol: 'https',
    hostHeader: 'virtual',
    connectTimeoutMs: 10_000,
    responseTimeoutMs: 60_000,
    resources: [{ path: '/odata', subPaths: true, websocket: false, enabled: true }],
    ...overrides,
  };
}

export function fakeTraffic(overrides: Partial<TrafficRecord> = {}): TrafficRecord {
  return {
    at: new Date().toISOString(),
    subaccountId: 'acme',
    requestId: `r-${Math.random().toString(36).slice(2, 10)}`,
    app: 'billing',
    method: 'GET',
    virtualHost: 'erp.virtual',
    virtualPort: 443,
    path: '/odata/Orders',
    status: 200,
    outcome: 'allowed',
    durationMs: 42,
    ...overrides,
  };
}

export function fakeAuditEntry(overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    seq: 1,
    time: new Date().toISOString(),
    subaccount: 'acme',
    type: 'access-denied',
    actor: { kind: 'cloud-app', app: 'billing' },
    target: { virtual: 'erp.virtual:443', method: 'GET', path: '/admin' },
    outcome: 'denied',
    reason: 'No resource allows /admin.',
    status: 403,
    prev: '0'.repeat(64),
    mac: 'a'.repeat(64),
    ...overrides,
  };
}

function emptyMinutes(): ApiOutput<'dashboard'>['subaccounts'][number]['minutes'] {
  const now = Math.floor(Date.now() / 60_000) * 60_000;
  return Array.from({ length: 30 }, (_, i) => ({
    minute: new Date(now - (29 - i) * 60_000).toISOString(),
    requests: 0,
    errors: 0,
    denied: 0,
    bytesIn: 0,
    bytesOut: 0,
  }));
}

const clone = <T>(value: T): T => structuredClone(value);

export interface FakeClientOptions {
  kind?: 'desktop' | 'web';
  /** Add a desktop shell (only meaningful with kind 'desktop'). */
  shell?: boolean | Partial<ShellSettings>;
  data?: Partial<FakeData>;
  /** Web mode: the session SignInGate finds on load (default: signed out). */
  session?: SessionInfo;
  /** Web mode: the admin password signIn accepts (default 'initial-password'). */
  password?: string;
  /** Web mode: whether signing in with it forces a password change (default true, like a fresh install). */
  mustChangePassword?: boolean;
}

export function createFakeClient(options: FakeClientOptions = {}): FakeClient {
  const subaccounts = options.data?.subaccounts ?? [fakeSubaccount()];
  const data: FakeData = {
    subaccounts,
    systems: options.data?.systems ?? Object.fromEntries(subaccounts.map((s) => [s.id, s.systemCount > 0 ? [fakeSystem()] : []])),
    settings: options.data?.settings ?? {
      auditRetentionDays: 90,
      subaccounts: subaccounts.map((s) => ({ id: s.id, name: s.name, audit: 'security' as const })),
    },
    audit: options.data?.audit ?? [],
    traffic: options.data?.traffic ?? [],
  };
  const listeners = new Set<(event: AgentEvent) => void>();
  const emitRaw = (event: AgentEvent) => {
    for (const l of [...listeners]) l(event);
  };

  function pick(subaccount: string | undefined): SubaccountSummary {
    const found = subaccount === undefined ? (data.subaccounts.length === 1 ? data.subaccounts[0] : undefined) : data.subaccounts.find((s) => s.id === subaccount);
    if (!found) {
      throw subaccount === undefined
        ? new ApiError('INVALID_INPUT', 'Name the subaccount: there is more than one.')
        : new ApiError('NOT_FOUND', `There is no subaccount "${subaccount}".`);
    }
    return found;
  }
  function systemsOf(subaccount: string | undefined): System[] {
    const id = pick(subaccount).id;
    return (data.systems[id] ??= []);
  }
  function findSystem(subaccount: string | undefined, key: string): System {
    const system = systemsOf(subaccount).find((s) => `${s.virtualHost}:${s.virtualPort}` === key);
    if (!system) throw new ApiError('NOT_FOUND', `There is no system ${key}.`);
    return system;
  }

  const impl: { [M in ConnectorApiMethod]: (input: ApiInput<M>) => Promise<ApiOutput<M>> } = {
    listSubaccounts: async () => clone(data.subaccounts),
    listSystems: async ({ subaccount }) => clone(systemsOf(subaccount)),
    addSystem: async ({ subaccount, system }) => {
      const list = systemsOf(subaccount);
      if (list.some((s) => s.virtualHost === system.virtualHost && s.virtualPort === system.virtualPort)) {
        throw new ApiError('CONFLICT', `A system ${system.virtualHost}:${system.virtualPort} already exists.`);
      }
      const added = fakeSystem({ resources: [], ...(system as Partial<System>) });
      list.push(added);
      pick(subaccount).systemCount = list.length;
      return clone(added);
    },
    updateSystem: async ({ subaccount, system, patch }) => {
      const found = findSystem(subaccount, system);
      Object.assign(found, patch);
      return clone(found);
    },
    removeSystem: async ({ subaccount, system }) => {
      const list = systemsOf(subaccount);
      const found = findSystem(subaccount, system);
      list.splice(list.indexOf(found), 1);
      pick(subaccount).systemCount = list.length;
      return { removed: true as const };
    },
    addResource: async ({ subaccount, system, resource }) => {
      const found = findSystem(subaccount, system);
      if (found.resources.some((r) => r.path === resource.path)) throw new ApiError('CONFLICT', `The resource ${resource.path} already exists.`);
      found.resources.push({ subPaths: false, websocket: false, enabled: true, ...resource });
      return clone(found);
    },
    removeResource: async ({ subaccount, system, path }) => {
      const found = findSystem(subaccount, system);
      found.resources = found.resources.filter((r) => r.path !== path);
      return clone(found);
    },
    updateResource: async ({ subaccount, system, path, patch }) => {
      const found = findSystem(subaccount, system);
      const resource = found.resources.find((r) => r.path === path);
      if (!resource) throw new ApiError('NOT_FOUND', `There is no resource ${path}.`);
      Object.assign(resource, patch);
      return clone(found);
    },
    checkAvailability: async ({ subaccount, system }) => {
      const found = findSystem(subaccount, system);
      return { system, internal: `${found.internalHost}:${found.internalPort}`, reachable: true, status: 200, ms: 3, checkedAt: new Date().toISOString() };
    },
    importCaCertificate: async ({ pem }) => {
      const count = pem.split('-----BEGIN CERTIFICATE-----').length - 1;
      if (count === 0) throw new ApiError('INVALID_INPUT', 'That is not a usable CA certificate: it holds no PEM certificate (a block beginning with -----BEGIN CERTIFICATE-----).');
      // Named by content like the agent's store, so the same upload gives the same path.
      let hash = 0;
      for (const ch of pem.replace(/\s+/g, '')) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
      return {
        caFile: `/var/lib/skybridge/trusted-ca/${hash.toString(16).padStart(8, '0').repeat(4)}.pem`,
        subject: 'O=Example Corp, CN=Example Corp Root CA',
        fingerprintSha256: Array.from({ length: 32 }, () => 'C4').join(':'),
        notAfter: new Date(Date.now() + 5 * 365 * 86_400_000).toISOString(),
        certificates: count,
      };
    },
    testAccess: async ({ subaccount, method = 'GET', host, port, target }) => {
      const system = systemsOf(subaccount).find((s) => s.virtualHost === host && s.virtualPort === port);
      if (!system) return { allowed: false, reason: `No system is mapped to ${host}:${port}.`, status: 403 };
      const path = target.split('?')[0] ?? target;
      const resource = system.resources.find((r) => r.enabled && (path === r.path || (r.subPaths && path.startsWith(`${r.path === '/' ? '' : r.path}/`))));
      const key = `${host}:${port}`;
      if (!resource) return { allowed: false, reason: `No resource of ${key} allows ${path}.`, system: key, path, status: 403 };
      if (resource.methods && !resource.methods.includes(method)) {
        return { allowed: false, reason: `${method} is not allowed on ${resource.path}.`, system: key, resource, path, status: 403 };
      }
      return { allowed: true, reason: `Allowed by ${resource.path}${resource.subPaths ? ' and below' : ''}.`, system: key, resource, path };
    },
    pairSubaccount: async ({ code, name }) => {
      if (!code.startsWith('SKY-')) throw new ApiError('PAIRING_CODE_MALFORMED', 'That is not a pairing code. Copy the whole code from the relay.');
      const added = fakeSubaccount({ id: `tenant-${data.subaccounts.length + 1}`, name: name ?? 'New subaccount', systemCount: 0, status: fakeStatus('connecting') });
      data.subaccounts.push(added);
      data.systems[added.id] = [];
      data.settings.subaccounts.push({ id: added.id, name: added.name, audit: 'security' });
      return clone(added);
    },
    certificateDetails: async ({ subaccount }) => {
      const s = pick(subaccount);
      const notAfter = s.certificateNotAfter ?? new Date(Date.now() + 365 * 86_400_000).toISOString();
      return {
        subaccount: s.id,
        subject: `CN=${s.connectorId}`,
        issuer: `CN=Skybridge relay CA (${s.tenantId})`,
        serialNumber: '0A:1B:2C',
        notBefore: new Date(Date.now() - 30 * 86_400_000).toISOString(),
        notAfter,
        daysLeft: Math.floor((Date.parse(notAfter) - Date.now()) / 86_400_000),
        fingerprintSha256: Array.from({ length: 32 }, () => 'AB').join(':'),
        subjectAltNames: [`urn:skybridge:tenant:${s.tenantId}`, `urn:skybridge:location:${s.location}`],
      };
    },
    renewCertificate: async ({ subaccount }) => {
      const s = pick(subaccount);
      s.certificateNotAfter = new Date(Date.now() + 365 * 86_400_000).toISOString();
      return impl.certificateDetails({ subaccount });
    },
    dashboard: async () => ({
      agentStartedAt: new Date(Date.now() - 7_200_000).toISOString(),
      version: '0.1.0',
      subaccounts: data.subaccounts.map((s) => ({ ...clone(s), minutes: emptyMinutes() })),
    }),
    getSettings: async () => clone(data.settings),
    setAuditLevel: async ({ subaccount, level }) => {
      const entry = data.settings.subaccounts.find((s) => s.id === subaccount);
      if (!entry) throw new ApiError('NOT_FOUND', `There is no subaccount "${subaccount}".`);
      entry.audit = level;
      return clone(data.settings);
    },
    setAuditRetention: async ({ days }) => {
      data.settings.auditRetentionDays = days;
      return clone(data.settings);
    },
    setSubaccountEnabled: async ({ subaccount, enabled }) => {
      const s = pick(subaccount);
      s.enabled = enabled;
      s.status = fakeStatus(enabled ? 'connecting' : 'disconnected');
      return clone(s);
    },
    removeSubaccount: async ({ subaccount, confirm }) => {
      const s = pick(subaccount);
      if (confirm !== s.id) throw new ApiError('INVALID_INPUT', `Type the subaccount id "${s.id}" to confirm.`);
      data.subaccounts = data.subaccounts.filter((x) => x !== s);
      delete data.systems[s.id];
      data.settings.subaccounts = data.settings.subaccounts.filter((x) => x.id !== s.id);
      return { removed: true as const };
    },
    listAudit: async ({ types, text, subaccount, limit }) => {
      let list = data.audit.filter((e) => (!types || types.includes(e.type)) && (!subaccount || e.subaccount === subaccount));
      if (text) list = list.filter((e) => JSON.stringify(e).toLowerCase().includes(text.toLowerCase()));
      return clone(limit ? list.slice(-limit) : list);
    },
    verifyAudit: async () => ({
      ok: true,
      files: 1,
      entries: data.audit.length,
      ...(data.audit.length ? { firstSeq: data.audit[0]!.seq, lastSeq: data.audit[data.audit.length - 1]!.seq } : {}),
      problems: [],
      warnings: [],
      relaysChecked: [],
    }),
    recentTraffic: async ({ subaccount, outcome, text, limit }) => {
      let list = data.traffic.filter((r) => (!subaccount || r.subaccountId === subaccount) && (!outcome || r.outcome === outcome));
      if (text) list = list.filter((r) => `${r.path} ${r.app} ${r.reason ?? ''}`.toLowerCase().includes(text.toLowerCase()));
      return clone(limit ? list.slice(-limit) : list);
    },
    trafficStats: async () => ({
      since: new Date(Date.now() - 3_600_000).toISOString(),
      bucketsMs: [10, 25, 50, 100, 250, 500, 1000, 2500, 5000],
      systems: [],
      resources: [],
      topConsumers: [],
      slowest: [],
    }),
    usageStats: async () => [],
    exportSupportBundle: async ({ out }) => ({
      file: out,
      bytes: 20_480,
      files: ['config.json', 'audit/audit-0001.jsonl', 'logs/agent.log'],
      auditEntries: data.audit.length,
    }),
  };

  const api = Object.fromEntries(Object.entries(impl).map(([name, fn]) => [name, vi.fn(fn)])) as unknown as ApiMocks;

  const client: FakeClient = {
    kind: options.kind ?? 'desktop',
    api,
    data,
    call(method, input) {
      return (api[method] as unknown as (input: unknown) => Promise<never>)(input);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit(event) {
      // The agent's own state changes first, so a later refetch agrees with the event.
      if (event.type === 'subaccount-state') {
        const s = data.subaccounts.find((x) => x.id === event.subaccountId);
        if (s) s.status = clone(event.status);
      }
      act(() => emitRaw(event));
    },
    listenerCount: () => listeners.size,
  };

  if (options.shell && client.kind === 'desktop') {
    const shellSettings: ShellSettings = {
      startAtLogin: false,
      notifications: true,
      secureStorage: true,
      secureStorageBackend: 'gnome_libsecret',
      ...(typeof options.shell === 'object' ? options.shell : {}),
    };
    const ok = <T>(value: T): Promise<IpcResult<T>> => Promise.resolve({ ok: true, value });
    const shellMocks: ShellMocks = {
      getState: vi.fn(() => ok({ overall: 'connected' as const, agent: 'running' as const })),
      getSettings: vi.fn(() => ok({ ...shellSettings })),
      setSettings: vi.fn((input) => {
        Object.assign(shellSettings, input);
        return ok({ ...shellSettings });
      }),
      exportBundle: vi.fn(() => ok({ file: '/home/admin/skybridge-support.zip', bytes: 20_480, auditEntries: 3 })),
      showItemInFolder: vi.fn(() => ok({ shown: true })),
    };
    Object.assign(client, { shell: shellMocks, shellMocks });
  }

  if (client.kind === 'web') {
    let password = options.password ?? 'initial-password';
    let mustChange = options.mustChangePassword ?? true;
    let current: SessionInfo = options.session ?? { signedIn: false };
    const signedIn = (): SessionInfo => ({
      signedIn: true,
      user: 'admin',
      mustChangePassword: mustChange,
      csrfToken: 'csrf-token',
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    // Like WebClient: every 401 also tells onSignedOut.
    const unauthorized = (error: ApiError): never => {
      client.onSignedOut?.();
      throw error;
    };
    client.session = vi.fn(async () => clone(current));
    client.signIn = vi.fn(async (given: string) => {
      if (given !== password) return unauthorized(new ApiError('WRONG_PASSWORD', 'Wrong user name or password.', 401));
      current = signedIn();
      return clone(current);
    });
    client.changePassword = vi.fn(async (given: string, next: string) => {
      if (given !== password) throw new ApiError('WRONG_PASSWORD', 'The current password is wrong.', 403);
      password = next;
      mustChange = false;
      current = signedIn();
      return clone(current);
    });
    client.signOut = vi.fn(async () => {
      current = { signedIn: false };
    });
    client.expireSession = () => {
      current = { signedIn: false };
      act(() => client.onSignedOut?.());
    };
    client.bundleUrl = (fileName: string) => `/api/bundles/${encodeURIComponent(fileName)}`;
  }
  return client;
}

export interface RenderOptions {
  client?: FakeClient;
  /** Hash route the page is rendered at (default '/'). */
  path?: string;
}

/**
 * Renders `ui` the way main.tsx does (React Query, the client, the shared subaccount choice,
 * a router), with retries off so a rejected call shows its error at once.
 */
export function renderWithClient(ui: ReactElement, options: RenderOptions = {}): RenderResult & { client: FakeClient; queryClient: QueryClient } {
  const client = options.client ?? createFakeClient();
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false, refetchOnWindowFocus: false }, mutations: { retry: false } } });
  const { hook } = memoryLocation({ path: options.path ?? '/' });
  const routed = createElement(Router, { hook, children: ui });
  const tree = createElement(
    QueryClientProvider,
    { client: queryClient },
    createElement(ClientProvider, { client, children: createElement(SelectedSubaccountProvider, { children: routed }) }),
  );
  return { ...render(tree), client, queryClient };
}
