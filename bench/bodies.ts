// Storage cost of recorded bodies (`[gateway] record_bodies = true`): a long tool-using conversation
// of N calls, each request carrying the whole history, stored with the gateway's BodyStore. Prints
// the bytes a naive store (every request body whole) would take against what the content-addressed,
// prefix-sharing store takes, per 1,000 calls, and the time one putRequest takes at the end.
//
//   npm run build && node dist/bench/bodies.js [--calls 1000]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BodyStore } from '../src/gateway/bodies.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

function dirBytes(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  for (const f of fs.readdirSync(dir)) {
    bytes += fs.statSync(path.join(dir, f)).size;
    files++;
  }
  return { bytes, files };
}

function main(): void {
  const calls = Number(arg('--calls') ?? 1000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outlast-bench-bodies-'));
  const store = new BodyStore(path.join(dir, 'bodies'));
  const tools = Array.from({ length: 8 }, (_, i) => ({ type: 'function', function: { name: `tool_${i}`, description: 'd'.repeat(400), parameters: { type: 'object', properties: { path: { type: 'string' } } } } }));
  const messages: unknown[] = [{ role: 'system', content: 'You are an agent. '.repeat(450) }];
  let naive = 0;
  let lastPutMs = 0;
  for (let i = 0; i < calls; i++) {
    messages.push({ role: 'user', content: `step ${i}: ` + 'u'.repeat(280) });
    const body = { model: 'm', stream: true, max_tokens: 8192, tools, messages };
    naive += Buffer.byteLength(JSON.stringify(body));
    const t = performance.now();
    store.putRequest(body);
    lastPutMs = performance.now() - t;
    const id = `call_${i}`;
    messages.push({ role: 'assistant', content: 'a'.repeat(300), tool_calls: [{ id, type: 'function', function: { name: 'tool_1', arguments: JSON.stringify({ path: `f${i}.txt` }) } }] });
    messages.push({ role: 'tool', tool_call_id: id, content: 'r'.repeat(1500) });
    store.putResponse(`data: ${JSON.stringify({ choices: [{ delta: { content: 'a'.repeat(300) } }] })}\n\ndata: [DONE]\n\n`);
  }
  const { bytes, files } = dirBytes(path.join(dir, 'bodies'));
  const per1000 = (n: number) => (n / calls) * 1000;
  const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
  const rows = [
    ['calls', String(calls)],
    ['last request body (KiB)', (Buffer.byteLength(JSON.stringify({ model: 'm', stream: true, max_tokens: 8192, tools, messages })) / 1024).toFixed(0)],
    ['naive store: every request whole (MiB per 1,000 calls)', mb(per1000(naive))],
    ['content-addressed store (MiB per 1,000 calls)', mb(per1000(bytes))],
    ['ratio naive / stored', (naive / bytes).toFixed(1)],
    ['files', String(files)],
    ['putRequest at the last call (ms)', lastPutMs.toFixed(2)],
  ];
  process.stdout.write('| measure | value |\n| --- | --- |\n' + rows.map((r) => `| ${r[0]} | ${r[1]} |`).join('\n') + '\n');
  fs.rmSync(dir, { recursive: true, force: true });
}

main();
