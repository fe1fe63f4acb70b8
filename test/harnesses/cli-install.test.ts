// The external CLIs' install cache and settings, without installing anything: an unknown CLI and an
// unreachable registry are one-line errors (no half-made install is left in the cache), settings are
// validated, every CLI is a registered harness, and the prompt carries the budget disclosure.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createHarness, harnessNames } from '../../src/harnesses/index.js';
import { BudgetTracker } from '../../src/harnesses/outlast/budget.js';
import { CLI_SPECS, cliPrompt, installDir } from '../../src/harnesses/cli/index.js';
import { clientProtocol } from '../../src/harnesses/cli/spec.js';
import { installError } from '../../src/harnesses/cli/install.js';
import { cli, tmpdir } from '../helpers/cli.js';

describe('outlast harness', () => {
  it('lists the four CLIs with their pinned versions', () => {
    const home = tmpdir();
    const r = cli(['harness', 'list'], { home, env: { OUTLAST_CACHE: path.join(home, 'cache') } });
    expect(r.code).toBe(0);
    for (const s of Object.values(CLI_SPECS)) expect(r.stdout).toMatch(new RegExp(`${s.name}\\s+${s.package.name.replace('/', '\\/')}@${s.package.version}.*no`));
  });

  it('an unknown CLI is a one-line error', () => {
    const r = cli(['harness', 'install', 'nope'], { home: tmpdir() });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('outlast: unknown external CLI "nope" (available: claude-code, codex, openclaw, qwen-code)');
  });

  it('an unreachable registry is a one-line error and leaves no install behind', () => {
    const home = tmpdir();
    const cache = path.join(home, 'cache');
    const r = cli(['harness', 'install', 'qwen-code'], { home, env: { OUTLAST_CACHE: cache, npm_config_registry: 'http://127.0.0.1:9/', npm_config_fetch_retries: '0' }, timeoutMs: 120_000 });
    expect(r.code).toBe(2);
    const last = r.stderr.trim().split('\n').at(-1)!;
    expect(last).toMatch(/^outlast: cannot install @qwen-code\/qwen-code@0\.24\.4: the npm registry \(http:\/\/127\.0\.0\.1:9\/\) cannot be reached \(offline\?\)/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(fs.readdirSync(path.join(cache, 'harnesses'))).toEqual([]);
    expect(fs.existsSync(installDir(CLI_SPECS['qwen-code']!.package, { OUTLAST_CACHE: cache }))).toBe(false);
  }, 150_000);

  it('names npm failures apart', () => {
    expect(installError('x@1', 'R', 'npm error code E404\nnpm error 404 Not Found')).toBe('cannot install x@1: the registry R has no such package or version');
    expect(installError('x@1', 'R', 'npm error code EACCES\nnpm error permission denied')).toBe('cannot install x@1 with npm: npm error code EACCES npm error permission denied');
  });
});

describe('CLI harness settings', () => {
  it('every CLI is a harness; settings are checked', () => {
    for (const name of Object.keys(CLI_SPECS)) expect(harnessNames()).toContain(name);
    expect(createHarness('qwen-code', { protocol: 'anthropic', grace_sec: '3' }).settings).toMatchObject({ protocol: 'anthropic', grace_sec: 3, package: '@qwen-code/qwen-code@0.24.4' });
    expect(() => createHarness('qwen-code', { idle_rounds: 3 })).toThrow('harness qwen-code: unknown setting "idle_rounds" (settings: protocol, grace_sec)');
    expect(() => createHarness('codex', { protocol: 'grpc' })).toThrow(/protocol must be one of/);
    expect(() => clientProtocol(CLI_SPECS['codex']!, 'anthropic', 'anthropic')).toThrow('codex cannot speak anthropic (it speaks openai-responses)');
    expect(clientProtocol(CLI_SPECS['claude-code']!, 'openai-chat')).toBe('anthropic');
    expect(clientProtocol(CLI_SPECS['qwen-code']!, 'openai-chat')).toBe('openai-chat');
  });

  it('the prompt is the instruction and the budget', () => {
    const p = cliPrompt('Do the thing.\n', new BudgetTracker({ wall_time_sec: 3600, tokens: 2_000_000 }));
    expect(p).toBe('Do the thing.\n\nBudget: wall time 60m, 2M tokens (input + output, all turns). When a limit is reached the run stops and your workspace is graded as it is, so keep it in a working state.\nWhen the task is done, stop and say so: the workspace is then graded as it is.\n');
  });
});
