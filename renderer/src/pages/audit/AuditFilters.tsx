import { useId } from 'react';
import { AUDIT_TYPES } from '../../../../shared/evidence.js';
import type { SubaccountSummary } from '../../../../shared/api.js';
import { EMPTY_AUDIT_FILTER, INSTALLATION, type AuditFilter } from './filter.js';
import { TYPE_LABELS } from './describe.js';

export interface AuditFiltersProps {
  filter: AuditFilter;
  onChange: (filter: AuditFilter) => void;
  subaccounts: readonly SubaccountSummary[];
  /** Why the filter cannot be applied (From after To…). */
  error: string | undefined;
}

export function AuditFilters({ filter, onChange, subaccounts, error }: AuditFiltersProps) {
  const id = useId();
  const set = (patch: Partial<AuditFilter>) => onChange({ ...filter, ...patch });
  const rangeInvalid = error !== undefined;
  const errorId = `${id}-error`;
  const changed = JSON.stringify(filter) !== JSON.stringify(EMPTY_AUDIT_FILTER);
  return (
    <div className="audit-filters" role="search" aria-label="Filter audit entries">
      <div className="field">
        <label htmlFor={`${id}-from`}>From</label>
        <input
          id={`${id}-from`}
          type="datetime-local"
          step={1}
          value={filter.from}
          aria-invalid={rangeInvalid || undefined}
          aria-describedby={rangeInvalid ? errorId : undefined}
          onChange={(e) => set({ from: e.target.value })}
        />
      </div>
      <div className="field">
        <label htmlFor={`${id}-to`}>To</label>
        <input
          id={`${id}-to`}
          type="datetime-local"
          step={1}
          value={filter.to}
          aria-invalid={rangeInvalid || undefined}
          aria-describedby={rangeInvalid ? errorId : undefined}
          onChange={(e) => set({ to: e.target.value })}
        />
      </div>
      <div className="field">
        <label htmlFor={`${id}-type`}>Type</label>
        <select id={`${id}-type`} value={filter.type} onChange={(e) => set({ type: e.target.value as AuditFilter['type'] })}>
          <option value="">All types</option>
          {AUDIT_TYPES.map((t) => (
            <option key={t} value={t}>
              {TYPE_LABELS[t]}
            </option>
          ))}
        </select>
      </div>
      {subaccounts.length > 0 ? (
        <div className="field">
          <label htmlFor={`${id}-subaccount`}>Subaccount</label>
          <select id={`${id}-subaccount`} value={filter.subaccount} onChange={(e) => set({ subaccount: e.target.value })}>
            <option value="">All, and the installation</option>
            {subaccounts.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
            <option value={INSTALLATION}>The installation only</option>
          </select>
        </div>
      ) : null}
      <div className="field audit-filter-text">
        <label htmlFor={`${id}-text`}>Text</label>
        <input id={`${id}-text`} type="search" value={filter.text} placeholder="App, path, reason, user…" onChange={(e) => set({ text: e.target.value })} />
      </div>
      {changed ? (
        <button type="button" className="button" onClick={() => onChange(EMPTY_AUDIT_FILTER)}>
          Clear filters
        </button>
      ) : null}
      {error ? (
        <p className="field-error audit-filter-error" id={errorId} role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}
