import { useQueryClient } from '@tanstack/react-query';
import type { Dashboard, SubaccountSummary } from '../../../../shared/api.js';
import { useApiMutation } from '../../api/hooks.js';
import { Badge, StatusBadge } from '../../components/StatusBadge.js';
import { ErrorMessage } from '../../components/ErrorMessage.js';
import { Facts } from '../../components/Panel.js';
import { useNow } from '../../components/use-now.js';
import { daysUntil, formatDate, formatDaysLeft, formatDuration, formatRelative } from '../../format.js';
import { formatRate, perMinute, RATE_WINDOW_MINUTES } from './rates.js';
import { ThroughputChart } from './ThroughputChart.js';

/** Below this many days the certificate's expiry is shown as a warning. */
export const CERT_WARNING_DAYS = 30;

type DashboardSubaccount = Dashboard['subaccounts'][number];

function CertificateExpiry({ notAfter, now }: { notAfter: string | undefined; now: number }) {
  const days = daysUntil(notAfter, now);
  if (days === undefined) return <span className="muted">No certificate</span>;
  if (days < CERT_WARNING_DAYS) {
    return (
      <span className="cert-expiry">
        <Badge tone={days < 0 ? 'danger' : 'warn'}>{days < 0 ? 'Expired' : 'Renew soon'}</Badge> {formatDate(notAfter)} ({formatDaysLeft(days)})
      </span>
    );
  }
  return (
    <span>
      {formatDate(notAfter)} <span className="muted">({formatDaysLeft(days)})</span>
    </span>
  );
}

/**
 * One subaccount on the Dashboard: its tunnel state (with the last error and next retry
 * when it is down), uptime, round-trip time, rates, certificate expiry, Connect/Disconnect
 * and a 30-minute throughput chart.
 */
export function SubaccountCard({ subaccount }: { subaccount: DashboardSubaccount }) {
  const now = useNow(1000);
  const queryClient = useQueryClient();
  const toggle = useApiMutation('setSubaccountEnabled', ['dashboard', 'listSubaccounts']);
  const { status } = subaccount;
  const rates = perMinute(subaccount.minutes, now);
  const titleId = `subaccount-${subaccount.id}-title`;

  const setEnabled = (enabled: boolean) =>
    toggle.mutate(
      { subaccount: subaccount.id, enabled },
      {
        // Show the answer at once; the refetch that follows confirms it.
        onSuccess: (updated: SubaccountSummary) => {
          queryClient.setQueriesData<Dashboard>({ queryKey: ['dashboard'] }, (old) =>
            old ? { ...old, subaccounts: old.subaccounts.map((s) => (s.id === updated.id ? { ...s, ...updated } : s)) } : old,
          );
        },
      },
    );

  const down = status.state === 'reconnecting' || status.state === 'failed';
  return (
    <article className="panel card subaccount-card" aria-labelledby={titleId} data-state={status.state}>
      <div className="subaccount-card-head">
        <div className="subaccount-card-title">
          <h2 id={titleId} className="panel-title">
            {subaccount.name}
          </h2>
          <StatusBadge state={status.state} />
        </div>
        <div className="panel-actions">
          {subaccount.enabled ? (
            <button type="button" className="button" disabled={toggle.isPending} onClick={() => setEnabled(false)} aria-describedby={titleId}>
              Disconnect
            </button>
          ) : (
            <button type="button" className="button button-primary" disabled={toggle.isPending} onClick={() => setEnabled(true)} aria-describedby={titleId}>
              Connect
            </button>
          )}
        </div>
      </div>
      <p className="subaccount-card-relay muted small">
        Relay <span className="mono">{subaccount.relayUrl}</span>
      </p>
      <ErrorMessage error={toggle.error} title={subaccount.enabled ? 'Could not disconnect.' : 'Could not connect.'} />
      {down && (status.lastError || status.nextRetryAt) ? (
        <div className="warning-message subaccount-problem">
          {status.lastError ? <div>Last error: {status.lastError}</div> : null}
          {status.nextRetryAt ? <div>Next attempt {formatRelative(status.nextRetryAt, now)}.</div> : null}
        </div>
      ) : null}
      {!subaccount.enabled ? <p className="muted small">Switched off: the connector does not dial this relay until you connect it again.</p> : null}
      <Facts
        items={[
          ['Tenant', <span className="mono">{subaccount.tenantId}</span>],
          ['Location', subaccount.location ? <span className="mono">{subaccount.location}</span> : <span className="muted">default</span>],
          ['Uptime', status.state === 'connected' && status.connectedSince ? formatDuration(now - Date.parse(status.connectedSince)) : '–'],
          ['Round-trip time', status.rttMs !== undefined && status.state === 'connected' ? formatDuration(status.rttMs) : '–'],
          [
            <span title={`Average over the last ${RATE_WINDOW_MINUTES} minutes`}>Requests / min</span>,
            formatRate(rates.requests),
          ],
          [
            <span title={`Average over the last ${RATE_WINDOW_MINUTES} minutes`}>Errors / min</span>,
            <span className={rates.errors > 0 ? 'rate-bad' : undefined}>{formatRate(rates.errors)}</span>,
          ],
          ['Denied / min', formatRate(rates.denied)],
          ['Certificate expires', <CertificateExpiry notAfter={subaccount.certificateNotAfter} now={now} />],
          ['Systems', String(subaccount.systemCount)],
          ['Reconnects', String(status.reconnects)],
        ]}
      />
      <ThroughputChart minutes={subaccount.minutes} name={subaccount.name} />
    </article>
  );
}
