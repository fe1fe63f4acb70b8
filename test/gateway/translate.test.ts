// Unit tests of the pure translation modules (IR converters) and the retry helpers.
import { describe, expect, it } from 'vitest';
import { CODECS } from '../../src/gateway/protocols/index.js';
import { GatewayError, type IRStreamEvent } from '../../src/gateway/ir.js';
import { backoffMs, retryAfterMs } from '../../src/gateway/upstream.js';
import { CallMeter } from '../../src/gateway/meter.js';
import { RolloutState, spentFrom } from '../../src/gateway/rollouts.js';

const chat = CODECS['openai-chat'];
const resp = CODECS['openai-responses'];
const anth = CODECS.anthropic;

describe('request translation', () => {
  const chatReq = {
    model: 'm',
    messages: [
      { role: 'system', content: 'sys' },
      { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] },
      { role: 'assistant', content: null, reasoning_content: 'hmm', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }, { id: 'c2', type: 'function', function: { name: 'g', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: 'r1' },
      { role: 'tool', tool_call_id: 'c2', content: 'r2' },
      { role: 'user', content: 'next' },
    ],
    tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
    tool_choice: 'required',
    parallel_tool_calls: false,
    max_tokens: 3000,
    reasoning_effort: 'low',
    stop: 'END',
    stream: true,
  };

  it('chat → anthropic: system hoisted, parallel results in one user turn, images, tool choice', () => {
    const ir = chat.parseRequest(chatReq, { target: 'anthropic' });
    const b = anth.buildRequest(ir, 'openai-chat') as any;
    expect(b.system).toBe('sys');
    expect(b.messages.map((m: any) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(b.messages[0].content[1]).toEqual({ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } });
    // Unsigned reasoning cannot go to Anthropic: dropped; tool calls become tool_use with parsed input.
    expect(b.messages[1].content).toEqual([
      { type: 'tool_use', id: 'c1', name: 'f', input: { a: 1 } },
      { type: 'tool_use', id: 'c2', name: 'g', input: {} },
    ]);
    expect(b.messages[2].content).toEqual([
      { type: 'tool_result', tool_use_id: 'c1', content: 'r1' },
      { type: 'tool_result', tool_use_id: 'c2', content: 'r2' },
      { type: 'text', text: 'next' },
    ]);
    expect(b.tool_choice).toEqual({ type: 'any', disable_parallel_tool_use: true });
    expect(b.thinking).toBeUndefined(); // forced tool choice (required) wins over thinking
    expect(b.stop_sequences).toEqual(['END']);
    expect(b.max_tokens).toBe(3000);
  });

  it('chat → anthropic: thinking drops temperature; a forced tool choice drops thinking', () => {
    const base = { model: 'm', messages: [{ role: 'user', content: 'q' }], reasoning_effort: 'high', temperature: 0.2, max_tokens: 30000, tools: [{ type: 'function', function: { name: 'f' } }] };
    const a = anth.buildRequest(chat.parseRequest(base, { target: 'anthropic' }), 'openai-chat') as any;
    expect(a.thinking).toEqual({ type: 'enabled', budget_tokens: 24576 });
    expect(a.temperature).toBeUndefined();
    const b = anth.buildRequest(chat.parseRequest({ ...base, tool_choice: 'required' }, { target: 'anthropic' }), 'openai-chat') as any;
    expect(b.thinking).toBeUndefined();
    expect(b.temperature).toBe(0.2);
    expect(b.tool_choice).toEqual({ type: 'any' });
  });

  it('chat → responses: instructions, function_call items, outputs', () => {
    const b = resp.buildRequest(chat.parseRequest(chatReq, { target: 'openai-responses' }), 'openai-chat') as any;
    expect(b.instructions).toBe('sys');
    expect(b.input.map((i: any) => i.type)).toEqual(['message', 'function_call', 'function_call', 'function_call_output', 'function_call_output', 'message']);
    expect(b.tool_choice).toBe('required');
    expect(b.max_output_tokens).toBe(3000);
    expect(b.reasoning).toEqual({ effort: 'low' });
  });

  it('anthropic → chat: tool_result blocks become tool messages (is_error as the marker); signed thinking becomes reasoning_content', () => {
    const ir = anth.parseRequest(
      {
        model: 'm',
        max_tokens: 100,
        system: [{ type: 'text', text: 'sys' }],
        messages: [
          { role: 'user', content: 'q' },
          { role: 'assistant', content: [{ type: 'thinking', thinking: 't', signature: 'sig' }, { type: 'tool_use', id: 'tu1', name: 'f', input: { x: 1 } }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'tu1', content: [{ type: 'text', text: 'out' }], is_error: true }] },
        ],
        tool_choice: { type: 'tool', name: 'f' },
        tools: [{ name: 'f', input_schema: { type: 'object' } }],
      },
      { target: 'openai-chat' },
    );
    const b = chat.buildRequest(ir, 'anthropic') as any;
    expect(b.messages).toEqual([
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'q' },
      { role: 'assistant', content: null, reasoning_content: 't', tool_calls: [{ id: 'tu1', type: 'function', function: { name: 'f', arguments: '{"x":1}' } }] },
      // is_error has no Chat field: it travels as the marker (src/gateway/protocols/content.ts).
      { role: 'tool', tool_call_id: 'tu1', content: '[tool error] out' },
    ]);
    expect(b.tool_choice).toEqual({ type: 'function', function: { name: 'f' } });
  });

  it('untranslatable features fail with a 400 naming them; the same features pass through to their own protocol', () => {
    const cases: [typeof chat, unknown, RegExp][] = [
      [chat, { model: 'm', messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: {} }] }] }, /content part of type "input_audio"/],
      [chat, { model: 'm', messages: [{ role: 'user', content: 'x' }], response_format: { type: 'json_schema' } }, /response_format/],
      [resp, { model: 'm', input: [{ type: 'web_search_call', id: 'x' }] }, /input item of type "web_search_call"/],
      [resp, { model: 'm', input: 'x', tools: [{ type: 'file_search' }] }, /tool of type "file_search"/],
      [anth, { model: 'm', max_tokens: 5, messages: [{ role: 'user', content: [{ type: 'document', source: {} }] }] }, /content block of type "document"/],
    ];
    for (const [codec, body, re] of cases) {
      const target = codec.protocol === 'anthropic' ? 'openai-chat' : 'anthropic';
      let e: unknown;
      try {
        codec.parseRequest(body, { target });
      } catch (x) {
        e = x;
      }
      expect(e).toBeInstanceOf(GatewayError);
      expect((e as GatewayError).status).toBe(400);
      expect((e as Error).message).toMatch(re);
      expect(() => codec.parseRequest(body, { target: codec.protocol })).not.toThrow();
    }
  });
});

describe('stream translation', () => {
  const evs: IRStreamEvent[] = [
    { type: 'start', id: 'x', model: 'up' },
    { type: 'reasoning', text: 'th' },
    { type: 'reasoning_signature', signature: 'SIG' },
    { type: 'text', text: 'Hi' },
    { type: 'tool_call_start', index: 0, id: 'c1', name: 'f' },
    { type: 'tool_call_args', index: 0, arguments: '{"a":' },
    { type: 'tool_call_args', index: 0, arguments: '1}' },
    { type: 'tool_call_start', index: 1, id: 'c2', name: 'g' },
    { type: 'finish', reason: 'tool_calls' },
    { type: 'usage', usage: { input: 10, cached: 4, output: 7 } },
  ];
  const req = { model: 'client-name', messages: [], tools: [], stream: true, include_usage: true };

  for (const codec of [chat, resp, anth]) {
    it(`${codec.protocol}: encode then decode gives back the same events`, () => {
      const enc = codec.createEncoder(req);
      let sseText = evs.map((e) => enc.push(e)).join('') + enc.end();
      const dec = codec.createDecoder();
      const back: IRStreamEvent[] = [];
      for (const block of sseText.split('\n\n').filter(Boolean)) {
        const ev = /^event: (.*)$/m.exec(block)?.[1];
        const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
        back.push(...dec.push(ev, data));
      }
      expect(dec.done || codec.protocol === 'openai-chat').toBe(true);
      const kinds = back.filter((e) => e.type !== 'usage' && e.type !== 'start');
      const sig = codec.protocol === 'anthropic' ? [{ type: 'reasoning_signature', signature: 'SIG' }] : [];
      expect(kinds.filter((e) => !(e.type === 'text' && e.text === ''))).toEqual([
        { type: 'reasoning', text: 'th' },
        ...sig,
        { type: 'text', text: 'Hi' },
        { type: 'tool_call_start', index: 0, id: 'c1', name: 'f' },
        { type: 'tool_call_args', index: 0, arguments: '{"a":' },
        { type: 'tool_call_args', index: 0, arguments: '1}' },
        { type: 'tool_call_start', index: 1, id: 'c2', name: 'g' },
        { type: 'finish', reason: 'tool_calls' },
      ].filter((e) => codec.protocol !== 'openai-responses' || e.type !== 'finish').concat(codec.protocol === 'openai-responses' ? [{ type: 'finish', reason: 'tool_calls' }] : []) as IRStreamEvent[]);
      const usage = back.filter((e) => e.type === 'usage').pop() as any;
      expect(usage.usage).toMatchObject({ input: 10, cached: 4, output: 7 });
      sseText = '';
    });
  }
});

describe('chat stream quirks', () => {
  it('tool-call deltas without `index`: a new id starts a call, the rest continue it', () => {
    const d = chat.createDecoder();
    const ch = (tc: object) => JSON.stringify({ id: 'x', choices: [{ index: 0, delta: { tool_calls: [tc] } }] });
    const evs = [
      ...d.push(undefined, ch({ id: 'a', function: { name: 'f', arguments: '{"x"' } })),
      ...d.push(undefined, ch({ function: { arguments: ':1}' } })),
      ...d.push(undefined, ch({ id: 'b', function: { name: 'g', arguments: '{}' } })),
    ].filter((e) => e.type !== 'start');
    expect(evs).toEqual([
      { type: 'tool_call_start', index: 0, id: 'a', name: 'f' },
      { type: 'tool_call_args', index: 0, arguments: '{"x"' },
      { type: 'tool_call_args', index: 0, arguments: ':1}' },
      { type: 'tool_call_start', index: 1, id: 'b', name: 'g' },
      { type: 'tool_call_args', index: 1, arguments: '{}' },
    ]);
  });
});

describe('helpers', () => {
  it('Retry-After: seconds, HTTP date, retry-after-ms', () => {
    expect(retryAfterMs({ 'retry-after': '2' })).toBe(2000);
    expect(retryAfterMs({ 'retry-after': '0.25' })).toBe(250);
    expect(retryAfterMs({ 'retry-after-ms': '40', 'retry-after': '9' })).toBe(40);
    expect(retryAfterMs({ 'retry-after': new Date(10_000 + 3000).toUTCString() }, 10_000)).toBeGreaterThanOrEqual(2000);
    expect(retryAfterMs({})).toBeNull();
    expect(retryAfterMs({ 'retry-after': 'soon' })).toBeNull();
  });
  it('backoff doubles, is capped, and jitters within 50–100%', () => {
    const p = { backoff_base_ms: 100, backoff_max_ms: 1000 };
    expect(backoffMs(0, p, () => 0)).toBe(50);
    expect(backoffMs(0, p, () => 0.999999)).toBeCloseTo(100, 2);
    expect(backoffMs(3, p, () => 0)).toBe(400);
    expect(backoffMs(10, p, () => 0)).toBe(500);
  });
  it('meter: TTFT from the request, tokens/s over first→last token', () => {
    const m = new CallMeter(0);
    m.observe({ type: 'start', id: 'x', model: 'm' }, 5);
    m.observe({ type: 'text', text: 'a' }, 100);
    m.observe({ type: 'text', text: 'b' }, 600);
    m.observe({ type: 'usage', usage: { input: 3, output: 50 } }, 601);
    const r = m.result({ input: 1, cached_input: 0.1, cache_write: 1, output: 2 }, 700);
    expect(r).toMatchObject({ ttft_ms: 100, duration_ms: 700, output_tps: 100, usage_estimated: false });
    expect(r.cost_usd).toBeCloseTo((3 * 1 + 50 * 2) / 1e6, 12);
  });
  it('budget state from trajectory events; infra failures do not count as calls', () => {
    const base = { t: '', call_id: 'c', protocol: 'anthropic' as const, model: 'm', ttft_ms: null, duration_ms: 1, output_tps: null, price_table: 'x', retries: 0, retry_wait_ms: 0, usage_estimated: false };
    const u = { input: 10, cached: 0, cache_write: 0, output: 5, reasoning: 0 };
    const s = spentFrom([
      { ...base, seq: 0, type: 'model.response', status: 200, usage: u, cost_usd: 0.5 },
      { ...base, seq: 1, type: 'model.response', status: 502, usage: u, cost_usd: 0.25, error: { message: 'cut', infra: true } },
    ]);
    expect(s).toEqual({ tokens: 30, cost_usd: 0.75, calls: 1 });
  });
  it('signature cache restores signed thinking by text or by tool-call id', () => {
    const r = new RolloutState('r', 't', { existing: [], append: () => ({}) } as any, {});
    r.rememberReasoning([{ type: 'reasoning', text: 'abc', signature: 'S' }, { type: 'tool_call', id: 'c9', name: 'f', arguments: '{}' }]);
    const byText = [{ role: 'assistant' as const, content: [{ type: 'reasoning' as const, text: 'abc' }, { type: 'text' as const, text: 'x' }] }];
    r.restoreReasoning(byText);
    expect(byText[0]!.content[0]).toEqual({ type: 'reasoning', text: 'abc', signature: 'S' });
    const byId = [{ role: 'assistant' as const, content: [{ type: 'tool_call' as const, id: 'c9', name: 'f', arguments: '{}' }] }];
    r.restoreReasoning(byId as any);
    expect(byId[0]!.content[0]).toEqual({ type: 'reasoning', text: 'abc', signature: 'S' });
  });
});
