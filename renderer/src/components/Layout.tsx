import type { ReactNode } from 'react';
import { Link, useLocation } from 'wouter';
import { useWebSession } from '../web/session.js';
import { overallState, useSubaccounts, type OverallState } from './live-subaccounts.js';

const OVERALL: Record<OverallState, { text: string; tone: string }> = {
  connected: { text: 'All connected', tone: 'ok' },
  degraded: { text: 'Partly connected', tone: 'warn' },
  offline: { text: 'Offline', tone: 'danger' },
  idle: { text: 'No active subaccount', tone: 'muted' },
  unknown: { text: 'Connector not answering', tone: 'muted' },
};

export interface NavPage {
  path: string;
  label: string;
}

/** Header row: product name, the overall tunnel state, and Sign out in headless mode. */
function AppHeader() {
  const { data, isPending } = useSubaccounts();
  const session = useWebSession();
  const overall = isPending ? undefined : OVERALL[overallState(data)];
  return (
    <header className="app-header">
      <div className="app-brand">
        <span className="app-logo" aria-hidden="true" />
        <span className="app-name">Skybridge</span>
      </div>
      <div className="app-header-tools">
        {overall ? (
          <span className={`app-overall badge badge-${overall.tone}`} role="status" aria-label={`Connection: ${overall.text}`}>
            <span className="badge-dot" aria-hidden="true" />
            {overall.text}
          </span>
        ) : null}
        {session ? (
          <>
            <span className="app-user">{session.user}</span>
            <button type="button" className="button button-small" onClick={session.signOut}>
              Sign out
            </button>
          </>
        ) : null}
      </div>
    </header>
  );
}

/**
 * The application frame: header, the left navigation (current page marked with
 * aria-current="page"), and the content area.
 */
export function AppLayout({ pages, children }: { pages: readonly NavPage[]; children: ReactNode }) {
  const [location] = useLocation();
  return (
    <div className="app">
      <a className="skip-link" href="#main" onClick={(e) => {
        // Hash routing owns the URL fragment, so move focus by hand instead of navigating.
        e.preventDefault();
        document.getElementById('main')?.focus();
      }}>
        Skip to content
      </a>
      <AppHeader />
      <nav className="app-nav" aria-label="Main">
        <ul>
          {pages.map((p) => {
            const current = p.path === '/' ? location === '/' : location === p.path || location.startsWith(`${p.path}/`);
            return (
              <li key={p.path}>
                <Link href={p.path} className="nav-link" aria-current={current ? 'page' : undefined}>
                  {p.label}
                </Link>
              </li>
            );
          })}
        </ul>
      </nav>
      <main className="app-main" id="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
