import type { AgentEvent, ApiInput, ApiOutput, ConnectorApiMethod } from '../../../shared/api.js';
import type { DesktopBridge, IpcResult } from '../../../shared/ipc.js';

/**
 * The UI's one way to reach the connector. Two transports, one interface: IPC through the
 * preload in the desktop app, HTTP + WebSocket in the browser (headless agent).
 */
export interface Client {
  readonly kind: 'desktop' | 'web';
  call<M extends ConnectorApiMethod>(method: M, input: ApiInput<M>): Promise<ApiOutput<M>>;
  /** Live agent events; returns the function that unsubscribes. */
  subscribe(listener: (event: AgentEvent) => void): () => void;
  /** Desktop only: what only the shell can do (start at login, native save dialog…). */
  readonly shell?: DesktopBridge['shell'];
}

/** A refusal from the connector: a code from shared/errors.ts and a sentence to show. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function unwrap<T>(result: IpcResult<T>): T {
  if (result.ok) return result.value;
  throw new ApiError(result.error.code, result.error.message);
}

export function createDesktopClient(bridge: DesktopBridge): Client {
  return {
    kind: 'desktop',
    shell: bridge.shell,
    async call(method, input) {
      const fn = bridge.api[method] as (input: unknown) => Promise<IpcResult<unknown>>;
      return unwrap(await fn(input)) as never;
    },
    subscribe(listener) {
      return bridge.on('event:agent', listener);
    },
  };
}
