import type { CertificateDetails } from '../../../../shared/api.js';
import { ErrorMessage } from '../../components/ErrorMessage.js';
import { Facts } from '../../components/Panel.js';
import { Badge } from '../../components/StatusBadge.js';
import { formatDateTime, formatDaysLeft } from '../../format.js';
import { useApiQuery } from '../../api/hooks.js';

/** Alerts start here, as on the established products: expiry is the most common cause of outages. */
export const EXPIRY_WARNING_DAYS = 30;

export function ExpiryBadge({ daysLeft }: { daysLeft: number }) {
  if (daysLeft < 0) return <Badge tone="danger">Expired</Badge>;
  if (daysLeft < EXPIRY_WARNING_DAYS) return <Badge tone="warn">Expires {formatDaysLeft(daysLeft)}</Badge>;
  return <Badge tone="ok">Valid</Badge>;
}

/** The connector's client certificate for one subaccount: who it names, who signed it, how long it lasts. */
export function CertificateInfo({ subaccount }: { subaccount: string }) {
  const { data, error, isPending } = useApiQuery('certificateDetails', { subaccount });
  if (error) return <ErrorMessage error={error} title="Could not read the certificate." />;
  if (isPending) return <p className="muted">Reading the certificate…</p>;
  return <CertificateFacts cert={data} />;
}

export function CertificateFacts({ cert }: { cert: CertificateDetails }) {
  return (
    <div className="certificate">
      <Facts
        items={[
          ['Subject', <code key="s">{cert.subject}</code>],
          ['Issuer', <code key="i">{cert.issuer}</code>],
          ['Valid from', formatDateTime(cert.notBefore)],
          [
            'Valid until',
            <span key="u">
              {formatDateTime(cert.notAfter)} ({cert.daysLeft < 0 ? formatDaysLeft(cert.daysLeft) : `${cert.daysLeft} ${cert.daysLeft === 1 ? 'day' : 'days'} left`}){' '}
              <ExpiryBadge daysLeft={cert.daysLeft} />
            </span>,
          ],
          ['Fingerprint (SHA-256)', <code key="f" className="fingerprint">{cert.fingerprintSha256}</code>],
          ['Serial number', <code key="n">{cert.serialNumber}</code>],
        ]}
      />
      {cert.daysLeft < 0 ? (
        <p className="warning-message certificate-warning" role="alert">
          This certificate has expired, so the relay refuses the tunnel. Pair again with a new code from the relay.
        </p>
      ) : cert.daysLeft < EXPIRY_WARNING_DAYS ? (
        <p className="warning-message certificate-warning" role="alert">
          This certificate expires {formatDaysLeft(cert.daysLeft)}. The connector renews it on its own while connected; renew now if that has not happened.
        </p>
      ) : null}
    </div>
  );
}
