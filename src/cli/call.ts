// `outlast call <call-id> [experiment]`: one model call as the gateway recorded it: its request and
// response events, and, when the run kept bodies (`[gateway] record_bodies = true`), exactly what the
// harness sent and received.
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { UserError } from '../core/errors.js';
import type { ModelRequestEvent, ModelResponseEvent } from '../core/events.js';
import { readRecordedBody } from '../gateway/bodies.js';
import { readTrajectory } from '../store/trajectory.js';
import { layoutFor, resolveExperiment, withStore, type HomeOptions } from './common.js';

interface Found {
  rolloutDir: string;
  request?: ModelRequestEvent;
  response?: ModelResponseEvent;
}

/** The call's events, searched in every rollout of the experiment (a cheap text test before parsing). */
export function findCall(experimentDir: string, callId: string): Found | null {
  const rollouts = path.join(experimentDir, 'rollouts');
  if (!fs.existsSync(rollouts)) return null;
  for (const r of fs.readdirSync(rollouts)) {
    const file = path.join(rollouts, r, 'trajectory.jsonl');
    if (!fs.existsSync(file) || !fs.readFileSync(file, 'utf8').includes(`"${callId}"`)) continue;
    const found: Found = { rolloutDir: path.join(rollouts, r) };
    for (const e of readTrajectory(file).events) {
      if (e.type === 'model.request' && e.call_id === callId) found.request = e;
      if (e.type === 'model.response' && e.call_id === callId) found.response = e;
    }
    if (found.request || found.response) return found;
  }
  return null;
}

function bodyOf(found: Found, ref: string | undefined, what: string): string {
  if (!ref) throw new UserError(`call has no recorded ${what} body (run with [gateway] record_bodies = true in models.toml to keep them)`);
  const b = readRecordedBody(path.join(found.rolloutDir, 'bodies'), ref);
  return b.kind === 'request' ? JSON.stringify(b.body, null, 2) : b.text;
}

export function register(program: Command): void {
  program
    .command('call')
    .description('show one model call: its request and response events, and its recorded bodies (--request, --response)')
    .argument('<call-id>', 'the call id (x-outlast-call-id, the call_id of its events)')
    .argument('[experiment]', 'experiment id (default: the latest)')
    .option('--request', 'print the request body the harness sent')
    .option('--response', 'print the response body the harness received')
    .action(async (callId: string, id: string | undefined, opts: HomeOptions & { request?: boolean; response?: boolean }) => {
      const layout = layoutFor(program.opts());
      const exp = await withStore(layout, (store) => resolveExperiment(store, id));
      const found = findCall(layout.experimentDir(exp.id), callId);
      if (!found) throw new UserError(`no call "${callId}" in experiment ${exp.id}`);
      if (opts.request) return void process.stdout.write(bodyOf(found, found.request?.body, 'request') + '\n');
      if (opts.response) return void process.stdout.write(bodyOf(found, found.response?.body, 'response') + '\n');
      process.stdout.write(JSON.stringify({ rollout: path.basename(found.rolloutDir), request: found.request ?? null, response: found.response ?? null }, null, 2) + '\n');
    });
}
