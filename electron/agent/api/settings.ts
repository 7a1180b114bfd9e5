import type { AgentSettings } from '../../../shared/api.js';
import { DEFAULT_AUDIT_RETENTION_DAYS, type AgentConfig } from '../../../shared/config.js';
import type { AuditLevel } from '../../../shared/evidence.js';
import { resolveSubaccount, type Edit } from '../config-ops.js';

/**
 * The installation settings the UI edits, as pure edits of the config (like
 * config-ops): ConfigStore.update validates the whole result and writes it
 * atomically, and the running agent audits the change when it reloads.
 */

export function settingsOf(cfg: AgentConfig): AgentSettings {
  return {
    auditRetentionDays: cfg.audit?.retentionDays ?? DEFAULT_AUDIT_RETENTION_DAYS,
    subaccounts: cfg.subaccounts.map((s) => ({ id: s.id, name: s.name, audit: s.audit })),
  };
}

export function setAuditLevel(cfg: AgentConfig, subaccountId: string, level: AuditLevel): Edit<AgentSettings> {
  const sub = resolveSubaccount(cfg, subaccountId);
  const config = { ...cfg, subaccounts: cfg.subaccounts.map((s) => (s.id === sub.id ? { ...s, audit: level } : s)) };
  return { config, result: settingsOf(config) };
}

export function setAuditRetention(cfg: AgentConfig, days: number): Edit<AgentSettings> {
  const config = { ...cfg, audit: { ...cfg.audit, retentionDays: days } };
  return { config, result: settingsOf(config) };
}
