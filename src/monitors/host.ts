// The monitors' host in the runner: feeds every event appended to a rollout's log to its monitors
// (inside the append, so a flag is in the log right after the event that raised it), runs the final
// workspace diff after the harness phase, and records what they find as `monitor.flag` events. A
// flag's id is a hash of its rule and evidence (or the rule's key), so the same finding is never
// recorded twice: not when a resumed attempt replays the log (which also brings back a flag a crash
// caught between an event and its flag), not when the final diff sees a file an event already
// flagged. A monitor that throws is recorded as a note and goes on with the next event; the rollout
// never notices.
import { createHash } from 'node:crypto';
import type { MonitorFlagEvent, TrajectoryEvent } from '../core/events.js';
import { oneLine } from '../core/errors.js';
import type { TrajectoryWriter } from '../store/trajectory.js';
import { baseName } from './match.js';
import { diffWorkspace, type DiffLimits } from './diff.js';
import type { Finding, Monitor } from './monitor.js';

/** Notes recorded per monitor for its failures; later ones are counted in the last. */
const FAILURE_NOTES = 3;

export class MonitorHost {
  private readonly ids = new Set<string>();
  /** `rule\0path` of every flag with a path in its evidence, and `rule\0basename` of excerpts (see subjectSeen). */
  private readonly subjects = new Set<string>();
  private readonly excerpts = new Map<string, string[]>();
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly log: TrajectoryWriter,
    private readonly monitors: readonly Monitor[],
    private readonly rolloutId: string,
  ) {}

  /**
   * Start on a log: learn the flags it holds, replay its events through the monitors (their state,
   * and any flag a crash lost), then watch every event appended from now on.
   */
  start(prior: readonly TrajectoryEvent[]): void {
    for (const e of prior) if (e.type === 'monitor.flag') this.learn(e);
    for (const e of prior) this.feed(e);
    this.log.onEvent((e) => this.feed(e));
  }

  /** After the harness phase: the final workspace against the task's starting one. */
  async inspect(start: string | null, workspace: string, limits?: DiffLimits): Promise<void> {
    if (!this.monitors.some((m) => m.changes)) return;
    let diff;
    try {
      diff = await diffWorkspace(start, workspace, limits);
    } catch (err) {
      return this.note(`monitors could not read the final workspace: ${oneLine((err as Error).message)}`);
    }
    if (diff.unread.length) this.note(`monitors did not read all of the final workspace: ${diff.unread.join(', ')}`, 'info');
    for (const m of this.monitors) {
      if (!m.changes) continue;
      let found: Finding[];
      try {
        found = m.changes(diff.changes);
      } catch (err) {
        this.failed(m, 'the final workspace', err);
        continue;
      }
      for (const f of found) if (!(f.subject && this.subjectSeen(f.rule_id, f.subject))) this.record(m, f);
    }
  }

  private feed(e: TrajectoryEvent): void {
    if (this.log.isClosed || this.log.failure) return;
    for (const m of this.monitors) {
      if (!m.event) continue;
      let found: Finding[];
      try {
        found = m.event(e);
      } catch (err) {
        this.failed(m, `event ${e.seq} (${e.type})`, err);
        continue;
      }
      for (const f of found) this.record(m, f);
    }
  }

  private record(m: Monitor, f: Finding): void {
    const key = f.key ?? JSON.stringify(f.evidence);
    const flagId = `f-${createHash('sha256').update(`${this.rolloutId}\0${f.rule_id}\0${key}`).digest('hex').slice(0, 12)}`;
    if (this.ids.has(flagId)) return;
    const e = { type: 'monitor.flag' as const, flag_id: flagId, monitor: m.name, rule_id: f.rule_id, rule_version: f.rule_version, severity: f.severity, summary: f.summary.replace(/\s+/g, ' ').trim(), evidence: f.evidence };
    this.learn(e);
    try {
      this.log.append(e);
    } catch {
      /* the log failed: the runner stops the rollout; a resume replays and records it */
    }
  }

  private learn(e: Pick<MonitorFlagEvent, 'flag_id' | 'rule_id' | 'evidence'>): void {
    this.ids.add(e.flag_id);
    if (!Array.isArray(e.evidence)) return;
    for (const x of e.evidence) {
      if ('path' in x && typeof x.path === 'string') this.subjects.add(`${e.rule_id}\0${x.path}`);
      if ('excerpt' in x && typeof x.excerpt === 'string') {
        const l = this.excerpts.get(e.rule_id) ?? [];
        l.push(x.excerpt);
        this.excerpts.set(e.rule_id, l);
      }
    }
  }

  /** An earlier flag of the rule names this path: in its evidence, or by file name in a command it quoted. */
  private subjectSeen(rule: string, path: string): boolean {
    if (this.subjects.has(`${rule}\0${path}`)) return true;
    const name = baseName(path);
    return (this.excerpts.get(rule) ?? []).some((x) => x.includes(name));
  }

  private failed(m: Monitor, where: string, err: unknown): void {
    const n = (this.failures.get(m.name) ?? 0) + 1;
    this.failures.set(m.name, n);
    if (n > FAILURE_NOTES) return;
    const more = n === FAILURE_NOTES ? ' (later failures of this monitor are not recorded)' : '';
    this.note(`monitor ${m.name} failed on ${where}: ${oneLine(String((err as Error)?.message ?? err))}; it goes on with the next event${more}`);
  }

  private note(message: string, level: 'info' | 'warning' = 'warning'): void {
    try {
      if (!this.log.isClosed) this.log.append({ type: 'note', level, message });
    } catch {
      /* the log failed: nothing more to record */
    }
  }
}
