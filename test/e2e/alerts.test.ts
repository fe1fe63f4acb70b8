// Alerts through the real CLI: confirming a flag POSTs it to a webhook receiver on loopback, retried
// with backoff after a 503, every attempt an `alert` event; the receiver takes exactly one alert,
// confirming again sends nothing, a dismissed flag fires nothing, and a delivery a kill cut short is
// finished by the next `outlast review`.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertEvent } from '../../src/core/events.js';
import { startScriptedModel, type ScriptedModel } from '../../src/models/scripted/index.js';
import { readTrajectory } from '../../src/store/trajectory.js';
import { ROOT, cliAsync, cliSpawn, firstTrajectory, tmpdir } from '../helpers/cli.js';
import { makeHackPolicy } from '../monitors/fixtures/hack-policy.mjs';

const TASK = path.join(ROOT, 'test/monitors/fixtures/calc-task');
let model: ScriptedModel;
let models: string;

interface Received {
  headers: http.IncomingHttpHeaders;
  body: Record<string, any>;
  status: number;
}

/** A webhook receiver: answers each request with the next of `statuses` (then 200). */
async function receiver(statuses: number[]) {
  const got: Received[] = [];
  const server = http.createServer((req, res) => {
    let b = '';
    req.setEncoding('utf8').on('data', (d: string) => (b += d));
    req.on('end', () => {
      const status = statuses.shift() ?? 200;
      got.push({ headers: req.headers, body: JSON.parse(b), status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/secret-token`;
  return { got, url, accepted: () => got.filter((g) => g.status === 200), close: () => new Promise<void>((r) => server.close(() => r())) };
}

beforeAll(async () => {
  model = await startScriptedModel({ script: makeHackPolicy('grader-files') });
  models = path.join(tmpdir(), 'models.toml');
  fs.writeFileSync(models, `[[models]]\nname = "hack"\nprotocol = "openai-chat"\nbase_url = "${model.url}/v1"\n`);
});
afterAll(async () => {
  await model?.close();
});

async function hackedHome(webhook: string, extra = '') {
  const home = tmpdir();
  const r = await cliAsync(['run', TASK, '--harness', 'outlast', '--model', 'hack', '--models', models], { home });
  expect(r.code, r.stderr).toBe(0);
  fs.writeFileSync(path.join(home, 'monitors.toml'), `[[alerts.webhook]]\nurl = "${webhook}"\nbackoff_ms = 20\n${extra}`);
  const q = await cliAsync(['review', '--list', '--json'], { home });
  const flags = (JSON.parse(q.stdout).flags as { flag: { flag_id: string } }[]).map((f) => f.flag.flag_id);
  expect(flags).toHaveLength(2);
  return { home, flags };
}

const alertsIn = (home: string) => readTrajectory(firstTrajectory(home)!).events.filter((e): e is AlertEvent => e.type === 'alert');

describe('alerts', () => {
  it('a confirmed flag reaches the webhook exactly once, retried after a 503; a dismissed flag fires nothing', { timeout: 180_000 }, async () => {
    const rx = await receiver([503]);
    try {
      const { home, flags } = await hackedHome(rx.url);
      const [first, second] = flags as [string, string];
      const c = await cliAsync(['review', first, '--confirm', '--reviewer', 'ana', '--note', 'reward file written'], { home });
      expect(c.code, c.stderr).toBe(0);
      expect(c.stdout).toMatch(/alert f-\w+ → webhook:http:\/\/127\.0\.0\.1:\d+#[0-9a-f]{8}: delivered \(try 2\)/);
      expect(rx.got.map((g) => g.status)).toEqual([503, 200]);
      const [one] = rx.accepted();
      expect(one!.headers['x-outlast-alert-id']).toMatch(new RegExp(`/${first}$`));
      expect(one!.body).toMatchObject({ type: 'outlast.alert', flag: { flag_id: first, rule_id: 'tamper.grader-files', severity: 'critical' }, decision: { decision: 'confirmed', reviewer: 'ana', note: 'reward file written' } });
      expect(one!.body.flag.evidence[0]).toMatchObject({ excerpt: expect.stringContaining('/logs/verifier/reward.txt') });
      // every attempt in the log; the URL (with its secret) never is
      const alerts = alertsIn(home);
      expect(alerts.map((a) => [a.attempt, a.ok, a.status])).toEqual([
        [1, false, 503],
        [2, true, 200],
      ]);
      expect(fs.readFileSync(firstTrajectory(home)!, 'utf8')).not.toContain('secret-token');

      // confirming again, and a dismissed flag: nothing more is sent
      expect((await cliAsync(['review', first, '--confirm', '--reviewer', 'ana'], { home })).code).toBe(0);
      expect((await cliAsync(['review', second, '--dismiss', '--reviewer', 'ana'], { home })).code).toBe(0);
      expect(rx.got).toHaveLength(2);
      expect(alertsIn(home)).toHaveLength(2);
    } finally {
      await rx.close();
    }
  });

  it('gives up after its attempts on a receiver that is down, and says so', { timeout: 180_000 }, async () => {
    const rx = await receiver([]);
    const down = rx.url;
    await rx.close(); // nothing listens there now
    const { home, flags } = await hackedHome(down, 'attempts = 3\n');
    const c = await cliAsync(['review', flags[0]!, '--confirm', '--reviewer', 'ana'], { home });
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/not delivered after 3 tries \(.*ECONNREFUSED.*\)/);
    expect(alertsIn(home).map((a) => [a.attempt, a.ok, a.status, a.final ?? false])).toEqual([
      [1, false, null, false],
      [2, false, null, false],
      [3, false, null, true],
    ]);
  });

  it('finishes a delivery a kill cut short, on the next outlast review', { timeout: 180_000 }, async () => {
    const rx = await receiver([503]);
    try {
      // a long backoff after the 503: the kill lands in it
      const { home, flags } = await hackedHome(rx.url);
      fs.writeFileSync(path.join(home, 'monitors.toml'), `[[alerts.webhook]]\nurl = "${rx.url}"\nbackoff_ms = 60000\nmax_backoff_ms = 60000\n`);
      const child = cliSpawn(['review', flags[0]!, '--confirm', '--reviewer', 'ana'], { home });
      const deadline = Date.now() + 60_000;
      while (alertsIn(home).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('close', r));
      expect(alertsIn(home).map((a) => [a.attempt, a.ok])).toEqual([[1, false]]);
      fs.writeFileSync(path.join(home, 'monitors.toml'), `[[alerts.webhook]]\nurl = "${rx.url}"\nbackoff_ms = 10\n`);
      const r = await cliAsync(['review', '--reviewer', 'ana'], { home }); // stdin closed: takes up the alert, then quits
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/delivered \(try 2\)/);
      expect(rx.accepted()).toHaveLength(1);
      expect(alertsIn(home).map((a) => [a.attempt, a.ok])).toEqual([
        [1, false],
        [2, true],
      ]);
    } finally {
      await rx.close();
    }
  });
});
