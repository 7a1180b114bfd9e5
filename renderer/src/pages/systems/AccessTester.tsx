import { zodResolver } from '@hookform/resolvers/zod';
import { useEffect } from 'react';
import { useForm } from 'react-hook-form';
import { z } from 'zod';
import type { AccessTestResult } from '../../../../shared/api.js';
import { HTTP_METHODS, httpMethodSchema } from '../../../../shared/config.js';
import { useApiMutation } from '../../api/hooks.js';
import { ErrorMessage } from '../../components/ErrorMessage.js';
import { CheckboxField, Field } from '../../components/Field.js';
import { Facts, Panel } from '../../components/Panel.js';
import { Badge } from '../../components/StatusBadge.js';
import { matchLabel } from './labels.js';

const testerSchema = z.object({
  method: httpMethodSchema,
  host: z.string().trim().min(1, 'the virtual host a cloud app would call'),
  port: z
    .string()
    .trim()
    .regex(/^\d{1,5}$/, 'a port from 1 to 65535')
    .transform(Number)
    .refine((p) => p >= 1 && p <= 65535, 'a port from 1 to 65535'),
  target: z.string().trim().min(1, 'a request path such as /odata/Orders?$top=5').refine((t) => t.startsWith('/'), 'a request path starting with /'),
  websocket: z.boolean(),
});
type TesterValues = z.input<typeof testerSchema>;

/**
 * "Would this request be allowed?": asks the agent to make the forwarder's decision for a
 * made-up request, without sending anything, and shows which rule decided it.
 */
export function AccessTester({ subaccount, host, port }: { subaccount: string; host?: string; port?: number }) {
  const {
    register,
    handleSubmit,
    setValue,
    getFieldState,
    formState: { errors },
  } = useForm<TesterValues, unknown, z.output<typeof testerSchema>>({
    resolver: zodResolver(testerSchema),
    defaultValues: { method: 'GET', host: host ?? '', port: port === undefined ? '' : String(port), target: '/', websocket: false },
  });
  const test = useApiMutation('testAccess');

  // Follow the system chosen above, unless the user has typed their own host or port.
  useEffect(() => {
    if (host !== undefined && !getFieldState('host').isDirty) setValue('host', host);
    if (port !== undefined && !getFieldState('port').isDirty) setValue('port', String(port));
  }, [host, port, setValue, getFieldState]);

  const onSubmit = handleSubmit((v) => {
    test.mutate({ subaccount, method: v.method, host: v.host, port: v.port, target: v.target, ...(v.websocket ? { websocket: true } : {}) });
  });

  return (
    <Panel title="Would this request be allowed?" className="access-tester" description="Makes the same decision the connector makes for a cloud request (path and query as the app sends them), without sending anything.">
      <form onSubmit={onSubmit} noValidate aria-label="Access tester">
        <div className="form-row access-tester-row">
          <Field label="Method" error={errors.method?.message}>
            <select {...register('method')}>
              {HTTP_METHODS.map((m) => (
                <option key={m} value={m}>
                  {m}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Virtual host" error={errors.host?.message}>
            <input {...register('host')} autoComplete="off" spellCheck={false} />
          </Field>
          <Field label="Virtual port" error={errors.port?.message} className="access-tester-port">
            <input {...register('port')} inputMode="numeric" autoComplete="off" />
          </Field>
          <Field label="Request path" error={errors.target?.message}>
            <input {...register('target')} autoComplete="off" spellCheck={false} placeholder="/odata/Orders?$top=5" />
          </Field>
        </div>
        <CheckboxField label="As a WebSocket upgrade" {...register('websocket')} />
        <div className="form-actions">
          <button type="submit" className="button button-primary" disabled={test.isPending}>
            Test
          </button>
        </div>
      </form>
      <ErrorMessage error={test.error} title="Could not test the request." />
      <div aria-live="polite">{test.data && !test.isPending ? <AccessResult result={test.data} /> : null}</div>
    </Panel>
  );
}

function AccessResult({ result }: { result: AccessTestResult }) {
  const r = result.resource;
  return (
    <div className={`access-result ${result.allowed ? 'is-allowed' : 'is-refused'}`} aria-label="Access test result" role="group">
      <p className="access-result-verdict">
        <Badge tone={result.allowed ? 'ok' : 'danger'}>{result.allowed ? 'Allowed' : `Refused${result.status ? ` (${result.status})` : ''}`}</Badge>{' '}
        <span>{result.reason}</span>
      </p>
      <Facts
        items={[
          ['Matched system', result.system ?? 'none'],
          [
            'Matched resource',
            r ? (
              <>
                <code>{r.path}</code> ({matchLabel(r.subPaths).toLowerCase()}
                {r.methods ? `; ${r.methods.join(', ')}` : '; all methods'}
                {r.websocket ? '; WebSocket allowed' : ''}
                {r.enabled ? '' : '; switched off'})
              </>
            ) : (
              'none'
            ),
          ],
          ['Normalised path', result.path ? <code>{result.path}</code> : '–'],
        ]}
      />
    </div>
  );
}
