import { DEFAULT_TCP_IDLE_TIMEOUT_MS, DEFAULT_TCP_MAX_CONNECTIONS, isTcpProtocol, systemKey, systemLabel, type SystemMapping } from '../../../../shared/config.js';
import { useApiMutation } from '../../api/hooks.js';
import { ConfirmButton } from '../../components/ConfirmButton.js';
import { ErrorMessage } from '../../components/ErrorMessage.js';
import { Facts, Panel } from '../../components/Panel.js';
import { formatDuration } from '../../format.js';
import { useAvailability, useRunAvailabilityCheck } from './availability.js';
import { AvailabilityBadge } from './AvailabilityBadge.js';
import { HOST_HEADER_LABELS, PROTOCOL_LABELS } from './labels.js';
import { ResourceForm } from './ResourceForm.js';
import { ResourceList } from './ResourceList.js';

export interface SystemDetailsProps {
  subaccount: string;
  system: SystemMapping;
  onEdit: () => void;
  onRemoved: () => void;
}

/** One mapping: its settings, its availability, and (for HTTP) its resources. */
export function SystemDetails({ subaccount, system, onEdit, onRemoved }: SystemDetailsProps) {
  const key = systemKey(system);
  const tcp = isTcpProtocol(system.protocol);
  const remove = useApiMutation('removeSystem', ['listSystems', 'listSubaccounts', 'dashboard']);
  const runCheck = useRunAvailabilityCheck();
  const { isFetching: checking } = useAvailability(subaccount, key);
  const internal =
    system.internalPortEnd !== undefined ? `${system.internalHost}:${system.internalPort}-${system.internalPortEnd}` : `${system.internalHost}:${system.internalPort}`;

  return (
    <Panel
      title={systemLabel(system)}
      className="system-details"
      description={system.description}
      actions={
        <>
          <button type="button" className="button" onClick={onEdit}>
            Edit system
          </button>
          <ConfirmButton
            question={`Remove ${systemLabel(system)}? Cloud apps lose access to it at once.`}
            confirmLabel="Remove system"
            onConfirm={() => remove.mutate({ subaccount, system: key }, { onSuccess: onRemoved })}
          >
            Remove system
          </ConfirmButton>
        </>
      }
    >
      <ErrorMessage error={remove.error} title="Could not remove the system." />
      <Facts
        items={[
          ['Internal host:port', internal],
          ['Protocol', PROTOCOL_LABELS[system.protocol]],
          !tcp && ['Host header', HOST_HEADER_LABELS[system.hostHeader]],
          system.caFile !== undefined && ['CA file', <code key="ca">{system.caFile}</code>],
          ['Connect timeout', formatDuration(system.connectTimeoutMs)],
          ['Response timeout', formatDuration(system.responseTimeoutMs)],
          tcp && ['Idle timeout', formatDuration(system.idleTimeoutMs ?? DEFAULT_TCP_IDLE_TIMEOUT_MS)],
          tcp && ['Max connections', String(system.maxConnections ?? DEFAULT_TCP_MAX_CONNECTIONS)],
        ]}
      />

      <div className="availability-row" aria-live="polite">
        <AvailabilityBadge subaccount={subaccount} system={key} />
        <button type="button" className="button" disabled={checking} onClick={() => void runCheck(subaccount, key)}>
          Check availability
        </button>
      </div>

      {tcp ? (
        <p className="warning-message" role="note">
          A TCP system has no resources: raw TCP cannot be inspected, so the whole {system.virtualPortEnd !== undefined ? 'port range' : 'port'} is reachable
          through the relay&rsquo;s SOCKS5 proxy. Each connection is logged with its duration and bytes.
        </p>
      ) : (
        <section className="system-resources" aria-labelledby={`resources-${key}`}>
          <h3 id={`resources-${key}`}>Resources</h3>
          <p className="panel-description">Only these paths are reachable; everything else is refused with 403 and written to the audit log.</p>
          <ResourceList subaccount={subaccount} system={key} resources={system.resources} />
          <h4>Add a resource</h4>
          <ResourceForm key={key} subaccount={subaccount} system={key} />
        </section>
      )}
    </Panel>
  );
}
