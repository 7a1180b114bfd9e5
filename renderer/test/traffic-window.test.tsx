import { describe, expect, it } from 'vitest';
import { EMPTY_FILTER, filterRows } from '../src/pages/traffic/filter.js';
import { histogramBars } from '../src/pages/traffic/histogram.js';
import { LiveBuffer } from '../src/components/live-window.js';
import { mergeByTime, mergeNewestFirst, rowOfRecord } from '../src/pages/traffic/rows.js';
import { timingSplit } from '../src/pages/traffic/timing.js';
import { fakeTraffic } from './fake-client.js';

describe('traffic window', () => {
  it('keeps at most its capacity while counting every item, newest first', () => {
    const buffer = new LiveBuffer<number>(5000);
    for (let i = 0; i < 12_345; i++) buffer.push(i);
    expect(buffer.count).toBe(12_345);
    const drained = buffer.drain();
    expect(drained).toHaveLength(5000);
    expect(drained[0]).toBe(12_344);
    expect(drained[4999]).toBe(7345);
    expect(buffer.count).toBe(0);
    expect(buffer.drain()).toEqual([]);
  });

  it('merges live rows in front of older ones, once per request, within the bound', () => {
    const older = [3, 2, 1].map((i) => rowOfRecord(fakeTraffic({ requestId: `r${i}` })));
    const newer = [5, 4, 3].map((i) => rowOfRecord(fakeTraffic({ requestId: `r${i}` })));
    expect(mergeNewestFirst(newer, older, 10).map((r) => r.requestId)).toEqual(['r5', 'r4', 'r3', 'r2', 'r1']);
    expect(mergeNewestFirst(newer, older, 4).map((r) => r.requestId)).toEqual(['r5', 'r4', 'r3', 'r2']);
    // The same id in another subaccount, or as a TCP connection, is another row.
    const other = rowOfRecord(fakeTraffic({ requestId: 'r1', subaccountId: 'globex' }));
    const tcp = rowOfRecord(fakeTraffic({ requestId: 'r1', kind: 'tcp' }));
    expect(mergeNewestFirst([other, tcp], older, 10)).toHaveLength(5);
  });

  it('merges a history answer by time, whether it is older or newer than the rows shown', () => {
    const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 12, minute)).toISOString();
    const row = (id: string, minute: number) => rowOfRecord(fakeTraffic({ requestId: id, at: at(minute) }));
    const shown = [row('live', 5), row('old', 1)];
    const history = [row('away', 9), row('live', 5), row('old', 1), row('older', 0)];
    expect(mergeByTime(history, shown, 10).map((r) => r.requestId)).toEqual(['away', 'live', 'old', 'older']);
    expect(mergeByTime(shown, history, 3).map((r) => r.requestId)).toEqual(['away', 'live', 'old']);
    // The first list's copy of a request wins.
    const stored = { ...row('live', 5), status: 201 };
    expect(mergeByTime([stored], shown, 10)[0]).toBe(stored);
  });

  it('filters TCP rows by "no status" and HTTP rows by status class', () => {
    const rows = [
      rowOfRecord(fakeTraffic({ status: 200 })),
      rowOfRecord(fakeTraffic({ status: 503, outcome: 'error' })),
      rowOfRecord(fakeTraffic({ kind: 'tcp', status: 0, method: 'CONNECT', path: '' })),
    ];
    expect(filterRows(rows, { ...EMPTY_FILTER, statusClass: 'none' }).map((r) => r.method)).toEqual(['CONNECT']);
    expect(filterRows(rows, { ...EMPTY_FILTER, statusClass: '5' }).map((r) => r.status)).toEqual([503]);
    expect(filterRows(rows, { ...EMPTY_FILTER, subaccount: 'globex' })).toEqual([]);
  });

  it('splits time into the measured parts plus what the connector itself spent', () => {
    const row = rowOfRecord(fakeTraffic({ timing: { relayMs: 2, tunnelMs: 10, backendMs: 50, totalMs: 70 } }));
    expect(timingSplit(row)).toEqual({
      totalMs: 70,
      parts: [
        { id: 'relay', label: 'Relay', ms: 2 },
        { id: 'tunnel', label: 'Tunnel', ms: 10 },
        { id: 'backend', label: 'Back-end response', ms: 50 },
        { id: 'connector', label: 'Connector', ms: 8 },
      ],
    });
    expect(timingSplit(rowOfRecord(fakeTraffic()))).toBeUndefined();
  });

  it('sums histograms into ≤10 ms … >5 s bars', () => {
    const base = { subaccount: 'acme', count: 0, errors: 0, denied: 0, bytesIn: 0, bytesOut: 0, totalMs: 0, maxMs: 0 };
    const bars = histogramBars([
      { ...base, system: 'a:1', histogram: [1, 0, 0, 0, 0, 0, 0, 0, 0, 2] },
      { ...base, system: 'b:1', histogram: [1, 1, 0, 0, 0, 0, 0, 0, 0, 0] },
    ]);
    expect(bars.map((b) => b.label)).toEqual(['≤10 ms', '≤25 ms', '≤50 ms', '≤100 ms', '≤250 ms', '≤500 ms', '≤1 s', '≤2.5 s', '≤5 s', '>5 s']);
    expect(bars.map((b) => b.count)).toEqual([2, 1, 0, 0, 0, 0, 0, 0, 0, 2]);
  });
});
