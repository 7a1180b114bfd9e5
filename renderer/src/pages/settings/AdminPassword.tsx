import { Panel } from '../../components/Panel.js';
import { ChangePasswordForm } from '../../web/ChangePasswordForm.js';
import type { WebSession } from '../../web/session.js';

/** Headless mode only: the local admin's password for this web UI. */
export function AdminPassword({ session }: { session: WebSession }) {
  return (
    <Panel title="Administrator password" description={`The password of "${session.user}" for this browser interface.`}>
      <ChangePasswordForm onSubmit={session.changePassword} successText="Password changed. Other browsers signed in as this user have to sign in again." />
    </Panel>
  );
}
