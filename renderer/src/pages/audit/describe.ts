import type { AuditActor, AuditEntry, AuditTarget, AuditType } from '../../../../shared/evidence.js';
import type { Tone } from '../../components/StatusBadge.js';

export const TYPE_LABELS: Record<AuditType, string> = {
  'access-denied': 'Access denied',
  request: 'Request',
  connection: 'TCP connection',
  'config-change': 'Configuration change',
  pairing: 'Pairing',
  certificate: 'Certificate',
  'tunnel-connected': 'Tunnel connected',
  'tunnel-disconnected': 'Tunnel disconnected',
  'admin-login': 'Administrator sign-in',
  'audit-started': 'Audit started',
  'audit-stopped': 'Audit stopped',
  'audit-purged': 'Old entries removed',
  'audit-recovered': 'Audit recovered',
};

export const OUTCOME_TONES: Record<AuditEntry['outcome'], Tone> = {
  allowed: 'ok',
  success: 'ok',
  denied: 'warn',
  error: 'danger',
  failure: 'danger',
  info: 'muted',
};

export function actorText(a: AuditActor): string {
  switch (a.kind) {
    case 'cloud-app':
      return a.user ? `${a.app} (${a.user})` : a.app;
    case 'local-admin':
      return `${a.user} (${a.via === 'file' ? 'edited the file' : a.via === 'cli' ? 'CLI' : 'UI'})`;
    case 'connector':
      return 'Connector';
  }
}

export function targetText(t: AuditTarget): string {
  const where = t.virtual && t.path ? `${t.virtual}${t.path}` : (t.virtual ?? t.path);
  return [t.method, where, t.object, t.relay].filter(Boolean).join(' ');
}

/** One line for the table: the reason when there is one, else what changed, else the status or the first details. */
export function messageText(e: AuditEntry): string {
  if (e.reason) return e.reason;
  if (e.changes && e.changes.length > 0) {
    const paths = e.changes.map((c) => c.path);
    return `${paths.length === 1 ? '1 change' : `${paths.length} changes`}: ${paths.slice(0, 3).join(', ')}${paths.length > 3 ? ', …' : ''}`;
  }
  if (e.status !== undefined) return `Status ${e.status}`;
  return Object.entries(e.detail ?? {})
    .slice(0, 3)
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
}
