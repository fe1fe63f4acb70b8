// Real request bodies of agent CLIs (test/gateway/fixtures/cli-requests/, recorded with
// `outlast scripted-model --record` and trimmed by scripts/trim-cli-request.mjs), and a way to send
// one through the real gateway over HTTP as the CLI did (its path, query and protocol headers).
import fs from 'node:fs';
import path from 'node:path';
import type { Protocol } from '../../src/core/types.js';
import { type Setup, modelName } from './helpers.js';

export interface CliFixture {
  cli: string;
  version: string;
  protocol: Protocol;
  path: string;
  query: string;
  headers: Record<string, string>;
  body: any;
}

const DIR = path.join(import.meta.dirname, 'fixtures', 'cli-requests');

export function fixtureNames(): string[] {
  return fs.readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
}

export function loadFixture(name: string): CliFixture {
  return JSON.parse(fs.readFileSync(path.join(DIR, name), 'utf8')) as CliFixture;
}

export interface Sent {
  status: number;
  /** The response text (SSE for a streamed call). */
  text: string;
  /** What the upstream (the scripted model) received, parsed. */
  upstream: any;
}

/** POST the fixture's body (with `model` set to the endpoint of `upstream`) to the gateway. */
export async function sendFixture(s: Setup, f: CliFixture, upstream: Protocol, edit?: (body: any) => void): Promise<Sent> {
  const body = structuredClone(f.body);
  body.model = modelName(upstream);
  edit?.(body);
  const before = s.sm.requestsSeen;
  const res = await fetch(`${s.gw.url}${f.path}${f.query ? `?${f.query}` : ''}`, {
    method: 'POST',
    headers: { ...f.headers, 'content-type': 'application/json', authorization: `Bearer ${s.token}` },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  const upstreamBody = s.sm.requestsSeen > before ? s.sm.requests[s.sm.requests.length - 1]!.body : undefined;
  return { status: res.status, text, upstream: upstreamBody };
}

/** The `data:` objects of an SSE text. */
export function sseData(text: string): any[] {
  return text.split('\n').filter((l) => l.startsWith('data: ') && l !== 'data: [DONE]').map((l) => JSON.parse(l.slice(6)));
}
