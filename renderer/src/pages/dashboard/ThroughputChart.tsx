import { Area, AreaChart, CartesianGrid, Tooltip, XAxis, YAxis } from 'recharts';
import type { MinuteSample } from '../../../../shared/api.js';
import { formatClock, formatNumber } from '../../format.js';

/**
 * Requests, errors and denials per minute over the last 30 minutes. The SVG is hidden from
 * screen readers; the one-sentence summary under it says the same in words.
 */
export function ThroughputChart({ minutes, name }: { minutes: readonly MinuteSample[]; name: string }) {
  const total = minutes.reduce((n, m) => n + m.requests, 0);
  const errors = minutes.reduce((n, m) => n + m.errors, 0);
  const denied = minutes.reduce((n, m) => n + m.denied, 0);
  const peak = minutes.reduce((n, m) => Math.max(n, m.requests), 0);
  const summary =
    total === 0
      ? `No requests for ${name} in the last ${minutes.length} minutes.`
      : `${formatNumber(total)} requests in the last ${minutes.length} minutes (peak ${formatNumber(peak)} per minute), ${formatNumber(errors)} errors, ${formatNumber(denied)} denied.`;
  const data = minutes.map((m) => ({ ...m, label: formatClock(m.minute) }));
  return (
    <figure className="throughput">
      <figcaption className="throughput-caption">
        <span className="throughput-title">Requests per minute, last 30 minutes</span>
        <span className="throughput-legend" aria-hidden="true">
          <span className="legend-requests">requests</span>
          <span className="legend-errors">errors</span>
          <span className="legend-denied">denied</span>
        </span>
      </figcaption>
      <div className="throughput-plot" aria-hidden="true">
        <AreaChart responsive data={data} margin={{ top: 6, right: 8, bottom: 0, left: 0 }} style={{ width: '100%', height: 130 }}>
          <CartesianGrid stroke="var(--border)" strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="label" tick={{ fill: 'var(--muted)', fontSize: 11 }} stroke="var(--border)" interval="preserveStartEnd" minTickGap={24} />
          <YAxis allowDecimals={false} tick={{ fill: 'var(--muted)', fontSize: 11 }} stroke="var(--border)" width={40} />
          <Tooltip
            contentStyle={{ background: 'var(--panel)', border: '1px solid var(--border)', borderRadius: 6, color: 'var(--fg)' }}
            labelStyle={{ color: 'var(--muted)' }}
          />
          <Area type="monotone" dataKey="requests" name="Requests" stroke="var(--accent)" fill="var(--accent)" fillOpacity={0.18} strokeWidth={2} isAnimationActive={false} />
          <Area type="monotone" dataKey="denied" name="Denied" stroke="var(--warn)" fill="var(--warn)" fillOpacity={0.15} isAnimationActive={false} />
          <Area type="monotone" dataKey="errors" name="Errors" stroke="var(--danger)" fill="var(--danger)" fillOpacity={0.15} isAnimationActive={false} />
        </AreaChart>
      </div>
      <p className="throughput-summary">{summary}</p>
    </figure>
  );
}
