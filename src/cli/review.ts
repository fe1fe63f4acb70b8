// `outlast review [flag]`: the human review queue of monitor flags. With no flag, the pending flags of
// an experiment one at a time with their evidence, and one key each to confirm, dismiss or ask for
// more information (then a note); with a flag and --confirm / --dismiss / --needs-info, that one
// decision (for scripts); --list prints the queue. Decisions are `review.decision` events in the
// rollout's log (src/monitors/decide.ts); the queue is rebuilt from the logs each time. A confirmed
// flag fires the configured alerts (src/monitors/alerts.ts); an interrupted delivery is taken up.
import path from 'node:path';
import readline from 'node:readline';
import { InvalidArgumentError, type Command } from 'commander';
import { UserError, oneLine } from '../core/errors.js';
import type { FlagEvidence, ReviewDecisionEvent, TrajectoryEvent } from '../core/events.js';
import { isPending } from '../core/flags.js';
import { fireAlerts, loadAlertConfig, webhookFromUrl, webhookTarget, type Webhook } from '../monitors/alerts.js';
import { recordDecision } from '../monitors/decide.js';
import { findFlag, readQueue, type QueuedFlag } from '../monitors/queue.js';
import { renderTable } from '../report/plain-table.js';
import type { Store } from '../store/store.js';
import type { Layout } from '../store/layout.js';
import { readTrajectory } from '../store/trajectory.js';
import { layoutFor, resolveExperiment, withStore } from './common.js';

interface Opts {
  experiment?: string;
  confirm?: boolean;
  dismiss?: boolean;
  needsInfo?: boolean;
  note?: string;
  reviewer?: string;
  list?: boolean;
  all?: boolean;
  json?: boolean;
  alerts?: string;
  webhook: string[];
}

type Choice = ReviewDecisionEvent['decision'];

function chosen(o: Opts): Choice | null {
  const picked = [o.confirm && 'confirmed', o.dismiss && 'dismissed', o.needsInfo && 'needs_info'].filter((x): x is Choice => !!x);
  if (picked.length > 1) throw new InvalidArgumentError('choose one of --confirm, --dismiss, --needs-info');
  return picked[0] ?? null;
}

export function register(program: Command): void {
  program
    .command('review')
    .description('review monitor flags: one at a time with their evidence (confirm / dismiss / needs info, with a note), or decide one flag')
    .argument('[flag]', 'a flag id (or <rollout>/<flag>) to decide with --confirm, --dismiss or --needs-info')
    .option('--experiment <id>', 'experiment whose flags to review (default: the latest)')
    .option('--confirm', 'the flag is right: a hack (the rollout is left out of the headline score)')
    .option('--dismiss', 'the flag is a false alarm')
    .option('--needs-info', 'not decided: keep the flag in the queue')
    .option('--note <text>', 'a note kept with the decision')
    .option('--reviewer <name>', 'who decides (default: $USER)')
    .option('--list', 'print the queue and exit')
    .option('--all', 'with --list: decided flags too')
    .option('--json', 'with --list: as JSON')
    .option('--alerts <file>', 'monitors config with the alerts a confirmed flag fires (default: <home>/monitors.toml)')
    .option('--webhook <url>', 'also POST each confirmed flag to this URL (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .action(async (ref: string | undefined, opts: Opts) => {
      const decision = chosen(opts);
      const layout = layoutFor(program.opts());
      await withStore(layout, async (store) => {
        const exp = await resolveExperiment(store, opts.experiment);
        const queue = readQueue((await store.listRollouts(exp.id)).map((r) => ({ experiment_id: exp.id, rollout_id: r.rollout_id, trajectory: layout.trajectory(exp.id, r.rollout_id) })));
        const reviewer = opts.reviewer ?? process.env.USER ?? '';
        if (opts.list) return list(exp.id, queue, opts);
        const webhooks = [...loadAlertConfig(opts.alerts ?? path.join(layout.home, 'monitors.toml')), ...opts.webhook.map(webhookFromUrl)];
        await resumeAlerts(queue, webhooks);
        if (ref) {
          if (!decision) throw new UserError(`say what to decide on ${ref}: --confirm, --dismiss or --needs-info`);
          const q = one(queue, ref, exp.id);
          await decide(store, q, decision, reviewer, opts.note);
          process.stdout.write(`${q.rollout_id}/${q.flag.flag_id}: ${decision} by ${reviewer}\n`);
          if (decision === 'confirmed') await alert(q, webhooks);
          return;
        }
        if (decision) throw new UserError('--confirm, --dismiss and --needs-info need a flag id (see `outlast review --list`)');
        await interactive(store, layout, queue.filter((q) => isPending(q.state)), reviewer, webhooks);
      });
    });
}

function one(queue: QueuedFlag[], ref: string, exp: string): QueuedFlag {
  const hits = findFlag(queue, ref);
  if (hits.length === 0) throw new UserError(`no flag "${ref}" in experiment ${exp} (see \`outlast review --list\`)`);
  if (hits.length > 1) throw new UserError(`flag "${ref}" is in ${hits.length} rollouts: name one as <rollout>/${ref}`);
  return hits[0]!;
}

async function decide(store: Store, q: QueuedFlag, decision: Choice, reviewer: string, note?: string): Promise<void> {
  const { event, where } = recordDecision({ trajectory: q.trajectory, rollout_id: q.rollout_id, flag_id: q.flag.flag_id, decision, reviewer, note });
  // the store is derived: a decision it missed comes back with `outlast rebuild`
  await store.applyEvent(q.experiment_id, q.rollout_id, q.trajectory, event, where).catch(() => {});
}

function list(exp: string, queue: QueuedFlag[], opts: Opts): void {
  const shown = opts.all ? queue : queue.filter((q) => isPending(q.state));
  if (opts.json) {
    process.stdout.write(JSON.stringify({ experiment: exp, flags: shown.map((q) => ({ rollout_id: q.rollout_id, state: q.state, score: q.score, passed: q.passed, flag: q.flag, decisions: q.decisions })) }, null, 2) + '\n');
    return;
  }
  const pending = queue.filter((q) => isPending(q.state)).length;
  process.stdout.write(`experiment ${exp}: ${pending} flag(s) to review, ${queue.length - pending} decided\n`);
  if (shown.length === 0) return;
  process.stdout.write(
    renderTable(
      ['flag', 'rollout', 'state', 'severity', 'rule', 'score', 'summary'],
      shown.map((q) => [q.flag.flag_id, q.rollout_id, stateLabel(q.state), q.flag.severity, q.flag.rule_id, q.score === null ? '-' : String(q.score), q.flag.summary.slice(0, 80)]),
    ) + '\n',
  );
}

const stateLabel = (s: QueuedFlag['state']): string => (s === 'open' ? 'unreviewed' : s === 'needs_info' ? 'needs info' : s);

/** One event of the log as a line, for evidence that points at it. */
function eventLine(e: TrajectoryEvent | undefined): string {
  if (!e) return '(not in the log)';
  const cut = (s: string) => (s.length > 200 ? `${s.slice(0, 200)}…` : s);
  switch (e.type) {
    case 'tool.call':
      return `tool.call ${e.name} ${cut(JSON.stringify(e.arguments))}`;
    case 'assistant':
      return `assistant: ${cut(e.text.replace(/\s+/g, ' '))}`;
    case 'verifier.result':
      return `verifier.result: score ${e.score.value}, ${e.score.passed ? 'passed' : 'failed'}`;
    default:
      return e.type;
  }
}

export function renderFlag(q: QueuedFlag, events: readonly TrajectoryEvent[], i: number, n: number, now = Date.now()): string {
  const f = q.flag;
  const bySeq = new Map(events.map((e) => [e.seq, e]));
  const lines = [
    '',
    `[${i}/${n}] ${f.severity.toUpperCase()}  ${f.rule_id}@${f.rule_version} (${f.monitor})  flag ${f.flag_id}`,
    `rollout ${q.rollout_id}: ${q.score === null ? 'not finished' : `score ${q.score}, ${q.passed ? 'passed' : 'not passed'}`}; raised ${f.t} (${Math.round((now - Date.parse(f.t)) / 1000)} s ago)`,
    `  ${f.summary}`,
    'evidence:',
  ];
  const ev = f.evidence;
  if (Array.isArray(ev)) {
    for (const x of ev as FlagEvidence[]) {
      if ('seq' in x) {
        lines.push(`  event ${x.seq}: ${eventLine(bySeq.get(x.seq))}`);
        if (x.excerpt) lines.push(...x.excerpt.split('\n').map((l) => `    | ${l}`));
      } else if ('hunk' in x) lines.push(`  ${x.path}:`, ...x.hunk.split('\n').map((l) => `    ${l}`));
      else lines.push(`  sha256 ${x.sha256}${x.path ? ` (${x.path})` : ''}`);
    }
  } else if (ev) lines.push(`  ${JSON.stringify(ev)}`);
  for (const d of q.decisions) lines.push(`earlier: ${d.decision} by ${d.reviewer}${d.note ? `: ${d.note}` : ''}`);
  return lines.join('\n');
}

/** Keys from a terminal (one key press), or lines from a pipe (the first character of each). */
interface Input {
  key(prompt: string): Promise<string>;
  line(prompt: string): Promise<string>;
  close(): void;
}

function input(): Input {
  const stdin = process.stdin;
  if (stdin.isTTY) {
    // a terminal: one key press, raw; a note through readline, one question at a time
    const key = (prompt: string): Promise<string> =>
      new Promise((resolve) => {
        process.stdout.write(prompt);
        stdin.setRawMode(true);
        stdin.resume();
        stdin.once('data', (d: Buffer) => {
          stdin.setRawMode(false);
          stdin.pause();
          const k = d.toString('utf8').slice(0, 1).toLowerCase();
          const picked = k === '\u0003' || k === '\u0004' ? 'q' : k;
          process.stdout.write(`${picked}\n`);
          resolve(picked);
        });
      });
    const line = (prompt: string): Promise<string> =>
      new Promise((resolve) => {
        const rl = readline.createInterface({ input: stdin, output: process.stdout });
        rl.question(prompt, (a) => {
          rl.close();
          resolve(a);
        });
      });
    return { key, line, close: () => stdin.pause() };
  }
  // a pipe: one line per answer, the first character of a key's line
  const rl = readline.createInterface({ input: stdin, terminal: false });
  const pending: string[] = [];
  const waiting: ((l: string | null) => void)[] = [];
  let ended = false;
  rl.on('line', (l) => (waiting.length ? waiting.shift()!(l) : pending.push(l)));
  rl.on('close', () => {
    ended = true;
    for (const w of waiting.splice(0)) w(null);
  });
  const next = (prompt: string): Promise<string | null> => {
    process.stdout.write(prompt);
    if (pending.length) return Promise.resolve(pending.shift()!);
    if (ended) return Promise.resolve(null);
    return new Promise((r) => waiting.push(r));
  };
  return {
    key: (p) => next(p).then((l) => (l === null ? 'q' : l.trim().slice(0, 1).toLowerCase())), // the input ended: quit
    line: (p) => next(p).then((l) => l ?? ''),
    close: () => rl.close(),
  };
}

const KEYS: Record<string, Choice> = { c: 'confirmed', d: 'dismissed', n: 'needs_info' };

/** Fire a confirmed flag's alerts and say how each went. */
async function alert(q: QueuedFlag, webhooks: readonly Webhook[], resumeOnly = false): Promise<void> {
  for (const o of await fireAlerts({ experiment_id: q.experiment_id, rollout_id: q.rollout_id, trajectory: q.trajectory, flag_id: q.flag.flag_id }, webhooks, { resumeOnly })) {
    if (o.already) continue;
    process.stdout.write(o.ok ? `alert ${q.flag.flag_id} → ${o.target}: delivered (try ${o.attempts})\n` : `alert ${q.flag.flag_id} → ${o.target}: not delivered after ${o.attempts} tries (${o.error})\n`);
  }
}

/** Deliveries an earlier run began and did not finish (a kill during the retries): taken up now. */
async function resumeAlerts(queue: readonly QueuedFlag[], webhooks: readonly Webhook[]): Promise<void> {
  const targets = new Set(webhooks.map((w) => webhookTarget(w.url)));
  for (const q of queue) {
    if (q.state !== 'confirmed') continue;
    const open = [...targets].some((t) => {
      const mine = q.alerts.filter((a) => a.target === t);
      return mine.length > 0 && !mine.some((a) => a.ok || a.final);
    });
    if (open) await alert(q, webhooks, true).catch((err) => process.stdout.write(`alert ${q.flag.flag_id}: ${oneLine((err as Error).message)}\n`));
  }
}

async function interactive(store: Store, layout: Layout, queue: QueuedFlag[], reviewer: string, webhooks: readonly Webhook[]): Promise<void> {
  if (queue.length === 0) {
    process.stdout.write('no flags to review\n');
    return;
  }
  if (!reviewer.trim()) throw new UserError('a decision needs a reviewer: pass --reviewer or set $USER');
  const io = input();
  let decided = 0;
  try {
    for (const [i, q] of queue.entries()) {
      process.stdout.write(renderFlag(q, readTrajectory(q.trajectory).events, i + 1, queue.length) + '\n');
      let k = '';
      while (!['c', 'd', 'n', 's', 'q'].includes(k)) k = await io.key('[c]onfirm  [d]ismiss  [n]eeds info  [s]kip  [q]uit > ');
      if (k === 'q') break;
      if (k === 's') continue;
      const note = await io.line('note (Enter for none) > ');
      try {
        await decide(store, q, KEYS[k]!, reviewer, note);
        decided++;
        process.stdout.write(`${KEYS[k]} by ${reviewer}\n`);
        if (KEYS[k] === 'confirmed') await alert(q, webhooks);
      } catch (err) {
        process.stdout.write(`not recorded: ${oneLine((err as Error).message)}\n`);
      }
    }
  } finally {
    io.close();
  }
  process.stdout.write(`${decided} decision(s) recorded under ${layout.home}\n`);
}
