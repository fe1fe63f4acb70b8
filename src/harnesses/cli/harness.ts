// The one runner of every external agent CLI (a CliSpec): install it (cache), give the rollout its
// own gateway socket, write the CLI's config into a private HOME, and run it in ONE long exec of the
// rollout's sandbox (the workspace at task.workdir, the installed CLI read-only, the socket the only
// way out) under the supervisor; watch the gateway's record of the calls for a budget refusal and the
// limits, and stop the CLI gracefully then kill its tree; keep its native transcript as an artifact.
// See docs/harnesses.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI_HOME_MOUNT, CLI_MOUNT, CLI_NODE_MOUNT, GATEWAY_MOUNT, GATEWAY_SOCKET, SUPERVISOR_MOUNT } from '../../core/mounts.js';
import type { Outcome, Protocol } from '../../core/types.js';
import { UserError, oneLine } from '../../core/errors.js';
import { BASE_ENV, type Mount } from '../../sandbox/sandbox.js';
import { removeTree } from '../../sandbox/tree.js';
import type { Harness, HarnessContext, HarnessResult } from '../harness.js';
import { BudgetTracker } from '../outlast/budget.js';
import { ensureInstalled } from './install.js';
import { GatewayRecord } from './record.js';
import { type CliRun, type CliSpec, clientProtocol } from './spec.js';
import type { SupervisorOrders } from './supervisor.js';
import { keepTranscript, mapTranscript } from './transcript.js';

export interface CliSettings {
  /** The protocol the CLI speaks to the gateway (default: the endpoint's, when the CLI speaks it). */
  protocol?: Protocol;
  /** Seconds between the graceful signal and the kill of the whole tree (default 5). */
  grace_sec: number;
}

const PROTOCOLS: readonly Protocol[] = ['openai-chat', 'openai-responses', 'anthropic'];
/** The forwarder's port on the sandbox's own loopback (its own network namespace: always free). */
const FORWARD_PORT = 18080;
/** How often limits are checked between gateway events. */
const TICK_MS = 250;

export function resolveCliSettings(name: string, s: Record<string, unknown>): CliSettings {
  const out: CliSettings = { grace_sec: 5 };
  for (const [k, v] of Object.entries(s)) {
    if (k === 'protocol') {
      if (!PROTOCOLS.includes(v as Protocol)) throw new UserError(`harness ${name}: protocol must be one of ${PROTOCOLS.join(', ')} (got ${JSON.stringify(v)})`);
      out.protocol = v as Protocol;
    } else if (k === 'grace_sec') {
      const n = typeof v === 'string' ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isFinite(n) || n < 0 || n > 600) throw new UserError(`harness ${name}: grace_sec must be a number of seconds from 0 to 600 (got ${JSON.stringify(v)})`);
      out.grace_sec = n;
    } else throw new UserError(`harness ${name}: unknown setting "${k}" (settings: protocol, grace_sec)`);
  }
  return out;
}

/** The supervisor's compiled file (dist/src/harnesses/cli/supervisor.js, also when running from sources). */
function supervisorFile(): string {
  const here = fileURLToPath(import.meta.url);
  return here.endsWith('.js') ? path.join(path.dirname(here), 'supervisor.js') : path.resolve(path.dirname(here), '../../../dist/src/harnesses/cli/supervisor.js');
}

/** The agent's prompt: the task's instruction, then outlast's budget disclosure. */
export function cliPrompt(instruction: string, tracker: BudgetTracker): string {
  const intro = tracker.intro().replace(/ What is left is shown after your latest tool result each turn\./, '').replace(/, then call `submit`\./, '.');
  return `${instruction.trimEnd()}\n\n${intro}\nWhen the task is done, stop and say so: the workspace is then graded as it is.\n`;
}

export class CliHarness implements Harness {
  readonly name: string;
  readonly version: string;
  readonly needsModel = true;
  readonly settings: Record<string, unknown>;
  private readonly s: CliSettings;

  constructor(
    readonly spec: CliSpec,
    settings: Record<string, unknown> = {},
  ) {
    this.name = spec.name;
    this.version = spec.package.version;
    this.s = resolveCliSettings(spec.name, settings);
    this.settings = { ...this.s, package: `${spec.package.name}@${spec.package.version}`, ...(spec.node ? { node: `${spec.node.name}@${spec.node.version}` } : {}) };
  }

  async run(ctx: HarnessContext): Promise<HarnessResult> {
    const { spec } = this;
    const m = ctx.model;
    if (!m) throw new Error(`harness ${spec.name} needs a model`);
    if (!m.listenUnix) throw new Error(`harness ${spec.name}: the gateway offers no per-rollout unix socket`);
    const protocol = clientProtocol(spec, m.endpoint.protocol, this.s.protocol);
    const { modules, nodeModules } = await install(spec);
    if (ctx.signal.aborted) return { outcome: 'timeout', reason: 'stopped before the CLI started', tool_calls: 0, turns: 0 };

    const limitSec = ctx.limits.wall_time_sec ?? ctx.task.agent_timeout_sec;
    const tracker = new BudgetTracker({ ...ctx.limits, wall_time_sec: limitSec });
    for (const e of ctx.log.existing) tracker.observe(e);
    tracker.begin(Date.now());
    const record = new GatewayRecord();

    // A short host folder (unix socket paths are limited to 108 bytes): the socket's folder, mounted
    // read-only, and the private HOME, handed to the agent's identity.
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'outlast-cli-'));
    const gwDir = path.join(scratch, 'gateway');
    const home = path.join(scratch, 'home');
    fs.mkdirSync(gwDir, { mode: 0o755 });
    fs.chmodSync(scratch, 0o755);
    fs.chmodSync(gwDir, 0o755);
    fs.mkdirSync(home);
    const closeSocket = await m.listenUnix(path.join(gwDir, 'gateway.sock'));
    try {
      const node = spec.node ? `${CLI_NODE_MOUNT}/${spec.node.name}/bin/node` : `${SUPERVISOR_MOUNT}/node`;
      const r: CliRun = {
        protocol,
        base_url: `http://127.0.0.1:${FORWARD_PORT}`,
        socket: GATEWAY_SOCKET,
        token: m.token,
        model: m.endpoint.name,
        prompt: cliPrompt(ctx.task.instruction, tracker),
        home: CLI_HOME_MOUNT,
        workdir: ctx.task.workdir,
        modules: `${CLI_MOUNT}/node_modules`,
        node,
      };
      for (const [rel, content] of Object.entries(spec.files(r))) {
        const f = path.join(home, rel);
        fs.mkdirSync(path.dirname(f), { recursive: true });
        fs.writeFileSync(f, content);
      }
      fs.mkdirSync(path.join(home, '.outlast'), { recursive: true });
      await ctx.sandbox.adopt(home);

      const mounts: Mount[] = [
        // the install folder (node_modules inside it, so Node's module resolution finds the dependencies)
        { host: path.dirname(modules), target: CLI_MOUNT, readonly: true },
        { host: gwDir, target: GATEWAY_MOUNT, readonly: true },
        { host: home, target: CLI_HOME_MOUNT, readonly: false },
        { host: supervisorFile(), target: `${SUPERVISOR_MOUNT}/supervisor.mjs`, readonly: true },
        { host: process.execPath, target: `${SUPERVISOR_MOUNT}/node`, readonly: true },
        ...(nodeModules ? [{ host: nodeModules, target: CLI_NODE_MOUNT, readonly: true }] : []),
      ];
      const bin = `${r.modules}/${spec.bin.path}`;
      const orders: SupervisorOrders = {
        argv: [...(spec.bin.node ? [node] : []), bin, ...spec.args(r)],
        env: { ...BASE_ENV, PATH: `${path.posix.dirname(node)}:${r.modules}/.bin:${BASE_ENV.PATH}`, ...spec.env(r), HOME: CLI_HOME_MOUNT },
        cwd: ctx.task.workdir,
        socket: GATEWAY_SOCKET,
        port: FORWARD_PORT,
        stop_file: `${GATEWAY_MOUNT}/stop`,
        grace_ms: this.s.grace_sec * 1000,
        stdout_file: `${CLI_HOME_MOUNT}/.outlast/stdout.jsonl`,
        stderr_file: `${CLI_HOME_MOUNT}/.outlast/stderr.txt`,
      };

      // Stopping: the stop file asks the supervisor for SIGTERM, then SIGKILL after the grace; if the
      // exec is still there a little later, its whole tree is killed from outside.
      const kill = new AbortController();
      let stopped: { outcome: Outcome; reason: string } | null = null;
      // The log's listeners stay for the rollout's life: once the exec is over they do nothing.
      let live = true;
      const stop = (outcome: Outcome, reason: string) => {
        if (stopped || !live) return;
        stopped = { outcome, reason };
        try {
          fs.writeFileSync(path.join(gwDir, 'stop'), reason);
        } catch {
          kill.abort(); // no way to ask: the kill is all that is left
        }
        setTimeout(() => kill.abort(), orders.grace_ms + 2000).unref();
      };
      const check = () => {
        if (record.budgetRefusal) return stop('budget_exhausted', record.budgetRefusal);
        if (ctx.limits.turns !== undefined && record.turns >= ctx.limits.turns) return stop('budget_exhausted', `turn limit reached (${record.turns} of ${ctx.limits.turns} turns)`);
        const why = tracker.exhausted(Date.now());
        if (why) stop('budget_exhausted', why);
      };
      ctx.log.onEvent((e) => {
        if (!live) return;
        tracker.observe(e);
        record.observe(e);
        if (!stopped) check();
      });
      const onAbort = () => stop('timeout', 'the runner stopped the harness');
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      const tick = setInterval(() => !stopped && check(), TICK_MS);
      const sandboxLimits = { ...ctx.task.sandbox, wall_time_sec: limitSec + this.s.grace_sec + 30 };
      let res;
      try {
        res = await ctx.sandbox.exec({ command: `exec ${SUPERVISOR_MOUNT}/node ${SUPERVISOR_MOUNT}/supervisor.mjs`, workspace: ctx.workspace, workdir: ctx.task.workdir, mounts, env: { HOME: CLI_HOME_MOUNT }, limits: sandboxLimits, stdin: JSON.stringify(orders), signal: kill.signal });
      } finally {
        live = false;
        clearInterval(tick);
        ctx.signal.removeEventListener('abort', onAbort);
      }
      const exit = exitOf(res.output);
      const kept = await keepTranscript(home, path.join(path.dirname(ctx.log.file), 'cli'), spec.transcript);
      const mapped = await mapTranscript(path.join(home, '.outlast', 'stdout.jsonl'), ctx.log);
      const result = this.outcome(stopped, exit, res, record);
      ctx.log.append({
        type: 'note',
        level: 'info',
        message: `${spec.name} ${spec.package.version}: ${result.outcome} (${result.reason}); ${record.turns} turns, ${record.toolCalls} tool calls, ${record.calls} model calls${record.infraFailures ? `, ${record.infraFailures} failed for infrastructure reasons` : ''} (from the gateway's record); native transcript: ${kept} files in cli/${mapped ? `, ${mapped} tool results mapped` : ''}`,
      });
      return result;
    } finally {
      await closeSocket().catch(() => {});
      await removeTree(scratch).catch(() => {});
    }
  }

  private outcome(stopped: { outcome: Outcome; reason: string } | null, exit: Exit | null, res: { exit_code: number | null; timed_out: boolean; output: string; aborted?: boolean; oom_killed?: boolean }, record: GatewayRecord): HarnessResult {
    const counts = { tool_calls: record.toolCalls, turns: record.turns };
    if (stopped) return { ...counts, ...stopped };
    if (res.timed_out) return { ...counts, outcome: 'timeout', reason: `${this.spec.name} ran past the sandbox's time limit and was killed` };
    if (!exit) {
      if (res.oom_killed) return { ...counts, outcome: 'completed', reason: `${this.spec.name} was killed for going over the sandbox's memory limit` };
      throw new Error(`the ${this.spec.name} supervisor ended without a word (exit ${res.exit_code}): ${res.output.slice(-300)}`);
    }
    if (exit.error && exit.code === null) throw new Error(`${this.spec.name} could not start: ${exit.error}`);
    if (exit.code === 0) return { ...counts, outcome: 'completed', reason: `${this.spec.name} finished (exit 0)` };
    const f = record.lastFailure;
    if (f && record.endedByInfra()) return { ...counts, outcome: 'infra_error', reason: `${this.spec.name} exited ${exit.code ?? exit.signal} after the gateway answered ${f.status} (${f.kind}: ${f.message.slice(0, 200)})` };
    return { ...counts, outcome: 'completed', reason: `${this.spec.name} exited with ${exit.code ?? exit.signal}${exit.stderr_tail ? `: ${oneLine(exit.stderr_tail).slice(-300)}` : ''}` };
  }
}

/**
 * The CLI (and the Node it needs) from the install cache, installed on first use. A failed install
 * (offline) is the infrastructure's failure, not the task's: a plain error, so the rollout ends
 * infra_error (resumable) with the install's one line.
 */
async function install(spec: CliSpec): Promise<{ modules: string; nodeModules: string | null }> {
  try {
    const nodeModules = spec.node ? await ensureInstalled(spec.node) : null;
    const modules = await ensureInstalled(spec.package, { executables: spec.executables, ...(nodeModules ? { nodeBinDir: path.join(nodeModules, spec.node!.name, 'bin') } : {}) });
    return { modules, nodeModules };
  } catch (err) {
    throw new Error((err as Error).message);
  }
}

interface Exit {
  code: number | null;
  signal: string | null;
  stopped: boolean;
  error?: string;
  /** The end of the CLI's stderr, when it exited non-zero (the CLI's words: shown, never parsed). */
  stderr_tail?: string;
}

/** The supervisor's last line. */
function exitOf(output: string): Exit | null {
  const i = output.lastIndexOf('OUTLAST-CLI-EXIT ');
  if (i === -1) return null;
  try {
    return JSON.parse(output.slice(i + 'OUTLAST-CLI-EXIT '.length).split('\n')[0]!) as Exit;
  } catch {
    return null;
  }
}
