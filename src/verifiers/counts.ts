// Test counts ("N passed, N failed") from a verifier command's output. The output may carry what the
// agent's code printed: tests that run it with agent-run relay its output, and the broker records
// every count phrase that output held. A line whose count phrase the agent's code printed is not
// the grading code's own and is skipped, so a fake "12 passed, 0 failed" from agent code run through
// the helper never becomes the score. (Agent code imported into the grading process writes to the
// verifier's output directly: that is the residual risk docs/security.md states.)

export interface ParsedCounts {
  passed: number;
  failed: number;
}

/** A count phrase: "3 passed", "1 failed", "3 passed, 1 failed", "1 failed, 3 passed". */
const PHRASE = /\b(\d+) (passed|failed)(?:, (\d+) (passed|failed))?\b/;
const PHRASES = new RegExp(PHRASE.source, 'g');

function countsOf(m: RegExpMatchArray): ParsedCounts {
  const c: ParsedCounts = { passed: 0, failed: 0 };
  c[m[2] as 'passed' | 'failed'] = Number(m[1]);
  if (m[3] !== undefined) c[m[4] as 'passed' | 'failed'] = Number(m[3]);
  return c;
}

/** Every count phrase in `text`, as written (for the set of phrases the agent's code printed). */
export function countPhrases(text: string): string[] {
  return [...text.matchAll(PHRASES)].map((m) => m[0]);
}

/**
 * The counts of the last line of `output` that reports them (its first count phrase), skipping
 * lines whose phrase is in `agentPhrases`; null when no line qualifies.
 */
export function parseTestCounts(output: string, agentPhrases: ReadonlySet<string> = new Set()): ParsedCounts | null {
  const lines = output.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = PHRASE.exec(lines[i]!);
    if (!m || agentPhrases.has(m[0])) continue;
    return countsOf(m);
  }
  return null;
}
