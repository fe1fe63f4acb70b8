// The Monitor contract: what watches a rollout for reward hacking. A monitor runs in the runner's
// process (never in the sandbox), sees each trajectory event as it is appended and, after the harness
// phase, the final workspace's changes against the task's starting workspace; what it finds becomes a
// `monitor.flag` event for a person to review. It cannot change the rollout's course. The host that
// feeds monitors and records their flags is host.ts; the built-in rules are rules/.
import type { FlagEvidence, MonitorFlagEvent, TrajectoryEvent } from '../core/events.js';
import type { FileChange } from './diff.js';

export type Severity = MonitorFlagEvent['severity'];

/** Something a monitor saw: becomes one `monitor.flag` (unless the same rule saw the same evidence before). */
export interface Finding {
  rule_id: string;
  rule_version: string;
  severity: Severity;
  /** One line for the review queue. */
  summary: string;
  evidence: FlagEvidence[];
  /** What makes two findings the same flag (default: the rule and its evidence); a resumed rollout never records one twice. */
  key?: string;
  /** The workspace path it is about: the final diff adds no second flag of a rule for a path an event already flagged. */
  subject?: string;
}

export interface Monitor {
  /** Recorded as the flag's `monitor`. */
  readonly name: string;
  /**
   * One appended event (every type, in seq order; the monitors' own flags and notes included).
   * Called inside the append: it must cost a few string tests of this event, never a walk over the log.
   */
  event?(e: TrajectoryEvent): Finding[];
  /** The final workspace's changes, once per attempt, after the harness phase. */
  changes?(changes: readonly FileChange[]): Finding[];
}

/** A tool call as rules see it: what the built-in tools' arguments say, pulled out once per call. */
export interface ToolAction {
  seq: number;
  name: string;
  /** bash's command line. */
  command: string | null;
  /** The workspace path a file tool names (write_file, edit_file, read_file). */
  path: string | null;
  /** Text a file tool writes: write_file's content, edit_file's new_string. */
  content: string | null;
}

/**
 * A built-in rule: a stable id (never reused for another meaning), a version (raised when what it
 * matches changes), and checks over tool calls, any event, and the final workspace's changes. A rule
 * with state across events (e.g. a claim, then the grade) makes it fresh in `start`.
 */
export interface Rule {
  readonly id: string;
  readonly version: string;
  readonly severity: Severity;
  /** What the rule looks for, one line (docs/monitors.md has the examples). */
  readonly description: string;
  start(): RuleWatch;
}

/** What a rule returns: a summary and its evidence; the host adds the rule's id, version and severity. */
export type RuleHit = Omit<Finding, 'rule_id' | 'rule_version' | 'severity'>;

export interface RuleWatch {
  action?(a: ToolAction): RuleHit | null;
  event?(e: TrajectoryEvent): RuleHit | null;
  change?(c: FileChange): RuleHit | null;
}
