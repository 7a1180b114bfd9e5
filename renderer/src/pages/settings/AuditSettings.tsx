import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { zodResolver } from '@hookform/resolvers/zod';
import { AUDIT_LEVELS } from '../../../../shared/evidence.js';
import type { AgentSettings } from '../../../../shared/api.js';
import { useApiMutation, useApiQuery } from '../../api/hooks.js';
import { ErrorMessage } from '../../components/ErrorMessage.js';
import { Field } from '../../components/Field.js';
import { Panel } from '../../components/Panel.js';
import { auditFormSchema, LEVEL_TEXT, toFormValues, type AuditFormInput, type AuditFormOutput } from './audit-form.js';

function AuditForm({ settings }: { settings: AgentSettings }) {
  const setLevel = useApiMutation('setAuditLevel', ['getSettings']);
  const setRetention = useApiMutation('setAuditRetention', ['getSettings']);
  const [saveError, setSaveError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const {
    register,
    handleSubmit,
    watch,
    formState: { errors, isSubmitting, isDirty },
  } = useForm<AuditFormInput, unknown, AuditFormOutput>({
    resolver: zodResolver(auditFormSchema),
    // `values` re-seeds the form whenever the saved settings change (after a save or elsewhere).
    values: toFormValues(settings),
  });
  const levels = watch('levels');

  const submit = handleSubmit(async (form) => {
    setSaveError(null);
    setSaved(false);
    try {
      // Only what changed, so the audit log records real changes and nothing else.
      for (const entry of form.levels) {
        const before = settings.subaccounts.find((s) => s.id === entry.id);
        if (before && before.audit !== entry.level) await setLevel.mutateAsync({ subaccount: entry.id, level: entry.level });
      }
      if (form.retention !== settings.auditRetentionDays) await setRetention.mutateAsync({ days: form.retention });
      setSaved(true);
    } catch (error) {
      setSaveError(error);
    }
  });

  return (
    <form className="form settings-form" onSubmit={submit} noValidate aria-label="Audit log settings" onChange={() => setSaved(false)}>
      {settings.subaccounts.length === 0 ? (
        <p className="muted">The audit level is chosen per subaccount; pair one first.</p>
      ) : (
        settings.subaccounts.map((s, i) => (
          <fieldset key={s.id} className="settings-fieldset">
            <legend>{s.name}</legend>
            <Field label="Audit level" hint={LEVEL_TEXT[levels?.[i]?.level ?? s.audit].explain}>
              <select {...register(`levels.${i}.level`)}>
                {AUDIT_LEVELS.map((level) => (
                  <option key={level} value={level}>
                    {LEVEL_TEXT[level].label}
                  </option>
                ))}
              </select>
            </Field>
          </fieldset>
        ))
      )}
      <Field
        label="Retention (days)"
        hint="Entries older than this are removed. 0 keeps entries forever."
        error={errors.retention?.message}
      >
        <input type="text" inputMode="numeric" className="input-narrow" {...register('retention')} />
      </Field>
      <ErrorMessage error={saveError} title="Not saved." />
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={isSubmitting || !isDirty}>
          Save audit settings
        </button>
        {saved && !isDirty ? (
          <span className="saved-note" role="status">
            Saved.
          </span>
        ) : null}
      </div>
    </form>
  );
}

/** Audit level per subaccount and how long the audit log is kept. */
export function AuditSettings() {
  const settings = useApiQuery('getSettings', {});
  return (
    <Panel title="Audit log" description="What the connector records for each subaccount, and for how long.">
      <ErrorMessage error={settings.error} title="The settings could not be loaded." />
      {settings.isPending ? <p className="loading">Loading…</p> : null}
      {settings.data ? <AuditForm settings={settings.data} /> : null}
    </Panel>
  );
}
