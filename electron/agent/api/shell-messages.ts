import type { Logger } from '../../../common/logger.js';
import type { ConnectorApi } from '../../../shared/api.js';
import { shellToAgentSchema, type AgentToShell } from '../../../shared/agent-messages.js';
import { ErrorCode } from '../../../shared/errors.js';
import { callApi, INTERNAL_ERROR } from './dispatch.js';

export interface ShellMessageDeps {
  api: ConnectorApi;
  post: (message: AgentToShell) => void;
  shutdown: () => void;
  logger: Logger;
}

/**
 * One message from the desktop shell: an `api-call` gets exactly one
 * `api-result` with the same id (also when the message is malformed but has
 * an id, so the shell's pending call never hangs); `shutdown` stops the agent.
 */
export function handleShellMessage(data: unknown, deps: ShellMessageDeps): void {
  const parsed = shellToAgentSchema.safeParse(data);
  if (!parsed.success) {
    const id = (data as { id?: unknown } | null | undefined)?.id;
    if (typeof id === 'number' && Number.isInteger(id) && id >= 0) {
      deps.post({ type: 'api-result', id, ok: false, error: { code: ErrorCode.InvalidInput, message: 'The call was malformed: it needs a type "api-call", a method name and an input.' } });
    } else {
      deps.logger.warn('ignored a malformed message from the desktop shell');
    }
    return;
  }
  const msg = parsed.data;
  if (msg.type === 'shutdown') return deps.shutdown();
  if (msg.type === 'unlock') {
    // The key is taken once, before the agent starts (agent-process.ts); one arriving later changes nothing.
    deps.logger.warn('ignored a data-protection key sent after the agent had started');
    return;
  }
  void callApi(deps.api, msg.method, msg.input, deps.logger).then((reply) => {
    try {
      deps.post({ type: 'api-result', id: msg.id, ...reply });
    } catch (err) {
      // A value the message channel cannot carry: the call still gets its one answer.
      deps.logger.error({ method: msg.method, err: (err as Error).message }, 'API result could not be sent to the shell');
      deps.post({ type: 'api-result', id: msg.id, ok: false, error: { code: INTERNAL_ERROR, message: `The connector could not send its answer to ${msg.method}.` } });
    }
  });
}
