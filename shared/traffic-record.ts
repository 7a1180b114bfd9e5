import type { AgentEvent } from './api.js';
import type { TrafficRecord } from './evidence.js';

/**
 * The traffic record a live event stands for: the agent keeps these in its history, and the
 * UI turns the same events into table rows, so both read an event the same way.
 */
export function trafficRecordOf(e: AgentEvent): TrafficRecord | undefined {
  if (e.type === 'request') {
    const { type: _type, ...record } = e;
    return record;
  }
  if (e.type === 'connection') {
    return {
      kind: 'tcp',
      at: e.at,
      subaccountId: e.subaccountId,
      requestId: e.connectionId,
      app: e.app,
      method: 'CONNECT',
      virtualHost: e.virtualHost,
      virtualPort: e.virtualPort,
      path: '',
      status: 0,
      outcome: e.outcome,
      reason: e.reason ?? e.ended,
      durationMs: e.durationMs,
      ...(e.internalHost ? { internalHost: e.internalHost, internalPort: e.internalPort } : {}),
      bytesIn: e.bytesToBackend,
      bytesOut: e.bytesFromBackend,
      timing: { connectMs: e.connectMs, totalMs: e.durationMs },
    };
  }
  return undefined;
}
