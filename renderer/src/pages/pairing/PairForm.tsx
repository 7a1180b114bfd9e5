import { zodResolver } from '@hookform/resolvers/zod';
import { useMemo, useState } from 'react';
import { useForm, useWatch } from 'react-hook-form';
import { z } from 'zod';
import type { SubaccountSummary } from '../../../../shared/api.js';
import { useApiMutation } from '../../api/hooks.js';
import { ErrorMessage } from '../../components/ErrorMessage.js';
import { Field } from '../../components/Field.js';
import { Facts, Panel } from '../../components/Panel.js';
import { StatusBadge } from '../../components/StatusBadge.js';
import { useSubaccounts } from '../../components/live-subaccounts.js';
import { colonHex, previewPairingCode } from './decode.js';

const pairSchema = z.object({
  code: z
    .string()
    .trim()
    .min(1, 'paste the pairing code printed by the relay')
    .superRefine((code, ctx) => {
      const preview = previewPairingCode(code);
      if (preview.kind === 'error') ctx.addIssue({ code: 'custom', message: preview.message });
    }),
  name: z.string().trim().max(200, 'at most 200 characters'),
});
type PairValues = z.input<typeof pairSchema>;

/**
 * "Pair with a subaccount": paste the one-time code from the relay, see where it leads, name
 * the subaccount, pair. The code is decoded here only to show it; the agent checks it again and
 * the relay decides.
 */
export function PairForm() {
  const {
    register,
    handleSubmit,
    control,
    reset,
    formState: { errors, isSubmitting },
  } = useForm<PairValues, unknown, z.output<typeof pairSchema>>({
    resolver: zodResolver(pairSchema),
    defaultValues: { code: '', name: '' },
  });
  const pair = useApiMutation('pairSubaccount', ['listSubaccounts', 'dashboard', 'getSettings']);
  const [paired, setPaired] = useState<SubaccountSummary | undefined>(undefined);
  const code = useWatch({ control, name: 'code' });
  const preview = useMemo(() => previewPairingCode(code), [code]);

  const onSubmit = handleSubmit(async (v) => {
    try {
      const added = await pair.mutateAsync({ code: v.code, ...(v.name ? { name: v.name } : {}) });
      setPaired(added);
      // The code is single-use and carries a secret: nothing to keep once it has worked.
      reset({ code: '', name: '' });
    } catch {
      // Shown under the form; what was pasted stays so a typo in the name can be fixed and retried.
    }
  });

  return (
    <Panel title="Pair with a subaccount" description="Ask the relay administrator for a pairing code (skybridge relay pairing-code) and paste it here. A code works once.">
      <form className="pair-form" onSubmit={onSubmit} noValidate aria-label="Pair with a subaccount">
        <Field label="Pairing code" error={preview.kind === 'error' ? preview.message : errors.code?.message} hint="Starts with SKB1.">
          <textarea
            {...register('code', { onChange: () => setPaired(undefined) })}
            rows={3}
            spellCheck={false}
            autoComplete="off"
            autoCapitalize="off"
            className="pair-code"
          />
        </Field>
        {preview.kind === 'ok' ? (
          <div className="pair-preview" aria-live="polite" role="group" aria-label="This code pairs with">
            <p className="pair-preview-title">This code pairs with</p>
            <Facts
              items={[
                ['Relay', preview.code.url],
                ['Tenant', preview.code.tenantId],
                ['Location', preview.code.location === '' ? '(default location)' : preview.code.location],
                ['Relay CA fingerprint', <code key="fp" className="fingerprint">{colonHex(preview.code.caFingerprint)}</code>],
              ]}
            />
            <p className="field-hint">The relay fixes the location when it issues the code; for another location, ask for a code for that location.</p>
          </div>
        ) : null}
        <Field label="Name" error={errors.name?.message} hint="How this subaccount is labelled here (optional).">
          <input {...register('name')} autoComplete="off" placeholder={preview.kind === 'ok' ? preview.code.tenantId : undefined} />
        </Field>
        <ErrorMessage error={pair.error} title="Pairing failed." />
        <div className="form-actions">
          <button type="submit" className="button button-primary" disabled={isSubmitting}>
            {isSubmitting ? 'Pairing…' : 'Pair'}
          </button>
        </div>
      </form>
      {paired ? <PairedNotice subaccount={paired} /> : null}
    </Panel>
  );
}

/** The subaccount just paired, with its live state (connecting, then connected or failed). */
function PairedNotice({ subaccount }: { subaccount: SubaccountSummary }) {
  const { data } = useSubaccounts();
  const live = data?.find((s) => s.id === subaccount.id) ?? subaccount;
  return (
    <div className="pair-done" role="status">
      <p>
        Paired with tenant <strong>{live.tenantId}</strong> as <strong>{live.name || live.id}</strong>
        {live.location ? ` (location ${live.location})` : ''}. <StatusBadge state={live.status.state} />
      </p>
      {live.status.lastError ? <p className="field-error">{live.status.lastError}</p> : null}
    </div>
  );
}
