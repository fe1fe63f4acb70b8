#!/usr/bin/env node
// Turns one request of a scripted model record file (`outlast scripted-model --record FILE`) into a
// test fixture (test/gateway/fixtures/cli-requests/): long texts cut short, machine paths, ids and
// host details replaced by fixed stand-ins, only the protocol's own headers kept. The structure (every
// field, block and tool) is kept whole, which is what the gateway's translation is tested on.
//   node scripts/trim-cli-request.mjs RECORD.jsonl LINE OUT.json --cli NAME --version V [--keep N] [--replace FROM=TO ...]
import { readFileSync, writeFileSync } from 'node:fs';

const [file, lineArg, out, ...rest] = process.argv.slice(2);
if (!file || !lineArg || !out) {
  console.error('usage: trim-cli-request.mjs RECORD.jsonl LINE OUT.json --cli NAME --version V [--keep N] [--replace FROM=TO ...]');
  process.exit(2);
}
const opt = { keep: 240, replace: [] };
for (let i = 0; i < rest.length; i += 2) {
  const k = rest[i].replace(/^--/, '');
  if (k === 'replace') opt.replace.push(rest[i + 1].split('='));
  else opt[k] = k === 'keep' ? Number(rest[i + 1]) : rest[i + 1];
}
const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
const rec = JSON.parse(lines[Number(lineArg) - 1]);

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const HEX = /\b[0-9a-f]{40,}\b/gi;
function clean(s) {
  for (const [from, to] of opt.replace) s = s.split(from).join(to);
  return s.replace(UUID, '00000000-0000-0000-0000-000000000000').replace(HEX, '0'.repeat(16));
}
function trimString(s) {
  s = clean(s);
  return s.length > opt.keep ? `${s.slice(0, opt.keep)}…[trimmed ${s.length - opt.keep} chars]` : s;
}
/** JSON Schemas and grammars are kept whole (the translation reads them); prose is cut. */
function trim(v, key) {
  if (typeof v === 'string') return key === 'definition' || key === 'type' || key === 'name' ? clean(v) : trimString(v);
  if (Array.isArray(v)) return v.map((x) => trim(x, key));
  if (v && typeof v === 'object') {
    const o = {};
    for (const [k, x] of Object.entries(v)) o[k] = k === 'parameters' || k === 'input_schema' ? schema(x) : trim(x, k);
    return o;
  }
  return v;
}
function schema(v) {
  if (typeof v === 'string') return clean(v).slice(0, 120);
  if (Array.isArray(v)) return v.map(schema);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, schema(x)]));
  return v;
}
const headers = Object.fromEntries(Object.entries(rec.headers ?? {}).filter(([k]) => k.startsWith('anthropic-') || k === 'user-agent' || k === 'openai-beta'));
const fixture = { cli: opt.cli, version: opt.version, protocol: rec.protocol, path: rec.path, query: rec.query ?? '', headers, body: trim(rec.body) };
writeFileSync(out, JSON.stringify(fixture, null, 1) + '\n');
console.log(`${out}: ${JSON.stringify(fixture).length} bytes (record line ${lineArg}: ${JSON.stringify(rec).length})`);
