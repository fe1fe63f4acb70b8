// Whole-CLI tests of `outlast report`, `outlast export` and `outlast view` (the real binary, built to
// dist/ by `npm test`) over the fixture experiments.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportSchema } from '../../src/report/schema.js';
import { BIN, ROOT, cli } from '../helpers/cli.js';
import { EXPECTED, EXP_A, EXP_B, EXP_BIG, BIG_EVENTS, generateFixture, type Fixture } from '../fixtures/report/generate.js';

let fx: Fixture;
let tmp: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'outlast-report-cli-'));
  fx = await generateFixture(path.join(tmp, 'home'));
}, 60_000);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('outlast report', () => {
  it('prints JSON that validates against the schema', () => {
    const r = cli(['report', EXP_A, '--format', 'json', '--resamples', '300'], { home: fx.home });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rep = reportSchema.parse(JSON.parse(r.stdout));
    expect(rep.groups[0]!.score.mean).toBeCloseTo(EXPECTED.groups['m-fast × outlast'].mean, 10);
    expect(rep.provenance.report.resamples).toBe(300);
  });

  it('prints a terminal table with provenance, for the latest experiment by default', () => {
    const latest = cli(['report'], { home: fx.home });
    expect(latest.code).toBe(0);
    expect(latest.stdout).toContain(`experiment ${EXP_BIG}`); // the latest by created_at
    const r = cli(['report', EXP_A], { home: fx.home });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('m-fast × outlast');
    expect(r.stdout).toContain('0.667');
    expect(r.stdout).toContain('pass@2 83.3%');
    expect(r.stdout).toContain('Provenance');
    expect(r.stdout).toContain('fixture-prices-1');
    expect(r.stdout).toMatch(/warning: 1 rollout\(s\) ended in infra_error/);
  });

  it('counts infra errors with --include-infra and compares with --compare', () => {
    const inc = JSON.parse(cli(['report', EXP_A, '--format', 'json', '--include-infra'], { home: fx.home }).stdout);
    expect(inc.groups[1].score.n_rollouts).toBe(12);
    const cmp = JSON.parse(cli(['report', EXP_A, '--format', 'json', '--compare', EXP_B], { home: fx.home }).stdout);
    expect(cmp.paired[0].mean_diff).toBeCloseTo(EXPECTED.pairedCompare, 10);
    expect(cmp.compare.id).toBe(EXP_B);
  });

  it('writes a self-contained HTML file', () => {
    const out = path.join(tmp, 'r.html');
    const r = cli(['report', EXP_A, '--format', 'html', '--out', out], { home: fx.home });
    expect(r.code).toBe(0);
    const html = fs.readFileSync(out, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    // Nothing is loaded from anywhere: no src/href to a URL, no CSS imports or url(); <script> only as inline JSON data.
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\/|@import|url\(/i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).toContain('data-figure="survival_tool_calls"');
  });

  it('fails in one line on a bad experiment or format', () => {
    const r = cli(['report', 'nope'], { home: fx.home });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('no experiment "nope"');
    const f = cli(['report', '--format', 'pdf'], { home: fx.home });
    expect(f.code).toBe(2);
    expect(f.stderr).toContain('must be table, json or html');
  });
});

describe('outlast export', () => {
  it('writes ATIF trajectories', () => {
    const dir = path.join(tmp, 'atif');
    const r = cli(['export', EXP_A, '--format', 'atif', '--out', dir], { home: fx.home });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('exported 24 rollout(s)');
    const doc = JSON.parse(fs.readFileSync(path.join(dir, 'a1--outlast--m-fast--r0.atif.json'), 'utf8'));
    expect(doc.schema_version).toBe('ATIF-v1.4');
    expect(doc.agent).toMatchObject({ name: 'outlast', version: '0.1.0', model_name: 'fast-1' });
    expect(doc.steps[0]).toMatchObject({ step_id: 1, source: 'user', message: 'Make the tests pass.\n' });
    doc.steps.forEach((s: { step_id: number }, i: number) => expect(s.step_id).toBe(i + 1));
    const agent = doc.steps.filter((s: { source: string }) => s.source === 'agent');
    expect(agent[0].metrics).toMatchObject({ prompt_tokens: 1000, completion_tokens: 200, cached_tokens: 400, cost_usd: 0.01 });
    expect(agent[0].tool_calls[0]).toMatchObject({ tool_call_id: 'tc-0', function_name: 'bash', arguments: { command: 'ls' } });
    // Every observation refers to a tool call of its own step.
    for (const s of doc.steps) {
      const ids = new Set((s.tool_calls ?? []).map((c: { tool_call_id: string }) => c.tool_call_id));
      for (const res of s.observation?.results ?? []) if (res.source_call_id) expect(ids.has(res.source_call_id)).toBe(true);
    }
    expect(doc.final_metrics).toMatchObject({ total_prompt_tokens: 2000, total_completion_tokens: 400, total_cached_tokens: 800, total_cost_usd: 0.02 });
    expect(fs.existsSync(path.join(dir, 'index.atif.json'))).toBe(true);
  });

  it('writes OpenTelemetry GenAI spans (OTLP/JSON)', () => {
    const dir = path.join(tmp, 'otel');
    expect(cli(['export', EXP_A, '--format', 'otel', '--out', dir], { home: fx.home }).code).toBe(0);
    const doc = JSON.parse(fs.readFileSync(path.join(dir, 'a1--outlast--m-fast--r0.otel.json'), 'utf8'));
    const spans = doc.resourceSpans[0].scopeSpans[0].spans as { name: string; traceId: string; spanId: string; parentSpanId?: string; attributes: { key: string; value: Record<string, unknown> }[]; events?: { name: string }[] }[];
    const attr = (s: (typeof spans)[number], k: string) => s.attributes.find((a) => a.key === k)?.value;
    expect(spans[0]!.name).toBe('invoke_agent outlast');
    expect(attr(spans[0]!, 'gen_ai.operation.name')).toEqual({ stringValue: 'invoke_agent' });
    const chats = spans.filter((s) => s.name.startsWith('chat '));
    const tools = spans.filter((s) => s.name.startsWith('execute_tool '));
    expect(chats).toHaveLength(2);
    expect(tools).toHaveLength(3);
    expect(attr(chats[0]!, 'gen_ai.usage.input_tokens')).toEqual({ intValue: '1000' });
    expect(attr(chats[0]!, 'gen_ai.request.model')).toEqual({ stringValue: 'fast-1' });
    expect(attr(tools[0]!, 'gen_ai.tool.call.id')).toEqual({ stringValue: 'tc-0' });
    for (const s of spans) {
      expect(s.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(s.spanId).toMatch(/^[0-9a-f]{16}$/);
      if (s !== spans[0]) expect(s.parentSpanId).toBe(spans[0]!.spanId);
    }
    expect(spans[0]!.events!.filter((e) => e.name === 'gen_ai.evaluation.result')).toHaveLength(4); // 3 intermediate + the verifier
    expect(new Set(spans.map((s) => s.spanId)).size).toBe(spans.length);
  });
});

describe('outlast view', () => {
  it('serves the API and the built UI on loopback', async () => {
    const staticDir = path.join(tmp, 'viewer');
    await build({ configFile: path.join(ROOT, 'viewer/vite.config.ts'), logLevel: 'error', build: { outDir: staticDir, emptyOutDir: true } });
    const child = spawn(process.execPath, [BIN, '--home', fx.home, 'view', '--port', '0'], { env: { ...process.env, OUTLAST_VIEWER_DIR: staticDir }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.on('exit', (code) => reject(new Error(`view exited ${code}`)));
      });
      const list = (await (await fetch(`${url}api/experiments`)).json()) as { id: string }[];
      expect(list.map((e) => e.id).sort()).toEqual([EXP_A, EXP_B, EXP_BIG].sort());
      const page = (await (await fetch(`${url}api/experiments/${EXP_BIG}/rollouts/long-task--outlast--m-fast--r0/events?from=${BIG_EVENTS - 5}&limit=10`)).json()) as { events: { seq: number; type: string }[]; next: number | null; total: number };
      expect(page.events.map((e) => e.seq)).toEqual([9995, 9996, 9997, 9998, 9999]);
      expect(page.events.at(-1)!.type).toBe('rollout.finished');
      expect(page.next).toBeNull();
      expect(page.total).toBe(BIG_EVENTS);
      const html = await (await fetch(url)).text();
      expect(html).toContain('<div id="app">');
      expect((await fetch(`${url}api/experiments/nope/report`)).status).toBe(404);
      expect((await fetch(`${url}..%2f..%2f..%2fetc%2fhostname.txt`)).status).toBe(403);
      expect((await fetch(`${url}assets/missing.js`)).status).toBe(404);
      // DNS rebinding: a request naming another host is refused (fetch cannot set Host; node:http can).
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.get(url, { headers: { host: 'evil.example' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
      });
      expect(status).toBe(403);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
