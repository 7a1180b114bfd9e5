#!/usr/bin/env node
// Entry point of the `skybridge` CLI. The TypeScript sources are compiled to dist/ by `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
if (!existsSync(main)) {
  process.stderr.write("skybridge: the CLI is not built yet; run 'npm run build' in the project folder first.\n");
  process.exit(1);
}
await import(main);
