import { trafficColumns } from './columns.js';
import type { TrafficRow } from './rows.js';
import { VirtualTable } from '../../components/VirtualTable.js';

export interface TrafficTableProps {
  rows: readonly TrafficRow[];
  selectedKey: string | undefined;
  onOpen: (row: TrafficRow) => void;
  emptyText: string;
}

const keyOf = (r: TrafficRow) => r.key;
const outcomeClass = (r: TrafficRow) => `traffic-outcome-${r.outcome}`;

/** The live table of requests, newest first; denied and failed rows carry a coloured edge. */
export function TrafficTable(props: TrafficTableProps) {
  return (
    <VirtualTable
      label="Live traffic"
      columns={trafficColumns}
      getKey={keyOf}
      gridClassName="traffic-grid"
      rowClassName={outcomeClass}
      {...props}
    />
  );
}
