import 'reflect-metadata';
import { setDefaultHighWaterMark } from 'node:stream';

// Node 22's default: 64 KiB stream buffers let one socket write carry several HTTP/2 chunks (Node 20 uses 16 KiB).
setDefaultHighWaterMark(false, 64 * 1024);
import { Command, CommanderError } from 'commander';
import { VERSION } from '../common/version.js';
import { agentCommands } from './agent-commands.js';
import { demoCommand } from './demo.js';
import { relayCommands } from './relay-commands.js';
import { auditCommands } from './audit-commands.js';
import { exportCommand } from './export-command.js';

const program = new Command('skybridge')
  .description('Skybridge: cloud applications reach on-premise systems through an outbound-only tunnel.')
  .version(VERSION)
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

program.addCommand(relayCommands());
program.addCommand(agentCommands());
program.addCommand(demoCommand());
program.addCommand(auditCommands());
program.addCommand(exportCommand());

// Usage errors exit 2, failures of a valid command exit 1 (set by each action), help and version 0.
function exitOverrideAll(cmd: Command): void {
  cmd.exitOverride();
  cmd.commands.forEach(exitOverrideAll);
}
exitOverrideAll(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    const ok = err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' || err.exitCode === 0;
    process.exit(ok ? 0 : 2);
  }
  throw err;
}
