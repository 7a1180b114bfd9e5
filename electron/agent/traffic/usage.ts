import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { AgentConfig } from '../../../shared/config.js';
import type { TrafficRecord, UsageRow } from '../../../shared/evidence.js';

export const TRAFFIC_DIR = 'traffic';
export const USAGE_FILE = 'usage.json';

const counterSchema = z.object({ calls: z.int(), bytesIn: z.int(), bytesOut: z.int(), lastAccess: z.string().optional() });
const usageFileSchema = z.object({ version: z.literal(1), since: z.string(), counters: z.record(z.string(), counterSchema) });
type Counter = z.infer<typeof counterSchema>;

/** `sub \0 system` or `sub \0 system \0 resource`. */
const keyOf = (sub: string, system: string, resource?: string) => (resource === undefined ? `${sub}\u0000${system}` : `${sub}\u0000${system}\u0000${resource}`);

/**
 * Usage per system and resource (calls, bytes, last access), kept in
 * `traffic/usage.json` across restarts, so an administrator can find mappings
 * nobody uses. Saved every few seconds when it changed, and on stop.
 */
export class UsageStore {
  readonly file: string;
  private counters = new Map<string, Counter>();
  private since = new Date().toISOString();
  private dirty = false;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, TRAFFIC_DIR, USAGE_FILE);
  }

  static load(dataDir: string): UsageStore {
    const store = new UsageStore(dataDir);
    try {
      const parsed = usageFileSchema.safeParse(JSON.parse(fs.readFileSync(store.file, 'utf8')));
      if (parsed.success) {
        store.since = parsed.data.since;
        store.counters = new Map(Object.entries(parsed.data.counters));
      }
    } catch {
      // none yet, or unreadable: start counting now
    }
    return store;
  }

  /** Counts a request that reached a mapping (denials that matched no resource count for the system only). */
  record(r: TrafficRecord): void {
    if (r.outcome === 'denied' && r.resource === undefined && r.internalHost === undefined) return;
    const system = `${r.virtualHost}:${r.virtualPort}`;
    this.bump(keyOf(r.subaccountId, system), r);
    if (r.resource !== undefined) this.bump(keyOf(r.subaccountId, system, r.resource), r);
    this.dirty = true;
  }

  private bump(key: string, r: TrafficRecord): void {
    const c = this.counters.get(key) ?? { calls: 0, bytesIn: 0, bytesOut: 0 };
    c.calls += 1;
    c.bytesIn += r.bytesIn ?? 0;
    c.bytesOut += r.bytesOut ?? 0;
    if (!c.lastAccess || r.at > c.lastAccess) c.lastAccess = r.at;
    this.counters.set(key, c);
  }

  /** Every configured system and resource (unused ones with zero calls), plus removed ones that still have counts. */
  rows(cfg: AgentConfig, subaccount?: string): UsageRow[] {
    const rows: UsageRow[] = [];
    const seen = new Set<string>();
    const row = (sub: string, system: string, resource: string | undefined, configured: boolean): UsageRow => {
      const key = keyOf(sub, system, resource);
      seen.add(key);
      const c = this.counters.get(key);
      return { subaccount: sub, system, ...(resource !== undefined ? { resource } : {}), calls: c?.calls ?? 0, bytesIn: c?.bytesIn ?? 0, bytesOut: c?.bytesOut ?? 0, ...(c?.lastAccess ? { lastAccess: c.lastAccess } : {}), configured };
    };
    for (const s of cfg.subaccounts) {
      if (subaccount !== undefined && s.id !== subaccount) continue;
      for (const y of s.systems) {
        const system = `${y.virtualHost}:${y.virtualPort}`;
        rows.push(row(s.id, system, undefined, true));
        for (const r of y.resources) rows.push(row(s.id, system, r.path, true));
      }
    }
    for (const key of this.counters.keys()) {
      if (seen.has(key)) continue;
      const [sub, system, resource] = key.split('\u0000') as [string, string, string | undefined];
      if (subaccount !== undefined && sub !== subaccount) continue;
      rows.push(row(sub, system, resource, false));
    }
    return rows;
  }

  get countingSince(): string {
    return this.since;
  }

  async save(force = false): Promise<void> {
    if (!this.dirty && !force) return;
    this.dirty = false;
    const body = { version: 1, since: this.since, counters: Object.fromEntries(this.counters) };
    await writeAtomic(this.file, `${JSON.stringify(body)}\n`);
  }
}

/** Temp file and rename, so a crash leaves the previous file, never half of one. */
export async function writeAtomic(file: string, text: string): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await fsp.writeFile(tmp, text, { mode: 0o600 });
  await fsp.rename(tmp, file);
}
