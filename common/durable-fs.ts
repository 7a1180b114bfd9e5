import fs from 'node:fs';

/** Makes a rename, create or unlink in `dir` durable; best effort where the platform cannot (e.g. Windows). */
export function fsyncDirSync(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    /* not supported here */
  }
}
