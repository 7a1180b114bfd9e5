import { useQueryClient } from '@tanstack/react-query';
import { useAgentEvents } from '../api/hooks.js';
import { EmptyState } from '../components/EmptyState.js';
import { ErrorMessage } from '../components/ErrorMessage.js';
import { Panel } from '../components/Panel.js';
import { useSubaccounts } from '../components/live-subaccounts.js';
import { PairForm } from './pairing/PairForm.js';
import { SubaccountCard } from './pairing/SubaccountCard.js';
import './pairing/pairing.css';

/** Pairing: pair with a subaccount from a relay's code; see, renew, disconnect or remove the paired ones. */
export function PairingPage() {
  const subaccounts = useSubaccounts();
  const queryClient = useQueryClient();
  // A certificate renewed in the background (or about to expire) changes what the cards show.
  useAgentEvents((event) => {
    if (event.type === 'certificate-renewed' || event.type === 'certificate-warning') {
      void queryClient.invalidateQueries({ queryKey: ['certificateDetails', { subaccount: event.subaccountId }] });
    }
  });
  const list = subaccounts.data ?? [];

  return (
    <section aria-labelledby="page-title" className="page pairing-page">
      <div className="page-head">
        <h1 id="page-title">Pairing</h1>
      </div>
      <PairForm />
      <Panel title="Paired subaccounts">
        <ErrorMessage error={subaccounts.error} title="Could not load the subaccounts." />
        {subaccounts.isPending ? <p className="muted">Loading…</p> : null}
        {subaccounts.isSuccess && list.length === 0 ? (
          <EmptyState title="Not paired yet">This connector serves no subaccount. Paste a pairing code above to pair with one.</EmptyState>
        ) : null}
        <div className="subaccount-list">
          {list.map((s) => (
            <SubaccountCard key={s.id} subaccount={s} />
          ))}
        </div>
      </Panel>
    </section>
  );
}
