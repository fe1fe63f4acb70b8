// Many concurrent rollouts against a slow upstream: does outlast keep up, or does its own CPU per
// turn stretch the run? N rollouts of the built-in harness, T turns each (a bash tool call per turn,
// then submit), against the scripted model in its own process with a real provider's pace (TTFT and
// tokens/s). The ideal is one rollout's wall time alone (the same script, measured first): with
// enough concurrency every rollout should take about that long. Prints wall time vs ideal, the
// outlast process's CPU per turn, and its peak RSS.
//
//   npm run build && node dist/bench/concurrency.js [--rollouts 100] [--turns 20] [--ttft-ms 500] [--tps 50] [--workers N] [--modes session,exec,always]
//
// BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" profiles the runs' outlast processes.
//
// Modes (each a run of the N rollouts): session = the defaults (tool commands in one sandbox session
// per rollout, trajectory synced in the background); exec = a fresh sandbox per tool command
// (OUTLAST_SESSIONS=0), as before sessions; always = fsync per event (OUTLAST_FSYNC=always).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin', 'outlast.js');

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(name);
  return i === -1 ? def : process.argv[i + 1]!;
}

/** User + system CPU seconds a live process has used so far (/proc/PID/stat). */
function procCpuS(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** CPU seconds the whole machine spent busy so far (/proc/stat, all CPUs). */
function machineBusyS(): number {
  const v = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return (v.reduce((a, b) => a + b, 0) - v[3]! - v[4]!) / 100;
}

async function startModel(dir: string, turns: number, ttft: number, tps: number): Promise<{ url: string; stop: () => void; cpuS: () => number }> {
  const policy = path.join(dir, 'policy.mjs');
  fs.writeFileSync(
    policy,
    `export default function ({ messages }) {\n  const done = messages.filter((m) => m.role === 'assistant').length;\n  if (done >= ${turns - 1}) return { tool_calls: [{ name: 'submit', arguments: {} }] };\n  return { text: 'Next step.', tool_calls: [{ name: 'bash', arguments: { command: 'echo step >> log.txt' } }] };\n}\n`,
  );
  const child = spawn(process.execPath, [BIN, 'scripted-model', '--script', policy, '--port', '0', '--ttft-ms', String(ttft), '--tokens-per-sec', String(tps)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve) => readline.createInterface({ input: child.stdout! }).once('line', resolve));
  return { url: /listening on (\S+)/.exec(line)![1]!, stop: () => child.kill('SIGTERM'), cpuS: () => procCpuS(child.pid!) };
}

interface RunStats {
  wall_s: number;
  cpu_s: number;
  rss_mb: number;
  ok: boolean;
}

function runOnce(dir: string, url: string, rollouts: number, extra: string[], env: Record<string, string> = {}): RunStats {
  const home = fs.mkdtempSync(path.join(dir, 'home-'));
  const models = path.join(dir, 'models.toml');
  fs.writeFileSync(models, `[[models]]\nname = "m"\nprotocol = "openai-chat"\nbase_url = "${url}/v1"\n`);
  const task = path.join(dir, 'task');
  const r = spawnSync('/usr/bin/time', ['-f', 'TIME %e %U %S %M', process.execPath, ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean), BIN, '--home', home, 'run', task, '--harness', 'outlast', '--model', 'm', '--models', models, '--repeats', String(rollouts), '--concurrency', String(rollouts), ...extra], { encoding: 'utf8', env: { ...process.env, CI: '1', ...env }, maxBuffer: 64 << 20 });
  const m = /TIME (\S+) (\S+) (\S+) (\d+)/.exec(r.stderr);
  if (!m) throw new Error(`no timing: ${r.stderr.slice(-2000)}`);
  return { wall_s: Number(m[1]), cpu_s: Number(m[2]) + Number(m[3]), rss_mb: Number(m[4]) / 1024, ok: r.status === 0 };
}

async function main(): Promise<void> {
  const rollouts = Number(arg('--rollouts', '100'));
  const turns = Number(arg('--turns', '20'));
  const ttft = Number(arg('--ttft-ms', '500'));
  const tps = Number(arg('--tps', '50'));
  const workers = arg('--workers', '');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outlast-bench-conc-'));
  fs.mkdirSync(path.join(dir, 'task', 'workspace'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'task', 'tests'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'task', 'task.toml'), '[task]\nname = "steps"\n');
  fs.writeFileSync(path.join(dir, 'task', 'instruction.md'), 'Append a line to log.txt, one step at a time, then submit.\n');
  fs.writeFileSync(path.join(dir, 'task', 'workspace', '.keep'), '');
  fs.writeFileSync(path.join(dir, 'task', 'tests', 'test.sh'), '#!/bin/bash\n[ -s log.txt ]\n');
  const model = await startModel(dir, turns, ttft, tps);
  const extra = workers ? ['--workers', workers] : [];
  try {
    process.stderr.write(`bench: ${rollouts} rollouts x ${turns} turns, TTFT ${ttft} ms, ${tps} tok/s, ${os.cpus().length} CPUs, load ${os.loadavg()[0]!.toFixed(2)}${workers ? `, --workers ${workers}` : ''}\n`);
    // The ideal: one rollout alone (trajectory synced in the background, the default).
    const one = runOnce(dir, model.url, 1, extra);
    const MODES: Record<string, Record<string, string>> = { session: {}, exec: { OUTLAST_SESSIONS: '0' }, always: { OUTLAST_FSYNC: 'always' }, never: { OUTLAST_FSYNC: 'never' } };
    const modes = arg('--modes', 'session,exec').split(',');
    for (const m of modes) if (!MODES[m]) throw new Error(`unknown mode ${m}: expected ${Object.keys(MODES).join(', ')}`);
    const runs = modes.map((m) => {
      const m0 = model.cpuS();
      const b0 = machineBusyS();
      const r = runOnce(dir, model.url, rollouts, extra, MODES[m]);
      return { m, r, modelCpu: model.cpuS() - m0, busy: machineBusyS() - b0 };
    });
    const head = ['measure', 'alone', ...runs.map((x) => `${rollouts} concurrent, ${x.m}`)];
    const rows = [
      ['wall s', one.wall_s.toFixed(1), ...runs.map((x) => x.r.wall_s.toFixed(1))],
      ['wall / ideal (one rollout alone)', '1.00', ...runs.map((x) => (x.r.wall_s / one.wall_s).toFixed(2))],
      ['CPU s (outlast and the processes it waited for)', one.cpu_s.toFixed(1), ...runs.map((x) => x.r.cpu_s.toFixed(1))],
      ['CPU ms per turn', ((one.cpu_s * 1000) / turns).toFixed(1), ...runs.map((x) => ((x.r.cpu_s * 1000) / (turns * rollouts)).toFixed(1))],
      ['CPU s of the scripted model (the upstream)', '-', ...runs.map((x) => x.modelCpu.toFixed(1))],
      ['CPU s of the whole machine during the run (all processes, kernel)', '-', ...runs.map((x) => x.busy.toFixed(1))],
      ['peak RSS MiB (largest process)', one.rss_mb.toFixed(0), ...runs.map((x) => x.r.rss_mb.toFixed(0))],
      ['exit ok', String(one.ok), ...runs.map((x) => String(x.r.ok))],
    ];
    process.stdout.write(`| ${head.join(' | ')} |\n|${head.map(() => ' --- ').join('|')}|\n` + rows.map((r) => `| ${r.join(' | ')} |`).join('\n') + '\n');
    process.stdout.write(`load average after: ${os.loadavg()[0]!.toFixed(2)}\n`);
  } finally {
    model.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(String((e as Error).stack ?? e) + '\n');
  process.exit(1);
});
