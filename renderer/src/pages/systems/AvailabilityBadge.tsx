import type { Availability } from '../../../../shared/api.js';
import { errorText } from '../../components/ErrorMessage.js';
import { Badge } from '../../components/StatusBadge.js';
import { formatDuration, formatTime } from '../../format.js';
import { useAvailability } from './availability.js';

/** "HEAD / answered 200 in 12 ms", or the reason it failed, in one line. */
export function availabilityDetail(a: Availability): string {
  if (!a.reachable) return a.error ?? `${a.internal} does not answer.`;
  const took = a.ms === undefined ? '' : ` in ${formatDuration(a.ms)}`;
  return a.status === undefined ? `${a.internal} accepted a connection${took}.` : `HEAD / on ${a.internal} answered ${a.status}${took}.`;
}

/**
 * The last availability result of a system: "Reachable" or a warning. `compact` (the table)
 * keeps the detail in a tooltip; the details panel shows it as text.
 */
export function AvailabilityBadge({ subaccount, system, compact = false }: { subaccount: string; system: string; compact?: boolean }) {
  const { data, error, isFetching } = useAvailability(subaccount, system);
  if (isFetching) return <span className="muted">Checking…</span>;
  if (error) {
    return (
      <span className="availability">
        <Badge tone="danger" title={compact ? errorText(error) : undefined}>
          Check failed
        </Badge>
        {compact ? null : <span className="availability-detail">{errorText(error)}</span>}
      </span>
    );
  }
  if (!data) return <span className="muted">Not checked</span>;
  const detail = availabilityDetail(data);
  return (
    <span className="availability">
      <Badge tone={data.reachable ? 'ok' : 'warn'} title={compact ? `${detail} Checked at ${formatTime(data.checkedAt)}.` : undefined}>
        {data.reachable ? 'Reachable' : 'Not reachable'}
      </Badge>
      {compact ? null : (
        <span className="availability-detail">
          {detail} Checked at {formatTime(data.checkedAt)}.
        </span>
      )}
    </span>
  );
}
