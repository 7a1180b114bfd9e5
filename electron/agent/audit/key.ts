import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ErrorCode, SkybridgeError } from '../../../shared/errors.js';
import { auditDir, fsyncDirSync, KEY_FILE } from './files.js';

/**
 * The installation's audit key: 32 random bytes, hex, in `audit/audit.key`
 * with owner-only permissions. It never leaves the machine (the support bundle
 * skips it). It makes the chain unforgeable for anyone who cannot read that
 * file; against someone who can, the relay's copy of the chain head is the
 * safeguard (docs/audit.md).
 */
export function auditKeyPath(dataDir: string): string {
  return path.join(auditDir(dataDir), KEY_FILE);
}

export function readAuditKey(dataDir: string): Buffer | undefined {
  let text: string;
  try {
    text = fs.readFileSync(auditKeyPath(dataDir), 'utf8').trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SkybridgeError(ErrorCode.ConfigInvalid, `cannot read the audit key ${auditKeyPath(dataDir)}: ${(e as Error).message}`);
  }
  if (!/^[0-9a-f]{64}$/.test(text)) throw new SkybridgeError(ErrorCode.ConfigInvalid, `the audit key ${auditKeyPath(dataDir)} is damaged (expected 64 hex digits)`);
  return Buffer.from(text, 'hex');
}

/** The key, made on first use. Only the agent creates it: a reader that finds none has nothing to verify with. */
export function loadOrCreateAuditKey(dataDir: string): Buffer {
  const existing = readAuditKey(dataDir);
  if (existing) return existing;
  const dir = auditDir(dataDir);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  try {
    const fd = fs.openSync(auditKeyPath(dataDir), 'wx', 0o600);
    try {
      fs.writeFileSync(fd, `${key.toString('hex')}\n`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    // Another process made it first: use theirs.
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return readAuditKey(dataDir)!;
    throw e;
  }
  fsyncDirSync(dir);
  return key;
}
