// The browser tests' shared set-up: the real viewer built into a private directory, and Debian's
// Chromium (driven by playwright-core) that may reach the viewer and local files only. Missing
// Chromium is a failure, not a skip: CI installs it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { build } from 'vite';
import { ROOT } from './cli.js';

const CHROMIUM = process.env.OUTLAST_CHROMIUM ?? '/usr/bin/chromium';
/** Where the tests leave screenshots. */
export const ARTIFACTS = path.join(ROOT, 'test-artifacts');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Build the real viewer (same config as `npm run build`) into `<tmp>/viewer`; returns that directory. */
export async function buildViewer(tmp: string): Promise<string> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: the browser tests need Debian's chromium package (apt-get install chromium) or OUTLAST_CHROMIUM=/path/to/chromium`);
  }
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const staticDir = path.join(tmp, 'viewer');
  await build({ configFile: path.join(ROOT, 'viewer/vite.config.ts'), logLevel: 'error', build: { outDir: staticDir, emptyOutDir: true } });
  return staticDir;
}

/** A headless Chromium whose requests anywhere but `serverUrl`, file: and data: are refused and listed in `offsite`. */
export async function openBrowser(serverUrl: string, width: number, offsite: string[]): Promise<{ ctx: BrowserContext; close: () => Promise<void> }> {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'outlast-chromium-'));
  const ctx = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width, height: 1000 } });
  await ctx.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(serverUrl) || url.startsWith('file:') || url.startsWith('data:')) return route.continue();
    offsite.push(url);
    return route.abort();
  });
  return {
    ctx,
    close: async () => {
      await ctx.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
