// Every recorded agent-CLI request (test/gateway/fixtures/cli-requests/) through the real gateway over
// HTTP to each upstream protocol: accepted and translated, never a 400 for what a real CLI sends; and
// what each translation makes of the CLI-specific parts (docs/gateway.md, "Agent CLIs' requests").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScriptedTurn } from '../../src/models/scripted/index.js';
import { PROTOCOLS, type Setup, setup } from './helpers.js';
import { fixtureNames, loadFixture, sendFixture, sseData } from './cli-fixtures.js';

let s: Setup;
/** The scripted model's next answer (a plain text unless a test sets it). */
let next: ScriptedTurn = { text: 'ok' };
beforeAll(async () => {
  s = await setup({ script: () => next });
});
afterAll(async () => s?.close());

describe.each(fixtureNames())('%s', (name) => {
  it.each(PROTOCOLS)('is accepted toward a %s upstream', async (upstream) => {
    next = { text: 'ok' };
    const f = loadFixture(name);
    const r = await sendFixture(s, f, upstream);
    expect(r.status, r.text.slice(0, 300)).toBe(200);
    expect(r.text).toContain('ok');
    expect(r.upstream).toBeDefined();
  });
});

describe('Claude Code: system-role messages', () => {
  const f = loadFixture('claude-code-2.1.332-system-message.json');
  const env = (t: unknown) => typeof t === 'string' && t.startsWith('# Environment');
  it('pass through unchanged to an Anthropic upstream', async () => {
    const r = await sendFixture(s, f, 'anthropic');
    expect(r.upstream.messages.map((m: any) => m.role)).toEqual(f.body.messages.map((m: any) => m.role));
    expect(r.upstream.messages[1]).toEqual(f.body.messages[1]);
  });
  it('stay a system message in place toward Chat', async () => {
    const r = await sendFixture(s, f, 'openai-chat');
    const roles = r.upstream.messages.map((m: any) => m.role);
    // the top-level system blocks first, then the conversation with its system message where it was
    expect(roles[0]).toBe('system');
    const at = r.upstream.messages.findIndex((m: any) => env(m.content));
    expect(at).toBeGreaterThan(0);
    expect(roles[at]).toBe('system');
    expect(roles[at - 1]).toBe('user');
  });
  it('become a developer message in place toward Responses', async () => {
    const r = await sendFixture(s, f, 'openai-responses');
    const it = r.upstream.input.find((i: any) => i.role === 'developer');
    expect(env(typeof it.content === 'string' ? it.content : it.content[0].text)).toBe(true);
    expect(r.upstream.input[0].role).toBe('user');
  });
  it('a malformed system message is still a 400 naming it', async () => {
    const r = await sendFixture(s, f, 'openai-chat', (b) => (b.messages[1].content = 42));
    expect(r.status).toBe(400);
    expect(r.text).toContain('messages.1.content');
  });
  it('the streamed answer reaches the CLI in its protocol', async () => {
    next = { text: 'all done' };
    const r = await sendFixture(s, f, 'openai-chat');
    const deltas = sseData(r.text).filter((e) => e.type === 'content_block_delta').map((e) => e.delta.text).join('');
    expect(deltas).toBe('all done');
  });
});
