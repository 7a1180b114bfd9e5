import { useEffect, useId, useRef, useState } from 'react';
import type { SubaccountSummary } from '../../../../shared/api.js';
import { useApiMutation } from '../../api/hooks.js';
import { ErrorMessage } from '../../components/ErrorMessage.js';

/**
 * Removing a subaccount deletes its systems and its key material, and cannot be undone, so
 * the administrator types the subaccount id (the agent checks the same `confirm`).
 */
export function RemoveSubaccount({ subaccount }: { subaccount: SubaccountSummary }) {
  const [asking, setAsking] = useState(false);
  const [typed, setTyped] = useState('');
  const remove = useApiMutation('removeSubaccount', ['listSubaccounts', 'dashboard', 'getSettings', 'listSystems']);
  const inputRef = useRef<HTMLInputElement>(null);
  const triggerRef = useRef<HTMLButtonElement>(null);
  const inputId = useId();
  const warnId = useId();

  useEffect(() => {
    if (asking) inputRef.current?.focus();
  }, [asking]);

  const cancel = () => {
    setAsking(false);
    setTyped('');
    remove.reset();
    // Back to the button that opened the question, so keyboard users keep their place.
    setTimeout(() => triggerRef.current?.focus(), 0);
  };

  if (!asking) {
    return (
      <button ref={triggerRef} type="button" className="button button-danger-outline" onClick={() => setAsking(true)}>
        Remove
      </button>
    );
  }
  const matches = typed.trim() === subaccount.id;
  return (
    <form
      className="remove-subaccount"
      aria-label={`Remove subaccount ${subaccount.id}`}
      onSubmit={(e) => {
        e.preventDefault();
        if (matches) remove.mutate({ subaccount: subaccount.id, confirm: typed.trim() });
      }}
      onKeyDown={(e) => {
        if (e.key === 'Escape') cancel();
      }}
    >
      <p id={warnId} className="remove-subaccount-warning">
        This removes <strong>{subaccount.name || subaccount.id}</strong>, its {subaccount.systemCount}{' '}
        {subaccount.systemCount === 1 ? 'system' : 'systems'} and its certificate and key. Cloud apps lose access at once; pairing again needs a
        new code. Type <code>{subaccount.id}</code> to confirm.
      </p>
      <div className="field">
        <label htmlFor={inputId}>Subaccount id</label>
        <input
          ref={inputRef}
          id={inputId}
          value={typed}
          onChange={(e) => setTyped(e.target.value)}
          autoComplete="off"
          spellCheck={false}
          aria-describedby={warnId}
        />
      </div>
      <ErrorMessage error={remove.error} title="Could not remove the subaccount." />
      <div className="form-actions">
        <button type="submit" className="button button-danger" disabled={!matches || remove.isPending}>
          Remove subaccount
        </button>
        <button type="button" className="button" onClick={cancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
