import { useState } from 'react';
import { useMutation } from '@tanstack/react-query';
import { unwrap, type ApiError } from '../../api/client.js';
import { useClient } from '../../api/context.js';
import { ErrorMessage } from '../../components/ErrorMessage.js';
import { Panel } from '../../components/Panel.js';
import { formatBytes } from '../../format.js';

type Exported = { file: string; bytes: number; auditEntries: number; url?: string };

/** A name the headless agent accepts (a bare file name ending in .zip); it picks the folder. */
export function bundleFileName(now = new Date()): string {
  return `skybridge-support-${now.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-')}.zip`;
}

/** Starts the browser's download of a file the agent serves (the session cookie goes along). */
function download(url: string, name: string): void {
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
}

/**
 * "Export support bundle": configuration, logs and the audit log for a support case, with
 * secrets left out. In the browser the agent writes it and the browser downloads it; in the
 * desktop app a save dialog asks where it goes.
 */
export function SupportBundle() {
  const client = useClient();
  const [result, setResult] = useState<Exported | null>(null);
  const [cancelled, setCancelled] = useState(false);
  const bundleUrl = 'bundleUrl' in client && typeof client.bundleUrl === 'function' ? (client.bundleUrl as (file: string) => string).bind(client) : undefined;

  const exportBundle = useMutation<Exported | null, ApiError, void>({
    mutationFn: async () => {
      if (client.shell) return unwrap(await client.shell.exportBundle({}));
      const summary = await client.call('exportSupportBundle', { out: bundleFileName() });
      return { file: summary.file, bytes: summary.bytes, auditEntries: summary.auditEntries, url: bundleUrl?.(summary.file) };
    },
    onSuccess: (value) => {
      setCancelled(value === null);
      setResult(value);
      if (value?.url) download(value.url, value.file);
    },
  });

  return (
    <Panel
      title="Support bundle"
      description="One zip file with the configuration, recent logs and the audit log, for a support case. Private keys, tokens and passwords are left out."
    >
      <div className="stack">
        <div className="form-actions">
          <button type="button" className="button" disabled={exportBundle.isPending} onClick={() => exportBundle.mutate()}>
            Export support bundle
          </button>
          {exportBundle.isPending ? <span className="muted" role="status">Writing the bundle…</span> : null}
        </div>
        <ErrorMessage error={exportBundle.error} title="The bundle could not be written." />
        {cancelled ? <p className="muted small">Export cancelled.</p> : null}
        {result ? (
          <div className="info-message" role="status">
            {result.url ? (
              <>
                Bundle ready: <a href={result.url} download={result.file}>{result.file}</a>
              </>
            ) : (
              <>
                Saved to <span className="mono">{result.file}</span>
              </>
            )}{' '}
            ({formatBytes(result.bytes)}, {result.auditEntries} audit {result.auditEntries === 1 ? 'entry' : 'entries'}).
            {client.shell && !result.url ? (
              <>
                {' '}
                <button type="button" className="button-link" onClick={() => void client.shell!.showItemInFolder({ file: result.file })}>
                  Show in folder
                </button>
              </>
            ) : null}
          </div>
        ) : null}
      </div>
    </Panel>
  );
}
