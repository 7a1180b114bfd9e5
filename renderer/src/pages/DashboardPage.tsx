import { Link } from 'wouter';
import { EmptyState } from '../components/EmptyState.js';
import { ErrorMessage } from '../components/ErrorMessage.js';
import { Page } from '../components/Page.js';
import { useNow } from '../components/use-now.js';
import { formatDuration } from '../format.js';
import { SubaccountCard } from './dashboard/SubaccountCard.js';
import { useDashboard } from './dashboard/use-dashboard.js';
import './dashboard/dashboard.css';

/** Each subaccount's tunnel and traffic at a glance, live. */
export function DashboardPage() {
  const dashboard = useDashboard();
  const now = useNow(10_000);
  const data = dashboard.data;
  const description = data
    ? `Tunnel state and traffic of each subaccount. Agent ${data.version}, running for ${formatDuration(now - Date.parse(data.agentStartedAt))}.`
    : 'Tunnel state and traffic of each subaccount.';
  return (
    <Page title="Dashboard" description={description}>
      <ErrorMessage error={dashboard.error} title="The dashboard could not be loaded." />
      {dashboard.isPending ? (
        <p className="loading" role="status">
          Loading…
        </p>
      ) : null}
      {data && data.subaccounts.length === 0 ? (
        <EmptyState
          title="No subaccount is paired yet"
          action={
            <Link href="/pairing" className="button button-primary">
              Pair a subaccount
            </Link>
          }
        >
          Pair this connector with a relay using the pairing code from your cloud account. Cloud applications can then reach the systems you
          allow on this site.
        </EmptyState>
      ) : null}
      {data && data.subaccounts.length > 0 ? (
        <div className="dashboard-grid">
          {data.subaccounts.map((s) => (
            <SubaccountCard key={s.id} subaccount={s} />
          ))}
        </div>
      ) : null}
    </Page>
  );
}
