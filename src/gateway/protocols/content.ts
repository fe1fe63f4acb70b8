// How message content crosses protocols where the target has no form for it: the separator that
// joins text parts a target takes only as one string, the marker that carries a tool result's error
// flag to protocols without one, the note that introduces a tool result's images when they must
// travel in a user message (Chat tool messages take text only), and the note for loaded tools. docs/gateway.md, "Translation", states
// each of these; the codecs use only what is here, so the rules hold in every direction.
import type { IRMessage, IRPart } from '../ir.js';

/** Joins separate text parts (blocks) where the target takes one string. */
export const TEXT_SEPARATOR = '\n';

/** Starts the text of a failed tool's result toward Chat and Responses, which have no error field. */
export const TOOL_ERROR_MARKER = '[tool error]';

/** Text before the images of a tool result that go to a Chat upstream in a user message. */
export function toolImagesNote(callId: string): string {
  return `[images from the result of tool call ${callId}]`;
}

/**
 * The text a tool result that loaded deferred tools becomes where the target has no form for it
 * (Anthropic `tool_reference` blocks, Responses `tool_search_output` items): the tools themselves
 * join the request's tool list.
 */
export function toolsLoadedNote(names: string[]): string {
  return names.length ? `[tools loaded: ${names.join(', ')}]` : '[no tools found]';
}

/** The text parts of `parts`, joined with the separator. */
export function joinText(parts: IRPart[]): string {
  let s = '';
  let first = true;
  for (const p of parts) {
    if (p.type !== 'text') continue;
    s += first ? p.text : TEXT_SEPARATOR + p.text;
    first = false;
  }
  return s;
}

/** A system message from its text blocks (none when all are empty). */
export function systemMessage(blocks: string[]): IRMessage[] {
  const b = blocks.filter((t) => t !== '');
  if (!b.length) return [];
  return [{ role: 'system', text: b.join(TEXT_SEPARATOR), ...(b.length > 1 ? { blocks: b } : {}) }];
}

/** A tool message from its parts; the error marker, if the text starts with it, becomes `is_error`. */
export function toolMessage(callId: string, parts: IRPart[], isError: boolean): IRMessage {
  const first = parts[0];
  if (first?.type === 'text' && first.text.startsWith(TOOL_ERROR_MARKER)) {
    const rest = first.text.slice(TOOL_ERROR_MARKER.length).replace(/^[ \n]/, '');
    parts = rest ? [{ type: 'text', text: rest }, ...parts.slice(1)] : parts.slice(1);
    isError = true;
  }
  const rich = parts.length > 1 || parts.some((p) => p.type !== 'text');
  return { role: 'tool', tool_call_id: callId, content: joinText(parts), ...(isError ? { is_error: true } : {}), ...(rich ? { parts } : {}) };
}

type ToolMessage = Extract<IRMessage, { role: 'tool' }>;

/** The parts of a tool result (its `content` as one text part when it has no `parts`). */
export function toolParts(m: ToolMessage): IRPart[] {
  return m.parts ?? (m.content ? [{ type: 'text', text: m.content }] : []);
}

/** A tool result's text for a protocol without an error field: the marker first when it failed. */
export function markedText(m: ToolMessage): string {
  const text = joinText(toolParts(m));
  if (!m.is_error) return text;
  return text ? `${TOOL_ERROR_MARKER} ${text}` : TOOL_ERROR_MARKER;
}

/** A tool result's parts for a protocol without an error field: the marker in the first text part. */
export function markedParts(m: ToolMessage): IRPart[] {
  const parts = toolParts(m);
  if (!m.is_error) return parts;
  const first = parts[0];
  if (first?.type === 'text') return [{ type: 'text', text: `${TOOL_ERROR_MARKER} ${first.text}` }, ...parts.slice(1)];
  return [{ type: 'text', text: TOOL_ERROR_MARKER }, ...parts];
}

export function hasImage(parts: IRPart[]): boolean {
  return parts.some((p) => p.type === 'image');
}
