import { useId, useState } from 'react';
import type { AuditProblem, AuditVerifyReport } from '../../../../shared/evidence.js';
import { useApiMutation } from '../../api/hooks.js';
import { ErrorMessage } from '../../components/ErrorMessage.js';
import { Panel } from '../../components/Panel.js';
import { formatNumber } from '../../format.js';

/** "audit-2026-03-12.jsonl:41–44", or as much of that as the problem has. */
export function placeOf(p: AuditProblem): string | undefined {
  if (!p.file) return p.line !== undefined ? `line ${p.line}` : undefined;
  if (p.line === undefined) return p.file;
  return `${p.file}:${p.line}${p.lastLine !== undefined && p.lastLine !== p.line ? `–${p.lastLine}` : ''}`;
}

function Report({ report }: { report: AuditVerifyReport }) {
  const scope = `${formatNumber(report.entries)} ${report.entries === 1 ? 'entry' : 'entries'} in ${formatNumber(report.files)} ${report.files === 1 ? 'file' : 'files'}${
    report.firstSeq !== undefined ? ` (seq ${report.firstSeq}–${report.lastSeq ?? report.firstSeq})` : ''
  }`;
  return (
    <div className="audit-verify-report">
      {report.ok ? (
        <p className="audit-verify-ok" role="status">
          <span className="audit-verify-icon" aria-hidden="true">
            ✓
          </span>
          The audit log is intact: {scope}.
        </p>
      ) : (
        <div className="audit-verify-bad" role="alert">
          <p>
            <span className="audit-verify-icon" aria-hidden="true">
              ✗
            </span>
            {report.problems.length === 1 ? '1 problem' : `${formatNumber(report.problems.length)} problems`} found in {scope}.
          </p>
          <ul className="audit-problems" aria-label="Problems">
            {report.problems.map((p, i) => {
              const place = placeOf(p);
              return (
                <li key={i}>
                  {place ? <code className="audit-problem-place">{place}</code> : null}
                  <span className="audit-problem-kind">{p.kind.toUpperCase()}</span>
                  <span>{p.message}</span>
                </li>
              );
            })}
          </ul>
        </div>
      )}
      {report.relaysChecked.length > 0 ? (
        <p className="muted small">
          Compared with the chain heads held by{' '}
          {report.relaysChecked.map((r) => `${r.relay} (${r.subaccount}, ${formatNumber(r.heads)} ${r.heads === 1 ? 'head' : 'heads'})`).join(', ')}.
        </p>
      ) : null}
      {report.warnings.length > 0 ? (
        <ul className="audit-warnings warning-message" aria-label="Warnings">
          {report.warnings.map((w, i) => (
            <li key={i}>{w}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

/** Checks the whole log's chain (and the relays' copies of its head) and says plainly whether it holds. */
export function VerifyPanel() {
  const verify = useApiMutation('verifyAudit');
  const [askRelays, setAskRelays] = useState(true);
  const checkId = useId();
  return (
    <Panel
      title="Integrity"
      className="audit-verify"
      description="Checks every entry's signature and link to the one before, across all audit files."
      actions={
        <>
          <span className="field-check-row">
            <input id={checkId} type="checkbox" checked={askRelays} onChange={(e) => setAskRelays(e.target.checked)} />
            <label htmlFor={checkId}>Compare with the relays</label>
          </span>
          <button type="button" className="button button-primary" disabled={verify.isPending} onClick={() => verify.mutate({ offline: !askRelays })}>
            Verify integrity
          </button>
        </>
      }
    >
      {verify.isPending ? <p className="muted">Verifying the audit log…</p> : null}
      <ErrorMessage error={verify.error} title="Could not verify the audit log." />
      {verify.data && !verify.isPending ? <Report report={verify.data} /> : null}
    </Panel>
  );
}
