import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ShellSettings } from '../../../../shared/ipc.js';
import { unwrap, type ApiError } from '../../api/client.js';
import { useClient } from '../../api/context.js';
import { ErrorMessage } from '../../components/ErrorMessage.js';
import { CheckboxField } from '../../components/Field.js';
import { Panel } from '../../components/Panel.js';

const KEY = ['shell:getSettings'] as const;

/** Desktop app only: start at login, notifications, and whether secrets have a real key store. */
export function DesktopSettings() {
  const client = useClient();
  const shell = client.shell!;
  const queryClient = useQueryClient();
  const settings = useQuery<ShellSettings, ApiError>({ queryKey: KEY, queryFn: async () => unwrap(await shell.getSettings({})) });
  const save = useMutation<ShellSettings, ApiError, { startAtLogin?: boolean; notifications?: boolean }>({
    mutationFn: async (input) => unwrap(await shell.setSettings(input)),
    onSuccess: (value) => queryClient.setQueryData(KEY, value),
  });
  const data = settings.data;
  return (
    <Panel title="Desktop app">
      <ErrorMessage error={settings.error} title="The desktop settings could not be loaded." />
      {data ? (
        <div className="stack">
          <ErrorMessage error={data.keyStoreError} title="Private keys cannot be unlocked." />
          {!data.secureStorage ? (
            <div className="warning-message" role="note">
              <strong>Secrets are not protected by an operating-system key store.</strong> This system offers no keyring to Skybridge (backend “
              {data.secureStorageBackend}”), so private keys and passwords are protected only by your user account's file permissions: anyone who can
              read your files can read them. Unlock or install a key store (GNOME Keyring or KWallet) and restart Skybridge.
            </div>
          ) : data.keyStoreError ? null : (
            <p className="muted small">
              Private keys and passwords are encrypted with a key kept in the operating system's key store ({data.secureStorageBackend}).
            </p>
          )}
          <CheckboxField
            label="Start Skybridge when I log in"
            hint="The connector then runs in the system tray without opening this window."
            checked={data.startAtLogin}
            disabled={save.isPending}
            onChange={(e) => save.mutate({ startAtLogin: e.target.checked })}
          />
          <CheckboxField
            label="Desktop notifications"
            hint="When a subaccount goes down or comes back, and when a certificate nears its expiry."
            checked={data.notifications}
            disabled={save.isPending}
            onChange={(e) => save.mutate({ notifications: e.target.checked })}
          />
          <ErrorMessage error={save.error} title="Not saved." />
        </div>
      ) : null}
    </Panel>
  );
}
