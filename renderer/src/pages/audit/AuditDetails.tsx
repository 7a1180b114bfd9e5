import { useEffect, useRef } from 'react';
import type { AuditActor, AuditEntry, ConfigChange } from '../../../../shared/evidence.js';
import { Facts, Panel } from '../../components/Panel.js';
import { Badge } from '../../components/StatusBadge.js';
import { formatDateTime } from '../../format.js';
import { OUTCOME_TONES, TYPE_LABELS } from './describe.js';

function valueText(v: unknown): string {
  if (v === undefined) return '(none)';
  if (typeof v === 'string') return v;
  const compact = JSON.stringify(v);
  return compact.length <= 60 ? compact : JSON.stringify(v, null, 2);
}

function actorFacts(a: AuditActor): [string, string][] {
  switch (a.kind) {
    case 'cloud-app':
      return [['Cloud app', a.app], ...(a.appId ? [['App id', a.appId] as [string, string]] : []), ...(a.user ? [['User', a.user] as [string, string]] : [])];
    case 'local-admin':
      return [
        ['Administrator', a.user],
        ['Changed through', a.via === 'file' ? 'config.json, edited by hand' : a.via === 'cli' ? 'the CLI' : 'the UI'],
      ];
    case 'connector':
      return [['Actor', 'The connector']];
  }
}

function Changes({ changes }: { changes: ConfigChange[] }) {
  return (
    <div className="audit-changes">
      <h3>Changes</h3>
      <div className="table-wrap">
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Setting</th>
              <th scope="col">Before</th>
              <th scope="col">After</th>
            </tr>
          </thead>
          <tbody>
            {changes.map((c, i) => (
              <tr key={`${c.path}-${i}`} className={c.before === undefined ? 'audit-change-added' : c.after === undefined ? 'audit-change-removed' : undefined}>
                <th scope="row" className="mono">
                  {c.path}
                </th>
                <td className="audit-change-before">
                  <pre>{valueText(c.before)}</pre>
                </td>
                <td className="audit-change-after">
                  <pre>{valueText(c.after)}</pre>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

/** Every field of one entry, its configuration diff, and its place in the chain. */
export function AuditDetails({ entry, onClose }: { entry: AuditEntry; onClose: () => void }) {
  const closeRef = useRef<HTMLButtonElement>(null);
  useEffect(() => closeRef.current?.focus(), [entry.seq]);
  const t = entry.target;
  const detail = Object.entries(entry.detail ?? {});
  return (
    <div
      className="audit-details-wrap"
      onKeyDown={(e) => {
        if (e.key === 'Escape') onClose();
      }}
    >
      <Panel
        className="audit-details"
        title={`${TYPE_LABELS[entry.type]} #${entry.seq}`}
        actions={
          <button ref={closeRef} type="button" className="button" onClick={onClose}>
            Close details
          </button>
        }
      >
        <div className="audit-details-body">
          {entry.reason ? <p className={`audit-reason audit-reason-${OUTCOME_TONES[entry.outcome]}`}>{entry.reason}</p> : null}
          <Facts
            items={[
              ['Time', formatDateTime(entry.time)],
              ['Outcome', <Badge key="o" tone={OUTCOME_TONES[entry.outcome]}>{entry.outcome}</Badge>],
              entry.status !== undefined && ['Status', String(entry.status)],
              ['Subaccount', entry.subaccount || 'The installation'],
              ...actorFacts(entry.actor),
              t.method !== undefined && ['Method', t.method],
              t.virtual !== undefined && ['Virtual system', t.virtual],
              t.path !== undefined && ['Path', t.path],
              t.internal !== undefined && ['Internal system', t.internal],
              t.object !== undefined && ['Object', t.object],
              t.relay !== undefined && ['Relay', t.relay],
              entry.requestId !== undefined && ['Request id', <code key="r">{entry.requestId}</code>],
              ...detail.map(([k, v]): [string, string] => [k, valueText(v)]),
            ]}
          />
          {entry.changes && entry.changes.length > 0 ? <Changes changes={entry.changes} /> : null}
          <details className="audit-chain">
            <summary>Chain</summary>
            <Facts
              items={[
                ['Sequence', String(entry.seq)],
                ['Previous MAC', <code key="p">{entry.prev}</code>],
                ['MAC', <code key="m">{entry.mac}</code>],
              ]}
            />
          </details>
        </div>
      </Panel>
    </div>
  );
}
