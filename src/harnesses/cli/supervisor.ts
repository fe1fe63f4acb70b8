// The supervisor of an external agent CLI, run INSIDE the rollout's sandbox (as the agent's
// identity) as the exec's first process: it reads its orders as one JSON object on stdin, opens a
// tiny TCP forwarder on the sandbox's own loopback (127.0.0.1:PORT → the gateway's unix socket: the
// sandbox has no other way out), starts the CLI in its own process group with the CLI's output going
// to files in its HOME, and stops it gracefully (SIGTERM to the group, then SIGKILL after a grace)
// when the host creates the stop file in the read-only gateway folder. Its last line of output says
// how the CLI ended. Self-contained (node: modules only): it is mounted alone into the sandbox.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { pathToFileURL } from 'node:url';

export interface SupervisorOrders {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  /** The gateway's unix socket. */
  socket: string;
  /** Loopback port of the forwarder (0: none). */
  port: number;
  /** Created by the host to ask for a stop. */
  stop_file: string;
  grace_ms: number;
  /** Where the CLI's stdout and stderr go. */
  stdout_file: string;
  stderr_file: string;
}

/** The prefix of the supervisor's last line: `OUTLAST-CLI-EXIT {"code":0,"signal":null,"stopped":false}`. */
export const EXIT_LINE = 'OUTLAST-CLI-EXIT ';

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (d: string) => (s += d));
    process.stdin.on('end', () => resolve(s));
    process.stdin.on('error', reject);
  });
}

function forwarder(port: number, socket: string): Promise<net.Server> {
  const server = net.createServer((client) => {
    const up = net.connect(socket);
    client.pipe(up).pipe(client);
    const end = () => {
      client.destroy();
      up.destroy();
    };
    client.on('error', end);
    up.on('error', end);
    client.on('close', end);
    up.on('close', end);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/** The last `n` bytes of a file ('' when unreadable). */
function tailOf(file: string, n: number): string {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const buf = Buffer.alloc(Math.min(n, size));
      fs.readSync(fd, buf, 0, buf.length, size - buf.length);
      return buf.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '';
  }
}

async function main(): Promise<void> {
  const o = JSON.parse(await readStdin()) as SupervisorOrders;
  if (o.port) await forwarder(o.port, o.socket);
  const out = fs.openSync(o.stdout_file, 'a');
  const err = fs.openSync(o.stderr_file, 'a');
  const child = spawn(o.argv[0]!, o.argv.slice(1), { cwd: o.cwd, env: o.env, stdio: ['ignore', out, err], detached: true });
  let stopped = false;
  const group = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      /* already gone */
    }
  };
  const stop = () => {
    if (stopped) return;
    stopped = true;
    group('SIGTERM');
    setTimeout(() => group('SIGKILL'), o.grace_ms).unref();
  };
  const poll = setInterval(() => {
    if (fs.existsSync(o.stop_file)) stop();
  }, 100);
  process.on('SIGTERM', stop);
  child.on('error', (e) => {
    process.stdout.write(`\n${EXIT_LINE}${JSON.stringify({ code: null, signal: null, stopped, error: e.message })}\n`);
    process.exit(127);
  });
  child.on('exit', (code, signal) => {
    clearInterval(poll);
    group('SIGKILL'); // whatever the CLI left running in its group
    const tail = code === 0 ? undefined : tailOf(o.stderr_file, 1500);
    process.stdout.write(`\n${EXIT_LINE}${JSON.stringify({ code, signal, stopped, ...(tail ? { stderr_tail: tail } : {}) })}\n`);
    process.exit(code ?? 128);
  });
}

// Run only as a program (the host imports nothing from this file but its types).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: Error) => {
    process.stdout.write(`\n${EXIT_LINE}${JSON.stringify({ code: null, signal: null, stopped: false, error: `supervisor: ${e.message}` })}\n`);
    process.exit(125);
  });
}
