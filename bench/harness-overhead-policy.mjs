// The scripted model's policy for bench/harness-overhead.ts: OUTLAST_BENCH_STEPS (default 50) shell
// tool calls, one per turn, whatever the harness calls its shell tool (found by name and filled in from
// its schema, as test/harnesses/fixtures/cli-policy.mjs does), then the end: `submit` where the harness
// offers it (the built-in harness), else a text answer without a tool call (a CLI's normal end).
// Requests without a shell tool (a CLI's side calls: titles, summaries) get a short text. Each command
// appends a line to steps.log and times itself with bash's clock (no process of its own), so the bench
// can subtract the tool's own run time from the step: `START END` seconds in .bench-tool-times.
import { findShell, shellArguments } from '../test/harnesses/fixtures/cli-policy.mjs';

const STEPS = Number(process.env.OUTLAST_BENCH_STEPS ?? 50);
const NOW = '${EPOCHREALTIME:-$(date +%s.%N)}';

export function stepCommand(k) {
  return `t0=${NOW}; echo "step ${k}" >> steps.log; echo "$t0 ${NOW}" >> .bench-tool-times`;
}

export default function overheadPolicy({ tools, messages }) {
  const shell = findShell(tools);
  if (!shell) return { text: 'outlast' };
  let k = 0;
  for (const m of messages) if (m.role === 'assistant') for (const c of m.tool_calls ?? []) if (c.name === shell.name) k++;
  if (k < STEPS) return { text: `Step ${k + 1}.`, tool_calls: [{ name: shell.name, arguments: shellArguments(shell, stepCommand(k + 1)) }] };
  return tools.some((t) => t.name === 'submit') ? { text: 'Done.', tool_calls: [{ name: 'submit', arguments: {} }] } : { text: 'done' };
}
