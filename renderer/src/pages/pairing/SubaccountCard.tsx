import { useQueryClient } from '@tanstack/react-query';
import type { SubaccountSummary } from '../../../../shared/api.js';
import { apiKey, useApiMutation } from '../../api/hooks.js';
import { ConfirmButton } from '../../components/ConfirmButton.js';
import { ErrorMessage } from '../../components/ErrorMessage.js';
import { Card, Facts } from '../../components/Panel.js';
import { StatusBadge } from '../../components/StatusBadge.js';
import { formatDateTime, formatRelative } from '../../format.js';
import { CertificateInfo } from './CertificateInfo.js';
import { RemoveSubaccount } from './RemoveSubaccount.js';

/** One paired subaccount: where it connects, its state, its certificate, and what can be done with it. */
export function SubaccountCard({ subaccount: s }: { subaccount: SubaccountSummary }) {
  const queryClient = useQueryClient();
  const renew = useApiMutation('renewCertificate', ['listSubaccounts', 'dashboard']);
  const enable = useApiMutation('setSubaccountEnabled', ['listSubaccounts', 'dashboard']);
  const label = s.name || s.id;

  const onRenew = () =>
    renew.mutate(
      { subaccount: s.id },
      // The renewal answers with the new certificate: show it without another round trip.
      { onSuccess: (cert) => queryClient.setQueryData(apiKey('certificateDetails', { subaccount: s.id }), cert) },
    );
  const setEnabled = (enabled: boolean) => enable.mutate({ subaccount: s.id, enabled });

  return (
    <Card
      title={
        <>
          {label} {s.name ? <span className="muted">({s.id})</span> : null}
        </>
      }
      actions={<StatusBadge state={s.status.state} />}
      className="subaccount-card"
    >
      {s.status.lastError ? (
        <p className="warning-message subaccount-error">
          {s.status.lastError}
          {s.status.nextRetryAt ? ` Next attempt ${formatRelative(s.status.nextRetryAt)}.` : ''}
        </p>
      ) : null}
      <Facts
        items={[
          ['Relay', s.relayUrl],
          ['Tenant', s.tenantId],
          ['Location', s.location === '' ? '(default location)' : s.location],
          ['Connector id', <code key="c">{s.connectorId}</code>],
          ['Systems', String(s.systemCount)],
          s.status.connectedSince && ['Connected since', formatDateTime(s.status.connectedSince)],
          !s.enabled && ['Connection', 'Switched off: stays disconnected, also after a restart, until you connect it'],
        ]}
      />
      <h4 className="subaccount-section">Certificate</h4>
      <CertificateInfo subaccount={s.id} />
      {renew.isSuccess ? (
        <p className="saved-note" role="status">
          Renewed: the new certificate is valid until {formatDateTime(renew.data.notAfter)}.
        </p>
      ) : null}
      <ErrorMessage error={renew.error} title="Could not renew the certificate." />
      <ErrorMessage error={enable.error} title={s.enabled ? 'Could not disconnect.' : 'Could not connect.'} />
      <div className="subaccount-actions">
        <button type="button" className="button" onClick={onRenew} disabled={renew.isPending}>
          {renew.isPending ? 'Renewing…' : 'Renew'}
        </button>
        {s.enabled ? (
          <ConfirmButton
            tone="default"
            question={`Disconnect ${label}? Cloud apps lose access until you connect again.`}
            confirmLabel="Disconnect"
            onConfirm={() => setEnabled(false)}
            disabled={enable.isPending}
          >
            Disconnect
          </ConfirmButton>
        ) : (
          <button type="button" className="button button-primary" onClick={() => setEnabled(true)} disabled={enable.isPending}>
            Connect
          </button>
        )}
        <RemoveSubaccount subaccount={s} />
      </div>
    </Card>
  );
}
