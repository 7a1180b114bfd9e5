import { zodResolver } from '@hookform/resolvers/zod';
import { useForm, useWatch } from 'react-hook-form';
import { HTTP_METHODS, resourcePathSchema, type ResourceInput } from '../../../../shared/config.js';
import { useApiMutation } from '../../api/hooks.js';
import { ErrorMessage } from '../../components/ErrorMessage.js';
import { CheckboxField, Field } from '../../components/Field.js';
import { EMPTY_RESOURCE_FORM, matchPreview, resourceFormSchema, type ResourceFormValues } from './resource-form.js';

/** Adds one allowed path to an HTTP system. The path is checked as it is typed (after the first blur). */
export function ResourceForm({ subaccount, system }: { subaccount: string; system: string }) {
  const {
    register,
    handleSubmit,
    control,
    reset,
    formState: { errors, isSubmitting },
  } = useForm<ResourceFormValues, unknown, ResourceInput>({
    resolver: zodResolver(resourceFormSchema),
    defaultValues: EMPTY_RESOURCE_FORM,
    mode: 'onTouched',
  });
  const add = useApiMutation('addResource', ['listSystems']);
  const [path, subPaths] = useWatch({ control, name: ['path', 'subPaths'] });
  const validPath = resourcePathSchema.safeParse(path.trim()).success;

  const onSubmit = handleSubmit(async (resource) => {
    try {
      await add.mutateAsync({ subaccount, system, resource });
      reset(EMPTY_RESOURCE_FORM);
    } catch {
      // Shown under the form by the mutation's error; the fields keep what was typed.
    }
  });

  return (
    <form className="resource-form" onSubmit={onSubmit} noValidate aria-label={`Add resource to ${system}`}>
      <Field
        label="Path"
        error={errors.path?.message}
        hint="As the cloud app sends it, starting with /; case-sensitive; no query, no trailing slash, no . or .. segments."
      >
        <input {...register('path')} autoComplete="off" spellCheck={false} placeholder="/odata/v4" />
      </Field>
      <CheckboxField label="Path and everything below it" {...register('subPaths')} />
      <fieldset className="resource-methods">
        <legend>Methods</legend>
        <p className="field-hint">Leave all unticked to allow every method.</p>
        <div className="resource-methods-list">
          {HTTP_METHODS.map((m) => (
            <CheckboxField key={m} label={m} value={m} {...register('methods')} />
          ))}
        </div>
      </fieldset>
      <CheckboxField label="Allow WebSocket" hint="Lets a cloud app upgrade a request on this path to a WebSocket." {...register('websocket')} />
      {validPath ? <p className="resource-preview">Opens: {matchPreview(path.trim(), subPaths)}</p> : null}
      <ErrorMessage error={add.error} title="Could not add the resource." />
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={isSubmitting}>
          Add resource
        </button>
      </div>
    </form>
  );
}
