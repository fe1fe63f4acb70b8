// Live progress of an experiment. On a terminal: one line per active rollout plus a totals line,
// redrawn in place (log-update). Otherwise (CI, pipes, files): one plain line per start and finish.
import { createLogUpdate } from 'log-update';
import type { TrajectoryEvent } from '../core/events.js';
import type { ProgressListener } from '../runner/experiment.js';
import type { RolloutResult } from '../runner/rollout.js';
import { formatDuration, formatScore } from '../report/plain-table.js';

interface Active {
  started: number;
  phase: string;
  toolCalls: number;
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
    this.active.set(id, { started: Date.now(), phase: 'prepare', toolCalls: 0 });
    if (!this.draw) this.stream.write(`start  ${id}\n`);
    this.render();
  }

  event(id: string, e: TrajectoryEvent): void {
    const a = this.active.get(id);
    if (!a) return;
    if (e.type === 'phase' && e.status === 'started') a.phase = e.phase;
    if (e.type === 'tool.call') a.toolCalls++;
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
    const line = `done   ${id}  ${r.outcome ?? '-'}  score ${formatScore(r.score?.value)}${r.score?.passed ? ' (pass)' : ''}  ${took}${r.already_finished ? '  (already finished)' : ''}`;
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
      ([id, a]) => `  ▸ ${id}  ${a.phase}  ${formatDuration(now - a.started)}${a.toolCalls ? `  ${a.toolCalls} tool call${a.toolCalls === 1 ? '' : 's'}` : ''}`,
    );
    lines.push(`  ${this.done}/${this.total} done · ${this.active.size} running · ${this.passed} passed · ${this.failed} not passed${this.problems ? ` · ${this.problems} infra/task errors` : ''}`);
    this.draw(lines.join('\n'));
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.draw) this.draw.clear();
  }
}
