import type { z } from 'zod';
import {
  agentConfigSchema,
  formatIssues,
  hostnameSchema,
  portSchema,
  resourceSchema,
  systemKey,
  systemLabel,
  systemMappingIssues,
  systemSchema,
  virtualPortsOverlap,
  type AgentConfig,
  type Resource,
  type ResourceInput,
  type Subaccount,
  type SystemInput,
  type SystemMapping,
} from '../../shared/config.js';
import { ErrorCode, SkybridgeError } from '../../shared/errors.js';
import { canonicalResourcePath, normalizeRequestPath } from './access.js';

/**
 * Edits of the connector configuration shared by the CLI and the ConnectorApi.
 * Pure: each takes a config and returns a new one (the input is never
 * mutated), so ConfigStore.update can apply them under its lock and a failed
 * edit leaves nothing half-done.
 */

export type Edit<T> = { config: AgentConfig; result: T };

/**
 * The file schema plus the rules zod cannot see field by field: a virtual
 * system, a subaccount id or a resource path may appear only once, or the
 * allowlist would depend on the order of entries.
 */
export const validatedAgentConfigSchema = agentConfigSchema.superRefine((cfg, ctx) => {
  const ids = new Map<string, number>();
  cfg.subaccounts.forEach((sub, si) => {
    const prev = ids.get(sub.id);
    if (prev !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['subaccounts', si, 'id'], message: `"${sub.id}" is already used by subaccounts[${prev}]` });
    } else ids.set(sub.id, si);

    const keys = new Map<string, number>();
    sub.systems.forEach((sys, yi) => {
      const key = systemKey(sys);
      const prevSys = keys.get(key);
      if (prevSys !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['subaccounts', si, 'systems', yi, 'virtualHost'],
          message: `${key} is already mapped by systems[${prevSys}]`,
        });
      } else keys.set(key, yi);

      // TCP mappings: port ranges, fields that only make sense for one protocol family, and no two mappings sharing a port.
      for (const issue of systemMappingIssues(sys)) {
        ctx.addIssue({ code: 'custom', path: ['subaccounts', si, 'systems', yi, ...issue.path], message: issue.message });
      }
      const clash = sub.systems.findIndex((other, oi) => oi < yi && systemKey(other) !== key && virtualPortsOverlap(other, sys));
      if (clash !== -1) {
        ctx.addIssue({
          code: 'custom',
          path: ['subaccounts', si, 'systems', yi, 'virtualPort'],
          message: `${systemLabel(sys)} overlaps ${systemLabel(sub.systems[clash]!)} (systems[${clash}])`,
        });
      }

      const paths = new Map<string, number>();
      sys.resources.forEach((res, ri) => {
        const canonical = canonicalResourcePath(res.path);
        if (canonical === undefined) {
          const n = normalizeRequestPath(res.path);
          ctx.addIssue({
            code: 'custom',
            path: ['subaccounts', si, 'systems', yi, 'resources', ri, 'path'],
            message: n.ok ? 'a path without a query' : n.reason,
          });
          return;
        }
        const prevRes = paths.get(canonical);
        if (prevRes !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['subaccounts', si, 'systems', yi, 'resources', ri, 'path'],
            message: `${res.path} is already listed as resources[${prevRes}]`,
          });
        } else paths.set(canonical, ri);
      });
    });
  });
  if (cfg.tunnel.reconnectMinMs > cfg.tunnel.reconnectMaxMs) {
    ctx.addIssue({ code: 'custom', path: ['tunnel', 'reconnectMinMs'], message: 'must not exceed tunnel.reconnectMaxMs' });
  }
  if (cfg.tunnel.heartbeatTimeoutMs <= cfg.tunnel.heartbeatIntervalMs) {
    ctx.addIssue({ code: 'custom', path: ['tunnel', 'heartbeatTimeoutMs'], message: 'must be longer than tunnel.heartbeatIntervalMs' });
  }
});

export type ConfigCheck = { ok: true; config: AgentConfig } | { ok: false; issues: string };

/** Validates a whole config; `issues` names every bad field on one line, separated by "; ". */
export function checkAgentConfig(raw: unknown): ConfigCheck {
  const r = validatedAgentConfigSchema.safeParse(raw);
  return r.success ? { ok: true, config: r.data } : { ok: false, issues: oneLine(r.error) };
}

function oneLine(error: z.ZodError): string {
  return formatIssues(error).split('\n').join('; ');
}

function invalid(message: string): SkybridgeError {
  return new SkybridgeError(ErrorCode.InvalidInput, message);
}

export function parseHostPort(text: string): { host: string; port: number } {
  const m = /^([^:\s]+):(\d{1,5})$/.exec(text.trim());
  const host = m ? hostnameSchema.safeParse(m[1]) : undefined;
  const port = m ? portSchema.safeParse(Number(m[2])) : undefined;
  if (!host?.success || !port?.success) {
    throw invalid(`"${text}" is not a virtual system: expected HOST:PORT, e.g. erp.virtual:443`);
  }
  return { host: host.data, port: port.data };
}

export function resolveSubaccount(cfg: AgentConfig, id?: string): Subaccount {
  const ids = cfg.subaccounts.map((s) => s.id);
  if (id !== undefined) {
    const found = cfg.subaccounts.find((s) => s.id === id);
    if (found) return found;
    const known = ids.length ? `; paired subaccounts: ${ids.join(', ')}` : "; none is paired yet, run 'skybridge agent pair CODE' first";
    throw new SkybridgeError(ErrorCode.NotFound, `no subaccount "${id}" is paired${known}`);
  }
  const [only, ...rest] = cfg.subaccounts;
  if (!only) throw new SkybridgeError(ErrorCode.NotFound, "no subaccount is paired yet; run 'skybridge agent pair CODE' first");
  if (rest.length) {
    throw invalid(`several subaccounts are paired (${ids.join(', ')}); pass --subaccount ID to choose one`);
  }
  return only;
}

/** Locates a system inside a copy of the config so the caller can edit it in place. */
function locate(cfg: AgentConfig, subaccountId: string | undefined, key: string) {
  const config = structuredClone(cfg);
  const sub = resolveSubaccount(config, subaccountId);
  const { host, port } = parseHostPort(key);
  const index = sub.systems.findIndex((s) => s.virtualHost.toLowerCase() === host && s.virtualPort === port);
  if (index === -1) {
    throw new SkybridgeError(ErrorCode.NotFound, `no system ${host}:${port} is mapped in subaccount "${sub.id}"`);
  }
  return { config, sub, index, system: sub.systems[index] as SystemMapping };
}

/** Re-validates the whole edited config, so an edit can never produce a file the store would refuse. */
function finish<T>(config: AgentConfig, pick: (cfg: AgentConfig) => T): Edit<T> {
  const checked = checkAgentConfig(config);
  if (!checked.ok) throw invalid(`the change would make the configuration invalid: ${checked.issues}`);
  return { config: checked.config, result: pick(checked.config) };
}

function findSystem(cfg: AgentConfig, subId: string, key: string): SystemMapping {
  const sub = cfg.subaccounts.find((s) => s.id === subId);
  const sys = sub?.systems.find((s) => systemKey(s).toLowerCase() === key.toLowerCase());
  if (!sys) throw new Error(`internal: ${key} vanished from subaccount ${subId}`);
  return sys;
}

export function addSystem(cfg: AgentConfig, subaccountId: string | undefined, input: SystemInput): Edit<SystemMapping> {
  const config = structuredClone(cfg);
  const sub = resolveSubaccount(config, subaccountId);
  const parsed = systemSchema.safeParse(input);
  if (!parsed.success) throw invalid(`the system is invalid: ${oneLine(parsed.error)}`);
  const system = parsed.data;
  const key = systemKey(system);
  if (sub.systems.some((s) => systemKey(s) === key)) {
    throw new SkybridgeError(ErrorCode.Conflict, `system ${key} is already mapped in subaccount "${sub.id}"; update or remove it instead`);
  }
  system.resources = system.resources.map((r) => ({ ...r, path: canonicalResourcePath(r.path) ?? r.path }));
  sub.systems.push(system);
  return finish(config, (c) => findSystem(c, sub.id, key));
}

/** Fields an update may change; the virtual host:port is the system's identity and resources have their own edits. */
const PATCHABLE = ['internalHost', 'internalPort', 'protocol', 'hostHeader', 'caFile', 'connectTimeoutMs', 'responseTimeoutMs', 'description'] as const;
const CLEARABLE = new Set<string>(['caFile', 'description']);

export type SystemPatch = Partial<Pick<SystemInput, Exclude<(typeof PATCHABLE)[number], 'caFile' | 'description'>>> & {
  /** null removes the setting. */
  caFile?: string | null;
  description?: string | null;
};

export function updateSystem(cfg: AgentConfig, subaccountId: string | undefined, key: string, patch: SystemPatch): Edit<SystemMapping> {
  const { config, sub, index, system } = locate(cfg, subaccountId, key);
  const merged: Record<string, unknown> = { ...system };
  for (const [field, value] of Object.entries(patch)) {
    if (!(PATCHABLE as readonly string[]).includes(field)) {
      throw invalid(
        `"${field}" cannot be changed by an update; changeable fields are ${PATCHABLE.join(', ')} ` +
          '(to change the virtual host or port, remove the system and add it again)',
      );
    }
    if (value === undefined) continue;
    if (value === null) {
      if (!CLEARABLE.has(field)) throw invalid(`"${field}" cannot be cleared, only changed`);
      delete merged[field];
    } else merged[field] = value;
  }
  const parsed = systemSchema.safeParse(merged);
  if (!parsed.success) throw invalid(`system ${systemKey(system)} would be invalid: ${oneLine(parsed.error)}`);
  sub.systems[index] = parsed.data;
  return finish(config, (c) => findSystem(c, sub.id, systemKey(system)));
}

export function removeSystem(cfg: AgentConfig, subaccountId: string | undefined, key: string): Edit<SystemMapping> {
  const { config, sub, index, system } = locate(cfg, subaccountId, key);
  sub.systems.splice(index, 1);
  return finish(config, () => system);
}

export function addResource(cfg: AgentConfig, subaccountId: string | undefined, key: string, input: ResourceInput): Edit<SystemMapping> {
  const { config, sub, system } = locate(cfg, subaccountId, key);
  const parsed = resourceSchema.safeParse(input);
  if (!parsed.success) throw invalid(`the resource is invalid: ${oneLine(parsed.error)}`);
  const canonical = canonicalResourcePath(parsed.data.path);
  if (canonical === undefined) {
    const n = normalizeRequestPath(parsed.data.path);
    throw invalid(`the resource is invalid: path: ${n.ok ? 'a path without a query' : n.reason}`);
  }
  if (system.resources.some((r) => (canonicalResourcePath(r.path) ?? r.path) === canonical)) {
    throw new SkybridgeError(
      ErrorCode.Conflict,
      `resource ${canonical} already exists on system ${systemKey(system)}; remove it first to change it`,
    );
  }
  system.resources.push({ ...parsed.data, path: canonical });
  return finish(config, (c) => findSystem(c, sub.id, systemKey(system)));
}

export type ResourcePatch = Partial<Pick<ResourceInput, 'subPaths' | 'websocket' | 'enabled'>> & {
  /** null removes the setting: for methods that means all methods again. */
  methods?: ResourceInput['methods'] | null;
  description?: string | null;
};

/** Changes a resource in place (e.g. switching it off) without losing its position or other settings. */
export function updateResource(
  cfg: AgentConfig,
  subaccountId: string | undefined,
  key: string,
  path: string,
  patch: ResourcePatch,
): Edit<SystemMapping> {
  const { config, sub, system } = locate(cfg, subaccountId, key);
  const index = resourceIndex(system, path);
  const merged: Record<string, unknown> = { ...system.resources[index] };
  for (const [field, value] of Object.entries(patch)) {
    if (!['subPaths', 'methods', 'websocket', 'enabled', 'description'].includes(field)) {
      throw invalid(`"${field}" cannot be changed by an update; remove the resource and add it again`);
    }
    if (value === undefined) continue;
    if (value === null) delete merged[field];
    else merged[field] = value;
  }
  const parsed = resourceSchema.safeParse(merged);
  if (!parsed.success) throw invalid(`resource ${path} would be invalid: ${oneLine(parsed.error)}`);
  system.resources[index] = parsed.data;
  return finish(config, (c) => findSystem(c, sub.id, systemKey(system)));
}

export function removeResource(cfg: AgentConfig, subaccountId: string | undefined, key: string, path: string): Edit<SystemMapping> {
  const { config, sub, system } = locate(cfg, subaccountId, key);
  system.resources.splice(resourceIndex(system, path), 1);
  return finish(config, (c) => findSystem(c, sub.id, systemKey(system)));
}

function resourceIndex(system: SystemMapping, path: string): number {
  const wanted = canonicalResourcePath(path) ?? path;
  const index = system.resources.findIndex((r: Resource) => (canonicalResourcePath(r.path) ?? r.path) === wanted);
  if (index === -1) {
    const known = system.resources.map((r) => r.path);
    throw new SkybridgeError(
      ErrorCode.NotFound,
      `no resource ${path} on system ${systemKey(system)}` + (known.length ? `; its resources are ${known.join(', ')}` : '; it has no resources'),
    );
  }
  return index;
}
