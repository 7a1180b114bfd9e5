import { existsSync } from 'node:fs';

/** Debian's Chromium (`apt-get install chromium`); Playwright never downloads a browser for these tests. */
export const CHROMIUM = process.env.SKYBRIDGE_CHROMIUM ?? '/usr/bin/chromium';

/** Why the browser tests cannot run here, or undefined when they can. */
export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM} (sudo apt-get install chromium, or set SKYBRIDGE_CHROMIUM)`;
}
