import { createColumnHelper } from '@tanstack/react-table';
import type { AuditEntry } from '../../../../shared/evidence.js';
import { Badge } from '../../components/StatusBadge.js';
import { formatDateTime } from '../../format.js';
import { OUTCOME_TONES, TYPE_LABELS, actorText, messageText, targetText } from './describe.js';

const column = createColumnHelper<AuditEntry>();

/** Columns of the audit table; widths in audit.css (.audit-grid). */
export const auditColumns = [
  column.accessor('time', { header: 'Time', cell: (c) => <time dateTime={c.getValue()}>{formatDateTime(c.getValue())}</time> }),
  column.accessor('type', { header: 'Type', cell: (c) => TYPE_LABELS[c.getValue()] }),
  column.accessor('outcome', { header: 'Outcome', cell: (c) => <Badge tone={OUTCOME_TONES[c.getValue()]}>{c.getValue()}</Badge> }),
  column.accessor((e) => actorText(e.actor), { id: 'actor', header: 'Actor' }),
  column.accessor((e) => targetText(e.target), { id: 'target', header: 'Target' }),
  column.accessor(messageText, { id: 'message', header: 'Message' }),
];
