import { useEffect, useId, useState, type ChangeEvent } from 'react';
import { MAX_CA_PEM_CHARS, type ImportedCa } from '../../../../shared/api.js';
import { useApiMutation } from '../../api/hooks.js';
import { ErrorMessage } from '../../components/ErrorMessage.js';
import { Field } from '../../components/Field.js';
import { Facts } from '../../components/Panel.js';
import { daysUntil, formatDateTime, formatDaysLeft } from '../../format.js';

export const CA_FIELD_LABEL = 'Trusted CA certificate (PEM)';

const HINT =
  'Optional. The certificate of the authority that issued the back end\u2019s certificate, when this machine\u2019s own trust store does not know it: a .pem, .crt or .cer file in PEM text.';

export interface CaCertificateFieldProps {
  /** The system's caFile as the form holds it ('' for none). */
  value: string;
  onChange: (caFile: string) => void;
  error?: string | undefined;
  /** True while an upload is being checked, so the form can hold its Save button. */
  onBusyChange?: (busy: boolean) => void;
}

/** Blob.text() where the browser has it; FileReader for older ones (and jsdom). */
function readText(file: File): Promise<string> {
  if (typeof file.text === 'function') return file.text();
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error ?? new Error('unreadable'));
    reader.readAsText(file);
  });
}

function fileName(caFile: string): string {
  return caFile.split(/[\\/]/).pop() ?? caFile;
}

function Summary({ ca }: { ca: ImportedCa }) {
  const days = daysUntil(ca.notAfter);
  return (
    <Facts
      items={[
        ['Subject', ca.subject],
        ['SHA-256 fingerprint', <code key="fp">{ca.fingerprintSha256}</code>],
        [
          'Expires',
          <span key="exp" className={days !== undefined && days < 0 ? 'systems-warn-text' : undefined}>
            {formatDateTime(ca.notAfter)}
            {days !== undefined ? ` (${formatDaysLeft(days)})` : ''}
          </span>,
        ],
        ca.certificates > 1 && ['In the file', `${ca.certificates} certificates; the details above are the first one\u2019s`],
      ]}
    />
  );
}

/**
 * The CA a TLS back end is trusted with. The browser cannot name a file on the connector's
 * machine, so the person picks a file here; its text goes to the agent (importCaCertificate),
 * which checks it and stores it, and the form keeps the path the agent chose.
 */
export function CaCertificateField({ value, onChange, error, onBusyChange }: CaCertificateFieldProps) {
  const importCa = useApiMutation('importCaCertificate');
  const [imported, setImported] = useState<ImportedCa | undefined>();
  const [replacing, setReplacing] = useState(false);
  const [removed, setRemoved] = useState(false);
  const [readError, setReadError] = useState<string | undefined>();
  const groupLabel = useId();
  const busy = importCa.isPending;

  useEffect(() => onBusyChange?.(busy), [busy, onBusyChange]);

  const onPick = async (e: ChangeEvent<HTMLInputElement>) => {
    const input = e.currentTarget;
    const file = input.files?.[0];
    setReadError(undefined);
    importCa.reset();
    if (!file) return;
    // Picking the same file again after a refusal must fire a change again.
    input.value = '';
    if (file.size > MAX_CA_PEM_CHARS) {
      setReadError(`${file.name} is larger than 1 MiB; a CA certificate file is a few kilobytes.`);
      return;
    }
    let text: string;
    try {
      text = await readText(file);
    } catch {
      setReadError(`${file.name} could not be read.`);
      return;
    }
    if (!text.includes('-----BEGIN CERTIFICATE-----')) {
      setReadError(
        `${file.name} is not a PEM certificate (text beginning with -----BEGIN CERTIFICATE-----). A binary (DER) file can be converted with: openssl x509 -inform der -in ${file.name} -out ca.pem`,
      );
      return;
    }
    try {
      const result = await importCa.mutateAsync({ pem: text });
      setImported(result);
      setReplacing(false);
      setRemoved(false);
      onChange(result.caFile);
    } catch {
      // The mutation keeps the agent's sentence; it is shown under the picker.
    }
  };

  if (value !== '' && !replacing) {
    const known = imported?.caFile === value ? imported : undefined;
    return (
      <div className="field ca-field" role="group" aria-labelledby={groupLabel}>
        <span className="ca-field-label" id={groupLabel}>
          {CA_FIELD_LABEL}
        </span>
        {known ? (
          <Summary ca={known} />
        ) : (
          <p className="ca-field-current">
            Current CA: <code title={value}>{fileName(value)}</code>
          </p>
        )}
        <div className="ca-field-actions">
          <button type="button" className="button button-small" onClick={() => setReplacing(true)}>
            Replace
          </button>
          <button
            type="button"
            className="button button-small"
            onClick={() => {
              setImported(undefined);
              setRemoved(true);
              onChange('');
            }}
          >
            Remove
          </button>
        </div>
        {error ? <div className="field-error">{error}</div> : null}
      </div>
    );
  }

  return (
    <div className="ca-field">
      <Field label={CA_FIELD_LABEL} hint={HINT} error={error}>
        <input type="file" accept=".pem,.crt,.cer" onChange={(e) => void onPick(e)} disabled={busy} />
      </Field>
      {busy ? (
        <p className="ca-field-status" role="status">
          Checking the certificate…
        </p>
      ) : null}
      {removed ? <p className="ca-field-status">The system will trust only this machine’s own store once you save.</p> : null}
      <ErrorMessage error={readError ?? importCa.error} title="That file cannot be used." />
      {replacing ? (
        <div className="ca-field-actions">
          <button type="button" className="button button-small" onClick={() => setReplacing(false)}>
            Keep the current CA
          </button>
        </div>
      ) : null}
    </div>
  );
}
