import type { AuditDraft } from '../../../shared/evidence.js';
import { USER_NAME_PATTERN } from '../../../shared/web-api.js';

/** Recorded instead of a user name outside USER_NAME_PATTERN: what an outsider typed could forge log lines or terminal escapes. */
export const INVALID_USER_PLACEHOLDER = '(invalid name)';

/** Where audit entries go: the running agent's recorder (resolves once written, never rejects). */
export type AuditSink = (draft: AuditDraft) => Promise<void>;

export type SignInEvent =
  | { kind: 'signed-in'; user: string; address: string; mustChangePassword: boolean }
  | { kind: 'wrong-password'; user: string; address: string; waitMs: number }
  | { kind: 'throttled'; user: string; address: string; retryAfterMs: number; scope: 'address' | 'global' }
  | { kind: 'signed-out'; user: string; address: string }
  | { kind: 'password-changed'; user: string; address: string }
  | { kind: 'password-change-refused'; user: string; address: string; reason: string };

const TARGET = { object: 'headless UI' };

/**
 * Every sign-in attempt, whatever its outcome, as an `admin-login` entry naming the user and
 * the client address. The password, right or wrong, is never part of an entry.
 */
export function signInDraft(e: SignInEvent): AuditDraft {
  const actor = { kind: 'local-admin' as const, user: USER_NAME_PATTERN.test(e.user) ? e.user : INVALID_USER_PLACEHOLDER, via: 'api' as const };
  const base = { subaccount: '', type: 'admin-login' as const, actor, target: TARGET, detail: { address: e.address } };
  switch (e.kind) {
    case 'signed-in':
      return { ...base, outcome: 'success', reason: e.mustChangePassword ? 'signed in; must change the initial password' : 'signed in' };
    case 'wrong-password':
      return { ...base, outcome: 'failure', reason: `wrong user name or password; next attempt from this address in ${Math.ceil(e.waitMs / 1000)} s` };
    case 'throttled':
      return {
        ...base,
        outcome: 'denied',
        reason: `sign-in refused without checking: too many failed attempts ${e.scope === 'global' ? 'overall' : 'from this address'}; retry in ${Math.ceil(e.retryAfterMs / 1000)} s`,
      };
    case 'signed-out':
      return { ...base, outcome: 'info', reason: 'signed out' };
    case 'password-changed':
      return { ...base, outcome: 'success', reason: 'password changed; other sessions ended' };
    case 'password-change-refused':
      return { ...base, outcome: 'failure', reason: `password change refused: ${e.reason}` };
  }
}
