import path from 'node:path';
import { Command, Option } from 'commander';
import { exportAudit, type AuditExportFormat } from '../electron/agent/audit/export.js';
import { queryAudit } from '../electron/agent/audit/query.js';
import { verifyWithRelays } from '../electron/agent/audit/verify-with-relays.js';
import { ConfigStore } from '../electron/agent/config-store.js';
import { proxyAgent, readProxyPassword } from '../electron/agent/outbound.js';
import { ErrorCode, SkybridgeError } from '../shared/errors.js';
import { AUDIT_TYPES, auditTypeSchema, type AuditEntry, type AuditQuery, type AuditType } from '../shared/evidence.js';
import { action, printJson, printValue, say } from './output.js';
import { intOption } from './relay-commands.js';

interface FilterOptions {
  dataDir: string;
  from?: string;
  to?: string;
  type?: string[];
  subaccount?: string;
  text?: string;
}

function collectTypes(value: string, previous: string[] = []): string[] {
  const list = value.split(',').map((t) => t.trim()).filter(Boolean);
  for (const t of list) {
    if (!auditTypeSchema.safeParse(t).success) throw new SkybridgeError(ErrorCode.InvalidInput, `unknown audit entry type "${t}"; use one of ${AUDIT_TYPES.join(', ')}`);
  }
  return [...previous, ...list];
}

function withFilters(cmd: Command): Command {
  return cmd
    .addOption(new Option('--data-dir <dir>', 'the connector data dir').makeOptionMandatory())
    .option('--from <time>', 'from this time on (ISO date or time, or a span back from now: 7d, 12h, 30m)')
    .option('--to <time>', 'up to (not including) this time')
    .option('--type <types>', `only these entry types, comma-separated or repeated (${AUDIT_TYPES.join(', ')})`, collectTypes)
    .option('--subaccount <id>', 'only this subaccount')
    .option('--text <text>', 'only entries containing this text (case-insensitive)');
}

function queryOf(o: FilterOptions): AuditQuery {
  return { from: o.from, to: o.to, types: o.type as AuditType[] | undefined, subaccount: o.subaccount, text: o.text };
}

/**
 * A field of `audit list`'s text output, safe for a terminal: control characters (C0 including
 * ESC, tab and newline; DEL; C1 including the one-byte CSI) become \xNN. Outsiders influence
 * these fields (sign-in names, cloud apps, request paths); raw, they could forge whole lines
 * or send terminal escape sequences.
 */
export function terminalSafe(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function actorText(e: AuditEntry): string {
  const a = e.actor;
  if (a.kind === 'cloud-app') return `app ${a.app}${a.user ? ` user ${a.user}` : ''}`;
  if (a.kind === 'local-admin') return `admin ${a.user} (${a.via})`;
  return 'connector';
}

function targetText(e: AuditEntry): string {
  const t = e.target;
  if (t.virtual) return `${t.method ? `${t.method} ` : ''}${t.virtual}${t.path ?? ''}${t.internal ? ` -> ${t.internal}` : ''}`;
  return t.object ?? t.relay ?? '';
}

export function auditCommands(): Command {
  const audit = new Command('audit').description('the connector audit log: list, export and verify (see docs/audit.md)');

  withFilters(audit.command('list').description('show audit entries, oldest first'))
    .option('--limit <n>', 'at most this many (the newest)', intOption(1, 100_000), 200)
    .option('--json', 'machine-readable output')
    .action(
      action(async (o: FilterOptions & { limit: number; json?: boolean }) => {
        const entries = (await queryAudit(o.dataDir, { ...queryOf(o), limit: o.limit })).map((s) => s.entry);
        if (o.json) return printJson(entries);
        for (const e of entries) {
          const fields = [e.time, `#${e.seq}`, e.subaccount || '-', e.type, actorText(e), e.outcome + (e.status ? ` ${e.status}` : ''), targetText(e), e.reason ?? ''];
          printValue(fields.map((f) => terminalSafe(String(f))).join('\t'));
        }
        if (entries.length === 0) say('no audit entries match');
      }),
    );

  withFilters(audit.command('export').description('write matching entries to a file (JSONL as stored, or CSV) with a manifest of counts and hashes beside it'))
    .requiredOption('--out <file>', 'where to write; the manifest goes to FILE.manifest.json')
    .addOption(new Option('--format <format>', 'jsonl keeps each entry verifiable; csv is for spreadsheets (default: from the file name)').choices(['jsonl', 'csv']))
    .action(
      action(async (o: FilterOptions & { out: string; format?: AuditExportFormat }) => {
        const format: AuditExportFormat = o.format ?? (path.extname(o.out).toLowerCase() === '.csv' ? 'csv' : 'jsonl');
        const r = await exportAudit(o.dataDir, queryOf(o), o.out, format);
        printValue(r.file);
        say(`${r.manifest.entries} entr${r.manifest.entries === 1 ? 'y' : 'ies'} written (sha256 ${r.manifest.sha256}); manifest in ${r.manifestFile}`);
        if (!r.manifest.verification.ok) say(`warning: the audit log does not verify (${r.manifest.verification.problems.length} problem(s)); run 'skybridge audit verify'`);
      }),
    );

  audit
    .command('verify')
    .description("check the hash chain: every entry, link and file, the end against the connector's own record and each relay's copy of the head; exits 1 on any problem")
    .addOption(new Option('--data-dir <dir>', 'the connector data dir').makeOptionMandatory())
    .option('--offline', "do not ask the relays for their copy of the chain head")
    .option('--json', 'machine-readable output')
    .action(
      action(async (o: { dataDir: string; offline?: boolean; json?: boolean }) => {
        const cfg = new ConfigStore(o.dataDir).load();
        const agentFor = (id: string) => {
          const sub = cfg.subaccounts.find((s) => s.id === id);
          return sub?.proxy ? proxyAgent(sub.proxy, readProxyPassword(o.dataDir, id)) : undefined;
        };
        const report = await verifyWithRelays(o.dataDir, cfg, { offline: o.offline, agentFor });
        if (o.json) printJson(report);
        else {
          for (const p of report.problems) printValue(`${p.kind.toUpperCase()}: ${p.message}`);
          for (const w of report.warnings) say(`note: ${w}`);
          const relays = report.relaysChecked.map((r) => `${r.relay} (${r.heads} head${r.heads === 1 ? '' : 's'})`).join(', ');
          const summary = `${report.entries} entries in ${report.files} file(s)${report.lastSeq ? `, seq ${report.firstSeq}–${report.lastSeq}` : ''}${relays ? `; checked against ${relays}` : ''}`;
          if (report.ok) printValue(`ok: ${summary}`);
          else say(`${report.problems.length} problem(s) in ${summary}`);
        }
        if (!report.ok) throw new SkybridgeError(ErrorCode.AuditTampered, `the audit log failed verification: ${report.problems.length} problem(s)`);
      }),
    );
  return audit;
}
