import { Link } from 'wouter';
import { EmptyState } from '../components/EmptyState.js';
import { ErrorMessage } from '../components/ErrorMessage.js';
import { SubaccountPicker } from '../components/SubaccountPicker.js';
import { useSelectedSubaccount } from '../components/selected-subaccount.js';
import { SystemsWorkspace } from './systems/SystemsWorkspace.js';
import './systems/systems.css';

/** Systems: the virtual-to-internal mappings of the chosen subaccount, their resources and an access tester. */
export function SystemsPage() {
  const { subaccounts, selected, isPending, error } = useSelectedSubaccount();
  return (
    <section aria-labelledby="page-title" className="page systems-page">
      <div className="page-head">
        <h1 id="page-title">Systems</h1>
        <SubaccountPicker />
      </div>
      <ErrorMessage error={error} title="Could not load the subaccounts." />
      {isPending ? <p className="muted">Loading…</p> : null}
      {!isPending && !error && subaccounts.length === 0 ? (
        <EmptyState title="No subaccount paired yet" action={<Link href="/pairing">Pair with a subaccount</Link>}>
          Systems belong to a subaccount. Pair this connector with one first.
        </EmptyState>
      ) : null}
      {/* Keyed by subaccount: switching starts from a clean form and selection. */}
      {selected ? <SystemsWorkspace key={selected.id} subaccount={selected.id} /> : null}
    </section>
  );
}
