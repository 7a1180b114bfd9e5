import { useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent } from 'react';
import { createRow, flexRender, getCoreRowModel, useReactTable, type ColumnDef } from '@tanstack/react-table';
import { useVirtualizer } from '@tanstack/react-virtual';
import './virtual-table.css';

const PAGE_ROWS = 10;
/** react-table only lays out the header: its row model stays empty (see VirtualTable). */
const NO_DATA: never[] = [];

/** Columns of different value types in one array: react-table itself types them this loosely (ColumnDef<T, any>). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyColumn<T> = ColumnDef<T, any>;

export interface VirtualTableProps<T> {
  /** The table's accessible name. */
  label: string;
  rows: readonly T[];
  columns: AnyColumn<T>[];
  getKey: (row: T) => string;
  /** Sets the column grid (grid-template-columns) of the header and every row. */
  gridClassName: string;
  /** Extra classes of one body row (outcome colours…). */
  rowClassName?: (row: T) => string;
  /** Must match the row height in CSS: rows are not measured, which would cost more than it gains at 1,000 rows a second. */
  rowHeight?: number;
  /** The row whose details are open. */
  selectedKey: string | undefined;
  onOpen: (row: T) => void;
  /** Shown in the body when there are no rows. */
  emptyText: string;
}

/**
 * A table whose body is virtualised: columns from react-table, rows from react-virtual, so
 * only the visible rows (plus a few) are in the DOM. Built from divs with ARIA table roles
 * because absolutely positioned rows cannot live inside <tbody>. One row is in the tab
 * order; arrows, Page Up/Down, Home and End move between rows, Enter or Space opens one.
 *
 * One element scrolls both ways, with the header row sticky at its top: a table wider than
 * a narrow window then keeps its vertical scrollbar in view instead of past the right edge.
 *
 * react-table gets no data: its row model would build an object with dozens of closures for
 * every row on every new `rows` array (5,000 rows four times a second on the Traffic page,
 * most of the GC time). Rows are made only for the visible items, each render.
 */
export function VirtualTable<T>({ label, rows, columns, getKey, gridClassName, rowClassName, rowHeight = 32, selectedKey, onOpen, emptyText }: VirtualTableProps<T>) {
  const table = useReactTable<T>({ data: NO_DATA, columns, getCoreRowModel: getCoreRowModel() });
  const scrollRef = useRef<HTMLDivElement>(null);
  const headRef = useRef<HTMLDivElement>(null);
  // The rows start below the header, inside the same scroll element.
  const [headHeight, setHeadHeight] = useState(rowHeight);
  useLayoutEffect(() => {
    const measured = headRef.current?.offsetHeight;
    if (measured) setHeadHeight(measured);
  }, []);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => rowHeight,
    overscan: 8,
    // No getItemKey: rows are never measured, so the virtualiser needs no keys, and a new key
    // function each render would make it rebuild every row's offset each render.
    scrollMargin: headHeight,
    // A row scrolled to from below must not end up under the sticky header.
    scrollPaddingStart: headHeight,
  });

  const [activeKey, setActiveKey] = useState<string | undefined>(undefined);
  const activeIndex = activeKey === undefined ? 0 : Math.max(0, rows.findIndex((r) => getKey(r) === activeKey));
  const focusWanted = useRef(false);

  // After a key press the target row may only exist once the virtualiser has scrolled to it.
  useEffect(() => {
    if (!focusWanted.current || !scrollRef.current) return;
    const el = scrollRef.current.querySelector<HTMLElement>(`[data-index="${activeIndex}"]`);
    if (el) {
      focusWanted.current = false;
      el.focus();
    }
  });

  function moveTo(index: number) {
    const targetIndex = Math.min(Math.max(index, 0), rows.length - 1);
    const target = rows[targetIndex];
    if (target === undefined) return;
    focusWanted.current = true;
    setActiveKey(getKey(target));
    virtualizer.scrollToIndex(targetIndex, { align: 'auto' });
  }

  function onKeyDown(e: KeyboardEvent<HTMLDivElement>, index: number, row: T) {
    const moves: Record<string, number> = {
      ArrowDown: index + 1,
      ArrowUp: index - 1,
      PageDown: index + PAGE_ROWS,
      PageUp: index - PAGE_ROWS,
      Home: 0,
      End: rows.length - 1,
    };
    if (e.key in moves) {
      e.preventDefault();
      moveTo(moves[e.key]!);
    } else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      onOpen(row);
    }
  }

  const headerGroup = table.getHeaderGroups()[0]!;

  return (
    <div className="vtable-wrap" ref={scrollRef}>
      <div role="table" aria-label={label} aria-rowcount={rows.length + 1} aria-colcount={headerGroup.headers.length} className="vtable">
        <div role="rowgroup" className="vtable-head" ref={headRef}>
          <div role="row" aria-rowindex={1} className={`vtable-row ${gridClassName}`}>
            {headerGroup.headers.map((h) => (
              <div role="columnheader" key={h.id} className={`vtable-cell vtable-col-${h.column.id}`}>
                {flexRender(h.column.columnDef.header, h.getContext())}
              </div>
            ))}
          </div>
        </div>
        <div role="rowgroup" className="vtable-body">
          {rows.length === 0 ? (
            <div role="row" className="vtable-row vtable-empty">
              <div role="cell" className="vtable-cell">
                {emptyText}
              </div>
            </div>
          ) : (
            <div role="presentation" className="vtable-spacer" style={{ height: virtualizer.getTotalSize() }}>
              {virtualizer.getVirtualItems().map((v) => {
                const original = rows[v.index]!;
                const row = createRow(table, getKey(original), original, v.index, 0);
                const selected = row.id === selectedKey;
                return (
                  <div
                    role="row"
                    key={row.id}
                    data-index={v.index}
                    aria-rowindex={v.index + 2}
                    aria-current={selected ? 'true' : undefined}
                    tabIndex={v.index === activeIndex ? 0 : -1}
                    className={`vtable-row vtable-data-row ${gridClassName}${rowClassName ? ` ${rowClassName(row.original)}` : ''}${selected ? ' vtable-selected' : ''}`}
                    style={{ transform: `translateY(${v.start - headHeight}px)`, height: rowHeight }}
                    onClick={() => {
                      setActiveKey(row.id);
                      onOpen(row.original);
                    }}
                    onKeyDown={(e) => onKeyDown(e, v.index, row.original)}
                  >
                    {row.getVisibleCells().map((cell) => (
                      <div role="cell" key={cell.id} className={`vtable-cell vtable-col-${cell.column.id}`}>
                        {flexRender(cell.column.columnDef.cell, cell.getContext())}
                      </div>
                    ))}
                  </div>
                );
              })}
            </div>
          )}
        </div>
      </div>
    </div>
  );
}
