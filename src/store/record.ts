// The schema of experiment.json (ExperimentRecord in store.ts), for reading it back from disk.
// Unknown fields are kept (a newer outlast may add some); ids must be usable as directory names.
import { z } from 'zod';
import { parseWith } from '../core/validate.js';
import { UserError } from '../core/errors.js';
import type { ExperimentRecord } from './store.js';

const dirName = z
  .string()
  .min(1)
  .refine((s) => !/[/\\\0]/.test(s) && s !== '.' && s !== '..', 'must be usable as a directory name');

export const experimentRecordSchema = z.looseObject({
  id: dirName,
  created_at: z.string().min(1),
  argv: z.array(z.string()),
  outlast_version: z.string(),
  tasks: z.array(z.looseObject({ name: z.string(), family: z.string(), dir: z.string(), hash: z.string() })),
  harnesses: z.array(z.string()),
  models: z.array(z.string()),
  repeats: z.number().int().nonnegative(),
  concurrency: z.number().int().positive(),
  sandbox: z.enum(['bwrap', 'none']),
  rollouts: z.array(
    z.looseObject({
      rollout_id: dirName,
      task: z.string(),
      harness: z.string(),
      model: z.string().nullable(),
      repeat: z.number().int().nonnegative(),
    }),
  ),
});

/** Parse the text of an experiment.json; throws a one-line UserError naming `file`. */
export function parseExperimentRecord(text: string, file: string): ExperimentRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const checked: ExperimentRecord = parseWith(experimentRecordSchema, value, file);
  void checked;
  // Return the value as written (zod's output may reorder keys), now known to have the right shape.
  return value as ExperimentRecord;
}
