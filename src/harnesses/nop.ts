// The `nop` harness does nothing. A task that nop passes is broken: its verifier passes by default.
import type { Harness, HarnessContext, HarnessResult } from './harness.js';

export class NopHarness implements Harness {
  readonly name = 'nop';
  readonly version = '1.0.0';
  readonly settings = {};
  async run(_ctx: HarnessContext): Promise<HarnessResult> {
    return { outcome: 'completed', reason: 'nop does nothing', tool_calls: 0, turns: 0 };
  }
}
