import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fsyncDirSync } from '../../../common/durable-fs.js';
import type { ImportedCa } from '../../../shared/api.js';
import { ErrorCode, SkybridgeError } from '../../../shared/errors.js';
import { parsePemCertificates, trustedCaDir, type ParsedCertificates } from '../trusted-ca.js';

/** 128 bits of the content's SHA-256: names never collide by accident, and stay short enough to read. */
const NAME_HEX = 32;

/** The file name importCaCertificate gives a CA: what ui-transport.ts lets the UI put in caFile. */
export const TRUSTED_CA_NAME = new RegExp(`^[0-9a-f]{${NAME_HEX}}\\.pem$`);

/**
 * importCaCertificate: the UI sends the PEM text (it cannot name a file on this machine); the
 * certificates in it, re-encoded without anything else, go to <dataDir>/trusted-ca/ under a
 * name taken from their content. Uploading the same certificates again gives the same path
 * and writes nothing. CA certificates are public, so the file is 0644.
 */
export async function importCaCertificate(dataDir: string, pem: string): Promise<ImportedCa> {
  let parsed: ParsedCertificates;
  try {
    parsed = parsePemCertificates(pem, { refuseKeys: true });
  } catch (err) {
    throw new SkybridgeError(ErrorCode.InvalidInput, `That is not a usable CA certificate: ${(err as Error).message}.`);
  }
  const digest = createHash('sha256');
  for (const cert of parsed.certificates) digest.update(cert.raw);
  const dir = trustedCaDir(dataDir);
  const file = path.join(dir, `${digest.digest('hex').slice(0, NAME_HEX)}.pem`);
  const current = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (current !== parsed.pem) await writeAtomic(dir, file, parsed.pem);
  const first = parsed.certificates[0]!;
  return {
    caFile: file,
    // Node gives one RDN per line; people read them comma-separated.
    subject: first.subject.split('\n').join(', '),
    fingerprintSha256: first.fingerprint256,
    notAfter: new Date(first.validTo).toISOString(),
    certificates: parsed.certificates.length,
  };
}

/** Temp file, fsync, rename, fsync of the folder: a reader sees the old file or the whole new one. */
async function writeAtomic(dir: string, file: string, text: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o755 });
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await fs.open(tmp, 'wx', 0o644);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  fsyncDirSync(dir);
}
