import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { zodResolver } from '@hookform/resolvers/zod';
import { MIN_PASSWORD_LENGTH } from '../../../shared/web-api.js';
import { ErrorMessage } from '../components/ErrorMessage.js';
import { Field } from '../components/Field.js';
import { changePasswordFormSchema, type ChangePasswordValues } from './password-rules.js';

export interface ChangePasswordFormProps {
  /** Sends the change; reject with an ApiError to show its message. */
  onSubmit: (current: string, next: string) => Promise<void>;
  /** Shown after a successful change (the form is cleared); omit when the caller moves on. */
  successText?: string;
}

/**
 * Current / new / repeat password, checked before sending (length from shared/web-api.ts,
 * the two new ones equal, different from the current). Used by the forced first change in
 * SignInGate and by Settings.
 */
export function ChangePasswordForm({ onSubmit, successText }: ChangePasswordFormProps) {
  const [serverError, setServerError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  const {
    register,
    handleSubmit,
    reset,
    formState: { errors, isSubmitting },
  } = useForm<ChangePasswordValues>({ resolver: zodResolver(changePasswordFormSchema), defaultValues: { current: '', next: '', repeat: '' } });

  const submit = handleSubmit(async (values) => {
    setServerError(null);
    setDone(false);
    try {
      await onSubmit(values.current, values.next);
      reset();
      setDone(true);
    } catch (error) {
      setServerError(error);
    }
  });

  return (
    <form className="form" onSubmit={submit} noValidate aria-label="Change password">
      <Field label="Current password" error={errors.current?.message}>
        <input type="password" autoComplete="current-password" {...register('current')} />
      </Field>
      <Field label="New password" hint={`At least ${MIN_PASSWORD_LENGTH} characters; a passphrase of several words is easiest.`} error={errors.next?.message}>
        <input type="password" autoComplete="new-password" {...register('next')} />
      </Field>
      <Field label="Repeat new password" error={errors.repeat?.message}>
        <input type="password" autoComplete="new-password" {...register('repeat')} />
      </Field>
      <ErrorMessage error={serverError} />
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={isSubmitting}>
          Change password
        </button>
        {done && successText ? (
          <span className="saved-note" role="status">
            {successText}
          </span>
        ) : null}
      </div>
    </form>
  );
}
