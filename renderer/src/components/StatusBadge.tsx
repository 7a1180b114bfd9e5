import type { ReactNode } from 'react';
import { SUBACCOUNT_STATE_LABELS, type SubaccountStateName } from '../../../shared/api.js';

export const STATE_LABELS = SUBACCOUNT_STATE_LABELS;

export type Tone = 'ok' | 'warn' | 'danger' | 'muted' | 'accent';

const STATE_TONES: Record<SubaccountStateName, Tone> = {
  connected: 'ok',
  connecting: 'accent',
  reconnecting: 'warn',
  disconnected: 'muted',
  failed: 'danger',
};

/**
 * A small coloured label with text (colour is never the only signal). Use for outcomes
 * (allowed/denied/error), protocols, "disabled" markers…
 */
export function Badge({ tone = 'muted', children, title }: { tone?: Tone; children: ReactNode; title?: string }) {
  return (
    <span className={`badge badge-${tone}`} title={title}>
      <span className="badge-dot" aria-hidden="true" />
      {children}
    </span>
  );
}

/**
 * A subaccount's tunnel state as a badge: "Connected", "Reconnecting"… `data-state` carries
 * the raw state for tests and styling.
 */
export function StatusBadge({ state }: { state: SubaccountStateName }) {
  return (
    <span className={`badge badge-${STATE_TONES[state]} status-badge`} data-state={state}>
      <span className="badge-dot" aria-hidden="true" />
      {STATE_LABELS[state]}
    </span>
  );
}
