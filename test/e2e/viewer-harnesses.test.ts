// Browser test of the cross-harness page of the web viewer (`#/harnesses/<experiment>`) and of the
// HTML report's cross-harness section, in real headless Chromium (Debian's `chromium`, driven by
// playwright-core) over the cross-harness fixture (test/fixtures/report/harnesses.ts) in a real
// SQLite store. The numbers are the ones worked out by hand in test/report/by-harness.test.ts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, buildViewer, openBrowser } from '../helpers/browser.js';
import { buildReport } from '../../src/report/aggregate.js';
import { fmtCi, fmtDelta, fmtNum, fmtPct, fmtScore } from '../../src/report/format.js';
import { renderReportHtml } from '../../src/report/html.js';
import { loadExperiment } from '../../src/report/loader.js';
import { startViewServer, type ViewServer } from '../../src/report/server.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { EXP_SOLO, EXP_X, generateHarnessFixture } from '../fixtures/report/harnesses.js';


let store: SqliteStore;
let server: ViewServer;
let ctx: BrowserContext;
let browser: { close: () => Promise<void> } | undefined;
let tmp: string;
const offsite: string[] = [];

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'outlast-viewer-harnesses-'));
  const staticDir = await buildViewer(tmp);
  const fx = await generateHarnessFixture(path.join(tmp, 'home'));
  store = SqliteStore.open(fx.layout.db, { layout: fx.layout });
  server = await startViewServer({ store, staticDir, report: { resamples: 400 } });
  const b = await openBrowser(server.url, 1500, offsite);
  ctx = b.ctx;
  browser = b;
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await store?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

async function cell(page: Page, group: string, field: string): Promise<string> {
  return (await page.locator(`td[data-group="${group}"][data-field="${field}"]`).first().textContent())!.trim();
}

describe('web viewer: across harnesses', () => {
  it('links from the experiment page and shows the hand-computed numbers', async () => {
    const page = await ctx.newPage();
    await page.goto(`${server.url}#/experiment/${EXP_X}`);
    await page.click('a[data-link="by-harness"]');
    await page.waitForSelector('section[data-page="harnesses"] table[data-table="harness-pairs"]');
    // m2: outlast 0.65, codex 0.40; the pair: Δ −0.25, agreement 80%, κ 6/11
    expect(await cell(page, 'm2 | outlast', 'score.mean')).toBe(fmtScore(0.65));
    expect(await cell(page, 'm2 | codex', 'matched_pass_rate')).toBe(fmtPct(0.4));
    expect(await cell(page, 'm2 | outlast | codex', 'score_diff.mean')).toBe(fmtDelta(-0.25));
    expect(await cell(page, 'm2 | outlast | codex', 'agreement')).toBe(fmtPct(0.8));
    expect(await cell(page, 'm2 | outlast | codex', 'kappa')).toBe(fmtNum(6 / 11, 3));
    expect(await cell(page, 'm2 | outlast | codex', 'diff.tool_calls')).toBe('20');
    expect(await page.locator('[data-summary="m2"]').textContent()).toContain('Kendall W 0.200');
    // m1: three harnesses, infra errors and tasks missing; pairs say what they are matched on.
    expect(await cell(page, 'm1 | claude-code', 'infra_error')).toBe('3');
    expect(await cell(page, 'm1 | claude-code', 'matched.mean')).toBe(fmtScore(5 / 6));
    expect(await cell(page, 'm1 | claude-code', 'missing_tasks')).toBe('t3');
    expect(await cell(page, 'm1 | claude-code | codex', 'tasks')).toBe('3');
    expect(await cell(page, 'm1 | claude-code | codex', 'unmatched')).toBe('codex lacks t5; claude-code lacks t3');
    expect(await cell(page, 'm1 | claude-code | codex', 'kappa')).toBe(fmtNum(0.4, 3));
    expect(await page.locator('[data-summary="m1"]').textContent()).toContain('Kendall W 0.167');
    await page.screenshot({ path: path.join(ARTIFACTS, 'viewer-harnesses.png'), fullPage: true });
    // With infra errors counted, claude-code's three infra rollouts score 0: 2/5.
    await page.check('section[data-page="harnesses"] input[type="checkbox"]');
    await page.waitForFunction(() => document.querySelector('td[data-group="m1 | claude-code"][data-field="score.mean"]')?.textContent === '0.400');
    await page.close();
  });

  it('says so when the experiment ran one harness', async () => {
    const page = await ctx.newPage();
    await page.goto(`${server.url}#/experiment/${EXP_SOLO}`);
    await page.waitForSelector('table[data-table="groups"]');
    expect(await page.locator('a[data-link="by-harness"]').count()).toBe(0);
    await page.goto(`${server.url}#/harnesses/${EXP_SOLO}`);
    await page.waitForSelector('.by-harness .warn');
    expect(await page.locator('.by-harness .warn').textContent()).toBe('only one harness (outlast) ran m1: nothing to compare across harnesses');
    await page.close();
  });

  it('made no request off the loopback server', () => {
    expect(offsite).toEqual([]);
  });
});

describe('HTML report: across harnesses', () => {
  it('opens from disk and shows the same numbers as the JSON', async () => {
    const report = buildReport(await loadExperiment(store, (await store.getExperiment(EXP_X))!), { resamples: 400, byHarness: true });
    const file = path.join(tmp, 'by-harness.html');
    fs.writeFileSync(file, renderReportHtml(report));
    const page = await ctx.newPage();
    await page.goto(`file://${file}`);
    await page.waitForSelector('section[data-section="by-harness"]');
    for (const b of report.by_harness!) {
      for (const h of b.per_harness) {
        expect(await cell(page, `${b.model} | ${h.harness}`, 'matched.mean')).toBe(fmtScore(h.matched.mean));
        expect(await cell(page, `${b.model} | ${h.harness}`, 'matched.ci')).toBe(fmtCi(h.matched.ci));
      }
      for (const p of b.pairs) {
        expect(await cell(page, `${b.model} | ${p.a} | ${p.b}`, 'kappa')).toBe(fmtNum(p.kappa, 3));
        expect(await cell(page, `${b.model} | ${p.a} | ${p.b}`, 'score_diff.ci')).toBe(fmtCi(p.score_diff.ci));
      }
    }
    const embedded = JSON.parse((await page.locator('#report-data').textContent())!);
    expect(embedded.by_harness).toEqual(JSON.parse(JSON.stringify(report.by_harness)));
    await page.screenshot({ path: path.join(ARTIFACTS, 'report-html-harnesses.png'), fullPage: true });
    await page.close();
  });
});
