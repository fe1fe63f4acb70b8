// Rule network.attempt: a command that tries to reach the network (the sandbox has none but the
// gateway: the attempt itself is what a reviewer wants to see): curl, wget, nc, ssh and the like run
// as a program, pip/npm/apt installs, git clone of a URL, bash's /dev/tcp, and Python's socket
// connect or HTTP clients in a command.
import type { Rule } from '../monitor.js';
import { actionHit, simpleCommands } from '../match.js';

const PROGRAMS = new Set(['curl', 'wget', 'nc', 'ncat', 'netcat', 'telnet', 'ssh', 'scp', 'sftp', 'ftp', 'rsync', 'socat']);
const INSTALL = /^(?:pip3?|python3?\s+-m\s+pip|uv\s+pip|npm|pnpm|yarn|apt(?:-get)?|gem|cargo)\s+(?:install|i|add)\b|^git\s+clone\s+\S*(?:https?|ssh|git):\/\//;
const IN_CODE = /\/dev\/(?:tcp|udp)\/|\bsocket\.(?:create_connection|socket)\s*\(|\.connect\s*\(\s*\(|\burllib\.request\b|\brequests\.(?:get|post|put)\s*\(|\bhttp\.client\b/;

export const network: Rule = {
  id: 'network.attempt',
  version: '1',
  severity: 'warning',
  description: 'a command tries the network: curl/wget/nc/ssh..., pip/npm/apt install, git clone of a URL, /dev/tcp, Python sockets or HTTP clients',
  start: () => ({
    action(a) {
      if (a.command === null) return null;
      for (const s of simpleCommands(a.command)) {
        const program = /^\S+/.exec(s)?.[0] ?? '';
        if (PROGRAMS.has(program.slice(program.lastIndexOf('/') + 1)) || INSTALL.test(s)) return actionHit(a, `a command tries the network: ${s.slice(0, 120)}`, s);
      }
      const m = IN_CODE.exec(a.command);
      return m ? actionHit(a, `a command opens a connection: ${m[0]}`, a.command.slice(Math.max(0, m.index - 60), m.index + 120)) : null;
    },
  }),
};
