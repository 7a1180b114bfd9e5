import { createColumnHelper, flexRender, getCoreRowModel, useReactTable } from '@tanstack/react-table';
import { useMemo } from 'react';
import { isTcpProtocol, systemKey, systemLabel, type SystemMapping } from '../../../../shared/config.js';
import { AvailabilityBadge } from './AvailabilityBadge.js';
import { HOST_HEADER_LABELS, PROTOCOL_LABELS } from './labels.js';

const column = createColumnHelper<SystemMapping>();

/** `host:port`, or `host:first-last` when the mapping covers a port range. */
function internalLabel(s: SystemMapping): string {
  return s.internalPortEnd !== undefined && s.internalPortEnd !== s.internalPort
    ? `${s.internalHost}:${s.internalPort}-${s.internalPortEnd}`
    : `${s.internalHost}:${s.internalPort}`;
}

export interface SystemsTableProps {
  subaccount: string;
  systems: SystemMapping[];
  selectedKey: string | undefined;
  onSelect: (key: string) => void;
}

/** The mappings of one subaccount; choosing a virtual name opens its details and resources below. */
export function SystemsTable({ subaccount, systems, selectedKey, onSelect }: SystemsTableProps) {
  const columns = useMemo(
    () => [
      column.accessor((s) => systemLabel(s), {
        id: 'virtual',
        header: 'Virtual host:port',
        cell: (info) => {
          const key = systemKey(info.row.original);
          return (
            <button type="button" className="button-link systems-select" data-system-key={key} aria-current={key === selectedKey ? 'true' : undefined} onClick={() => onSelect(key)}>
              {info.getValue()}
            </button>
          );
        },
      }),
      column.accessor((s) => internalLabel(s), { id: 'internal', header: 'Internal host:port' }),
      column.accessor('protocol', { header: 'Protocol', cell: (info) => PROTOCOL_LABELS[info.getValue()] }),
      column.accessor('hostHeader', {
        header: 'Host header',
        cell: (info) => (isTcpProtocol(info.row.original.protocol) ? <span className="muted">–</span> : HOST_HEADER_LABELS[info.getValue()]),
      }),
      column.accessor((s) => s.resources.length, {
        id: 'resources',
        header: 'Resources',
        cell: (info) =>
          isTcpProtocol(info.row.original.protocol) ? (
            <span className="muted">none (TCP)</span>
          ) : (
            <span className={info.getValue() === 0 ? 'systems-warn-text' : undefined}>
              {info.getValue()}
              {info.getValue() === 0 ? ' (nothing allowed)' : ''}
            </span>
          ),
      }),
      column.display({
        id: 'availability',
        header: 'Last availability check',
        cell: (info) => <AvailabilityBadge subaccount={subaccount} system={systemKey(info.row.original)} compact />,
      }),
    ],
    [subaccount, selectedKey, onSelect],
  );
  const table = useReactTable({ data: systems, columns, getCoreRowModel: getCoreRowModel(), getRowId: (s) => systemKey(s) });

  return (
    <div className="table-wrap">
      <table className="table systems-table" aria-label="System mappings">
        <thead>
          {table.getHeaderGroups().map((group) => (
            <tr key={group.id}>
              {group.headers.map((header) => (
                <th key={header.id} scope="col">
                  {header.isPlaceholder ? null : flexRender(header.column.columnDef.header, header.getContext())}
                </th>
              ))}
            </tr>
          ))}
        </thead>
        <tbody>
          {table.getRowModel().rows.map((row) => (
            <tr key={row.id} className={row.id === selectedKey ? 'is-selected' : undefined}>
              {row.getVisibleCells().map((cell) => (
                <td key={cell.id}>{flexRender(cell.column.columnDef.cell, cell.getContext())}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
