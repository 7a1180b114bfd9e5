import { useDeferredValue, useMemo, useRef, useState } from 'react';
import { useApiQuery } from '../api/hooks.js';
import { ErrorMessage } from '../components/ErrorMessage.js';
import { SubaccountPicker } from '../components/SubaccountPicker.js';
import { useSelectedSubaccount } from '../components/selected-subaccount.js';
import { RequestDetails } from './traffic/RequestDetails.js';
import { TrafficStats } from './traffic/TrafficStats.js';
import { TrafficTable } from './traffic/TrafficTable.js';
import { TrafficToolbar } from './traffic/TrafficToolbar.js';
import { EMPTY_FILTER, filterRows, isFiltering, type TrafficFilter } from './traffic/filter.js';
import type { TrafficRow } from './traffic/rows.js';
import { TRAFFIC_WINDOW, useLiveTraffic } from './traffic/use-live-traffic.js';
import './traffic/traffic.css';

const STATS_REFRESH_MS = 5000;
/** Denied requests can name any host; a select with thousands of entries helps nobody. */
const MAX_SYSTEM_CHOICES = 200;

export function TrafficPage() {
  const { subaccountId } = useSelectedSubaccount();
  const live = useLiveTraffic();
  const [filter, setFilter] = useState<TrafficFilter>(EMPTY_FILTER);
  // Typing stays responsive while 5,000 rows are filtered behind it.
  const text = useDeferredValue(filter.text);
  const subaccount = subaccountId ?? '';
  const shown = useMemo(
    () => filterRows(live.items, { ...filter, text, subaccount }),
    [live.items, filter, text, subaccount],
  );

  const stats = useApiQuery('trafficStats', subaccountId ? { subaccount: subaccountId } : {}, {
    // A paused page holds still, charts included.
    refetchInterval: live.paused ? false : STATS_REFRESH_MS,
  });

  const systems = useMemo(() => {
    const set = new Set<string>();
    for (const s of stats.data?.systems ?? []) set.add(s.system);
    for (const r of live.items) {
      if (set.size >= MAX_SYSTEM_CHOICES) break;
      if (subaccount === '' || r.subaccountId === subaccount) set.add(r.system);
    }
    if (filter.system) set.add(filter.system);
    return [...set].sort();
  }, [stats.data, live.items, subaccount, filter.system]);

  const [selected, setSelected] = useState<TrafficRow | undefined>(undefined);
  const returnFocus = useRef<HTMLElement | null>(null);
  const open = (row: TrafficRow) => {
    if (document.activeElement instanceof HTMLElement && document.activeElement.closest('[role="table"]')) returnFocus.current = document.activeElement;
    setSelected(row);
  };
  const close = () => {
    setSelected(undefined);
    const el = returnFocus.current;
    returnFocus.current = null;
    if (el?.isConnected) el.focus();
  };

  const emptyText = live.loading
    ? 'Loading recent traffic…'
    : isFiltering(filter)
      ? 'No request in view matches the filters.'
      : 'No requests yet. Requests from cloud applications appear here as they arrive.';

  return (
    <section aria-labelledby="page-title" className="page traffic-page">
      <div className="page-head">
        <div>
          <h1 id="page-title">Traffic</h1>
          <p className="page-description">Requests and TCP connections from cloud applications, live. Select a row for its details.</p>
        </div>
        <div className="page-head-tools">
          <SubaccountPicker />
        </div>
      </div>
      <ErrorMessage error={live.error} title="Could not load recent traffic." />
      <TrafficToolbar
        filter={filter}
        onChange={setFilter}
        systems={systems}
        paused={live.paused}
        onPause={live.pause}
        onResume={live.resume}
        counts={{ shown: shown.length, inWindow: live.items.length, received: live.received, pending: live.pending }}
        windowSize={TRAFFIC_WINDOW}
      />
      <div className={`traffic-main${selected ? ' traffic-main-with-details' : ''}`}>
        <TrafficTable rows={shown} selectedKey={selected?.key} onOpen={open} emptyText={emptyText} />
        {selected ? <RequestDetails row={selected} onClose={close} /> : null}
      </div>
      <ErrorMessage error={stats.error} title="Could not load traffic statistics." />
      {stats.data ? <TrafficStats stats={stats.data} /> : null}
    </section>
  );
}
