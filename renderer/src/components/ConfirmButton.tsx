import { useEffect, useId, useRef, useState, type ReactNode } from 'react';

export interface ConfirmButtonProps {
  /** The button's text, e.g. "Disconnect" or "Remove". */
  children: ReactNode;
  /** The question shown before acting, e.g. "Disconnect ACME? Cloud apps lose access until you connect again." */
  question: ReactNode;
  /** Runs after the user confirms. */
  onConfirm: () => void;
  /** Text of the confirming button (default "Confirm"). */
  confirmLabel?: string;
  /** Style of the buttons: 'danger' (default) for destructive actions. */
  tone?: 'danger' | 'default';
  disabled?: boolean;
  className?: string;
}

/**
 * A button that asks first. Clicking it swaps it for an inline question with "Confirm" and
 * "Cancel" (no modal, so nothing traps focus); focus moves to Cancel so an accidental Enter
 * does nothing harmful, and Escape backs out.
 */
export function ConfirmButton({ children, question, onConfirm, confirmLabel = 'Confirm', tone = 'danger', disabled, className }: ConfirmButtonProps) {
  const [asking, setAsking] = useState(false);
  const cancelRef = useRef<HTMLButtonElement>(null);
  const triggerRef = useRef<HTMLButtonElement>(null);
  const returnFocus = useRef(false);
  const questionId = useId();

  useEffect(() => {
    if (asking) cancelRef.current?.focus();
    else if (returnFocus.current) {
      returnFocus.current = false;
      triggerRef.current?.focus();
    }
  }, [asking]);

  const close = () => {
    returnFocus.current = true;
    setAsking(false);
  };

  if (!asking) {
    return (
      <button
        ref={triggerRef}
        type="button"
        className={`button${tone === 'danger' ? ' button-danger-outline' : ''}${className ? ` ${className}` : ''}`}
        disabled={disabled}
        onClick={() => setAsking(true)}
      >
        {children}
      </button>
    );
  }
  return (
    <div
      className="confirm"
      role="group"
      aria-labelledby={questionId}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          close();
        }
      }}
    >
      <span className="confirm-question" id={questionId}>
        {question}
      </span>
      <button
        type="button"
        className={`button${tone === 'danger' ? ' button-danger' : ' button-primary'}`}
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        {confirmLabel}
      </button>
      <button ref={cancelRef} type="button" className="button" onClick={close}>
        Cancel
      </button>
    </div>
  );
}
