// Browser tests of the web viewer and the HTML report, in real headless Chromium (Debian's
// `chromium`, driven by playwright-core). Missing Chromium is a failure, not a skip: CI installs it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, buildViewer, openBrowser } from '../helpers/browser.js';
import { buildReport } from '../../src/report/aggregate.js';
import { fmtDelta, fmtPassK, fmtPct, fmtScore, fmtCi, fmtUsd } from '../../src/report/format.js';
import { renderReportHtml } from '../../src/report/html.js';
import { loadExperiment } from '../../src/report/loader.js';
import { startViewServer, type ViewServer } from '../../src/report/server.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { BIG_EVENTS, BIG_ROLLOUT, EXPECTED, EXP_A, EXP_B, EXP_BIG, generateFixture, type Fixture } from '../fixtures/report/generate.js';


let fx: Fixture;
let store: SqliteStore;
let server: ViewServer;
let ctx: BrowserContext;
let browser: { close: () => Promise<void> } | undefined;
let tmp: string;
/** Requests the pages made to anywhere but the viewer or file:// (must stay empty). */
const offsite: string[] = [];

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'outlast-viewer-'));
  const staticDir = await buildViewer(tmp);
  fx = await generateFixture(path.join(tmp, 'home'));
  store = SqliteStore.open(fx.layout.db, { layout: fx.layout });
  server = await startViewServer({ store, staticDir, report: { resamples: 500 } });
  const b = await openBrowser(server.url, 1400, offsite);
  ctx = b.ctx;
  browser = b;
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await store?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

async function cell(page: Page, group: string, field: string, scope = ''): Promise<string> {
  return (await page.locator(`${scope} td[data-group="${group}"][data-field="${field}"]`.trim()).first().textContent())!.trim();
}

async function figurePoints(page: Page): Promise<Record<string, number>> {
  return page.$$eval('figure[data-figure]', (els) => Object.fromEntries(els.map((e) => [e.getAttribute('data-figure')!, Number(e.getAttribute('data-points'))])));
}

describe('web viewer', () => {
  it('lists experiments and renders the leaderboard with the right numbers and charts', async () => {
    const page = await ctx.newPage();
    await page.goto(server.url);
    await page.waitForSelector('table[data-table="experiments"]');
    expect(await page.locator('tr[data-experiment]').count()).toBe(3);
    await page.goto(`${server.url}#/experiment/${EXP_A}`);
    await page.waitForSelector('table[data-table="groups"]');
    const scope = 'table[data-table="groups"]';
    for (const [key, e] of Object.entries(EXPECTED.groups)) {
      expect(await cell(page, key, 'score.mean', scope)).toBe(fmtScore(e.mean));
      expect(await cell(page, key, 'pass_at_1', scope)).toBe(fmtPct(e.pass1));
      expect(await cell(page, key, 'pass_at_k', scope)).toBe(fmtPassK(e.passK));
      expect(await cell(page, key, 'score.n_tasks', scope)).toBe(String(e.tasks));
      expect(await cell(page, key, 'score.n_rollouts', scope)).toBe(String(e.rollouts));
      expect(await cell(page, key, 'cost.per_solved_task_usd', scope)).toBe(fmtUsd(e.costPerSolved));
      expect(await cell(page, key, 'cache_hit_ratio', scope)).toBe(fmtPct(e.cacheHit));
    }
    expect(await cell(page, 'm-slow × outlast', 'outcomes', scope)).toContain('1 infra');
    expect(await cell(page, 'paired-0', 'mean_diff')).toBe(fmtDelta(EXPECTED.pairedWithin));
    // Every figure: the expected number of points, drawn (a canvas), with its provenance line.
    expect(await figurePoints(page)).toEqual(EXPECTED.figurePoints);
    for (const id of Object.keys(EXPECTED.figurePoints)) {
      await page.waitForSelector(`figure[data-figure="${id}"] canvas`);
      expect(await page.locator(`figure[data-figure="${id}"] .prov`).textContent()).toContain('graded by command@1');
    }
    expect(await page.locator('dl[data-provenance]').textContent()).toContain('fixture-prices-1');
    await page.screenshot({ path: path.join(ARTIFACTS, 'viewer-leaderboard.png'), fullPage: true });
    // Counting infra errors is a switch: the infra_error rollout joins m-slow's scored rollouts.
    await page.check('input[type="checkbox"]');
    await page.waitForFunction(() => document.querySelector('table[data-table="groups"] td[data-group="m-slow × outlast"][data-field="score.n_rollouts"]')?.textContent === '12');
    await page.close();
  });

  it('opens a 10,000-event rollout and scrolls to its end in under 2 s', async () => {
    const page = await ctx.newPage();
    const started = performance.now();
    await page.goto(`${server.url}#/rollout/${EXP_BIG}/${BIG_ROLLOUT}`);
    await page.waitForSelector('.events [data-seq="0"]');
    const opened = performance.now() - started;
    await page.$eval('.events', (el) => (el.scrollTop = el.scrollHeight));
    await page.waitForSelector(`.events [data-seq="${BIG_EVENTS - 1}"]`);
    const total = performance.now() - started;
    if (process.env.OUTLAST_TIMING) console.log(await page.evaluate(() => JSON.stringify(performance.getEntriesByType('resource').map((e) => [e.name.replace(/.*\/api/, ''), Math.round(e.startTime), Math.round(e.responseEnd)]))));
    console.log(`10,000-event rollout: first rows after ${opened.toFixed(0)} ms, end reached after ${total.toFixed(0)} ms`);
    expect(total).toBeLessThan(2000);
    expect(await page.getAttribute('.events', 'data-total')).toBe(String(BIG_EVENTS));
    // Virtualized: only a window of rows is in the DOM.
    expect(await page.locator('.events .ev').count()).toBeLessThan(200);
    expect(await page.locator(`.events [data-seq="${BIG_EVENTS - 1}"] .type`).textContent()).toBe('rollout.finished');
    // Scrolling back up mid-way still fills rows.
    await page.$eval('.events', (el) => (el.scrollTop = el.scrollHeight / 2));
    await page.waitForSelector(`.events [data-seq="${Math.floor(BIG_EVENTS / 2)}"]`);
    await page.click(`.events [data-seq="${Math.floor(BIG_EVENTS / 2)}"]`);
    await page.waitForSelector('[data-detail] pre');
    const pts = await figurePoints(page);
    expect(pts).toEqual({ rollout_score_vs_tool_calls: fx.bigEvaluations, rollout_score_vs_hours: fx.bigEvaluations });
    await page.waitForSelector('figure[data-figure="rollout_score_vs_hours"] canvas');
    await page.screenshot({ path: path.join(ARTIFACTS, 'viewer-rollout-10k.png'), fullPage: true });
    // The typed view pages evaluations with a cursor.
    await page.click('button[data-tab="evaluation"]');
    await page.waitForSelector('.typed[data-type="evaluation"] tr');
    expect(Number(await page.getAttribute('.typed[data-type="evaluation"]', 'data-count'))).toBe(200);
    await page.close();
  });

  it('shows the paired delta between two experiments side by side', async () => {
    const page = await ctx.newPage();
    await page.goto(`${server.url}#/compare/${EXP_B}/${EXP_A}`);
    await page.waitForSelector('table[data-table="paired"]');
    expect(await cell(page, 'paired-0', 'mean_diff')).toBe(fmtDelta(EXPECTED.pairedCompare));
    expect(await cell(page, 'paired-0', 'tasks')).toBe('6');
    expect(await cell(page, 'm-fast × outlast', 'score.mean', 'table[data-table="compare-b"]')).toBe(fmtScore(EXPECTED.groups['m-fast × outlast'].mean));
    expect(await cell(page, 'm-fast × outlast', 'score.mean', 'table[data-table="compare-a"]')).toBe(fmtScore(1 / 6));
    await page.screenshot({ path: path.join(ARTIFACTS, 'viewer-compare.png'), fullPage: true });
    await page.close();
  });

  it('made no request off the loopback server', () => {
    expect(offsite).toEqual([]);
  });
});

describe('HTML report', () => {
  it('opens from disk with the network blocked and shows the same numbers as the JSON', async () => {
    const data = await loadExperiment(store, (await store.getExperiment(EXP_A))!);
    const report = buildReport(data, { resamples: 500, compare: await loadExperiment(store, (await store.getExperiment(EXP_B))!) });
    const file = path.join(tmp, 'report.html');
    fs.writeFileSync(file, renderReportHtml(report));
    const json = JSON.parse(JSON.stringify(report)) as typeof report;
    const page = await ctx.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`file://${file}`);
    await page.waitForSelector('table.leaderboard');
    for (const g of json.groups) {
      expect(await cell(page, g.key, 'score.mean', 'table.leaderboard')).toBe(fmtScore(g.score.mean));
      expect(await cell(page, g.key, 'score.ci', 'table.leaderboard')).toBe(fmtCi(g.score.ci));
      expect(await cell(page, g.key, 'pass_at_1', 'table.leaderboard')).toBe(fmtPct(g.pass_at_1));
      expect(await cell(page, g.key, 'pass_at_k', 'table.leaderboard')).toBe(fmtPassK(g.pass_at_k));
      expect(await cell(page, g.key, 'cost.per_task_usd')).toBe(fmtUsd(g.cost.per_task_usd));
    }
    expect(await cell(page, 'paired-0', 'mean_diff')).toBe(fmtDelta(json.paired[0]!.mean_diff));
    expect(await figurePoints(page)).toEqual(Object.fromEntries(json.figures.map((f) => [f.id, f.points])));
    const embedded = JSON.parse((await page.locator('#report-data').textContent())!);
    expect(embedded).toEqual(json);
    expect(requests.every((u) => u.startsWith('file:'))).toBe(true);
    await page.screenshot({ path: path.join(ARTIFACTS, 'report-html.png'), fullPage: true });
    await page.close();
  });
});
