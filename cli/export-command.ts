import { Command, Option } from 'commander';
import { ConfigStore } from '../electron/agent/config-store.js';
import { offlineEvidence } from '../electron/agent/evidence-api.js';
import { proxyAgent, readProxyPassword } from '../electron/agent/outbound.js';
import { writeSupportBundle } from '../electron/agent/support-bundle.js';
import { action, printValue, say } from './output.js';

export function exportCommand(): Command {
  return new Command('export')
    .description('write a support bundle (ZIP): configuration without secrets, recent logs, an audit range with its manifest, traffic history, versions and a diagnostics report')
    .addOption(new Option('--data-dir <dir>', 'the connector data dir').makeOptionMandatory())
    .requiredOption('--out <file>', 'the ZIP to write, e.g. skybridge-support.zip')
    .option('--from <time>', 'audit range start (ISO date or time, or a span back from now like 7d)', '7d')
    .option('--to <time>', 'audit range end (not included); default now')
    .action(
      action(async (o: { dataDir: string; out: string; from: string; to?: string }) => {
        const store = new ConfigStore(o.dataDir);
        const src = offlineEvidence(store);
        src.agentFor = (id) => {
          const sub = store.load().subaccounts.find((s) => s.id === id);
          return sub?.proxy ? proxyAgent(sub.proxy, readProxyPassword(o.dataDir, id)) : undefined;
        };
        const summary = await writeSupportBundle(src, { out: o.out, from: o.from, to: o.to });
        printValue(summary.file);
        say(`${summary.bytes} bytes, ${summary.files.length} files, ${summary.auditEntries} audit entries. No keys, tokens or passwords are in it.`);
      }),
    );
}
