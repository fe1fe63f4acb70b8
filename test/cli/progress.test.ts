// The live display of an experiment says when a rollout is waiting out a provider outage: on a
// terminal its line reads "waiting for the provider since HH:MM:SS (...)" until the outage ends;
// without one (CI, pipes) one plain line at each outage's start and end.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { TrajectoryEvent } from '../../src/core/events.js';
import { Progress } from '../../src/cli/progress.js';

function stream(tty: boolean): { s: NodeJS.WriteStream; text: () => string } {
  const p = new PassThrough();
  let out = '';
  p.on('data', (d: Buffer) => (out += d.toString()));
  Object.assign(p, { isTTY: tty, columns: 200, rows: 40 });
  return { s: p as unknown as NodeJS.WriteStream, text: () => out };
}

const since = new Date(Date.now() - 65_000);
const hhmmss = since.toTimeString().slice(0, 8);
const wait = (attempt: number): TrajectoryEvent => ({ t: new Date().toISOString(), seq: 10 + attempt, type: 'outage.wait', since: since.toISOString(), attempt, next_in_ms: 30_000, reason: 'model call failed (HTTP 503): down', patience_left_ms: 1000 });
const end: TrajectoryEvent = { t: new Date().toISOString(), seq: 20, type: 'outage.end', since: since.toISOString(), waited_ms: 65_000, attempts: 3, recovered: true };
const tick = () => new Promise((r) => setTimeout(r, 300));

describe('progress during a provider outage', () => {
  it('on a terminal: the rollout line says since when it waits, and stops saying it once the provider is back', async () => {
    const { s, text } = stream(true);
    const p = new Progress(1, s, true);
    p.rolloutStarted('r1');
    p.event('r1', wait(1));
    p.event('r1', wait(2));
    await tick();
    expect(text()).toContain(`r1  prepare`);
    expect(text()).toMatch(new RegExp(`waiting for the provider since ${hhmmss} \\(1m0[45]s, try 3, next in \\d`));
    const before = text().length;
    p.event('r1', end);
    await tick();
    expect(text().slice(before)).toContain('r1');
    expect(text().slice(before)).not.toContain('waiting for the provider');
    p.stop();
  });

  it('without a terminal: one line when the outage begins and one when it ends', () => {
    const { s, text } = stream(false);
    const p = new Progress(1, s, false);
    p.rolloutStarted('r1');
    p.event('r1', wait(1));
    p.event('r1', wait(2));
    p.event('r1', end);
    p.stop();
    expect(text().split('\n').filter(Boolean)).toEqual([
      'start  r1',
      `wait   r1  waiting for the provider since ${hhmmss}: model call failed (HTTP 503): down`,
      'back   r1  after 1m05s waiting for the provider (3 tries)',
    ]);
  });
});
