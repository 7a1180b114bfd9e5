import { useEffect, useRef } from 'react';
import { Facts, Panel } from '../../components/Panel.js';
import { formatBytes, formatDateTime } from '../../format.js';
import { OutcomeBadge } from './columns.js';
import type { TrafficRow } from './rows.js';
import { formatPartMs, timingSplit } from './timing.js';

function TimingSplit({ row }: { row: TrafficRow }) {
  const split = timingSplit(row);
  if (!split) return <p className="muted">The agent did not measure a timing split for this request.</p>;
  const { parts, totalMs } = split;
  const scale = Math.max(totalMs, parts.reduce((s, p) => s + p.ms, 0)) || 1;
  return (
    <div className="traffic-timing">
      <h3>Timing</h3>
      {parts.length > 0 ? (
        <div className="traffic-timing-bar" aria-hidden="true">
          {parts.map((p) => (
            <span key={p.id} className={`traffic-timing-part traffic-timing-${p.id}`} style={{ width: `${(p.ms / scale) * 100}%` }} />
          ))}
        </div>
      ) : null}
      <table className="traffic-timing-table">
        <caption className="visually-hidden">Timing split</caption>
        <tbody>
          {parts.map((p) => (
            <tr key={p.id}>
              <th scope="row">
                <span className={`traffic-timing-key traffic-timing-${p.id}`} aria-hidden="true" />
                {p.label}
              </th>
              <td>{formatPartMs(p.ms)}</td>
            </tr>
          ))}
          <tr className="traffic-timing-total">
            <th scope="row">Total</th>
            <td>{formatPartMs(totalMs)}</td>
          </tr>
        </tbody>
      </table>
    </div>
  );
}

function Headers({ headers }: { headers: Record<string, string> }) {
  const entries = Object.entries(headers);
  if (entries.length === 0) return null;
  return (
    <div className="traffic-headers">
      <h3>Headers</h3>
      <dl>
        {entries.map(([name, value]) => (
          <div key={name}>
            <dt>{name}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}

/** One request or TCP connection in full: where it went, why it was refused, where the time went. */
export function RequestDetails({ row, onClose }: { row: TrafficRow; onClose: () => void }) {
  const closeRef = useRef<HTMLButtonElement>(null);
  // Opening details moves focus here so a keyboard user lands on what they asked for.
  useEffect(() => closeRef.current?.focus(), [row.key]);
  const isTcp = row.kind === 'tcp';
  const title = isTcp ? `TCP connection to ${row.system}` : `${row.method} ${row.path}`;
  return (
    <div
      className="traffic-details-wrap"
      onKeyDown={(e) => {
        if (e.key === 'Escape') onClose();
      }}
    >
      <Panel
        className="traffic-details"
        title={<span className="traffic-details-title">{title}</span>}
        actions={
          <button ref={closeRef} type="button" className="button" onClick={onClose}>
            Close details
          </button>
        }
      >
        <div className="traffic-details-body">
          {row.outcome !== 'allowed' && row.reason ? (
            <p className={`traffic-reason traffic-reason-${row.outcome}`}>
              <strong>{row.outcome === 'denied' ? 'Denied: ' : 'Error: '}</strong>
              {row.reason}
            </p>
          ) : null}
          <Facts
            items={[
              ['Time', formatDateTime(row.at)],
              ['Outcome', <OutcomeBadge key="o" outcome={row.outcome} />],
              !isTcp && ['Status', row.status === 0 ? 'no answer' : String(row.status)],
              ['App', row.app],
              row.user !== undefined && ['User', row.user],
              ['Virtual system', row.system],
              row.internalHost !== undefined && ['Internal system', `${row.internalHost}${row.internalPort !== undefined ? `:${row.internalPort}` : ''}`],
              row.resource !== undefined && ['Matched resource', row.resource],
              isTcp && row.outcome === 'allowed' && row.reason !== undefined && ['Ended', row.reason],
              row.bytesIn !== undefined && [isTcp ? 'Bytes to back end' : 'Bytes in', formatBytes(row.bytesIn)],
              row.bytesOut !== undefined && [isTcp ? 'Bytes from back end' : 'Bytes out', formatBytes(row.bytesOut)],
              ['Subaccount', row.subaccountId],
              [isTcp ? 'Connection id' : 'Request id', <code key="id">{row.requestId}</code>],
            ]}
          />
          <TimingSplit row={row} />
          {row.headers ? <Headers headers={row.headers} /> : null}
        </div>
      </Panel>
    </div>
  );
}
