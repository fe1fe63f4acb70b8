// Alerts: a confirmed flag is POSTed as JSON to each configured webhook, retried with backoff, every
// attempt an `alert` event in the flag's rollout log. The log is the outbox: a target that took the
// alert (2xx) is never sent it again (confirming twice, a second `outlast review`), and a delivery
// cut short by a kill is taken up where it stopped by the next `outlast review`. Each request carries
// `x-outlast-alert-id` (experiment/rollout/flag) so a receiver can drop the one duplicate a kill
// between its answer and our log line can cause. Configured in monitors.toml or on the command line.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import { UserError, oneLine } from '../core/errors.js';
import type { AlertEvent, MonitorFlagEvent, ReviewDecisionEvent, TrajectoryEvent } from '../core/events.js';
import { outageBackoffMs } from '../core/outage.js';
import { parseWith } from '../core/validate.js';
import { openForReview } from './log-access.js';

const webhookSchema = z
  .object({
    url: z.string().url().refine((u) => /^https?:\/\//.test(u), 'must be an http:// or https:// URL'),
    /** Tries in all, the first included. */
    attempts: z.number().int().min(1).max(20).default(5),
    /** Wait before the second try; doubled each time (with jitter), at most max_backoff_ms. */
    backoff_ms: z.number().int().min(0).default(500),
    max_backoff_ms: z.number().int().min(0).default(30_000),
    /** Per try: connect, send and answer. */
    timeout_ms: z.number().int().min(1).default(5000),
  })
  .strict();

const fileSchema = z.object({ alerts: z.object({ webhook: z.array(webhookSchema).default([]) }).strict().default({ webhook: [] }) }).strict();

export type Webhook = z.output<typeof webhookSchema>;

/** monitors.toml's `[[alerts.webhook]]` entries (an absent file: none). */
export function loadAlertConfig(file: string): Webhook[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new UserError(`${file}: cannot read the monitors config (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let doc: unknown;
  try {
    doc = parseToml(text);
  } catch (e) {
    throw new UserError(oneLine(`${file}: not valid TOML: ${(e as Error).message.split('\n')[0]}`));
  }
  return parseWith(fileSchema, doc, file).alerts.webhook;
}

/** A webhook given on the command line, with the defaults. */
export function webhookFromUrl(url: string): Webhook {
  return parseWith(webhookSchema, { url }, '--webhook');
}

/** How a target is written in the log: its origin and a hash of the whole URL (which may hold a secret). */
export function webhookTarget(url: string): string {
  return `webhook:${new URL(url).origin}#${createHash('sha256').update(url).digest('hex').slice(0, 8)}`;
}

export interface AlertSubject {
  experiment_id: string;
  rollout_id: string;
  trajectory: string;
  flag_id: string;
}

export interface AlertOutcome {
  target: string;
  ok: boolean;
  attempts: number;
  /** Delivered (or given up on) before: nothing sent this time. */
  already: boolean;
  error?: string;
}

/** Answers worth another try: none at all, a timeout, 408, 425, 429 and 5xx. */
const retryable = (status: number | null): boolean => status === null || status === 408 || status === 425 || status === 429 || status >= 500;

/**
 * Fire the alert of a confirmed flag to every webhook not yet done with it. `resumeOnly`: only the
 * deliveries an earlier run began and did not finish (what `outlast review` takes up on start).
 */
export async function fireAlerts(s: AlertSubject, webhooks: readonly Webhook[], opts: { resumeOnly?: boolean; sleep?: (ms: number) => Promise<void> } = {}): Promise<AlertOutcome[]> {
  if (webhooks.length === 0) return [];
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const { log, close } = openForReview(s.trajectory, s.rollout_id);
  try {
    const events = log.existing;
    const flag = events.find((e): e is MonitorFlagEvent => e.type === 'monitor.flag' && e.flag_id === s.flag_id);
    const decision = events.findLast((e): e is ReviewDecisionEvent => e.type === 'review.decision' && e.flag_id === s.flag_id);
    if (!flag || decision?.decision !== 'confirmed') return [];
    const out: AlertOutcome[] = [];
    for (const w of webhooks) {
      const target = webhookTarget(w.url);
      const past = events.filter((e): e is AlertEvent => e.type === 'alert' && e.flag_id === s.flag_id && e.target === target);
      const done = past.some((e) => e.ok || e.final);
      if (done || (opts.resumeOnly && past.length === 0)) {
        if (done) out.push({ target, ok: past.some((e) => e.ok), attempts: past.length, already: true });
        continue;
      }
      out.push(await deliver(log, s, w, target, past.length, payload(s, flag, decision, events), sleep));
    }
    return out;
  } finally {
    close();
  }
}

function payload(s: AlertSubject, flag: MonitorFlagEvent, decision: ReviewDecisionEvent, events: readonly TrajectoryEvent[]): unknown {
  const finished = events.findLast((e) => e.type === 'rollout.finished');
  const score = finished?.type === 'rollout.finished' ? finished.score : null;
  const { type: _f, ...f } = flag;
  const { type: _d, ...d } = decision;
  return { type: 'outlast.alert', version: 1, experiment_id: s.experiment_id, rollout_id: s.rollout_id, flag: f, decision: d, rollout: { score: score?.value ?? null, passed: score?.passed ?? null } };
}

async function deliver(
  log: ReturnType<typeof openForReview>['log'],
  s: AlertSubject,
  w: Webhook,
  target: string,
  before: number,
  body: unknown,
  sleep: (ms: number) => Promise<void>,
): Promise<AlertOutcome> {
  const text = JSON.stringify(body);
  let last: string | undefined;
  let tried = before;
  for (let attempt = before + 1; attempt <= w.attempts; attempt++) {
    if (attempt > before + 1 || before > 0) await sleep(outageBackoffMs(attempt - 1, w.backoff_ms, w.max_backoff_ms));
    const t0 = Date.now();
    tried = attempt;
    let status: number | null = null;
    let error: string | undefined;
    try {
      const res = await fetch(w.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-outlast-alert-id': `${s.experiment_id}/${s.rollout_id}/${s.flag_id}`, 'x-outlast-alert-attempt': String(attempt) },
        body: text,
        redirect: 'manual',
        signal: AbortSignal.timeout(w.timeout_ms),
      });
      status = res.status;
      await res.body?.cancel().catch(() => {});
      if (status < 200 || status >= 300) error = `HTTP ${status}`;
    } catch (err) {
      error = oneLine(((err as Error).cause as Error | undefined)?.message ?? (err as Error).message);
    }
    const ok = error === undefined;
    const final = ok || !retryable(status) || attempt === w.attempts;
    log.append({
      type: 'alert',
      flag_id: s.flag_id,
      message: ok ? `alert delivered to ${target}` : `alert to ${target} failed (try ${attempt} of ${w.attempts}): ${error}`,
      channels: ['webhook'],
      target,
      attempt,
      ok,
      status,
      ...(error ? { error } : {}),
      duration_ms: Date.now() - t0,
      ...(final && !ok ? { final: true } : {}),
    });
    if (ok) return { target, ok, attempts: attempt, already: false };
    last = error;
    if (final) break;
  }
  return { target, ok: false, attempts: tried, already: false, error: last };
}
