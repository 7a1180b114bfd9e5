import type { Logger } from '../../common/logger.js';
import type { ShellToAgent } from '../../shared/agent-messages.js';
import { protectSecrets, setProtection } from './data-protection.js';

export type UnlockMessage = Extract<ShellToAgent, { type: 'unlock' }>;

/**
 * Takes the desktop shell's `unlock` before the agent starts: with a key, every plain secret
 * file is encrypted under it (once; later starts find nothing to do); without one, secrets
 * stay owner-only files and encrypted ones are refused with the shell's reason. Nothing here
 * logs the key or a secret, only counts and names of subaccounts.
 */
export async function applyUnlock(dataDir: string, message: UnlockMessage, logger: Logger): Promise<void> {
  if (message.key === null) {
    const reason = message.reason ?? 'no-key-store';
    setProtection(dataDir, { kind: 'none', reason });
    logger.warn(
      { reason },
      reason === 'key-unreadable'
        ? 'the desktop app could not read its data-protection key: encrypted private keys cannot be used; new ones are kept as owner-only files'
        : 'no OS key store: private keys and passwords are kept as owner-only files',
    );
    return;
  }
  const key = Buffer.from(message.key, 'base64');
  setProtection(dataDir, { kind: 'key', key });
  try {
    const report = await protectSecrets(dataDir, key);
    if (report.encrypted > 0) logger.info({ files: report.encrypted }, 'private keys and passwords encrypted with the data-protection key');
    if (report.skipped.length > 0) logger.warn({ secrets: report.skipped }, 'left as they were: these files do not hold a usable secret');
  } catch (err) {
    // Another key's files: nothing was changed, and the subaccounts concerned say why they cannot connect.
    logger.error((err as Error).message);
  }
}
