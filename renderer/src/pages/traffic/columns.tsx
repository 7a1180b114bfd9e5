import { createColumnHelper } from '@tanstack/react-table';
import { Badge, type Tone } from '../../components/StatusBadge.js';
import { formatBytes, formatDuration, formatTime } from '../../format.js';
import { bytesOf, type Outcome, type TrafficRow } from './rows.js';

export const OUTCOME_TONES: Record<Outcome, Tone> = { allowed: 'ok', denied: 'warn', error: 'danger' };

export function OutcomeBadge({ outcome }: { outcome: Outcome }) {
  return <Badge tone={OUTCOME_TONES[outcome]}>{outcome}</Badge>;
}

/** Total time: the timing split's total when the agent measured one, else its own duration. */
export function totalMsOf(r: TrafficRow): number {
  return r.timing?.totalMs ?? r.durationMs;
}

const column = createColumnHelper<TrafficRow>();

/** The columns of the live table; their widths live in traffic.css (.traffic-grid). */
export const trafficColumns = [
  column.accessor('at', { id: 'time', header: 'Time', cell: (c) => <time dateTime={c.getValue()}>{formatTime(c.getValue())}</time> }),
  column.accessor('app', { header: 'App' }),
  column.accessor('method', { header: 'Method' }),
  column.accessor('system', { header: 'Virtual system' }),
  column.accessor('path', { header: 'Path', cell: (c) => c.getValue() || <span className="muted">TCP connection</span> }),
  // TCP connections have no HTTP status (0).
  column.accessor('status', { header: 'Status', cell: (c) => (c.getValue() === 0 ? '–' : c.getValue()) }),
  column.accessor('outcome', { header: 'Outcome', cell: (c) => <OutcomeBadge outcome={c.getValue()} /> }),
  column.accessor(totalMsOf, { id: 'duration', header: 'Duration', cell: (c) => formatDuration(c.getValue()) }),
  column.accessor(bytesOf, {
    id: 'bytes',
    header: 'Bytes',
    cell: (c) => {
      const bytes = c.getValue();
      return bytes === undefined ? '–' : formatBytes(bytes);
    },
  }),
];
