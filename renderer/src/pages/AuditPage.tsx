import { useMemo, useRef, useState } from 'react';
import type { AuditEntry } from '../../../shared/evidence.js';
import { ErrorMessage } from '../components/ErrorMessage.js';
import { Panel } from '../components/Panel.js';
import { useSelectedSubaccount } from '../components/selected-subaccount.js';
import { formatNumber } from '../format.js';
import { AuditDetails } from './audit/AuditDetails.js';
import { AuditFilters } from './audit/AuditFilters.js';
import { AuditTable } from './audit/AuditTable.js';
import { ExportControls } from './audit/ExportControls.js';
import { VerifyPanel } from './audit/VerifyPanel.js';
import { AUDIT_LIMIT, EMPTY_AUDIT_FILTER, queryOf, type AuditFilter } from './audit/filter.js';
import { useAuditEntries } from './audit/use-audit-entries.js';
import { useDebounced } from './audit/use-debounced.js';
import './audit/audit.css';

export function AuditPage() {
  const { subaccounts } = useSelectedSubaccount();
  const [filter, setFilter] = useState<AuditFilter>(EMPTY_AUDIT_FILTER);
  // Typing in Text queries the agent once the user pauses, not on every key.
  const text = useDebounced(filter.text, 300);
  const parsed = useMemo(() => queryOf({ ...filter, text }), [filter, text]);
  const query = parsed.ok ? parsed.query : undefined;
  const { entries, loading, error, truncated } = useAuditEntries(query);

  const [selected, setSelected] = useState<AuditEntry | undefined>(undefined);
  const returnFocus = useRef<HTMLElement | null>(null);
  const open = (entry: AuditEntry) => {
    if (document.activeElement instanceof HTMLElement && document.activeElement.closest('[role="table"]')) returnFocus.current = document.activeElement;
    setSelected(entry);
  };
  const close = () => {
    setSelected(undefined);
    const el = returnFocus.current;
    returnFocus.current = null;
    if (el?.isConnected) el.focus();
  };

  const emptyText = !parsed.ok
    ? 'Fix the filter to see entries.'
    : loading
      ? 'Loading audit entries…'
      : JSON.stringify(filter) === JSON.stringify(EMPTY_AUDIT_FILTER)
        ? 'The audit log is empty.'
        : 'No entry matches the filters.';

  return (
    <section aria-labelledby="page-title" className="page audit-page">
      <div className="page-head">
        <div>
          <h1 id="page-title">Audit</h1>
          <p className="page-description">
            Signed, append-only record of denials, configuration changes, pairing, certificates and tunnel state. New entries appear as they are written.
          </p>
        </div>
      </div>
      <VerifyPanel />
      <Panel
        title="Entries"
        className="audit-entries"
        actions={<ExportControls entries={entries} query={query} />}
      >
        <AuditFilters filter={filter} onChange={setFilter} subaccounts={subaccounts} error={parsed.ok ? undefined : parsed.error} />
        <ErrorMessage error={error} title="Could not read the audit log." />
        <p className="audit-count muted">
          {formatNumber(entries.length)} {entries.length === 1 ? 'entry' : 'entries'}
          {truncated ? ` (the newest ${formatNumber(AUDIT_LIMIT)} that match; narrow the time range to see older ones)` : ''}
        </p>
        <div className={`audit-main${selected ? ' audit-main-with-details' : ''}`}>
          <AuditTable entries={entries} selectedSeq={selected?.seq} onOpen={open} emptyText={emptyText} />
          {selected ? <AuditDetails entry={selected} onClose={close} /> : null}
        </div>
      </Panel>
    </section>
  );
}
