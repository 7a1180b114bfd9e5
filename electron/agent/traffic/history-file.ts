import fs from 'node:fs';
import path from 'node:path';
import { trafficRecordSchema, type TrafficRecord } from '../../../shared/evidence.js';
import { TRAFFIC_DIR, writeAtomic } from './usage.js';

/** The recent history as the running agent last saved it: what the CLI and the support bundle read. */
export const HISTORY_FILE = 'recent.jsonl';

export function historyPath(dataDir: string): string {
  return path.join(dataDir, TRAFFIC_DIR, HISTORY_FILE);
}

export async function saveHistory(dataDir: string, records: TrafficRecord[]): Promise<void> {
  await writeAtomic(historyPath(dataDir), records.map((r) => JSON.stringify(r)).join('\n') + (records.length ? '\n' : ''));
}

/** Oldest first; lines that do not parse are skipped. */
export function loadHistory(dataDir: string): TrafficRecord[] {
  let text: string;
  try {
    text = fs.readFileSync(historyPath(dataDir), 'utf8');
  } catch {
    return [];
  }
  const out: TrafficRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      const r = trafficRecordSchema.safeParse(JSON.parse(line));
      if (r.success) out.push(r.data);
    } catch {
      // skip
    }
  }
  return out;
}
