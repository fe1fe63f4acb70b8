// The gateway stays a pipeline of small parts: no function in src/gateway/ longer than 80 lines
// (a brace-counting scan of function and method bodies; strings and comments are skipped).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../../src/gateway');
const LIMIT = 80;
const START = /^\s*(export\s+)?(async\s+)?(function\s*\*?\s*\w+|((private|readonly|static|get|set|async|public|protected)\s+)*\w+\s*(<[^>]*>)?\(.*\)\s*(:\s*[^={]+)?\{$|.*=>\s*\{$|constructor\()/;

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

/** Lines of each function body, by scanning braces from a line that starts one. */
export function longFunctions(file: string, limit = LIMIT): string[] {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const out: string[] = [];
  lines.forEach((line, i) => {
    const t = line.trim();
    if (!START.test(line) || /^(if|for|while|switch|\/\/|\*|return)\b/.test(t)) return;
    let depth = 0;
    let opened = false;
    let j = i;
    for (; j < lines.length; j++) {
      const code = lines[j]!.replace(/\/\/.*$/, '').replace(/'(\\.|[^'])*'|"(\\.|[^"])*"|`(\\.|[^`])*`|\/(\\.|[^/\n])+\/[gimsuy]*/g, '');
      for (const c of code) {
        if (c === '{') (depth++, (opened = true));
        else if (c === '}') depth--;
      }
      if (opened && depth <= 0) break;
    }
    if (j - i + 1 > limit) out.push(`${path.relative(ROOT, file)}:${i + 1} (${j - i + 1} lines) ${t.slice(0, 60)}`);
  });
  return out;
}

describe('src/gateway code shape', () => {
  it(`no function longer than ${LIMIT} lines`, () => {
    const long = files(ROOT).flatMap((f) => longFunctions(f));
    expect(long).toEqual([]);
  });

  it('the scan finds a long function (so an empty result means something)', () => {
    const tmp = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'outlast-shape-')), 'x.ts');
    fs.writeFileSync(tmp, `export function big(): number {\n${'  let a = 1;\n'.repeat(90)}  return 1;\n}\n`);
    expect(longFunctions(tmp)).toHaveLength(1);
  });
});
