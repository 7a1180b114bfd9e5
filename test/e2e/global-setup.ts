import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SCREENSHOTS = path.join(ROOT, 'test-results', 'screenshots');

/** Runs once before all spec files: the tests drive the built app, and old screenshots must not pass for new ones. */
export default function globalSetup(): void {
  for (const built of ['dist/cli/main.js', 'dist/renderer/index.html']) {
    if (!existsSync(path.join(ROOT, built))) {
      throw new Error(`${built} is missing: run 'npm run build' before the end-to-end tests.`);
    }
  }
  rmSync(SCREENSHOTS, { recursive: true, force: true });
  mkdirSync(SCREENSHOTS, { recursive: true });
}
