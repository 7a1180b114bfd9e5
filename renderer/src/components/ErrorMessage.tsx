import { ApiError } from '../api/client.js';

/** The sentence to show for anything thrown by a call: the ApiError's message, or a generic one. */
export function errorText(error: unknown): string {
  if (error instanceof ApiError || error instanceof Error) return error.message || 'Something went wrong.';
  if (typeof error === 'string') return error;
  return 'Something went wrong.';
}

/**
 * Shows an error next to the form or list it belongs to, announced to screen readers
 * (role=alert). Renders nothing while `error` is null/undefined, so it can sit in place:
 *   <ErrorMessage error={mutation.error} />
 * `title` adds a bold lead-in ("Could not save the system.").
 */
export function ErrorMessage({ error, title }: { error: unknown; title?: string }) {
  if (error === null || error === undefined || error === false) return null;
  return (
    <div className="error-message" role="alert">
      {title ? <strong>{title} </strong> : null}
      {errorText(error)}
    </div>
  );
}
