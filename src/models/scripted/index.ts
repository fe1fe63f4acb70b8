// The scripted model server: the test double for every model endpoint. See docs/scripted-model.md.
export type {
  Fault,
  NormalizedMessage,
  NormalizedTool,
  NormalizedToolCall,
  Policy,
  PolicyRequest,
  RecordedRequest,
  ScriptedModel,
  ScriptedModelOptions,
  ScriptedToolCall,
  ScriptedTurn,
} from './types.js';
export { startScriptedModel, EXHAUSTED_TEXT } from './server.js';
export { startScriptedModelThread, type ScriptedModelThread } from './thread.js';
export { loadScript, parseScriptText, parseTurn } from './script.js';
export { countTokens, inputTokens, promptText } from './tokens.js';
export { thinkingSignature } from './anthropic.js';
export { cliEditPolicy, BUILTIN_POLICIES, type CliEditSpec } from './cli-edit.js';
