import { z } from 'zod';
import { AUDIT_LEVELS, type AuditLevel } from '../../../../shared/evidence.js';
import type { AgentSettings } from '../../../../shared/api.js';

/** Largest retention the agent accepts (shared/api.ts setAuditRetention). */
export const MAX_RETENTION_DAYS = 36_500;

export const LEVEL_TEXT: Record<AuditLevel, { label: string; explain: string }> = {
  security: {
    label: 'Security events (recommended)',
    explain: 'Denied requests, configuration changes, pairing and certificates, tunnel up and down, sign-ins.',
  },
  all: {
    label: 'Everything',
    explain: 'Security events plus every allowed request and TCP connection. The log grows quickly on a busy site.',
  },
  off: {
    label: 'Off',
    explain: 'Nothing is recorded for this subaccount, not even denied requests. Only for tests.',
  },
};

const retentionSchema = z
  .string()
  .trim()
  .regex(/^\d+$/, 'Enter a whole number of days, 0 or more (0 keeps entries forever).')
  .transform(Number)
  .pipe(z.number().max(MAX_RETENTION_DAYS, `At most ${MAX_RETENTION_DAYS.toLocaleString('en')} days (100 years).`));

/** The audit form: the retention as typed (text, so a wrong entry stays visible) and one level per subaccount. */
export const auditFormSchema = z.object({
  retention: retentionSchema,
  levels: z.array(z.object({ id: z.string(), name: z.string(), level: z.enum(AUDIT_LEVELS) })),
});
export type AuditFormInput = z.input<typeof auditFormSchema>;
export type AuditFormOutput = z.output<typeof auditFormSchema>;

export function toFormValues(settings: AgentSettings): AuditFormInput {
  return {
    retention: String(settings.auditRetentionDays),
    levels: settings.subaccounts.map((s) => ({ id: s.id, name: s.name, level: s.audit })),
  };
}
