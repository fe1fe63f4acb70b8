// Just enough of a Dockerfile reader to build a Harbor task's starting workspace without Docker:
// the final WORKDIR becomes the workspace mount path, and COPY/ADD of build-context files that land
// under it are replayed. Everything else (FROM, RUN, ENV, USER, CMD...) is reported, one line each,
// as ignored. docs/task-format.md ("Harbor import") states the rules this file implements.
import path from 'node:path';

export interface DockerInstruction {
  /** 1-based line of the instruction's first line. */
  line: number;
  /** Upper-cased keyword: FROM, RUN, COPY... */
  keyword: string;
  /** Arguments after the keyword, continuation lines joined with a space. */
  args: string;
  /** Bodies of heredocs (`<<EOF`) that follow the instruction, in order. */
  heredocs: string[];
}

/** Split a Dockerfile into instructions: parser directives, comments, continuations and heredocs handled. */
export function parseDockerfile(text: string): DockerInstruction[] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  let escape = '\\';
  let i = 0;
  // Parser directives: `# key=value` lines at the very top.
  while (i < lines.length) {
    const m = /^#\s*([A-Za-z]+)\s*=\s*(\S+)\s*$/.exec(lines[i]!);
    if (!m) break;
    if (m[1]!.toLowerCase() === 'escape' && (m[2] === '`' || m[2] === '\\')) escape = m[2];
    i++;
  }
  const out: DockerInstruction[] = [];
  while (i < lines.length) {
    const raw = lines[i]!;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) {
      i++;
      continue;
    }
    const start = i + 1;
    let logical = '';
    let cur = raw;
    for (;;) {
      const t = cur.replace(/\s+$/, '');
      if (t.endsWith(escape) && i + 1 < lines.length) {
        logical += t.slice(0, -1);
        i++;
        // Comment and blank lines inside a continued instruction are dropped.
        while (i < lines.length && (lines[i]!.trim() === '' || lines[i]!.trim().startsWith('#'))) i++;
        if (i >= lines.length) break;
        cur = lines[i]!;
        continue;
      }
      logical += t.endsWith(escape) ? t.slice(0, -1) : t;
      break;
    }
    i++;
    logical = logical.trim();
    const km = /^(\S+)\s*([\s\S]*)$/.exec(logical)!;
    const keyword = km[1]!.toUpperCase();
    const args = km[2]!.trim();
    const heredocs: string[] = [];
    if (keyword === 'RUN' || keyword === 'COPY' || keyword === 'ADD') {
      // `<<EOF`, `<<-EOF`, `<<"EOF"`, and (accepted by BuildKit too) `<< 'EOF'`.
      for (const hm of args.matchAll(/<<(-?)\s*(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g)) {
        const strip = hm[1] === '-';
        const delim = hm[3]!;
        const body: string[] = [];
        while (i < lines.length) {
          const l = strip ? lines[i]!.replace(/^\t+/, '') : lines[i]!;
          i++;
          if (l === delim) break;
          body.push(l);
        }
        heredocs.push(body.join('\n') + (body.length ? '\n' : ''));
      }
    }
    out.push({ line: start, keyword, args, heredocs });
  }
  return out;
}

/** Expand `$VAR`, `${VAR}`, `${VAR:-word}` and `${VAR:+word}` as Docker does; unset means empty. */
export function expandVars(s: string, vars: Record<string, string>): string {
  return s.replace(/\\\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (all, braced, op, word, bare) => {
    if (all === '\\$') return '$';
    const name = (braced ?? bare) as string;
    const v = Object.prototype.hasOwnProperty.call(vars, name) ? vars[name]! : undefined;
    if (op === '-') return v !== undefined && v !== '' ? v : (word as string);
    if (op === '+') return v !== undefined && v !== '' ? (word as string) : '';
    return v ?? '';
  });
}

/** Split on whitespace, honouring double and single quotes and backslash escapes (for ENV/ARG). */
export function shellWords(s: string): string[] {
  const words: string[] = [];
  let cur = '';
  let has = false;
  let q: '"' | "'" | null = null;
  for (let k = 0; k < s.length; k++) {
    const c = s[k]!;
    if (q) {
      if (c === q) q = null;
      else if (c === '\\' && q === '"' && k + 1 < s.length) cur += s[++k];
      else cur += c;
      continue;
    }
    if (c === '"' || c === "'") {
      q = c;
      has = true;
    } else if (c === '\\' && k + 1 < s.length) {
      cur += s[++k];
      has = true;
    } else if (/\s/.test(c)) {
      if (has) words.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (has) words.push(cur);
  return words;
}

/** `KEY=value` pairs of ENV/ARG (or the legacy `ENV KEY value` form). */
export function parseAssignments(args: string, legacy: boolean): [string, string | undefined][] {
  const words = shellWords(args);
  if (legacy && words.length > 0 && !words[0]!.includes('=')) {
    const m = /^\s*(\S+)\s*([\s\S]*)$/.exec(args)!;
    return [[m[1]!, shellWords(m[2]!).join(' ')]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    return eq < 0 ? [w, undefined] : [w.slice(0, eq), w.slice(eq + 1)];
  });
}

/** Docker's glob (Go's filepath.Match per path): `*` and `?` never cross `/`; `[...]` classes. */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let k = 0; k < pattern.length; k++) {
    const c = pattern[k]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', k + 1);
      if (end < 0) re += '\\[';
      else {
        let cls = pattern.slice(k + 1, end);
        if (cls.startsWith('^') || cls.startsWith('!')) cls = '^' + cls.slice(1);
        re += `[${cls.replace(/\\/g, '\\\\')}]`;
        k = end;
      }
    } else if (c === '\\' && k + 1 < pattern.length) re += '\\' + pattern[++k];
    else re += c.replace(/[.+^${}()|\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** True when a path contains glob characters. */
export function hasGlob(s: string): boolean {
  return /[*?[]/.test(s);
}

/** A .dockerignore file's rules: `**` crosses directories, `!` re-includes, last match wins. */
export function dockerignoreMatcher(text: string): (rel: string) => boolean {
  const rules: { neg: boolean; re: RegExp }[] = [];
  for (let line of text.replace(/\r\n?/g, '\n').split('\n')) {
    line = line.trim();
    if (!line || line.startsWith('#')) continue;
    const neg = line.startsWith('!');
    if (neg) line = line.slice(1).trim();
    line = path.posix.normalize(line.replace(/^\/+/, '')).replace(/\/+$/, '');
    if (line === '.' || line === '') continue;
    let re = '';
    for (let k = 0; k < line.length; k++) {
      const c = line[k]!;
      if (c === '*' && line[k + 1] === '*') {
        k++;
        if (line[k + 1] === '/') {
          k++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else if (c === '*') re += '[^/]*';
      else if (c === '?') re += '[^/]';
      else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
    // A rule naming a directory also excludes everything below it.
    rules.push({ neg, re: new RegExp(`^${re}(?:/.*)?$`) });
  }
  return (rel: string) => {
    let ignored = false;
    for (const r of rules) if (r.re.test(rel)) ignored = !r.neg;
    return ignored;
  };
}

/** One build stage: `FROM image [AS name]` and its instructions. */
export interface Stage {
  name: string | null;
  base: string;
  fromLine: number;
  instructions: DockerInstruction[];
}

/** Split instructions into stages; instructions before the first FROM (global ARGs) come back apart. */
export function splitStages(instrs: DockerInstruction[]): { preamble: DockerInstruction[]; stages: Stage[] } {
  const preamble: DockerInstruction[] = [];
  const stages: Stage[] = [];
  for (const ins of instrs) {
    if (ins.keyword === 'FROM') {
      const words = ins.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      const asIdx = words.findIndex((w) => w.toUpperCase() === 'AS');
      stages.push({
        name: asIdx >= 0 && words[asIdx + 1] ? words[asIdx + 1]!.toLowerCase() : null,
        base: words[0] ?? '',
        fromLine: ins.line,
        instructions: [ins],
      });
    } else if (stages.length === 0) preamble.push(ins);
    else stages[stages.length - 1]!.instructions.push(ins);
  }
  return { preamble, stages };
}

/** Indices of the stages the final image is built from: the last stage and the stages it is `FROM`. */
export function finalChain(stages: Stage[]): number[] {
  const chain: number[] = [];
  let idx = stages.length - 1;
  while (idx >= 0) {
    chain.unshift(idx);
    const base = stages[idx]!.base.toLowerCase();
    let parent = -1;
    for (let k = idx - 1; k >= 0; k--) if (stages[k]!.name === base) {
      parent = k;
      break;
    }
    idx = parent;
  }
  return chain;
}
