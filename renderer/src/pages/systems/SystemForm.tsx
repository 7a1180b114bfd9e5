import { zodResolver } from '@hookform/resolvers/zod';
import { useEffect, useMemo, useState } from 'react';
import { Controller, useForm, useWatch } from 'react-hook-form';
import { isTcpProtocol, systemKey, usesTls, type SystemMapping } from '../../../../shared/config.js';
import { useApiMutation } from '../../api/hooks.js';
import { ErrorMessage } from '../../components/ErrorMessage.js';
import { Field } from '../../components/Field.js';
import { CaCertificateField } from './CaCertificateField.js';
import { EMPTY_SYSTEM_FORM, systemFormSchema, systemToForm, toPatch, type SystemFormValues } from './system-form.js';
import { PROTOCOL_LABELS } from './labels.js';

export interface SystemFormProps {
  subaccount: string;
  /** The saved system when editing; absent when adding. */
  base?: SystemMapping;
  onSaved: (system: SystemMapping) => void;
  onCancel: () => void;
}

const LOCKED_HINT = 'Cloud apps and destinations use this name, so it cannot change. To rename, remove the system and add it again.';

/**
 * Adds a system mapping or edits one. Checked in the browser with the agent's own schema
 * before anything is sent; a refusal from the agent is shown under the form and what the user
 * typed stays.
 */
export function SystemForm({ subaccount, base, onSaved, onCancel }: SystemFormProps) {
  const editing = base !== undefined;
  const resolver = useMemo(() => zodResolver(systemFormSchema(base)), [base]);
  const {
    register,
    handleSubmit,
    control,
    setFocus,
    formState: { errors, isSubmitting },
  } = useForm<SystemFormValues, unknown, SystemMapping>({
    resolver,
    defaultValues: base ? systemToForm(base) : EMPTY_SYSTEM_FORM,
  });
  const add = useApiMutation('addSystem', ['listSystems', 'listSubaccounts', 'dashboard']);
  const update = useApiMutation('updateSystem', ['listSystems']);
  const mutation = editing ? update : add;
  // A CA being uploaded is not in the form yet: saving now would save the system without it.
  const [caBusy, setCaBusy] = useState(false);

  // The form opens where the user starts typing (the virtual side cannot change when editing).
  useEffect(() => setFocus(editing ? 'internalHost' : 'virtualHost'), [setFocus, editing]);

  const protocol = useWatch({ control, name: 'protocol' });
  const tcp = isTcpProtocol(protocol);

  const onSubmit = handleSubmit(async (system) => {
    try {
      const saved = base
        ? await update.mutateAsync({ subaccount, system: systemKey(base), patch: toPatch(system, base) })
        : await add.mutateAsync({ subaccount, system });
      onSaved(saved);
    } catch {
      // The mutation keeps the error; it is shown under the form, and the fields keep what was typed.
    }
  });

  const lockedHint = editing ? LOCKED_HINT : undefined;
  const tcpLockedHint = editing ? 'Set when the system was added; to change it, remove the system and add it again.' : undefined;

  return (
    <form className="system-form" onSubmit={onSubmit} noValidate aria-label={editing ? `Edit system ${systemKey(base)}` : 'Add system'}>
      <fieldset className="system-form-group">
        <legend>Virtual side: what cloud apps call</legend>
        <div className="form-row system-form-row">
          <Field label="Virtual host" error={errors.virtualHost?.message} hint={lockedHint ?? 'An invented name such as erp.virtual; letters, digits, hyphens and dots.'}>
            <input {...register('virtualHost')} readOnly={editing} autoComplete="off" spellCheck={false} />
          </Field>
          <Field label="Virtual port" error={errors.virtualPort?.message} className="system-form-port">
            <input {...register('virtualPort')} readOnly={editing} inputMode="numeric" autoComplete="off" />
          </Field>
        </div>
      </fieldset>

      <fieldset className="system-form-group">
        <legend>Internal side: where the connector forwards to</legend>
        <div className="form-row system-form-row">
          <Field label="Internal host" error={errors.internalHost?.message} hint="Host name or IP address as this machine reaches it.">
            <input {...register('internalHost')} autoComplete="off" spellCheck={false} />
          </Field>
          <Field label="Internal port" error={errors.internalPort?.message} className="system-form-port">
            <input {...register('internalPort')} inputMode="numeric" autoComplete="off" />
          </Field>
        </div>
        <div className="form-row system-form-row">
          <Field label="Protocol" error={errors.protocol?.message}>
            <select {...register('protocol')}>
              {Object.entries(PROTOCOL_LABELS).map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </Field>
          {tcp ? null : (
            <Field label="Host header" error={errors.hostHeader?.message}>
              <select {...register('hostHeader')}>
                <option value="virtual">Virtual host (as cloud apps name it)</option>
                <option value="internal">Internal host (virtual one in X-Forwarded-Host)</option>
              </select>
            </Field>
          )}
        </div>
        {usesTls(protocol) ? (
          <Controller
            control={control}
            name="caFile"
            render={({ field }) => <CaCertificateField value={field.value} onChange={field.onChange} error={errors.caFile?.message} onBusyChange={setCaBusy} />}
          />
        ) : null}
      </fieldset>

      {tcp ? (
        <fieldset className="system-form-group">
          <legend>TCP options</legend>
          <p className="warning-message" role="note">
            Raw TCP cannot be inspected: the connector cannot see requests inside it, so there are no resources and the whole port is
            reachable. Connections are only logged (when, from which app, bytes each way).
          </p>
          <div className="form-row system-form-row">
            <Field
              label="Port range end (optional)"
              error={errors.portRangeEnd?.message}
              hint={tcpLockedHint ?? 'Maps a range of ports: the virtual ports up to this one go to as many internal ports from the internal port on.'}
            >
              <input {...register('portRangeEnd')} readOnly={editing} inputMode="numeric" autoComplete="off" />
            </Field>
            <Field label="Idle timeout (seconds)" error={errors.idleTimeout?.message} hint={tcpLockedHint ?? 'Closes a connection with no traffic for this long; default 1800.'}>
              <input {...register('idleTimeout')} readOnly={editing} inputMode="decimal" autoComplete="off" placeholder="1800" />
            </Field>
            <Field label="Max connections" error={errors.maxConnections?.message} hint={tcpLockedHint ?? 'More at the same time are refused; default 100.'}>
              <input {...register('maxConnections')} readOnly={editing} inputMode="numeric" autoComplete="off" placeholder="100" />
            </Field>
          </div>
        </fieldset>
      ) : null}

      <fieldset className="system-form-group">
        <legend>Timeouts and notes</legend>
        <div className="form-row system-form-row">
          <Field label="Connect timeout (seconds)" error={errors.connectTimeout?.message} className="system-form-timeout">
            <input {...register('connectTimeout')} inputMode="decimal" autoComplete="off" placeholder="10" />
          </Field>
          <Field label="Response timeout (seconds)" error={errors.responseTimeout?.message} className="system-form-timeout">
            <input {...register('responseTimeout')} inputMode="decimal" autoComplete="off" placeholder="60" />
          </Field>
          <Field label="Description (optional)" error={errors.description?.message}>
            <input {...register('description')} autoComplete="off" />
          </Field>
        </div>
      </fieldset>

      <ErrorMessage error={errors.root?.message} />
      <ErrorMessage error={mutation.error} title={editing ? 'Could not save the changes.' : 'Could not add the system.'} />
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={isSubmitting || caBusy}>
          {isSubmitting ? 'Saving…' : 'Save system'}
        </button>
        <button type="button" className="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
