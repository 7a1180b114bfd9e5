import type { Resource } from '../../../../shared/config.js';
import { useApiMutation } from '../../api/hooks.js';
import { ConfirmButton } from '../../components/ConfirmButton.js';
import { EmptyState } from '../../components/EmptyState.js';
import { ErrorMessage } from '../../components/ErrorMessage.js';
import { Badge } from '../../components/StatusBadge.js';
import { matchLabel } from './labels.js';

/**
 * The allowlist of one HTTP system. A resource can be switched off without losing it; removing
 * asks first. Changes go straight to the agent and the list shows what it saved.
 */
export function ResourceList({ subaccount, system, resources }: { subaccount: string; system: string; resources: Resource[] }) {
  const update = useApiMutation('updateResource', ['listSystems']);
  const remove = useApiMutation('removeResource', ['listSystems']);

  if (resources.length === 0) {
    return (
      <EmptyState title="No resources yet">
        Every request to {system} is refused until you add a path below. Cloud apps reach only the paths listed here.
      </EmptyState>
    );
  }
  return (
    <>
      <div className="table-wrap">
        <table className="table resources-table" aria-label={`Resources of ${system}`}>
          <thead>
            <tr>
              <th scope="col">Path</th>
              <th scope="col">Matches</th>
              <th scope="col">Methods</th>
              <th scope="col">WebSocket</th>
              <th scope="col">Enabled</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {resources.map((r) => (
              <tr key={r.path} className={r.enabled ? undefined : 'is-disabled'}>
                <td>
                  <code>{r.path}</code>
                </td>
                <td>{matchLabel(r.subPaths)}</td>
                <td>{r.methods ? r.methods.join(', ') : 'All'}</td>
                <td>{r.websocket ? <Badge tone="accent">Allowed</Badge> : <span className="muted">No</span>}</td>
                <td>
                  <label className="switch">
                    <input
                      type="checkbox"
                      role="switch"
                      checked={r.enabled}
                      disabled={update.isPending}
                      onChange={(e) => update.mutate({ subaccount, system, path: r.path, patch: { enabled: e.target.checked } })}
                    />
                    <span className="visually-hidden">Enabled: {r.path}</span>
                    <span aria-hidden="true">{r.enabled ? 'On' : 'Off'}</span>
                  </label>
                </td>
                <td>
                  <ConfirmButton
                    question={`Remove ${r.path}? Cloud requests to it will be refused.`}
                    confirmLabel="Remove"
                    onConfirm={() => remove.mutate({ subaccount, system, path: r.path })}
                  >
                    Remove <span className="visually-hidden">{r.path}</span>
                  </ConfirmButton>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ErrorMessage error={update.error} title="Could not change the resource." />
      <ErrorMessage error={remove.error} title="Could not remove the resource." />
    </>
  );
}
