// The `outlast` harness: the built-in long-horizon agent loop. See docs/harness.md.
import type { Harness, HarnessContext, HarnessResult } from '../harness.js';
import { runLoop } from './loop.js';
import { type OutlastSettings, resolveSettings } from './settings.js';

export { type OutlastSettings, DEFAULT_SETTINGS, NUDGE, SUMMARY_MARKER, SUMMARY_PROMPT, SUMMARY_HEADER, SYSTEM_PROMPT } from './settings.js';
export { BUILTIN_TOOLS, toolDefinitions } from './tools.js';
export { ConversationState } from './state.js';

export class OutlastHarness implements Harness {
  readonly name = 'outlast';
  readonly version = '0.1.0';
  readonly resumable = true;
  readonly needsModel = true;
  readonly settings: Record<string, unknown>;
  private readonly s: OutlastSettings;

  constructor(settings: Partial<OutlastSettings> = {}) {
    this.s = resolveSettings(settings);
    this.settings = { ...this.s };
  }

  /** Runs (or, with a log that already holds events, continues) the loop. The result also carries `cache_hit_ratio`. */
  run(ctx: HarnessContext): Promise<HarnessResult & { cache_hit_ratio: number | null }> {
    return runLoop(ctx, this.s);
  }
}
