import type { AuditEntry } from '../../../../shared/evidence.js';
import { VirtualTable } from '../../components/VirtualTable.js';
import { auditColumns } from './columns.js';

export interface AuditTableProps {
  entries: readonly AuditEntry[];
  selectedSeq: number | undefined;
  onOpen: (entry: AuditEntry) => void;
  emptyText: string;
}

/** The audit entries, newest first, virtualised (a day at level `all` can hold millions). */
export function AuditTable({ entries, selectedSeq, onOpen, emptyText }: AuditTableProps) {
  return (
    <VirtualTable
      label="Audit entries"
      rows={entries}
      columns={auditColumns}
      getKey={(e) => String(e.seq)}
      gridClassName="audit-grid"
      rowClassName={(e) => `audit-outcome-${e.outcome}`}
      selectedKey={selectedSeq === undefined ? undefined : String(selectedSeq)}
      onOpen={onOpen}
      emptyText={emptyText}
    />
  );
}
