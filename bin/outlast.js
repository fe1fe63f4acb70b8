#!/usr/bin/env node
// Entry point of the `outlast` command. The TypeScript sources are compiled to dist/ by `npm run build`
// (which `npm ci` / `npm install` run through the `prepare` script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error('outlast: not built yet; run `npm run build` in the outlast directory first');
  process.exit(2);
}
await import(main.href);
