import { useId } from 'react';
import { useSelectedSubaccount } from './selected-subaccount.js';

/**
 * Chooses the subaccount a page works on (shared across pages). With several subaccounts a
 * labelled <select>; with one, just its name; with none, nothing (the page shows its own
 * empty state).
 */
export function SubaccountPicker({ label = 'Subaccount' }: { label?: string }) {
  const { subaccounts, selected, select } = useSelectedSubaccount();
  const id = useId();
  if (subaccounts.length === 0 || !selected) return null;
  if (subaccounts.length === 1) {
    return (
      <div className="subaccount-picker">
        <span className="subaccount-picker-label">{label}</span> <strong>{selected.name}</strong>
      </div>
    );
  }
  return (
    <div className="subaccount-picker">
      <label className="subaccount-picker-label" htmlFor={id}>
        {label}
      </label>
      <select id={id} value={selected.id} onChange={(e) => select(e.target.value)}>
        {subaccounts.map((s) => (
          <option key={s.id} value={s.id}>
            {s.name}
          </option>
        ))}
      </select>
    </div>
  );
}
