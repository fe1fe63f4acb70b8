// Live progress of an experiment. On a terminal: one line per active rollout plus a totals line,
// redrawn in place (log-update); a rollout waiting out a provider outage says since when. Otherwise
// (CI, pipes, files): one plain line per start and finish, and per outage's start and end. A monitor
// flag is one line in either mode, as it is raised.
import { createLogUpdate } from 'log-update';
import { oneLine } from '../core/errors.js';
import type { TrajectoryEvent } from '../core/events.js';
import type { ProgressListener } from '../runner/experiment.js';
import type { RolloutResult } from '../runner/rollout.js';
import { formatDuration, formatScore } from '../report/plain-table.js';

interface Active {
  started: number;
  phase: string;
  toolCalls: number;
  /** The provider outage being waited out (from the latest `outage.wait`), or null. */
  outage: { since: number; attempt: number; nextAt: number; reason: string } | null;
}

export class Progress implements ProgressListener {
  private active = new Map<string, Active>();
  private done = 0;
  private passed = 0;
  private failed = 0;
  private problems = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly draw: ReturnType<typeof createLogUpdate> | null;

  constructor(
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    live = Boolean(stream.isTTY) && !process.env.CI,
  ) {
    this.draw = live ? createLogUpdate(stream) : null;
    if (this.draw) {
      this.timer = setInterval(() => this.render(), 250);
      this.timer.unref();
    }
  }

  rolloutStarted(id: string): void {
    this.active.set(id, { started: Date.now(), phase: 'prepare', toolCalls: 0, outage: null });
    if (!this.draw) this.stream.write(`start  ${id}\n`);
    this.render();
  }

  event(id: string, e: TrajectoryEvent): void {
    const a = this.active.get(id);
    if (!a) return;
    if (e.type === 'phase' && e.status === 'started') a.phase = e.phase;
    if (e.type === 'tool.call') a.toolCalls++;
    if (e.type === 'outage.wait') {
      const since = Date.parse(e.since);
      // Without a live display, one line when an outage begins and one when it ends.
      if (!this.draw && !a.outage) this.stream.write(`wait   ${id}  waiting for the provider since ${clock(since)}: ${e.reason}\n`);
      a.outage = { since, attempt: e.attempt, nextAt: Date.parse(e.t) + e.next_in_ms, reason: e.reason };
    }
    if (e.type === 'monitor.flag') {
      // a flag is news at once, live display or not: one line, with what to run to decide it
      const line = `flag   ${id}  ${e.flag_id} [${e.severity}] ${e.rule_id}: ${e.summary.slice(0, 160)}  (outlast review)\n`;
      if (this.draw) this.draw.clear();
      this.stream.write(line);
      this.render();
    }
    if (e.type === 'outage.end') {
      if (!this.draw) this.stream.write(`${e.recovered ? 'back   ' : 'outage '}${id}  ${e.recovered ? '' : 'gave up '}after ${formatDuration(e.waited_ms)} waiting for the provider (${e.attempts} tries)\n`);
      a.outage = null;
    }
  }

  rolloutFinished(id: string, r: RolloutResult): void {
    const a = this.active.get(id);
    this.active.delete(id);
    if (r.interrupted) return this.render();
    this.done++;
    if (r.score?.passed) this.passed++;
    else this.failed++;
    if (r.outcome === 'infra_error' || r.outcome === 'task_error') this.problems++;
    const took = a ? formatDuration(Date.now() - a.started) : '-';
    // A rollout that was not graded says why on the same line.
    const why = (r.outcome === 'infra_error' || r.outcome === 'task_error') && r.reason ? `  ${oneLine(r.reason).slice(0, 300)}` : '';
    const line = `done   ${id}  ${r.outcome ?? '-'}  score ${formatScore(r.score?.value)}${r.score?.passed ? ' (pass)' : ''}  ${took}${r.already_finished ? '  (already finished)' : ''}${why}`;
    if (this.draw) {
      this.draw.clear();
      this.stream.write(line + '\n');
    } else this.stream.write(line + '\n');
    this.render();
  }

  private render(): void {
    if (!this.draw) return;
    const now = Date.now();
    const lines = [...this.active].map(
      ([id, a]) =>
        `  ▸ ${id}  ${a.phase}  ${formatDuration(now - a.started)}${a.toolCalls ? `  ${a.toolCalls} tool call${a.toolCalls === 1 ? '' : 's'}` : ''}${a.outage ? `  ${outageLine(a.outage, now)}` : ''}`,
    );
    lines.push(`  ${this.done}/${this.total} done · ${this.active.size} running · ${this.passed} passed · ${this.failed} not passed${this.problems ? ` · ${this.problems} infra/task errors` : ''}`);
    this.draw(lines.join('\n'));
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.draw) this.draw.clear();
  }
}

/** `waiting for the provider since 14:03:07 (8m12s, try 9, next in 41s)`. */
function outageLine(o: NonNullable<Active['outage']>, now: number): string {
  const next = Math.max(0, o.nextAt - now);
  return `waiting for the provider since ${clock(o.since)} (${formatDuration(now - o.since)}, try ${o.attempt + 1}${next > 0 ? `, next in ${formatDuration(Math.round(next / 100) * 100)}` : ''})`;
}

/** Local wall-clock time, HH:MM:SS. */
function clock(ms: number): string {
  return new Date(ms).toTimeString().slice(0, 8);
}
