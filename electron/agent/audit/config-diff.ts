import type { AgentConfig, Subaccount } from '../../../shared/config.js';
import type { AuditType, ConfigChange } from '../../../shared/evidence.js';

/**
 * What changed between two configurations, as audit entries want it: grouped
 * by subaccount (each subaccount has its own audit level), with arrays keyed
 * by what identifies their items, and anything secret-looking masked.
 */

export interface ConfigChangeGroup {
  /** '' for installation-wide settings. */
  subaccount: string;
  type: Extract<AuditType, 'config-change' | 'pairing'>;
  object: string;
  reason: string;
  changes: ConfigChange[];
}

export const MASK = '***';
const SECRET_KEY = /(password|passwd|secret|token|credential|private|apikey|keypem|^key$)/i;
const SECRET_VALUE = /(-----BEGIN [A-Z ]*PRIVATE KEY-----|^sbt_|^Bearer\s)/;

/** Replaces secret-looking fields and values, at any depth. */
export function maskSecrets(value: unknown, keyName = ''): unknown {
  if (SECRET_KEY.test(keyName) && value !== undefined && value !== null && value !== '') return MASK;
  if (typeof value === 'string') return SECRET_VALUE.test(value) ? MASK : value;
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, maskSecrets(v, k)]));
  }
  return value;
}

const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Arrays of mappings and resources become objects keyed by their identity, so a reorder is no change and a path names the item. */
function keyed(value: unknown, field: string): unknown {
  if (Array.isArray(value)) {
    const idOf = (item: unknown): string | undefined => {
      if (!isPlain(item)) return undefined;
      if (field === 'systems' && 'virtualHost' in item) return `${String(item.virtualHost)}:${String(item.virtualPort)}`;
      if (field === 'resources' && 'path' in item) return String(item.path);
      if (field === 'subaccounts' && 'id' in item) return String(item.id);
      return undefined;
    };
    const ids = value.map(idOf);
    if (ids.every((id) => id !== undefined)) return Object.fromEntries(value.map((item, i) => [`[${ids[i]!}]`, keyed(item, '')]));
    return value;
  }
  if (isPlain(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, keyed(v, k)]));
  return value;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function join(base: string, key: string): string {
  if (key.startsWith('[')) return `${base}${key}`;
  return base ? `${base}.${key}` : key;
}

function diffInto(a: unknown, b: unknown, at: string, out: ConfigChange[], keyName = ''): void {
  if (same(a, b)) return;
  if (isPlain(a) && isPlain(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) diffInto(a[k], b[k], join(at, k), out, k.startsWith('[') ? keyName : k);
    return;
  }
  const change: ConfigChange = { path: at };
  if (a !== undefined) change.before = maskSecrets(a, keyName);
  if (b !== undefined) change.after = maskSecrets(b, keyName);
  out.push(change);
}

/** Field-level changes of one subaccount (paths relative to it), or of the installation settings. */
export function diffValues(before: unknown, after: unknown, field = ''): ConfigChange[] {
  const out: ConfigChange[] = [];
  diffInto(keyed(before, field), keyed(after, field), '', out);
  return out;
}

function summary(changes: ConfigChange[]): string {
  const top = [...new Set(changes.map((c) => /^systems\[[^\]]+\]/.exec(c.path)?.[0] ?? c.path.split('.')[0]!))];
  const shown = top.slice(0, 4).join(', ');
  return `${changes.length} change(s): ${shown}${top.length > 4 ? ', …' : ''}`;
}

export function diffConfigs(before: AgentConfig | undefined, after: AgentConfig): ConfigChangeGroup[] {
  const groups: ConfigChangeGroup[] = [];
  const { subaccounts: beforeSubs = [], ...beforeRest } = before ?? ({ subaccounts: [] } as Partial<AgentConfig>);
  const { subaccounts: afterSubs, ...afterRest } = after;
  const installation = before ? diffValues(stripHint(beforeRest), stripHint(afterRest)) : [];
  if (installation.length > 0) {
    groups.push({ subaccount: '', type: 'config-change', object: 'settings', reason: `installation settings changed: ${summary(installation)}`, changes: installation });
  }
  const old = new Map(beforeSubs.map((s) => [s.id, s]));
  const now = new Map(afterSubs.map((s) => [s.id, s]));
  for (const [id, sub] of now) {
    const prev = old.get(id);
    if (!prev) {
      groups.push({
        subaccount: id,
        type: 'pairing',
        object: `subaccount ${id}`,
        reason: `subaccount ${id} paired with ${sub.relayUrl} as connector ${sub.connectorId} (location "${sub.location}")`,
        changes: [{ path: '', after: maskSecrets(describe(sub)) }],
      });
      continue;
    }
    const changes = diffValues(prev, sub);
    if (changes.length === 0) continue;
    const repaired = prev.connectorId !== sub.connectorId || prev.relayUrl !== sub.relayUrl;
    groups.push({
      subaccount: id,
      type: repaired ? 'pairing' : 'config-change',
      object: `subaccount ${id}`,
      reason: repaired ? `subaccount ${id} paired again: now connector ${sub.connectorId} at ${sub.relayUrl}` : `subaccount ${id}: ${summary(changes)}`,
      changes,
    });
  }
  for (const [id, prev] of old) {
    if (now.has(id)) continue;
    groups.push({
      subaccount: id,
      type: 'config-change',
      object: `subaccount ${id}`,
      reason: `subaccount ${id} removed (it was connector ${prev.connectorId} at ${prev.relayUrl})`,
      changes: [{ path: '', before: maskSecrets(describe(prev)) }],
    });
  }
  return groups;
}

/** A subaccount as an entry shows it when it appears or goes: its identity and size, not every resource. */
function describe(s: Subaccount): Record<string, unknown> {
  return { id: s.id, name: s.name, relayUrl: s.relayUrl, tenantId: s.tenantId, location: s.location, connectorId: s.connectorId, enabled: s.enabled, audit: s.audit, systems: s.systems.map((y) => `${y.virtualHost}:${y.virtualPort}`) };
}

function stripHint(cfg: Partial<AgentConfig>): Partial<AgentConfig> {
  const { $schema: _hint, ...rest } = cfg;
  return rest;
}
