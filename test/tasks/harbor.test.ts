// Harbor / Terminal-Bench 2 task directories: detection, WORKDIR, COPY/ADD replay, the ignored list.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDockerfile, expandVars, globToRegExp, dockerignoreMatcher } from '../../src/tasks/dockerfile.js';
import { isHarborTask, planHarborWorkspace } from '../../src/tasks/harbor.js';
import { loadTask } from '../../src/tasks/load.js';
import { cleanup, EXAMPLES, harborTask, listTree, tmp } from './helpers.js';

afterAll(cleanup);

const load = (dir: string, cacheDir = tmp('outlast-cache-')) => loadTask(dir, { cacheDir });

describe('the log-summary example', () => {
  it('loads as Harbor with /app, the COPY applied and the rest listed as ignored', async () => {
    const cacheDir = tmp('outlast-cache-');
    const dir = path.join(EXAMPLES, 'log-summary');
    const t = await loadTask(dir, { cacheDir });
    expect(t.format).toBe('harbor');
    expect(t.name).toBe('log-summary');
    expect(t.family).toBe('examples');
    // [environment] cpus and storage_mb become the CPU quota and the workspace quota
    expect(t.sandbox.cpus).toBe(1);
    expect(t.workspace_quota.mb).toBe(10240);
    expect(t.workdir).toBe('/app');
    expect(t.verifier).toEqual({ kind: 'command', command: 'bash /tests/test.sh', timeout_sec: 120 });
    expect(t.agent_timeout_sec).toBe(600);
    expect(t.tests_dir).toBe(path.join(dir, 'tests'));
    expect(t.solution_dir).toBe(path.join(dir, 'solution'));
    expect(t.metadata).toMatchObject({ author_name: 'outlast examples', difficulty: 'easy', category: 'data-processing', harbor_version: '1.0' });
    expect(t.sandbox.memory_mb).toBe(4096);
    expect(t.requires.gpu).toBe(false);
    expect(t.workspace_dir).not.toBeNull();
    expect(t.workspace_dir!.startsWith(cacheDir)).toBe(true);
    expect(listTree(t.workspace_dir!)).toEqual(['NOTES.txt', 'access_log']);
    expect(fs.readFileSync(path.join(t.workspace_dir!, 'access_log'))).toEqual(fs.readFileSync(path.join(dir, 'environment', 'access_log')));
    const df = 'environment/Dockerfile';
    expect(t.ignored).toEqual([
      'task.toml: [environment] build_timeout_sec = 600 — nothing is built',
      `${df}:1: FROM python:3.12-slim-bookworm — base image not used; commands run on this machine's own system (read-only)`,
      `${df}:3: RUN apt-get update && apt-get install -y --no-install-recommends jq && rm -rf /var/lib/apt/lists/* — not run; whatever it would install or create is missing unless this machine already has it`,
      `${df}:11: ENV PYTHONDONTWRITEBYTECODE=1 — not set in the sandbox (only used to expand $VARS in WORKDIR, COPY and ADD)`,
      `${df}:12: CMD ["bash"] — not run`,
    ]);
    for (const line of t.ignored) expect(line).not.toMatch(/\n/);
  });

  it('reuses the materialised workspace on the next load', async () => {
    const cacheDir = tmp('outlast-cache-');
    const a = await load(path.join(EXAMPLES, 'log-summary'), cacheDir);
    const b = await load(path.join(EXAMPLES, 'log-summary'), cacheDir);
    expect(b.workspace_dir).toBe(a.workspace_dir);
    expect(fs.readdirSync(path.join(cacheDir, 'harbor-workspaces'))).toHaveLength(1);
  });
});

describe('detection', () => {
  it('an environment/ directory makes a Harbor task', async () => {
    const dir = harborTask({ 'task.toml': '' });
    expect((await load(dir)).format).toBe('harbor');
  });
  it('Harbor-only fields without environment/ make a Harbor task', async () => {
    const dir = harborTask({ 'environment/Dockerfile': null, 'environment/data.txt': null });
    fs.rmSync(path.join(dir, 'environment'), { recursive: true, force: true });
    const t = await load(dir);
    expect(t.format).toBe('harbor');
    expect(t.workdir).toBe('/app');
    expect(t.workspace_dir).toBeNull();
  });
  it('outlast-only sections mean native', async () => {
    expect(await isHarborTask(tmp(), { limits: { turns: 3 }, metadata: {} })).toBe(false);
    expect(await isHarborTask(tmp(), { task: { name: 'x' } })).toBe(false);
    expect(await isHarborTask(tmp(), { version: '1.0' })).toBe(true);
    expect(await isHarborTask(tmp(), { task: { name: 'x', authors: [] } })).toBe(true);
  });
});

describe('task.toml fields', () => {
  it('uses timeouts, task name, GPU and memory; lists the rest', async () => {
    const dir = harborTask({
      'task.toml': `schema_version = "1.1"
source = "terminal-bench"
[task]
name = "org/thing"
description = "d"
authors = [{ name = "A", email = "a@x" }]
keywords = ["k"]
[metadata]
category = "c"
[verifier]
timeout_sec = 90.0
env = { API_KEY = "x" }
[agent]
timeout_sec = 300.0
user = "agent"
[solution]
env = { A = "b" }
[environment]
docker_image = "org/img:1"
memory_mb = 8192
gpus = 1
allow_internet = true
[limits]
turns = 7
`,
    });
    const t = await load(dir);
    expect(t.name).toBe('org/thing');
    expect(t.verifier.timeout_sec).toBe(90);
    expect(t.agent_timeout_sec).toBe(300);
    expect(t.requires.gpu).toBe(true);
    expect(t.sandbox.memory_mb).toBe(8192);
    expect(t.limits).toEqual({ turns: 7 });
    expect(t.metadata).toMatchObject({ category: 'c', description: 'd', keywords: ['k'], harbor_schema_version: '1.1', source: 'terminal-bench' });
    expect(t.ignored).toEqual(
      expect.arrayContaining([
        'task.toml: [verifier] env = {"API_KEY":"x"} — not passed to the verifier',
        'task.toml: [agent] user = "agent" — not applied; the agent runs as outlast\'s own sandbox identity (docs/security.md)',
        'task.toml: [solution] env = {"A":"b"} — not passed to the oracle',
        'task.toml: [environment] docker_image = "org/img:1" — the image is not pulled; commands run on this machine\'s system',
        'task.toml: [environment] allow_internet = true — sandboxes never have network access',
      ]),
    );
  });

  it('memory in the deprecated "4G" form raises the memory limit only above the default', async () => {
    const big = await load(harborTask({ 'task.toml': '[environment]\nmemory = "6G"\n' }));
    expect(big.sandbox.memory_mb).toBe(6144);
    const small = await load(harborTask({ 'task.toml': '[environment]\nmemory_mb = 1024\n' }));
    expect(small.sandbox.memory_mb).toBe(4096);
  });

  it('lists a field it does not know instead of failing', async () => {
    const t = await load(harborTask({ 'task.toml': 'version = "1.0"\nmystery = 3\n[environment]\nfancy = "yes"\n' }));
    expect(t.ignored).toContain('task.toml: mystery = 3 — not a field outlast knows; ignored');
    expect(t.ignored).toContain('task.toml: [environment] fancy = "yes" — not a field outlast knows; ignored');
  });
});

describe('Dockerfile replay', () => {
  async function plan(dockerfile: string, files: Record<string, string> = {}) {
    const over: Record<string, string | null> = { 'environment/Dockerfile': dockerfile, 'environment/data.txt': null };
    for (const [k, v] of Object.entries(files)) over[`environment/${k}`] = v;
    const dir = harborTask(over);
    return { dir, plan: await planHarborWorkspace(dir), task: await load(dir) };
  }

  it('defaults the workdir to /app and resolves relative WORKDIRs', async () => {
    expect((await plan('FROM x\nCOPY a.txt ./\n', { 'a.txt': 'a' })).plan.workdir).toBe('/app');
    const { task } = await plan('FROM x\nWORKDIR /srv\nWORKDIR project\nCOPY a.txt .\n', { 'a.txt': 'a' });
    expect(task.workdir).toBe('/srv/project');
    expect(listTree(task.workspace_dir!)).toEqual(['a.txt']);
  });

  it('copies directories, globs and renames, and keeps the exec bit', async () => {
    const { task } = await plan(
      [
        'FROM x',
        'WORKDIR /app',
        'COPY src/ /app/src/',
        'COPY *.py ./',
        'COPY ["conf/app.ini", "/app/config.ini"]',
        'COPY --chmod=755 run /app/bin/',
        'ADD notes.md /app/docs/notes.md',
      ].join('\n'),
      {
        'src/main.py': 'print(1)\n',
        'src/lib/util.py': 'x = 1\n',
        'a.py': 'a',
        'b.py': '#!/usr/bin/env python3\n',
        'conf/app.ini': '[x]\n',
        run: 'echo run\n',
        'notes.md': '# notes\n',
      },
    );
    const ws = task.workspace_dir!;
    expect(listTree(ws)).toEqual([
      'a.py',
      'b.py',
      'bin/',
      'bin/run',
      'config.ini',
      'docs/',
      'docs/notes.md',
      'src/',
      'src/lib/',
      'src/lib/util.py',
      'src/main.py',
    ]);
    expect(fs.statSync(path.join(ws, 'b.py')).mode & 0o111).not.toBe(0);
    expect(fs.statSync(path.join(ws, 'a.py')).mode & 0o111).toBe(0);
    expect(fs.statSync(path.join(ws, 'bin/run')).mode & 0o777).toBe(0o755);
    expect(fs.readFileSync(path.join(ws, 'config.ini'), 'utf8')).toBe('[x]\n');
  });

  it('COPY . copies the whole build context, minus .dockerignore', async () => {
    const { task } = await plan('FROM x\nWORKDIR /app\nCOPY . .\n', {
      '.dockerignore': '*.log\nsecret/\n!keep.log\n',
      'main.py': 'x',
      'debug.log': 'x',
      'keep.log': 'x',
      'secret/key': 'x',
    });
    expect(listTree(task.workspace_dir!)).toEqual(['.dockerignore', 'Dockerfile', 'keep.log', 'main.py']);
  });

  it('lists copies that land outside the workspace, and copies from other stages', async () => {
    const { task } = await plan(
      ['FROM golang:1.22 AS build', 'RUN go build -o /out/tool .', 'FROM ubuntu:24.04', 'COPY --from=build /out/tool /usr/local/bin/tool', 'COPY helper.sh /usr/local/bin/', 'WORKDIR /app', 'COPY a.txt .'].join('\n'),
      { 'helper.sh': '#!/bin/sh\n', 'a.txt': 'a' },
    );
    expect(listTree(task.workspace_dir!)).toEqual(['a.txt']);
    const df = 'environment/Dockerfile';
    expect(task.ignored).toEqual([
      `${df}:1: FROM golang:1.22 AS build — in build stage "build", which the final image is not built from`,
      `${df}:2: RUN go build -o /out/tool . — in build stage "build", which the final image is not built from`,
      `${df}:3: FROM ubuntu:24.04 — base image not used; commands run on this machine's own system (read-only)`,
      `${df}:4: COPY --from=build /out/tool /usr/local/bin/tool — copies from another image or build stage ("build"), which is not built`,
      `${df}:5: COPY helper.sh /usr/local/bin/ — 1 file land outside the workspace /app (in /usr/local/bin); not copied`,
    ]);
  });

  it('accepts a WORKDIR below /tmp (the workspace replaces the private /tmp there)', async () => {
    const { task } = await plan('FROM x\nWORKDIR /tmp/project\nCOPY a.txt .\n', { 'a.txt': 'a' });
    expect(task.workdir).toBe('/tmp/project');
    expect(listTree(task.workspace_dir!)).toEqual(['a.txt']);
  });

  it('follows the final stage back through the stages it is built FROM', async () => {
    const { task } = await plan(['FROM ubuntu AS base', 'WORKDIR /app', 'COPY a.txt .', 'FROM base', 'COPY b.txt .'].join('\n'), { 'a.txt': 'a', 'b.txt': 'b' });
    expect(task.workdir).toBe('/app');
    expect(listTree(task.workspace_dir!)).toEqual(['a.txt', 'b.txt']);
  });

  it('expands ARG and ENV in WORKDIR and COPY, and handles continuations, heredocs and comments', async () => {
    const { task } = await plan(
      [
        '# syntax=docker/dockerfile:1',
        'FROM x',
        'ARG APP=/srv/app',
        'ENV DATA=data',
        'WORKDIR ${APP}',
        'RUN <<EOF',
        'COPY not-an-instruction.txt /srv/app/',
        'EOF',
        'COPY \\',
        '  # a comment inside a continuation',
        '  a.txt \\',
        '  $DATA/',
      ].join('\n'),
      { 'a.txt': 'a' },
    );
    expect(task.workdir).toBe('/srv/app');
    expect(listTree(task.workspace_dir!)).toEqual(['data/', 'data/a.txt']);
    expect(task.ignored.some((l) => l.includes(':6: RUN <<EOF'))).toBe(true);
  });

  it('ignores ADD of URLs and archives, and other instructions, one line each', async () => {
    const { task } = await plan(
      ['FROM x', 'WORKDIR /app', 'ADD https://example.com/x.tar.gz /app/', 'ADD pkg.tar.gz /app/', 'USER agent', 'EXPOSE 80', 'COPY a.txt .'].join('\n'),
      { 'pkg.tar.gz': 'not really', 'a.txt': 'a' },
    );
    expect(listTree(task.workspace_dir!)).toEqual(['a.txt']);
    expect(task.ignored.filter((l) => l.startsWith('environment/Dockerfile'))).toEqual([
      "environment/Dockerfile:1: FROM x — base image not used; commands run on this machine's own system (read-only)",
      'environment/Dockerfile:3: ADD https://example.com/x.tar.gz /app/ — remote source https://example.com/x.tar.gz is not fetched (no network)',
      'environment/Dockerfile:4: ADD pkg.tar.gz /app/ — local archive pkg.tar.gz is not extracted',
      "environment/Dockerfile:5: USER agent — not applied; commands run as outlast's own sandbox identity",
      'environment/Dockerfile:6: EXPOSE 80 — no effect without Docker',
    ]);
  });

  it('a missing COPY source is an error naming the Dockerfile line', async () => {
    const dir = harborTask({ 'environment/Dockerfile': 'FROM x\nWORKDIR /app\nCOPY nope.txt .\n' });
    await expect(load(dir)).rejects.toThrow(/environment\/Dockerfile:3: COPY: source "nope.txt" not found in environment\//);
  });

  it('a COPY source outside the build context is an error', async () => {
    const dir = harborTask({ 'environment/Dockerfile': 'FROM x\nCOPY ../task.toml /app/\n' });
    await expect(load(dir)).rejects.toThrow(/Dockerfile:2: COPY: source "..\/task.toml" is outside the build context/);
  });

  it('a Dockerfile without COPY gives an empty workspace (null)', async () => {
    const t = await load(harborTask({ 'environment/Dockerfile': 'FROM x\nWORKDIR /app\nRUN echo hi > /app/x\n', 'environment/data.txt': null }));
    expect(t.workspace_dir).toBeNull();
    expect(t.workdir).toBe('/app');
  });
});

describe('Dockerfile helpers', () => {
  it('parses instructions with their first line numbers', () => {
    const ins = parseDockerfile('FROM a\n\n# c\nRUN x \\\n  y\ncopy a b\n');
    expect(ins.map((i) => [i.line, i.keyword, i.args])).toEqual([
      [1, 'FROM', 'a'],
      [4, 'RUN', 'x   y'],
      [6, 'COPY', 'a b'],
    ]);
  });
  it('skips heredoc bodies, also with a space after <<', () => {
    const ins = parseDockerfile("RUN cat > /a << 'EOF'\nFROM not-an-instruction\nEOF\nRUN <<-X\n\tnope\n\tX\nWORKDIR /w\n");
    expect(ins.map((i) => [i.line, i.keyword])).toEqual([
      [1, 'RUN'],
      [4, 'RUN'],
      [7, 'WORKDIR'],
    ]);
    expect(ins[0]!.heredocs).toEqual(['FROM not-an-instruction\n']);
  });
  it('honours the escape directive', () => {
    const ins = parseDockerfile('# escape=`\nFROM a\nRUN x `\n  y\n');
    expect(ins.map((i) => i.args)).toEqual(['a', 'x   y']);
  });
  it('expands variables as Docker does', () => {
    expect(expandVars('${A}/$B/${C:-def}/${A:+set}/\\$A', { A: 'a', B: 'b' })).toBe('a/b/def/set/$A');
  });
  it('globs never cross /', () => {
    expect(globToRegExp('*.py').test('a.py')).toBe(true);
    expect(globToRegExp('*.py').test('d/a.py')).toBe(false);
    expect(globToRegExp('d/?.[ch]').test('d/x.c')).toBe(true);
  });
  it('.dockerignore: ** crosses directories, ! re-includes, last match wins', () => {
    const ig = dockerignoreMatcher('**/*.pyc\nbuild\n!build/keep\n');
    expect(ig('a/b/c.pyc')).toBe(true);
    expect(ig('c.pyc')).toBe(true);
    expect(ig('build/x')).toBe(true);
    expect(ig('build/keep')).toBe(false);
    expect(ig('src/main.py')).toBe(false);
  });
});
