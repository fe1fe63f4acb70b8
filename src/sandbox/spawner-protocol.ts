// Messages between outlast and its spawner process (see spawner.ts). Pure types.

export type SpawnerRequest =
  | { t: 'spawn'; id: number; file: string; args: string[]; cwd?: string; env?: NodeJS.ProcessEnv; stdin: string | Uint8Array; fd3?: Uint8Array; cap: number; stream?: boolean }
  /** Write to the stdin of streamed process `id`. */
  | { t: 'write'; id: number; data: string | Uint8Array }
  /** Stop waiting for the output of `id` (its pipes are held by a process that escaped). */
  | { t: 'drop'; id: number };

export type SpawnerReply =
  | { t: 'pid'; id: number; pid: number }
  | { t: 'exit'; id: number; code: number | null; signal: NodeJS.Signals | null }
  /** Output done: stdout and stderr as captured (capture.ts: head and tail within `cap`). */
  | { t: 'close'; id: number; output: string; truncated_bytes: number }
  /** Output of streamed process `id`, as it arrived. */
  | { t: 'data'; id: number; chunk: Uint8Array }
  | { t: 'error'; id: number; message: string };
