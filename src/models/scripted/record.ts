// The scripted model's request record file (`record_file`, `outlast scripted-model --record FILE`):
// every request it receives appended as one JSON line, so the bodies a real client sends (an agent
// CLI) can be read afterwards. Credentials in the headers are replaced, never written.
import { appendFileSync } from 'node:fs';
import type { Protocol } from '../../core/types.js';

/** Headers whose values are credentials: written as `[redacted]`. */
const SECRET_HEADERS = new Set(['authorization', 'x-api-key', 'cookie', 'proxy-authorization']);

export interface RecordLine {
  /** Request number (1 = first), as in the response ids. */
  seq: number;
  /** Date.now() when the request arrived. */
  at: number;
  protocol: Protocol;
  method: string;
  /** Path without the query. */
  path: string;
  /** The query string without `?` ('' when none), e.g. Claude Code's `beta=true`. */
  query: string;
  headers: Record<string, string>;
  /** The parsed JSON body; the raw text when it is not JSON. */
  body: unknown;
}

export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k] = SECRET_HEADERS.has(k) ? '[redacted]' : v;
  return out;
}

/** Append one request to `file` (synchronously, so lines keep the order requests arrived in). */
export function appendRecord(file: string, line: RecordLine): void {
  appendFileSync(file, JSON.stringify({ ...line, headers: redactHeaders(line.headers) }) + '\n');
}
