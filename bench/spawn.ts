// What starting a process costs outlast's event loop, directly (Node's spawn: fork() of this whole
// process) and through the spawner process (src/sandbox/spawner.ts), as this process's memory
// grows. For each heap size: the time spawn() blocks the event loop (direct: the synchronous
// spawn() call; spawner: sending the request), and the time to run `true` to completion.
//
//   npm run build && node dist/bench/spawn.js [--n 100] [--heaps 0,250,1000]
import { spawn } from 'node:child_process';
import { spawnTree, spawner } from '../src/sandbox/spawner.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(name);
  return i === -1 ? def : process.argv[i + 1]!;
}

async function direct(n: number): Promise<{ block: number; total: number }> {
  let block = 0;
  const t = performance.now();
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const c = spawn('/bin/true');
    block += performance.now() - t0;
    await new Promise((r) => c.on('close', r));
  }
  return { block: block / n, total: (performance.now() - t) / n };
}

async function viaSpawner(n: number): Promise<{ block: number; total: number }> {
  const via = spawner(null)!;
  let block = 0;
  const t = performance.now();
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const c = spawnTree({ file: '/bin/true', args: [], stdin: '', cap: 1024 }, via);
    block += performance.now() - t0;
    await new Promise((r) => c.on('close', r));
  }
  return { block: block / n, total: (performance.now() - t) / n };
}

async function main(): Promise<void> {
  const n = Number(arg('--n', '100'));
  const heaps = arg('--heaps', '0,250,1000').split(',').map(Number);
  const hold: Buffer[] = [];
  const rows: string[] = [];
  await viaSpawner(5); // start the spawner before measuring
  for (const mb of heaps) {
    while (hold.length < mb) hold.push(Buffer.alloc(1 << 20, 1));
    const rss = process.memoryUsage().rss / 1e6;
    const d = await direct(n);
    const s = await viaSpawner(n);
    rows.push(`| ${rss.toFixed(0)} | ${d.block.toFixed(2)} | ${d.total.toFixed(2)} | ${s.block.toFixed(3)} | ${s.total.toFixed(2)} |`);
  }
  process.stdout.write('| outlast RSS MB | direct: loop blocked ms | direct: spawn to exit ms | spawner: loop blocked ms | spawner: spawn to exit ms |\n| --- | --- | --- | --- | --- |\n' + rows.join('\n') + '\n');
  process.exit(0);
}

void main();
