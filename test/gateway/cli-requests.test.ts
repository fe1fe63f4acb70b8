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

/** The completed output items of a Responses stream. */
const doneItems = (text: string) => sseData(text).filter((e) => e.type === 'response.output_item.done').map((e) => e.item);
const chatTools = (body: any) => body.tools.map((t: any) => t.function);
const anthropicToolNames = (body: any) => body.tools.map((t: any) => t.name);

describe('Codex CLI: tools toward Chat and Anthropic', () => {
  const latest = loadFixture('codex-0.171.0-gpt-5.5.json');
  const fallback = loadFixture('codex-0.171.0-fallback-model.json');
  const ns = fallback.body.tools.find((t: any) => t.type === 'namespace');

  it('hosted web_search is dropped; custom apply_patch and the client-run tool_search become function tools', async () => {
    next = { text: 'ok' };
    for (const upstream of ['openai-chat', 'anthropic'] as const) {
      const r = await sendFixture(s, latest, upstream);
      const names = upstream === 'openai-chat' ? chatTools(r.upstream).map((t: any) => t.name) : anthropicToolNames(r.upstream);
      const functions = latest.body.tools.filter((t: any) => t.type === 'function').map((t: any) => t.name);
      expect(names).toEqual([...functions.slice(0, 3), 'apply_patch', ...functions.slice(3), 'tool_search']);
      expect(JSON.stringify(r.upstream.tools)).not.toContain('web_search');
    }
    const r = await sendFixture(s, latest, 'openai-chat');
    const search = chatTools(r.upstream).find((t: any) => t.name === 'tool_search');
    expect(search.parameters).toEqual(latest.body.tools.find((t: any) => t.type === 'tool_search').parameters);
  });

  it("a namespace's tools are offered as <namespace>__<tool>, and a call to one comes back namespaced", async () => {
    next = { tool_calls: [{ name: `${ns.name}__close_agent`, arguments: { target: 'agent-1' } }] };
    const r = await sendFixture(s, fallback, 'openai-chat');
    expect(r.status).toBe(200);
    const names = chatTools(r.upstream).map((t: any) => t.name);
    expect(names).toEqual(expect.arrayContaining(ns.tools.map((t: any) => `${ns.name}__${t.name}`)));
    expect(chatTools(r.upstream).find((t: any) => t.name === `${ns.name}__spawn_agent`).parameters).toEqual(ns.tools.find((t: any) => t.name === 'spawn_agent').parameters);
    const call = doneItems(r.text).find((i) => i.type === 'function_call');
    expect(call).toMatchObject({ name: 'close_agent', namespace: ns.name, arguments: '{"target":"agent-1"}' });
    const added = sseData(r.text).find((e) => e.type === 'response.output_item.added' && e.item.type === 'function_call');
    expect(added.item).toMatchObject({ name: 'close_agent', namespace: ns.name });
    // sent back in the next request, the namespaced call reaches the upstream under the flat name
    const back = await sendFixture(s, fallback, 'anthropic', (b) => b.input.push({ ...call, id: undefined, status: undefined }, { type: 'function_call_output', call_id: call.call_id, output: 'closed' }));
    const uses = back.upstream.messages.flatMap((m: any) => (Array.isArray(m.content) ? m.content : [])).filter((c: any) => c.type === 'tool_use');
    expect(uses.at(-1)).toMatchObject({ name: `${ns.name}__close_agent`, input: { target: 'agent-1' } });
  });

  it('a non-streamed namespaced call comes back namespaced too', async () => {
    next = { tool_calls: [{ name: `${ns.name}__wait_agent`, arguments: {} }] };
    const r = await sendFixture(s, fallback, 'anthropic', (b) => (b.stream = false));
    expect(JSON.parse(r.text).output.find((o: any) => o.type === 'function_call')).toMatchObject({ name: 'wait_agent', namespace: ns.name });
  });

  it('a tool_search call comes back as a tool_search_call; its output loads the deferred tools it found', async () => {
    next = { tool_calls: [{ name: 'tool_search', arguments: { query: 'calendar', limit: 2 } }] };
    const r = await sendFixture(s, latest, 'openai-chat');
    const call = doneItems(r.text).find((i) => i.type === 'tool_search_call');
    expect(call).toMatchObject({ execution: 'client', arguments: { query: 'calendar', limit: 2 }, status: 'completed' });
    expect(call.call_id).toBeTruthy();
    // A deferred tool is not offered until a tool_search_output has loaded it.
    const deferred = { type: 'function', name: 'calendar_create', description: 'Create an event', defer_loading: true, parameters: { type: 'object', properties: { title: { type: 'string' } } } };
    next = { text: 'ok' };
    const before = await sendFixture(s, latest, 'openai-chat', (b) => b.tools.push(deferred));
    expect(chatTools(before.upstream).map((t: any) => t.name)).not.toContain('calendar_create');
    const loaded = { type: 'namespace', name: 'calendar', description: 'Calendar', tools: [{ ...deferred, name: 'create' }] };
    const after = await sendFixture(s, latest, 'openai-chat', (b) => {
      b.tools.push(deferred);
      b.input.push(call, { type: 'tool_search_output', call_id: call.call_id, execution: 'client', status: 'completed', tools: [deferred, loaded] });
    });
    expect(after.status).toBe(200);
    expect(chatTools(after.upstream).map((t: any) => t.name)).toEqual(expect.arrayContaining(['calendar_create', 'calendar__create']));
    const msgs = after.upstream.messages;
    const asked = msgs.find((m: any) => m.tool_calls?.some((c: any) => c.function.name === 'tool_search'));
    expect(JSON.parse(asked.tool_calls[0].function.arguments)).toEqual({ query: 'calendar', limit: 2 });
    expect(msgs.find((m: any) => m.role === 'tool' && m.tool_call_id === call.call_id).content).toBe('[tools loaded: calendar_create, calendar]');
  });

  it('a hosted tool other than web search is still refused, naming it', async () => {
    const r = await sendFixture(s, latest, 'openai-chat', (b) => b.tools.push({ type: 'code_interpreter', container: { type: 'auto' } }));
    expect(r.status).toBe(400);
    expect(r.text).toContain('tool of type \\"code_interpreter\\"');
  });
});

describe("Claude Code: ToolSearch's tool_reference blocks and deferred tools", () => {
  const f = loadFixture('claude-code-2.1.332-tool-search.json');
  const result = (body: any) => body.messages.flatMap((m: any) => (Array.isArray(m.content) ? m.content : [])).find((b: any) => b.type === 'tool_result' && Array.isArray(b.content) && b.content.some((c: any) => c.type === 'tool_reference'));
  const refs = result(f.body).content.map((c: any) => c.tool_name);
  const deferred = f.body.tools.filter((t: any) => t.defer_loading).map((t: any) => t.name);

  it('the fixture is what Claude Code sends: references to deferred tools, and a placeholder never referenced', () => {
    expect(refs.length).toBeGreaterThan(0);
    expect(deferred).toEqual(expect.arrayContaining([...refs, 'DeferredToolPlaceholder']));
  });
  it('pass through unchanged to an Anthropic upstream', async () => {
    const r = await sendFixture(s, f, 'anthropic');
    expect(r.upstream.tools).toEqual(f.body.tools);
    expect(result(r.upstream)).toEqual(result(f.body));
  });
  it('toward Chat: the result says which tools loaded, and only loaded deferred tools are offered', async () => {
    const r = await sendFixture(s, f, 'openai-chat');
    const names = chatTools(r.upstream).map((t: any) => t.name);
    expect(names).toEqual(expect.arrayContaining(refs));
    expect(names).not.toContain('DeferredToolPlaceholder');
    const id = result(f.body).tool_use_id;
    expect(r.upstream.messages.find((m: any) => m.role === 'tool' && m.tool_call_id === id).content).toBe(`[tools loaded: ${refs.join(', ')}]`);
  });
  it('toward Responses: the same, as a function_call_output', async () => {
    const r = await sendFixture(s, f, 'openai-responses');
    expect(r.upstream.tools.map((t: any) => t.name)).toEqual(expect.arrayContaining(refs));
    expect(r.upstream.tools.map((t: any) => t.name)).not.toContain('DeferredToolPlaceholder');
    expect(r.upstream.input.find((i: any) => i.type === 'function_call_output' && i.call_id === result(f.body).tool_use_id).output).toBe(`[tools loaded: ${refs.join(', ')}]`);
  });
  it('the first request (nothing loaded yet) offers no deferred tool', async () => {
    const r = await sendFixture(s, loadFixture('claude-code-2.1.332-system-message.json'), 'openai-chat');
    expect(chatTools(r.upstream).map((t: any) => t.name)).not.toContain('DeferredToolPlaceholder');
  });
});
