// The trajectory: one JSON object per line, append-only, the one data model everything reads.
// Every event has `t` (ISO time), `seq` (0, 1, 2... within the rollout) and `type`.
// The full reference is docs/trajectory-format.md; keep the two in step.
import type { GraderIdentity, Outcome, Protocol, RolloutSpec, RolloutTotals, Score, Usage } from './types.js';

export interface EventBase {
  t: string;
  seq: number;
}

export type Phase = 'prepare' | 'harness' | 'snapshot' | 'verify' | 'finish';

export interface RolloutStartedEvent extends EventBase {
  type: 'rollout.started';
  spec: RolloutSpec;
  versions: { outlast: string; commit: string | null; node: string };
  /** Sandbox mode and which of its limits this machine enforces. */
  sandbox: { mode: string; unsandboxed: boolean; enforced: Record<string, boolean> };
  /** Set when this start continues an earlier, unfinished start of the same rollout. */
  resumed?: boolean;
}

export interface PhaseEvent extends EventBase {
  type: 'phase';
  phase: Phase;
  status: 'started' | 'done' | 'failed';
  detail?: Record<string, unknown>;
}

export interface ModelRequestEvent extends EventBase {
  type: 'model.request';
  call_id: string;
  /** Protocol the harness spoke to the gateway. */
  client_protocol: Protocol;
  /** Protocol of the upstream endpoint. */
  protocol: Protocol;
  model: string;
  upstream_model: string;
  stream: boolean;
  /**
   * Size of the request: the items of the client's list (`messages`, or Responses' `input`; a string
   * input is 1) and of its `tools`, as sent, not their content.
   */
  messages: number;
  tools: number;
  /** Bytes of the client's request body: also the basis of the estimate for a call that never got
   *  its response (`model.unmetered`). */
  request_bytes?: number;
  /** Set when the gateway lowered the call's output limit (max_tokens) to what the budget had left. */
  output_limit?: number;
  /** Set when the gateway refused the call before forwarding it (no model.response follows). */
  refused?: { status: number; kind: GatewayFailureKind; message: string };
  /** Reference to the recorded request body (`[gateway] record_bodies`), see docs/gateway.md. */
  body?: string;
}

/**
 * Why a model call failed, as the gateway classifies it: `unavailable` (the provider is down or
 * overloaded), `deadline` (the call ran past a gateway deadline), `misconfigured` (the endpoint's
 * configuration is wrong), `request` (the request was refused), `budget` (the rollout's budget),
 * `gateway` (the gateway itself was overloaded), `client_gone` (the caller hung up).
 */
export type GatewayFailureKind = 'unavailable' | 'deadline' | 'misconfigured' | 'request' | 'budget' | 'gateway' | 'client_gone';

export interface ModelResponseEvent extends EventBase {
  type: 'model.response';
  call_id: string;
  protocol: Protocol;
  model: string;
  status: number;
  usage: Usage;
  /** True when the upstream reported no usage and the numbers are the gateway's estimate. */
  usage_estimated: boolean;
  ttft_ms: number | null;
  duration_ms: number;
  output_tps: number | null;
  cost_usd: number;
  price_table: string;
  retries: number;
  /** Milliseconds spent waiting between retries (excluded from working time). */
  retry_wait_ms: number;
  finish_reason?: string | null;
  /** Names of the tool calls the reply asked for, in order (absent when none): how tool calls are
   *  counted the same way for every harness, the external CLIs included. */
  tool_calls?: string[];
  /** Set on failure: what went wrong, and whether it was the infrastructure's fault. */
  error?: { message: string; infra: boolean; kind?: GatewayFailureKind };
  /** Reference to the recorded response body (`[gateway] record_bodies`). */
  body?: string;
}

export interface ToolCallRef {
  id: string;
  name: string;
  arguments: unknown;
}

/**
 * A model call that was in flight when the runner stopped (a crash, a kill): its `model.request` is
 * in the log, its `model.response` never came, so the upstream's usage is unknown although the call
 * may well have been billed. Recorded when the rollout resumes, once per such request, with an
 * estimate; counted apart from the metered calls (never added to `cost_usd` or `usage` totals).
 */
export interface ModelUnmeteredEvent extends EventBase {
  type: 'model.unmetered';
  /** The `call_id` and `seq` of the request that got no response. */
  call_id: string;
  request_seq: number;
  model: string;
  /** Estimated usage and its cost at the endpoint's prices (0 when unpriced). */
  usage: Usage;
  cost_usd: number;
  price_table: string;
  /** What the estimate rests on: the request's size in bytes, the previous call's usage, or nothing. */
  basis: 'request_bytes' | 'previous_call' | 'none';
  /** Why it is unmetered, in one line. */
  reason: string;
}

export interface AssistantEvent extends EventBase {
  type: 'assistant';
  text: string;
  reasoning?: string;
  tool_calls: ToolCallRef[];
  /** Reasoning blocks exactly as the model returned them, when they carry signatures (or are
   *  redacted) and must go back to the model verbatim (Anthropic thinking). */
  reasoning_blocks?: ({ text: string; signature?: string } | { redacted: string })[];
}

export interface ToolCallEvent extends EventBase {
  type: 'tool.call';
  call_id: string;
  name: string;
  arguments: unknown;
  /** Set when this call repeats a call that was in flight when the runner crashed. */
  repeated?: boolean;
}

export interface ToolResultEvent extends EventBase {
  type: 'tool.result';
  call_id: string;
  name: string;
  exit_code: number | null;
  duration_ms: number;
  /** Output, capped head+tail. */
  output: string;
  /** Bytes cut from the middle of the output (0 when nothing was cut). */
  truncated_bytes: number;
  timed_out: boolean;
  error?: string;
}

export interface EvaluationEvent extends EventBase {
  type: 'evaluation';
  score: number;
  passed?: boolean;
  details: Record<string, unknown>;
  /** Tool calls made so far in the rollout, for the score-over-time curve. */
  tool_calls: number;
}

export interface ContextCompactedEvent extends EventBase {
  type: 'context.compacted';
  tokens_before: number;
  tokens_after: number;
  turns_summarized: number;
  /** The model's summary of the older turns, which replaces them. */
  summary: string;
  /** Events from this seq on are kept verbatim. */
  keep_from_seq: number;
}

/** Something a human should look at: raised by a monitor (or by a verifier that withholds a score). */
export interface MonitorFlagEvent extends EventBase {
  type: 'monitor.flag';
  /** Unique within the rollout; review decisions and alerts refer to it. */
  flag_id: string;
  /** Who raised it: a monitor's name, or `verifier:<kind>`. */
  monitor: string;
  /** The rule that fired, e.g. `kernels.roofline.implausible`, and its version (a rule's meaning may change). */
  rule_id: string;
  rule_version: string;
  severity: 'info' | 'warning' | 'critical';
  /** One line for the review queue. */
  summary: string;
  /**
   * What the rule saw, for the reviewer: a monitor's list of pointers (events by seq, files of the
   * final workspace by path with the diff hunk, contents by hash); a verifier's flag carries an
   * object of numbers instead (e.g. the roofline check's bound and machine).
   */
  evidence?: FlagEvidence[] | Record<string, unknown>;
}

/**
 * One piece of a monitor's evidence: an event of this log (`seq`, with the matched text), a file of
 * the final workspace against the task's starting one (`path` and the changed lines as a unified
 * diff hunk), or a content's sha256 (e.g. of that file, so a reviewer can tell the same bytes again).
 */
export type FlagEvidence =
  | { seq: number; path?: string; excerpt?: string }
  | { path: string; hunk: string }
  | { sha256: string; path?: string };

/**
 * A person's decision on a flag. `confirmed`: it is what the rule says (a confirmed hack excludes the
 * rollout's score from the headline); `dismissed`: a false alarm; `needs_info`: not decided, the
 * flag stays in the queue. The last decision on a flag counts.
 */
export interface ReviewDecisionEvent extends EventBase {
  type: 'review.decision';
  flag_id: string;
  decision: 'confirmed' | 'dismissed' | 'needs_info';
  reviewer: string;
  note?: string;
  /** The flag's rule, copied so a decision reads alone (per-rule precision). */
  rule_id?: string;
  /** Milliseconds from the flag's `t` to this decision. */
  after_ms?: number;
}

/**
 * A confirmed flag's alert: one event per delivery attempt to one target (a webhook). `ok` once the
 * target took it (2xx); `final` when the target is given up on (attempts spent, or an answer that
 * trying again cannot change). A target never gets an alert again once one attempt was `ok`.
 */
export interface AlertEvent extends EventBase {
  type: 'alert';
  flag_id: string;
  message: string;
  channels: string[];
  /** The target: `webhook:<origin>#<8 hex of the full URL's sha256>` (a webhook's URL often holds its secret: never written whole). */
  target?: string;
  /** 1, 2, ... for this target and flag. */
  attempt?: number;
  ok?: boolean;
  /** The HTTP status, or null when no answer came. */
  status?: number | null;
  error?: string;
  duration_ms?: number;
  final?: boolean;
}

export interface VerifierResultEvent extends EventBase {
  type: 'verifier.result';
  score: Score;
  /** Exit code, duration and capped output of the verifier's command. */
  run: VerifierRun;
}

/** The verifier command's run, as the trajectory keeps it. */
export interface VerifierRun {
  exit_code: number | null;
  duration_ms: number;
  /** Capped output; lines of the task's hidden tests/ files are replaced by a marker. */
  output: string;
  truncated_bytes: number;
  timed_out: boolean;
  /** Output lines replaced because they showed hidden test sources (absent when none). */
  redacted_lines?: number;
  /** The agent's code the tests ran out of process with agent-run (command verifier), in order. */
  agent_runs?: AgentRunRecord[];
  /** agent-run calls beyond those recorded in `agent_runs` (absent when none). */
  agent_runs_unrecorded?: number;
}

/** One agent-run call of a verification: what ran as the agent, and how it ended. */
export interface AgentRunRecord {
  /** The command line (capped, hidden test lines redacted). */
  command: string;
  exit_code: number | null;
  signal: string | null;
  timed_out: boolean;
  duration_ms: number;
  stdout_bytes: number;
  stderr_bytes: number;
  /** Why the broker refused or could not complete the call. */
  error?: string;
}

/**
 * A model call failed for infrastructure reasons (the gateway answered 429/5xx, or was unreachable,
 * or the stream broke) and the harness waits before it tries again. The first of an outage opens it;
 * the time until its `outage.end` is not working time, nor counted against the wall-time limit.
 */
export interface OutageWaitEvent extends EventBase {
  type: 'outage.wait';
  /** When the outage began (ISO): the first failed call of this run of failures. */
  since: string;
  /** 1 for the first wait of the outage, then 2, 3... */
  attempt: number;
  /** Milliseconds until the next try. */
  next_in_ms: number;
  /** The failure, in one line. */
  reason: string;
  /** Milliseconds of the outage patience left after this wait. */
  patience_left_ms: number;
}

/** The outage is over: a call went through (`recovered`), or the patience ran out (the rollout ends infra_error). */
export interface OutageEndEvent extends EventBase {
  type: 'outage.end';
  since: string;
  /** Milliseconds from `since` to now: excluded from working time and from the wall-time limit. */
  waited_ms: number;
  /** Tries made after the first failure. */
  attempts: number;
  recovered: boolean;
}

export interface NoteEvent extends EventBase {
  type: 'note';
  level: 'info' | 'warning';
  message: string;
}

export interface RolloutFinishedEvent extends EventBase {
  type: 'rollout.finished';
  outcome: Outcome;
  score: Score | null;
  totals: RolloutTotals;
  /** Why the rollout ended the way it did, in one line. */
  reason: string;
}

export type TrajectoryEvent =
  | RolloutStartedEvent
  | PhaseEvent
  | ModelRequestEvent
  | ModelResponseEvent
  | ModelUnmeteredEvent
  | AssistantEvent
  | ToolCallEvent
  | ToolResultEvent
  | EvaluationEvent
  | ContextCompactedEvent
  | MonitorFlagEvent
  | ReviewDecisionEvent
  | AlertEvent
  | VerifierResultEvent
  | OutageWaitEvent
  | OutageEndEvent
  | NoteEvent
  | RolloutFinishedEvent;

export type EventType = TrajectoryEvent['type'];

/** An event before the log assigns `t` and `seq`. */
export type NewEvent = TrajectoryEvent extends infer E ? (E extends TrajectoryEvent ? Omit<E, 't' | 'seq'> : never) : never;

export const EVENT_TYPES: readonly EventType[] = [
  'rollout.started',
  'phase',
  'model.request',
  'model.response',
  'model.unmetered',
  'assistant',
  'tool.call',
  'tool.result',
  'evaluation',
  'context.compacted',
  'monitor.flag',
  'review.decision',
  'alert',
  'verifier.result',
  'outage.wait',
  'outage.end',
  'note',
  'rollout.finished',
];

/** Check the envelope of a parsed line; returns an error string or null. */
export function checkEnvelope(v: unknown): string | null {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return 'not a JSON object';
  const o = v as Record<string, unknown>;
  if (typeof o.t !== 'string') return 'missing "t"';
  if (typeof o.seq !== 'number' || !Number.isInteger(o.seq) || o.seq < 0) return 'missing or bad "seq"';
  if (typeof o.type !== 'string') return 'missing "type"';
  return null;
}

export type { GraderIdentity };
