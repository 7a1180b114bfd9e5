import { cloneElement, isValidElement, useId, type InputHTMLAttributes, type ReactElement, type ReactNode, type Ref } from 'react';

/** What Field hands to its control so the label, hint and error are wired to it. */
export interface FieldControlProps {
  id: string;
  'aria-describedby'?: string;
  'aria-invalid'?: boolean;
}

export interface FieldProps {
  label: ReactNode;
  /** The validation message; shown under the control and linked with aria-describedby. */
  error?: string | undefined;
  /** A short explanation under the label. */
  hint?: ReactNode;
  /** Fix the control's id (otherwise one is generated). */
  id?: string;
  className?: string;
  /**
   * The control: either an element (`<input {...register('name')} />`), which gets id and
   * aria props injected, or a function receiving them (`{(p) => <select {...p} />}`).
   */
  children: ReactElement | ((props: FieldControlProps) => ReactNode);
}

/**
 * A labelled form control with hint and error text:
 *   <Field label="Virtual host" error={errors.virtualHost?.message}><input {...register('virtualHost')} /></Field>
 */
export function Field({ label, error, hint, id, className, children }: FieldProps) {
  const generated = useId();
  const controlId = id ?? `field-${generated}`;
  const hintId = hint ? `${controlId}-hint` : undefined;
  const errorId = error ? `${controlId}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(' ') || undefined;
  const controlProps: FieldControlProps = { id: controlId, 'aria-describedby': describedBy, 'aria-invalid': error ? true : undefined };
  const control =
    typeof children === 'function' ? children(controlProps) : isValidElement(children) ? cloneElement(children as ReactElement<FieldControlProps>, controlProps) : children;
  return (
    <div className={`field${error ? ' field-invalid' : ''}${className ? ` ${className}` : ''}`}>
      <label htmlFor={controlId}>{label}</label>
      {hint ? (
        <div className="field-hint" id={hintId}>
          {hint}
        </div>
      ) : null}
      {control}
      {error ? (
        <div className="field-error" id={errorId}>
          {error}
        </div>
      ) : null}
    </div>
  );
}

/**
 * A checkbox with its label after it (and an optional hint); the rest of the props go to the
 * <input>, so it works with react-hook-form: <CheckboxField label="Path and everything below it" {...register('subPaths')} />
 */
export function CheckboxField({
  label,
  hint,
  error,
  id,
  ref,
  ...input
}: Omit<InputHTMLAttributes<HTMLInputElement>, 'type'> & { label: ReactNode; hint?: ReactNode; error?: string | undefined; ref?: Ref<HTMLInputElement> }) {
  const generated = useId();
  const controlId = id ?? `check-${generated}`;
  const hintId = hint ? `${controlId}-hint` : undefined;
  const errorId = error ? `${controlId}-error` : undefined;
  return (
    <div className="field field-check">
      <div className="field-check-row">
        <input
          type="checkbox"
          id={controlId}
          ref={ref}
          aria-describedby={[hintId, errorId].filter(Boolean).join(' ') || undefined}
          aria-invalid={error ? true : undefined}
          {...input}
        />
        <label htmlFor={controlId}>{label}</label>
      </div>
      {hint ? (
        <div className="field-hint" id={hintId}>
          {hint}
        </div>
      ) : null}
      {error ? (
        <div className="field-error" id={errorId}>
          {error}
        </div>
      ) : null}
    </div>
  );
}
