import { useId } from 'react';
import { formatNumber } from '../../format.js';
import { EMPTY_FILTER, STATUS_CLASSES, isFiltering, type TrafficFilter } from './filter.js';
import { OUTCOMES } from './rows.js';

export interface TrafficToolbarProps {
  filter: TrafficFilter;
  onChange: (filter: TrafficFilter) => void;
  /** Virtual systems to offer in the System filter. */
  systems: readonly string[];
  paused: boolean;
  onPause: () => void;
  onResume: () => void;
  /** Rows that pass the filter / rows in the window / live events since the page opened / arrived while paused. */
  counts: { shown: number; inWindow: number; received: number; pending: number };
  windowSize: number;
}

/** Filters, the pause switch and the counters above the live table. */
export function TrafficToolbar({ filter, onChange, systems, paused, onPause, onResume, counts, windowSize }: TrafficToolbarProps) {
  const id = useId();
  const set = (patch: Partial<TrafficFilter>) => onChange({ ...filter, ...patch });
  return (
    <div className="traffic-toolbar">
      <div className="traffic-filters" role="search" aria-label="Filter traffic">
        <div className="field traffic-field-text">
          <label htmlFor={`${id}-text`}>Search</label>
          <input
            id={`${id}-text`}
            type="search"
            value={filter.text}
            placeholder="Path, app, reason…"
            onChange={(e) => set({ text: e.target.value })}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-outcome`}>Outcome</label>
          <select id={`${id}-outcome`} value={filter.outcome} onChange={(e) => set({ outcome: e.target.value as TrafficFilter['outcome'] })}>
            <option value="">Any outcome</option>
            {OUTCOMES.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-system`}>System</label>
          <select id={`${id}-system`} value={filter.system} onChange={(e) => set({ system: e.target.value })}>
            <option value="">Any system</option>
            {systems.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-status`}>Status</label>
          <select id={`${id}-status`} value={filter.statusClass} onChange={(e) => set({ statusClass: e.target.value as TrafficFilter['statusClass'] })}>
            <option value="">Any status</option>
            {STATUS_CLASSES.map((c) => (
              <option key={c.value} value={c.value}>
                {c.label}
              </option>
            ))}
          </select>
        </div>
        {isFiltering(filter) ? (
          <button type="button" className="button traffic-clear" onClick={() => onChange({ ...EMPTY_FILTER, subaccount: filter.subaccount })}>
            Clear filters
          </button>
        ) : null}
      </div>
      <div className="traffic-live">
        <button type="button" className={`button${paused ? ' button-primary' : ''}`} onClick={paused ? onResume : onPause}>
          {paused ? 'Resume' : 'Pause'}
        </button>
        <p className="traffic-counts">
          <span>
            Showing {formatNumber(counts.shown)} of {formatNumber(counts.inWindow)} requests
          </span>
          <span className="muted"> · {formatNumber(counts.received)} received live</span>
          {counts.inWindow >= windowSize ? <span className="muted"> · keeping the latest {formatNumber(windowSize)}</span> : null}
        </p>
        {paused ? (
          <p className="traffic-paused">
            Paused: {formatNumber(counts.pending)} new while paused
          </p>
        ) : null}
      </div>
    </div>
  );
}
