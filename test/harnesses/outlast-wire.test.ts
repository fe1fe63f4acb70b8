// The incrementally built request body (cached per-message JSON, the conversation's bytes appended
// to) equals what the gateway's codec builds for the whole request, in all three protocols, at every
// length of a growing conversation and after a change that is not an extension (a compaction).
import { describe, expect, it } from 'vitest';
import type { IRMessage } from '../../src/gateway/ir.js';
import { CODECS } from '../../src/gateway/protocols/index.js';
import { BUILTIN_TOOLS } from '../../src/harnesses/outlast/tools.js';
import { WireBuilder } from '../../src/harnesses/outlast/wire.js';
import { PROTOCOLS } from './helpers.js';

const text = (pieces: Buffer[]) => Buffer.concat(pieces).toString();

const conversation: IRMessage[] = [
  { role: 'system', text: 'You are an agent.' },
  { role: 'user', content: [{ type: 'text', text: 'Do the task.\n\nBudget: 10 turns.' }] },
  {
    role: 'assistant',
    content: [
      { type: 'reasoning', text: 'I should look.', signature: 'sig-1' },
      { type: 'text', text: 'Looking.' },
      { type: 'tool_call', id: 'c1', name: 'bash', arguments: '{"command":"ls"}' },
      { type: 'tool_call', id: 'c2', name: 'read_file', arguments: '{"path":"a.txt"}' },
    ],
  },
  { role: 'tool', tool_call_id: 'c1', content: 'a.txt\n[exit code 0]' },
  { role: 'tool', tool_call_id: 'c2', content: 'error: no such file', is_error: true },
  { role: 'assistant', content: [{ type: 'text', text: 'Hmm.' }] },
  { role: 'user', content: [{ type: 'text', text: 'No tool was called.\n[left: turns 8/10]' }] },
  { role: 'user', content: [{ type: 'text', text: 'Summary: ...' }] },
  { role: 'assistant', content: [] },
  { role: 'assistant', content: [{ type: 'tool_call', id: 'c3', name: 'submit', arguments: '{}' }] },
  { role: 'tool', tool_call_id: 'c3', content: 'submitted' },
];

describe.each(PROTOCOLS)('%s', (p) => {
  it('cached pieces give the codec body of the whole request', () => {
    const wire = new WireBuilder(p);
    const opts = { tools: BUILTIN_TOOLS, max_tokens: 512, temperature: 0.2 };
    const expected: Record<string, any> = { model: 'm', ...CODECS[p].buildRequest({ model: 'm', messages: conversation, stream: true, ...opts }, p) };
    if (p === 'anthropic') {
      expected.system = [{ type: 'text', text: expected.system, cache_control: { type: 'ephemeral' } }];
      expected.tools.at(-1).cache_control = { type: 'ephemeral' };
      expected.messages.at(-1).content.at(-1).cache_control = { type: 'ephemeral' };
    }
    for (let n = 1; n <= conversation.length; n++) {
      // growing conversation, same WireBuilder: later requests append to the earlier bytes
      const msgs = conversation.slice(0, n);
      const body = text(wire.body('m', opts, msgs));
      expect(body).toBe(text(new WireBuilder(p).body('m', opts, msgs)));
      if (n === conversation.length) expect(JSON.parse(body)).toEqual(expected);
    }
    // and again, fully from the cache
    expect(JSON.parse(text(wire.body('m', opts, conversation)))).toEqual(expected);
    // a compaction: the head, a summary, the last turns (not an extension of what was sent)
    const compacted = [conversation[0]!, conversation[1]!, { role: 'user', content: [{ type: 'text', text: 'Summary.' }] } as IRMessage, ...conversation.slice(-2)];
    expect(text(wire.body('m', opts, compacted))).toBe(text(new WireBuilder(p).body('m', opts, compacted)));
    const more = [...compacted, { role: 'assistant', content: [{ type: 'text', text: 'Next.' }] } as IRMessage];
    expect(text(wire.body('m', opts, more))).toBe(text(new WireBuilder(p).body('m', opts, more)));
    // other settings: a new envelope
    expect(JSON.parse(text(wire.body('m2', { ...opts, max_tokens: 7 }, more)))).toMatchObject({ model: 'm2' });
  });
});
