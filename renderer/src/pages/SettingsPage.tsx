import { useClient } from '../api/context.js';
import { Page } from '../components/Page.js';
import { useWebSession } from '../web/session.js';
import { AdminPassword } from './settings/AdminPassword.js';
import { AuditSettings } from './settings/AuditSettings.js';
import { DesktopSettings } from './settings/DesktopSettings.js';
import { SupportBundle } from './settings/SupportBundle.js';
import './settings/settings.css';

/** Installation settings: audit, the desktop shell's options or the web admin password, support bundle. */
export function SettingsPage() {
  const client = useClient();
  const session = useWebSession();
  return (
    <Page title="Settings" className="settings-page" description="How this connector records what happens, and how to get help.">
      <AuditSettings />
      {client.shell ? <DesktopSettings /> : null}
      {session ? <AdminPassword session={session} /> : null}
      <SupportBundle />
    </Page>
  );
}
