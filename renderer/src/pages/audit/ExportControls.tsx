import { useId, useState } from 'react';
import type { AuditEntry, AuditQuery } from '../../../../shared/evidence.js';
import { ErrorMessage } from '../../components/ErrorMessage.js';
import { formatNumber } from '../../format.js';
import { EXPORT_FORMATS, buildAuditExport, downloadBlob, type AuditExport, type ExportFormat } from './export.js';

export interface ExportControlsProps {
  /** What the table shows, newest first. */
  entries: readonly AuditEntry[];
  query: AuditQuery | undefined;
}

/** Downloads exactly the filtered entries, with a manifest (count, range, SHA-256) a recipient can check. */
export function ExportControls({ entries, query }: ExportControlsProps) {
  const id = useId();
  const [format, setFormat] = useState<ExportFormat>('jsonl');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<AuditExport | undefined>(undefined);

  async function run() {
    if (!query) return;
    setBusy(true);
    setError(null);
    setDone(undefined);
    try {
      const file = await buildAuditExport([...entries].reverse(), format, query);
      downloadBlob(file.blob, file.fileName);
      setDone(file);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="audit-export">
      <div className="audit-export-controls">
        <label htmlFor={`${id}-format`}>Format</label>
        <select id={`${id}-format`} value={format} onChange={(e) => setFormat(e.target.value as ExportFormat)}>
          {EXPORT_FORMATS.map((f) => (
            <option key={f.value} value={f.value}>
              {f.label}
            </option>
          ))}
        </select>
        <button type="button" className="button" disabled={busy || !query || entries.length === 0} onClick={() => void run()}>
          Export
        </button>
      </div>
      {done ? (
        <p className="saved-note" role="status">
          Exported {formatNumber(done.manifest.count)} {done.manifest.count === 1 ? 'entry' : 'entries'} to {done.fileName} (SHA-256{' '}
          <code title={done.manifest.sha256}>{done.manifest.sha256.slice(0, 12)}…</code>).
        </p>
      ) : null}
      <ErrorMessage error={error} title="Could not export." />
    </div>
  );
}
