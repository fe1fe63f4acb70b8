// Free-form (custom) tool calls in a script, and the built-in `cli-edit` policy that drives any agent
// CLI: fed the real first requests of Claude Code and Codex (test/gateway/fixtures/cli-requests/), it
// calls their own shell or file tool; the shell command it writes is run by a real bash here.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliEditPolicy, parseTurn, type CliEditSpec } from '../../../src/models/scripted/index.js';
import { loadFixture } from '../../gateway/cli-fixtures.js';
import { openai, post, serve } from './helpers.js';

const PATCH = '*** Begin Patch\n*** Add File: a.txt\n+hi\n*** End Patch\n';
const SPEC: CliEditSpec = { path: 'notes/out.txt', content: `line one\nit's "quoted" $HOME \`x\`\n` };

describe('scripted model: custom tool calls', () => {
  it('a call with `input` is a custom_tool_call in Responses, streamed and not', async () => {
    const m = await serve({ script: [{ tool_calls: [{ name: 'apply_patch', input: PATCH }] }], loop: true });
    const c = openai(m);
    const tools = [{ type: 'custom' as const, name: 'apply_patch' }];
    const r = await c.responses.create({ model: 'm', input: 'x', tools });
    expect(r.output[0]).toMatchObject({ type: 'custom_tool_call', name: 'apply_patch', input: PATCH, call_id: 'call_0_0' });
    const s = c.responses.stream({ model: 'm', input: 'x', tools });
    let streamed = '';
    s.on('response.custom_tool_call_input.delta', (e: any) => (streamed += e.delta));
    const f = await s.finalResponse();
    expect(streamed).toBe(PATCH);
    expect(f.output[0]).toMatchObject({ type: 'custom_tool_call', input: PATCH });
  });

  it('in Chat and Anthropic it is a call with arguments {"input": ...}; custom items normalise as tool calls and results', async () => {
    let seen: any;
    const m = await serve({ script: (r) => ((seen = r), { tool_calls: [{ name: 'apply_patch', input: PATCH }] }) });
    const chat = await post(`${m.url}/v1/chat/completions`, { model: 'm', messages: [{ role: 'user', content: 'x' }] });
    expect(JSON.parse(chat.body.choices[0].message.tool_calls[0].function.arguments)).toEqual({ input: PATCH });
    const an = await post(`${m.url}/v1/messages`, { model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] });
    expect(an.body.content.find((b: any) => b.type === 'tool_use').input).toEqual({ input: PATCH });
    await post(`${m.url}/v1/responses`, {
      model: 'm',
      tools: [{ type: 'custom', name: 'apply_patch', description: 'patch' }],
      input: [{ role: 'user', content: 'x' }, { type: 'custom_tool_call', call_id: 'c1', name: 'apply_patch', input: PATCH }, { type: 'custom_tool_call_output', call_id: 'c1', output: 'Done!' }],
    });
    expect(seen.tools).toEqual([{ name: 'apply_patch', description: 'patch', custom: true }]);
    expect(seen.messages.slice(1)).toEqual([{ role: 'assistant', text: '', tool_calls: [{ id: 'c1', name: 'apply_patch', arguments: PATCH }] }, { role: 'tool', text: 'Done!', tool_call_id: 'c1' }]);
  });

  it('a script call needs exactly one of arguments and input', () => {
    expect(() => parseTurn({ tool_calls: [{ name: 'x', arguments: {}, input: 'y' }] }, 't')).toThrow(/exactly one of "arguments".*or "input"/);
    expect(() => parseTurn({ tool_calls: [{ name: 'x' }] }, 't')).toThrow(/exactly one/);
  });
});

/** The cli-edit policy's answer to a fixture's body, sent as the CLI sent it. */
async function firstCall(fixture: string, spec: CliEditSpec, edit?: (b: any) => void): Promise<any> {
  const f = loadFixture(fixture);
  const m = await serve({ script: cliEditPolicy(spec) });
  const body = { ...structuredClone(f.body), stream: false };
  edit?.(body);
  const r = await post(`${m.url}${f.path}`, body);
  expect(r.status).toBe(200);
  return r.body;
}

/** The recorded request before any tool call: its first user turn and Claude Code's system message. */
const firstTurn = (b: any) => (b.messages = b.messages.slice(0, 2));

function runShell(command: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'outlast-cli-edit-'));
  try {
    execFileSync('bash', ['-c', command], { cwd: dir });
    return readFileSync(join(dir, SPEC.path), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('scripted model: the cli-edit policy', () => {
  it("Claude Code: its Bash tool, with a command that writes the file exactly", async () => {
    const r = await firstCall('claude-code-2.1.332-system-message.json', SPEC, firstTurn);
    const use = r.content.find((b: any) => b.type === 'tool_use');
    expect(use.name).toBe('Bash');
    expect(runShell(use.input.command)).toBe(SPEC.content);
  });
  it('Claude Code, file tools first: Write with the path made absolute in its working directory', async () => {
    const r = await firstCall('claude-code-2.1.332-system-message.json', { ...SPEC, prefer: 'file' }, firstTurn);
    expect(r.content.find((b: any) => b.type === 'tool_use')).toMatchObject({ name: 'Write', input: { file_path: '/workspace/notes/out.txt', content: SPEC.content } });
  });
  it('Codex: exec_command, or the free-form apply_patch as a custom_tool_call', async () => {
    const shell = await firstCall('codex-0.171.0-gpt-5.5.json', SPEC);
    const call = shell.output.find((o: any) => o.type === 'function_call');
    expect(call.name).toBe('exec_command');
    expect(runShell(JSON.parse(call.arguments).cmd)).toBe(SPEC.content);
    const file = await firstCall('codex-0.171.0-gpt-5.5.json', { ...SPEC, prefer: 'file' });
    const patch = file.output.find((o: any) => o.type === 'custom_tool_call');
    expect(patch.name).toBe('apply_patch');
    // the path is made absolute in the working directory of Codex's <cwd> context
    expect(patch.input).toBe(`*** Begin Patch\n*** Add File: /workspace/notes/out.txt\n+line one\n+it's "quoted" $HOME \`x\`\n*** End Patch\n`);
  });
  it('an argv-style shell tool gets ["bash", "-lc", script]', async () => {
    const tools = [{ type: 'function', name: 'shell', parameters: { type: 'object', properties: { command: { type: 'array', items: { type: 'string' } } } } }];
    const r = await firstCall('codex-0.171.0-gpt-5.5.json', SPEC, (b) => (b.tools = tools));
    const argv = JSON.parse(r.output.find((o: any) => o.type === 'function_call').arguments).command;
    expect(argv.slice(0, 2)).toEqual(['bash', '-lc']);
    expect(runShell(argv[2])).toBe(SPEC.content);
  });
  it('answers once the result is in; after a failed call tries the next tool; without tools answers at once', async () => {
    const policy = cliEditPolicy(SPEC);
    const tools = [{ name: 'Bash', parameters: { type: 'object', properties: { command: { type: 'string' } } } }, { name: 'Write', parameters: { type: 'object', properties: { file_path: {}, content: {} } } }];
    const base = { protocol: 'anthropic' as const, body: {}, turnIndex: 0, model: 'm', tools };
    const call = (name: string) => ({ role: 'assistant' as const, text: '', tool_calls: [{ id: `t-${name}`, name, arguments: {} }] });
    const user = { role: 'user' as const, text: 'go' };
    expect((await policy({ ...base, messages: [user] })).tool_calls![0]!.name).toBe('Bash');
    expect(await policy({ ...base, messages: [user, call('Bash'), { role: 'tool', text: '', tool_call_id: 't-Bash' }] })).toEqual({ text: 'Done: wrote notes/out.txt.' });
    const failed = [user, call('Bash'), { role: 'tool' as const, text: 'bash: not found', tool_call_id: 't-Bash', is_error: true }];
    expect((await policy({ ...base, messages: failed })).tool_calls![0]).toMatchObject({ name: 'Write', arguments: { file_path: 'notes/out.txt', content: SPEC.content } });
    const both = [...failed, call('Write'), { role: 'tool' as const, text: 'denied', tool_call_id: 't-Write', is_error: true }];
    expect((await policy({ ...base, messages: both })).text).toMatch(/^Done: wrote notes\/out.txt. \(the edit may have failed: denied\)$/);
    expect(await policy({ ...base, tools: [], messages: [user] })).toEqual({ text: 'Done: wrote notes/out.txt.' });
  });
});

describe('outlast scripted-model --policy', () => {
  it('one-line errors for a wrong choice', async () => {
    const { runScriptedModelCli } = await import('../../../src/cli/scripted-model-serve.js');
    await expect(runScriptedModelCli({})).rejects.toThrow(/^a script is required: --script FILE or --policy cli-edit$/);
    await expect(runScriptedModelCli({ builtin: { name: 'nope' } })).rejects.toThrow(/^--policy: unknown built-in policy "nope" \(known: cli-edit\)$/);
    await expect(runScriptedModelCli({ builtin: { name: 'cli-edit', content: 'x' } })).rejects.toThrow(/needs --edit-path/);
    await expect(runScriptedModelCli({ builtin: { name: 'cli-edit', path: 'a', content: 'x', prefer: 'gui' } })).rejects.toThrow(/--prefer must be "shell" or "file"/);
    await expect(runScriptedModelCli({ script: 'a.jsonl', builtin: { name: 'cli-edit' } })).rejects.toThrow(/either --script or --policy/);
  });
  it('serves the cli-edit policy', async () => {
    const { runScriptedModelCli } = await import('../../../src/cli/scripted-model-serve.js');
    const ac = new AbortController();
    let url = '';
    let ready!: () => void;
    const up = new Promise<void>((r) => (ready = r));
    const done = runScriptedModelCli({ builtin: { name: 'cli-edit', path: 'x.txt', content: 'hi\n' }, signal: ac.signal, print: (l) => ((url = l.split(' ').at(-1)!), ready()) });
    await up;
    const r = await post(`${url}/v1/chat/completions`, { model: 'm', messages: [{ role: 'user', content: 'go' }], tools: [{ type: 'function', function: { name: 'run_shell_command', parameters: { type: 'object', properties: { command: { type: 'string' }, description: { type: 'string' } } } } }] });
    expect(JSON.parse(r.body.choices[0].message.tool_calls[0].function.arguments)).toEqual({ command: `printf '%s' 'hi\n' > 'x.txt'`, description: 'write x.txt' });
    ac.abort();
    await done;
  });
});
