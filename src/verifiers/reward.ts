// Harbor-style reward files, read from the verifier's private log directory on the host. The grading
// code wrote them, but that code may be the agent's (tests that import the agent's module run it as
// the verifier), so a reward file is read like any agent-made file: no-follow, non-blocking, regular
// files only, size-capped (readAgentFile). A reward must be a finite decimal number inside the task's
// reward_range; anything else is an error with its reason, which the command verifier scores as 0.
import path from 'node:path';
import { readAgentFile } from '../sandbox/agent-file.js';

/** The most bytes a reward file may hold. */
export const MAX_REWARD_BYTES = 64 * 1024;

export const REWARD_FILES = ['reward.txt', 'reward.json'] as const;
export type RewardFile = (typeof REWARD_FILES)[number];

export type Reward = { value: number; file: RewardFile } | { error: string; file: RewardFile };

/** A plain decimal number: what reward.txt may hold (no hex, no Infinity, no NaN, no empty string). */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A short, printable excerpt of what a file held, for a reason. */
function excerpt(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}...` : s);
}

/** The number a reward.txt holds, or why it holds none. */
export function parseRewardText(raw: string): { value: number } | { error: string } {
  const t = raw.trim();
  if (!DECIMAL.test(t)) return { error: `reward.txt holds ${excerpt(t)}, not a number` };
  const v = Number(t);
  if (!Number.isFinite(v)) return { error: `reward.txt holds ${excerpt(t)}, not a finite number` };
  return { value: v };
}

/** The number a reward.json holds ({"reward": x}, a bare number, or an object with exactly one number), or why it holds none. */
export function parseRewardJson(raw: string): { value: number } | { error: string } {
  let obj: unknown;
  try {
    obj = JSON.parse(raw);
  } catch {
    return { error: 'reward.json is not valid JSON' };
  }
  const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
  if (typeof obj === 'number') return finite(obj) ? { value: obj } : { error: 'reward.json holds a number that is not finite' };
  if (obj && typeof obj === 'object' && !Array.isArray(obj)) {
    const o = obj as Record<string, unknown>;
    if ('reward' in o) {
      if (finite(o.reward)) return { value: o.reward };
      return { error: `reward.json's "reward" is ${typeof o.reward === 'number' ? 'not a finite number' : `a ${o.reward === null ? 'null' : typeof o.reward}, not a number`}` };
    }
    const nums = Object.values(o).filter((x) => typeof x === 'number');
    if (nums.length === 1 && finite(nums[0])) return { value: nums[0] };
  }
  return { error: 'reward.json has no "reward" number' };
}

/**
 * Read the reward file of `logsDir` (reward.txt first, then reward.json), or null when neither
 * exists. A file that is a link, a FIFO, a directory, too big or not UTF-8 text is an error.
 */
export async function readReward(logsDir: string): Promise<Reward | null> {
  for (const file of REWARD_FILES) {
    const r = await readAgentFile(path.join(logsDir, file), MAX_REWARD_BYTES);
    if (!r.ok) {
      if (r.missing) continue;
      return { error: `${file} ${r.reason}`, file };
    }
    const text = new TextDecoder('utf-8', { fatal: false }).decode(r.data);
    const parsed = file === 'reward.txt' ? parseRewardText(text) : parseRewardJson(text);
    return 'error' in parsed ? { error: parsed.error, file } : { value: parsed.value, file };
  }
  return null;
}

/** Why `value` is not an acceptable reward for `range`, or null when it is. */
export function outOfRange(value: number, [lo, hi]: readonly [number, number]): string | null {
  if (value >= lo && value <= hi) return null;
  return `reward ${value} is outside the task's reward_range [${lo}, ${hi}]`;
}
