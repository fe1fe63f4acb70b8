// The three protocol codecs, by protocol name.
import type { Protocol } from '../../core/types.js';
import { anthropic } from './anthropic.js';
import type { Codec } from './codec.js';
import { openaiChat } from './openai-chat.js';
import { openaiResponses } from './openai-responses.js';

export const CODECS: Record<Protocol, Codec> = {
  'openai-chat': openaiChat,
  'openai-responses': openaiResponses,
  anthropic,
};

export type { Codec, StreamDecoder, StreamEncoder } from './codec.js';
