import { useCallback, useEffect, useRef, useState } from 'react';
import { systemKey, type SystemMapping } from '../../../../shared/config.js';
import { useApiQuery } from '../../api/hooks.js';
import { EmptyState } from '../../components/EmptyState.js';
import { ErrorMessage } from '../../components/ErrorMessage.js';
import { Panel } from '../../components/Panel.js';
import { AccessTester } from './AccessTester.js';
import { useRunAvailabilityCheck } from './availability.js';
import { SystemDetails } from './SystemDetails.js';
import { SystemForm } from './SystemForm.js';
import { SystemsTable } from './SystemsTable.js';

type Mode = { kind: 'view' } | { kind: 'add' } | { kind: 'edit'; key: string };

/** Everything on the Systems page for one subaccount: the table, the add/edit form, one system's details, the access tester. */
export function SystemsWorkspace({ subaccount }: { subaccount: string }) {
  const systems = useApiQuery('listSystems', { subaccount });
  const [mode, setMode] = useState<Mode>({ kind: 'view' });
  const [chosen, setChosen] = useState<string | undefined>(undefined);
  const runCheck = useRunAvailabilityCheck();
  const addButton = useRef<HTMLButtonElement>(null);
  const list = systems.data ?? [];
  // The first system until the user picks one (or the picked one is removed).
  const selected = list.find((s) => systemKey(s) === chosen) ?? list[0];
  const selectedKey = selected ? systemKey(selected) : undefined;

  // Where keyboard focus goes once a form closes: back to "Add system", or to the saved system's row.
  const [focusAfter, setFocusAfter] = useState<{ kind: 'add' } | { kind: 'row'; key: string } | undefined>(undefined);
  const tableRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!focusAfter || mode.kind !== 'view') return;
    if (focusAfter.kind === 'add') addButton.current?.focus();
    else {
      const row = [...(tableRef.current?.querySelectorAll<HTMLButtonElement>('[data-system-key]') ?? [])].find((b) => b.dataset.systemKey === focusAfter.key);
      if (!row) return; // not listed yet: try again when the list has refetched
      row.focus();
    }
    setFocusAfter(undefined);
  }, [focusAfter, mode, list]);

  const onSaved = useCallback(
    (saved: SystemMapping) => {
      const key = systemKey(saved);
      setChosen(key);
      setMode({ kind: 'view' });
      setFocusAfter({ kind: 'row', key });
      // As on the established products: saving checks at once that the internal host answers.
      void runCheck(subaccount, key);
    },
    [runCheck, subaccount],
  );
  const onSelect = useCallback((key: string) => setChosen(key), []);

  const editing = mode.kind === 'edit' ? list.find((s) => systemKey(s) === mode.key) : undefined;
  const formOpen = mode.kind === 'add' || editing !== undefined;

  return (
    <>
      <Panel
        title="System mappings"
        description="Each mapping gives an internal system a virtual name that cloud apps use; only listed resources are reachable."
        actions={
          mode.kind === 'add' ? null : (
            <button ref={addButton} type="button" className="button button-primary" onClick={() => setMode({ kind: 'add' })}>
              Add system
            </button>
          )
        }
      >
        <ErrorMessage error={systems.error} title="Could not load the systems." />
        {systems.isPending ? <p className="muted">Loading systems…</p> : null}
        {systems.isSuccess && list.length === 0 && mode.kind !== 'add' ? (
          <EmptyState title="No systems yet">
            Add a system to let cloud apps of this subaccount reach an internal host. Nothing is reachable until you do.
          </EmptyState>
        ) : null}
        <div ref={tableRef}>
          {list.length > 0 ? <SystemsTable subaccount={subaccount} systems={list} selectedKey={selectedKey} onSelect={onSelect} /> : null}
        </div>
      </Panel>

      {mode.kind === 'add' ? (
        <Panel title="Add system" className="system-form-panel">
          <SystemForm
            subaccount={subaccount}
            onSaved={onSaved}
            onCancel={() => {
              setMode({ kind: 'view' });
              setFocusAfter({ kind: 'add' });
            }}
          />
        </Panel>
      ) : null}

      {editing ? (
        <Panel title={`Edit ${systemKey(editing)}`} className="system-form-panel">
          <SystemForm key={systemKey(editing)} subaccount={subaccount} base={editing} onSaved={onSaved} onCancel={() => setMode({ kind: 'view' })} />
        </Panel>
      ) : null}

      {selected && !formOpen ? (
        <SystemDetails
          key={selectedKey}
          subaccount={subaccount}
          system={selected}
          onEdit={() => setMode({ kind: 'edit', key: systemKey(selected) })}
          onRemoved={() => setChosen(undefined)}
        />
      ) : null}

      {/* Hidden while a form is open: both use the labels "Virtual host" and "Virtual port". */}
      {formOpen || list.length === 0 ? null : <AccessTester subaccount={subaccount} host={selected?.virtualHost} port={selected?.virtualPort} />}
    </>
  );
}
