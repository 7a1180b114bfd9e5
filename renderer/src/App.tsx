import { Route, Router, Switch, Redirect } from 'wouter';
import { useHashLocation } from 'wouter/use-hash-location';
import { AppLayout } from './components/Layout.js';
import { SelectedSubaccountProvider } from './components/selected-subaccount.js';
import { AuditPage } from './pages/AuditPage.js';
import { DashboardPage } from './pages/DashboardPage.js';
import { PairingPage } from './pages/PairingPage.js';
import { SettingsPage } from './pages/SettingsPage.js';
import { SystemsPage } from './pages/SystemsPage.js';
import { TrafficPage } from './pages/TrafficPage.js';

/** Pages in navigation order; the path is the hash route (#/systems), so file:// and HTTPS behave alike. */
export const PAGES = [
  { path: '/', label: 'Dashboard', component: DashboardPage },
  { path: '/pairing', label: 'Pairing', component: PairingPage },
  { path: '/systems', label: 'Systems', component: SystemsPage },
  { path: '/traffic', label: 'Traffic', component: TrafficPage },
  { path: '/audit', label: 'Audit', component: AuditPage },
  { path: '/settings', label: 'Settings', component: SettingsPage },
] as const;

export function App() {
  return (
    <Router hook={useHashLocation}>
      <SelectedSubaccountProvider>
        <AppLayout pages={PAGES}>
          <Switch>
            {PAGES.map((p) => (
              <Route key={p.path} path={p.path} component={p.component} />
            ))}
            <Route>
              <Redirect to="/" />
            </Route>
          </Switch>
        </AppLayout>
      </SelectedSubaccountProvider>
    </Router>
  );
}
