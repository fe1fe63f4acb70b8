// `outlast call`: a run whose models.toml keeps bodies ([gateway] record_bodies = true) can show,
// for any model call, exactly what the harness sent and what it received.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedModel, type ScriptedModel } from '../../src/models/scripted/index.js';
import { startViewServer } from '../../src/report/server.js';
import { openStore } from '../../src/store/index.js';
import { Layout } from '../../src/store/layout.js';
import { readTrajectory } from '../../src/store/trajectory.js';
import { buildViewer, openBrowser } from '../helpers/browser.js';
import { cli, cliAsync, tmpdir, writeTree } from '../helpers/cli.js';

describe('outlast call', () => {
  let sm: ScriptedModel;
  let root: string;
  beforeAll(async () => {
    sm = await startScriptedModel({ script: [{ tool_calls: [{ name: 'bash', arguments: { command: 'echo hi > out.txt' } }] }, { tool_calls: [{ name: 'submit', arguments: {} }] }] });
    root = tmpdir();
    fs.writeFileSync(path.join(root, 'models.toml'), `[gateway]\nrecord_bodies = true\n\n[[models]]\nname = "m"\nprotocol = "openai-chat"\nbase_url = "${sm.url}/v1"\n`);
    writeTree(path.join(root, 'task'), {
      'task.toml': '[task]\nname = "hi"\n',
      'instruction.md': 'Write hi to out.txt, then submit.\n',
      'workspace/.keep': '',
      'tests/test.sh': '#!/bin/bash\ngrep -q hi out.txt\n',
    });
  });
  afterAll(async () => sm?.close());

  it('prints the events of a call and its recorded request and response bodies; the viewer shows them', { timeout: 120_000 }, async () => {
    const home = tmpdir();
    const r = await cliAsync(['run', path.join(root, 'task'), '--harness', 'outlast', '--model', 'm', '--models', path.join(root, 'models.toml')], { home });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const exp = fs.readdirSync(path.join(home, 'experiments'))[0]!;
    const rdir = path.join(home, 'experiments', exp, 'rollouts');
    const events = readTrajectory(path.join(rdir, fs.readdirSync(rdir)[0]!, 'trajectory.jsonl')).events;
    const calls = events.filter((e) => e.type === 'model.request');
    expect(calls).toHaveLength(2);
    const second = calls[1]!;
    if (second.type !== 'model.request') throw new Error('type');
    const shown = cli(['call', second.call_id], { home });
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ request: { call_id: second.call_id, body: expect.stringMatching(/^sha256:/) }, response: { call_id: second.call_id, status: 200 } });
    const req = cli(['call', second.call_id, '--request'], { home });
    const body = JSON.parse(req.stdout);
    // What the harness sent is what reached the model (a passthrough: only model and stream_options set by the gateway).
    const upstream = sm.requests[1]!.body as { messages: unknown; tools: unknown };
    expect(body.messages).toEqual(upstream.messages);
    expect(body.tools).toEqual(upstream.tools);
    expect(JSON.stringify(body.messages)).toContain('echo hi > out.txt');
    const res = cli(['call', second.call_id, '--response'], { home });
    expect(res.stdout).toMatch(/submit/);
    const missing = cli(['call', 'call_nope'], { home });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no call "call_nope"/);

    // The viewer's API serves the same bodies (what the viewer shows under "show the recorded body").
    const store = await openStore(new Layout(home));
    const view = await startViewServer({ store, staticDir: await buildViewer(tmpdir()) });
    const offsite: string[] = [];
    const browser = await openBrowser(view.url, 1400, offsite);
    try {
      const rid = fs.readdirSync(rdir)[0]!;
      const at = (ref: string) => fetch(`${view.url}api/experiments/${exp}/rollouts/${rid}/body/${encodeURIComponent(ref)}`);
      const got = (await (await at(second.body!)).json()) as { kind: string; body: { messages: unknown } };
      expect(got.kind).toBe('request');
      expect(got.body.messages).toEqual(body.messages);
      const resEvent = events.find((e) => e.type === 'model.response' && e.call_id === second.call_id) as { body?: string } | undefined;
      const text = (await (await at(resEvent!.body!)).json()) as { kind: string; text: string };
      expect(text).toMatchObject({ kind: 'response', text: expect.stringMatching(/submit/) });
      expect((await at('sha256:' + '0'.repeat(64))).status).toBe(404);
      expect((await at('../../experiment.json')).status).toBe(400);

      // ... and the viewer shows it: select the call's model.request, ask for its body.
      const page = await browser.ctx.newPage();
      await page.goto(`${view.url}#/rollout/${exp}/${rid}`);
      await page.click(`.events [data-seq="${second.seq}"]`);
      await page.click('[data-detail] [data-action="show-body"]');
      const shownBody = (await page.locator('[data-detail] pre[data-body]').textContent())!;
      expect(JSON.parse(shownBody).messages).toEqual(body.messages);
      expect(offsite).toEqual([]);
    } finally {
      await browser.close();
      await view.close();
      await store.close();
    }
  });
});
