import { useId, useState } from 'react';
import { Bar, BarChart, CartesianGrid, Tooltip, XAxis, YAxis, type XAxisTickContentProps } from 'recharts';
import type { TrafficAggregate, TrafficStats as Stats } from '../../../../shared/evidence.js';
import { EmptyState } from '../../components/EmptyState.js';
import { Panel } from '../../components/Panel.js';
import { formatDateTime, formatDuration, formatNumber } from '../../format.js';
import { histogramBars } from './histogram.js';

/**
 * A bucket label ("≤250 ms") as its bound over its unit: ten one-line labels collide (or,
 * slanted, crowd) once the chart is narrower than about 700 px; two short lines fit at 40 px a bar.
 */
function BucketTick({ x, y, payload }: XAxisTickContentProps) {
  const label = String(payload.value);
  const cut = label.lastIndexOf(' ');
  const bound = cut > 0 ? label.slice(0, cut) : label;
  const unit = cut > 0 ? label.slice(cut + 1) : '';
  return (
    <text x={x} y={y} textAnchor="middle" fill="var(--muted)" fontSize={11}>
      <tspan x={x} dy="0.9em">
        {bound}
      </tspan>
      {unit ? (
        <tspan x={x} dy="1.15em">
          {unit}
        </tspan>
      ) : null}
    </text>
  );
}

function LatencyHistogram({ stats }: { stats: Stats }) {
  const [system, setSystem] = useState('');
  const selectId = useId();
  const captionId = useId();
  const systems = stats.systems;
  const chosen = system === '' ? systems : systems.filter((s) => s.system === system);
  const bars = histogramBars(chosen, stats.bucketsMs);
  const total = bars.reduce((n, b) => n + b.count, 0);
  return (
    <Panel
      title="Latency"
      className="traffic-histogram"
      description={`Requests per response time since ${formatDateTime(stats.since)}.`}
      actions={
        <div className="traffic-inline-field">
          <label htmlFor={selectId}>Latency of</label>
          <select id={selectId} value={system} onChange={(e) => setSystem(e.target.value)}>
            <option value="">All systems</option>
            {systems.map((s) => (
              <option key={`${s.subaccount}/${s.system}`} value={s.system}>
                {s.system}
              </option>
            ))}
          </select>
        </div>
      }
    >
      {total === 0 ? (
        <EmptyState title="No requests measured yet">The histogram fills in as requests pass through the connector.</EmptyState>
      ) : (
        <figure className="traffic-chart" aria-labelledby={captionId}>
          <BarChart responsive className="traffic-chart-svg" style={{ width: '100%', height: 250 }} data={bars} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
            <CartesianGrid vertical={false} stroke="var(--border)" />
            <XAxis dataKey="label" tick={BucketTick} interval={0} height={36} />
            <YAxis allowDecimals={false} tick={{ fill: 'var(--muted)', fontSize: 12 }} width={48} />
            <Tooltip cursor={{ fill: 'var(--border)' }} contentStyle={{ background: 'var(--panel)', border: '1px solid var(--border)', color: 'var(--fg)' }} />
            <Bar dataKey="count" name="Requests" fill="var(--accent)" isAnimationActive={false} />
          </BarChart>
          <figcaption id={captionId} className="visually-hidden">
            Latency histogram of {system || 'all systems'}: {bars.map((b) => `${b.label}: ${b.count}`).join(', ')}.
          </figcaption>
        </figure>
      )}
    </Panel>
  );
}

function resourceName(a: TrafficAggregate): string {
  return a.resource === undefined ? a.system : `${a.system} ${a.resource}`;
}

/** A path that may wrap before each slash in a narrow panel, rather than inside a segment. */
function BreakablePath({ path }: { path: string }) {
  const parts = path.split('/');
  return (
    <>
      {parts.map((part, i) => (
        <span key={i}>
          {i > 0 ? '/' : ''}
          {part}
          {i < parts.length - 1 ? <wbr /> : null}
        </span>
      ))}
    </>
  );
}

function TopConsumers({ consumers }: { consumers: readonly TrafficAggregate[] }) {
  return (
    <Panel title="Top time consumers" className="traffic-consumers" description="Resources by total time spent answering them.">
      {consumers.length === 0 ? (
        <EmptyState title="Nothing yet">Resources appear here once requests reach them.</EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Resource</th>
                <th scope="col" className="numeric">Calls</th>
                <th scope="col" className="numeric">Total time</th>
                <th scope="col" className="numeric">Average</th>
                <th scope="col" className="numeric">Slowest</th>
                <th scope="col" className="numeric">Denied or failed</th>
              </tr>
            </thead>
            <tbody>
              {consumers.map((a) => (
                <tr key={`${a.subaccount}/${resourceName(a)}`}>
                  <th scope="row">
                    {a.system}
                    {a.resource === undefined ? null : (
                      <>
                        {' '}
                        <BreakablePath path={a.resource} />
                      </>
                    )}
                  </th>
                  <td className="numeric">{formatNumber(a.count)}</td>
                  <td className="numeric">{formatDuration(a.totalMs)}</td>
                  <td className="numeric">{formatDuration(a.count ? a.totalMs / a.count : 0)}</td>
                  <td className="numeric">{formatDuration(a.maxMs)}</td>
                  <td className="numeric">{formatNumber(a.errors + a.denied)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Panel>
  );
}

/** Aggregates since the agent started: latency histogram per system and the resources that cost the most time. */
export function TrafficStats({ stats }: { stats: Stats }) {
  return (
    <div className="traffic-stats">
      <LatencyHistogram stats={stats} />
      <TopConsumers consumers={stats.topConsumers} />
    </div>
  );
}
