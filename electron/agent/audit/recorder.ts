import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../../common/logger.js';
import type { AgentEvent } from '../../../shared/api.js';
import { agentConfigSchema, type AgentConfig } from '../../../shared/config.js';
import { ALL_LEVEL_TYPES, type AuditActor, type AuditDraft, type AuditLevel } from '../../../shared/evidence.js';
import { adminActorFor } from './actor.js';
import { diffConfigs } from './config-diff.js';
import { SNAPSHOT_FILE } from './files.js';
import type { AuditLog } from './log.js';

type RequestEvent = Extract<AgentEvent, { type: 'request' }>;
type ConnectionEvent = Extract<AgentEvent, { type: 'connection' }>;

export interface AuditRecorderDeps {
  dataDir: string;
  log: AuditLog;
  config: () => AgentConfig;
  logger: Logger;
  /** Longest a denial waits for its entry to reach the disk before it is answered anyway. */
  denialWaitMs?: number;
}

interface Snapshot {
  at: string;
  config: AgentConfig;
}

/**
 * Turns what happens in the agent into audit entries, honouring each
 * subaccount's level. Security entries ask the log for durability; `all`-level
 * request entries do not. Nothing here throws into the caller: a failing disk
 * is logged and counted, and the data plane carries on.
 */
export class AuditRecorder {
  private readonly tunnelStates = new Map<string, { state: string; reason?: string }>();
  private lastChangeAt = 0;

  constructor(private readonly deps: AuditRecorderDeps) {}

  private get snapshotFile(): string {
    return path.join(this.deps.log.dir, SNAPSHOT_FILE);
  }

  levelOf(subaccount: string, cfg: AgentConfig = this.deps.config()): AuditLevel {
    if (subaccount === '') {
      // Installation-wide events are kept unless every subaccount has switched auditing off.
      return cfg.subaccounts.length > 0 && cfg.subaccounts.every((s) => s.audit === 'off') ? 'off' : 'security';
    }
    return cfg.subaccounts.find((s) => s.id === subaccount)?.audit ?? 'security';
  }

  private wants(draft: AuditDraft, cfg?: AgentConfig): boolean {
    const level = this.levelOf(draft.subaccount, cfg);
    if (level === 'off') return false;
    return level === 'all' || !ALL_LEVEL_TYPES.has(draft.type);
  }

  /** Resolves when the entry is written (synced for security entries), or at once when the level skips it; never rejects. */
  record(draft: AuditDraft, cfg?: AgentConfig): Promise<void> {
    if (!this.wants(draft, cfg)) return Promise.resolve();
    if (ALL_LEVEL_TYPES.has(draft.type)) {
      // The bulk of entries at level all: nobody waits for them, so no promise per request.
      this.deps.log.appendLater(draft);
      return Promise.resolve();
    }
    return this.deps.log.append(draft, { durable: true }).then(
      () => undefined,
      (err: Error) => this.deps.logger.error({ err: err.message, type: draft.type }, 'audit entry not written'),
    );
  }

  /** The forwarder's hook: the refusal is answered once this resolves. */
  denial(e: RequestEvent): Promise<void> {
    const written = this.record({
      time: e.at,
      subaccount: e.subaccountId,
      type: 'access-denied',
      actor: cloudActor(e.app, e.user),
      target: { virtual: `${e.virtualHost}:${e.virtualPort}`, method: e.method, path: e.path },
      outcome: 'denied',
      reason: e.reason,
      status: e.status,
      requestId: e.requestId || undefined,
    });
    const wait = this.deps.denialWaitMs ?? 5000;
    return Promise.race([written, new Promise<void>((r) => setTimeout(r, wait).unref())]);
  }

  onEvent(e: AgentEvent): void {
    switch (e.type) {
      case 'request':
        // Denials come through denial(), before they are answered.
        if (e.outcome !== 'denied') void this.record(requestDraft(e));
        return;
      case 'connection':
        void this.record(connectionDraft(e));
        return;
      case 'subaccount-state':
        return this.tunnelState(e.subaccountId, e.status.state, e.status.lastError);
      case 'certificate-renewed':
        void this.record({ subaccount: e.subaccountId, type: 'certificate', actor: { kind: 'connector' }, target: {}, outcome: 'success', reason: `certificate renewed, valid until ${e.notAfter}`, detail: { notAfter: e.notAfter } });
        return;
      case 'certificate-warning':
        void this.record({ subaccount: e.subaccountId, type: 'certificate', actor: { kind: 'connector' }, target: {}, outcome: 'failure', reason: e.message, detail: { notAfter: e.notAfter } });
        return;
      case 'config-error':
        void this.record({ subaccount: '', type: 'config-change', actor: adminActorFor(this.deps.dataDir, this.lastChangeAt), target: { object: 'config.json' }, outcome: 'failure', reason: `change refused, previous configuration kept: ${e.message}` });
        return;
      default:
        return;
    }
  }

  private tunnelState(id: string, state: string, lastError: string | undefined): void {
    const prev = this.tunnelStates.get(id);
    this.tunnelStates.set(id, { state, reason: lastError });
    const relay = this.deps.config().subaccounts.find((s) => s.id === id)?.relayUrl;
    const base = { subaccount: id, actor: { kind: 'connector' } as AuditActor, target: relay ? { relay } : {} };
    if (state === 'connected' && prev?.state !== 'connected') {
      void this.record({ ...base, type: 'tunnel-connected', outcome: 'success', reason: 'tunnel to the relay is up' });
    } else if (prev?.state === 'connected' && state !== 'connected') {
      void this.record({ ...base, type: 'tunnel-disconnected', outcome: state === 'disconnected' ? 'info' : 'failure', reason: lastError ?? 'tunnel closed by the connector' });
    } else if (state === 'failed' && (prev?.state !== 'failed' || prev.reason !== lastError)) {
      void this.record({ ...base, type: 'tunnel-disconnected', outcome: 'failure', reason: lastError ?? 'the relay refused the tunnel' });
    }
  }

  /** At start: the audit log opens, and changes made while the agent was stopped are recorded against the last snapshot. */
  started(cfg: AgentConfig, version: string): void {
    const snap = this.readSnapshot();
    void this.record({ subaccount: '', type: 'audit-started', actor: { kind: 'connector' }, target: {}, outcome: 'info', reason: `connector ${version} started`, detail: { pid: process.pid, subaccounts: cfg.subaccounts.map((s) => ({ id: s.id, audit: s.audit })) } });
    if (snap) {
      this.lastChangeAt = Date.parse(snap.at) || 0;
      this.configChanged(snap.config, cfg, 'while the agent was stopped');
    } else {
      // First start with an audit log: what was set up before (pairing, systems) is recorded as changes from nothing.
      this.configChanged(agentConfigSchema.parse({}), cfg, 'before the audit log began');
      this.saveSnapshot(cfg);
    }
  }

  configChanged(before: AgentConfig, after: AgentConfig, when?: string): void {
    const groups = diffConfigs(before, after);
    if (groups.length === 0) return;
    const actor = adminActorFor(this.deps.dataDir, this.lastChangeAt);
    for (const g of groups) {
      // Judged by the level before or after, whichever still audits: switching auditing off is itself recorded.
      const cfg = this.levelOf(g.subaccount, after) !== 'off' && after.subaccounts.some((s) => s.id === g.subaccount) ? after : before;
      void this.record({ subaccount: g.subaccount, type: g.type, actor, target: { object: g.object }, outcome: 'success', reason: when ? `${g.reason} (${when})` : g.reason, changes: g.changes }, cfg);
    }
    this.saveSnapshot(after);
  }

  async stopped(): Promise<void> {
    await this.record({ subaccount: '', type: 'audit-stopped', actor: { kind: 'connector' }, target: {}, outcome: 'info', reason: 'connector stopped cleanly' });
  }

  private readSnapshot(): Snapshot | undefined {
    try {
      const snap = JSON.parse(fs.readFileSync(this.snapshotFile, 'utf8')) as Snapshot;
      return snap && typeof snap.at === 'string' && snap.config ? snap : undefined;
    } catch {
      return undefined;
    }
  }

  private saveSnapshot(cfg: AgentConfig): void {
    const at = new Date().toISOString();
    this.lastChangeAt = Date.parse(at);
    try {
      const tmp = `${this.snapshotFile}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, `${JSON.stringify({ at, config: cfg })}\n`, { mode: 0o600 });
      fs.renameSync(tmp, this.snapshotFile);
    } catch (err) {
      this.deps.logger.warn({ err: (err as Error).message }, 'could not save the configuration snapshot for the audit log');
    }
  }
}

function cloudActor(app: string, user: string | undefined): AuditActor {
  return user ? { kind: 'cloud-app', app, user } : { kind: 'cloud-app', app };
}

function requestDraft(e: RequestEvent): AuditDraft {
  return {
    time: e.at,
    subaccount: e.subaccountId,
    type: 'request',
    actor: cloudActor(e.app, e.user),
    target: {
      virtual: `${e.virtualHost}:${e.virtualPort}`,
      ...(e.internalHost ? { internal: `${e.internalHost}:${e.internalPort ?? ''}` } : {}),
      method: e.method,
      path: e.path,
    },
    outcome: e.outcome,
    reason: e.reason,
    status: e.status,
    requestId: e.requestId || undefined,
    detail: { bytesIn: e.bytesIn ?? 0, bytesOut: e.bytesOut ?? 0, ms: e.timing?.totalMs ?? e.durationMs },
  };
}

function connectionDraft(e: ConnectionEvent): AuditDraft {
  return {
    time: e.at,
    subaccount: e.subaccountId,
    type: e.outcome === 'denied' ? 'access-denied' : 'connection',
    actor: cloudActor(e.app, undefined),
    target: { virtual: `${e.virtualHost}:${e.virtualPort}`, ...(e.internalHost ? { internal: `${e.internalHost}:${e.internalPort ?? ''}` } : {}), method: 'CONNECT' },
    outcome: e.outcome,
    reason: e.reason ?? e.ended,
    requestId: e.connectionId,
    detail: { bytesToBackend: e.bytesToBackend, bytesFromBackend: e.bytesFromBackend, ms: e.durationMs },
  };
}
