// The seccomp filter every bwrap sandbox runs under (classic BPF, built here, handed to bwrap as a
// file descriptor with --seccomp). It blocks only what no task needs and the walls need closed:
//   - the kernel keyrings (keyctl, add_key, request_key): EPERM, so no keyring of the host's is
//     readable inside, whatever session the sandbox inherited;
//   - setting the setuid or setgid bit (chmod family, and open/creat/mknod creating a file with it):
//     EPERM, so no setuid file made inside lands on the host;
//   - io_uring (its operations would bypass this filter) and openat2 (its flags live in memory a
//     filter cannot read; libc falls back to openat): EPERM / ENOSYS;
//   - any syscall of another ABI than the host's (x32, i386 on x86_64): ENOSYS, so the numbers above
//     cannot be dodged.
// Everything else is allowed, including user namespaces (the kernels suite nests a sandbox for the
// candidate kernel). Supported: x86_64 and aarch64; elsewhere no filter is built and provenance says so.

/** One classic BPF instruction (struct sock_filter). */
interface Insn {
  code: number;
  /** Jump targets: a label, or 0 for the next instruction. */
  jt?: string | 0;
  jf?: string | 0;
  k: number;
  /** Label of this instruction. */
  label?: string;
}

const LD_ABS_W = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const JSET_K = 0x45;
const RET_K = 0x06;

const RET_ALLOW = 0x7fff_0000;
const RET_ERRNO = 0x0005_0000;
const EPERM = 1;
const ENOSYS = 38;

/** Offsets in struct seccomp_data: nr, arch, then args as u64 (the low 32 bits first on little-endian). */
const OFF_NR = 0;
const OFF_ARCH = 4;
const argLow = (i: number): number => 16 + 8 * i;

const SETID_BITS = 0o6000;
/** O_CREAT | __O_TMPFILE (same values on x86_64 and the generic ABI). */
const CREATING = 0o100 | 0o20000000;

interface ArchTable {
  audit: number;
  /** Syscalls of another ABI sharing this arch value start here (x32 on x86_64). */
  foreignFrom?: number;
  deny: Record<string, number>;
  nosys: Record<string, number>;
  /** Syscalls whose argument `arg` is a mode that must not carry the setid bits. */
  modeArg: Array<[name: string, nr: number, arg: number]>;
  /** open-like syscalls: [name, nr, flags arg, mode arg]. */
  opens: Array<[name: string, nr: number, flags: number, mode: number]>;
}

const ARCHES: Record<string, ArchTable> = {
  x64: {
    audit: 0xc000_003e,
    foreignFrom: 0x4000_0000,
    deny: { add_key: 248, request_key: 249, keyctl: 250, io_uring_setup: 425, io_uring_enter: 426, io_uring_register: 427 },
    nosys: { openat2: 437 },
    modeArg: [
      ['chmod', 90, 1],
      ['fchmod', 91, 1],
      ['fchmodat', 268, 2],
      ['fchmodat2', 452, 2],
      ['creat', 85, 1],
      ['mknod', 133, 1],
      ['mknodat', 259, 2],
    ],
    opens: [
      ['open', 2, 1, 2],
      ['openat', 257, 2, 3],
    ],
  },
  arm64: {
    audit: 0xc000_00b7,
    deny: { add_key: 217, request_key: 218, keyctl: 219, io_uring_setup: 425, io_uring_enter: 426, io_uring_register: 427 },
    nosys: { openat2: 437 },
    modeArg: [
      ['fchmod', 52, 1],
      ['fchmodat', 53, 2],
      ['fchmodat2', 452, 2],
      ['mknodat', 33, 2],
    ],
    opens: [['openat', 56, 2, 3]],
  },
};

/** True when a filter exists for this machine's architecture (process.arch). */
export function seccompSupported(arch: string = process.arch): boolean {
  return arch in ARCHES;
}

/** The filter program for `arch` (process.arch naming) as the bytes bwrap reads, or null when unsupported. */
export function seccompProgram(arch: string = process.arch): Buffer | null {
  const t = ARCHES[arch];
  if (!t) return null;
  const p: Insn[] = [];
  p.push({ code: LD_ABS_W, k: OFF_ARCH });
  p.push({ code: JEQ_K, k: t.audit, jt: 0, jf: 'nosys' });
  p.push({ code: LD_ABS_W, k: OFF_NR });
  if (t.foreignFrom !== undefined) p.push({ code: JGE_K, k: t.foreignFrom, jt: 'nosys', jf: 0 });
  for (const nr of Object.values(t.deny)) p.push({ code: JEQ_K, k: nr, jt: 'eperm', jf: 0 });
  for (const nr of Object.values(t.nosys)) p.push({ code: JEQ_K, k: nr, jt: 'nosys', jf: 0 });
  const modeArgs = new Set(t.modeArg.map(([, , a]) => a));
  for (const [, nr, arg] of t.modeArg) p.push({ code: JEQ_K, k: nr, jt: `mode${arg}`, jf: 0 });
  for (const [, nr, flags, mode] of t.opens) {
    p.push({ code: JEQ_K, k: nr, jt: `open${flags}`, jf: 0 });
    modeArgs.add(mode);
  }
  p.push({ code: RET_K, k: RET_ALLOW });
  for (const [, , flags, mode] of t.opens) {
    p.push({ label: `open${flags}`, code: LD_ABS_W, k: argLow(flags) });
    p.push({ code: JSET_K, k: CREATING, jt: `mode${mode}`, jf: 'allow' });
  }
  for (const arg of [...modeArgs].sort()) {
    p.push({ label: `mode${arg}`, code: LD_ABS_W, k: argLow(arg) });
    p.push({ code: JSET_K, k: SETID_BITS, jt: 'eperm', jf: 'allow' });
  }
  p.push({ label: 'eperm', code: RET_K, k: RET_ERRNO | EPERM });
  p.push({ label: 'nosys', code: RET_K, k: RET_ERRNO | ENOSYS });
  p.push({ label: 'allow', code: RET_K, k: RET_ALLOW });
  return assemble(p);
}

/** Resolve labels to relative jumps and encode (little-endian struct sock_filter: u16 code, u8 jt, u8 jf, u32 k). */
function assemble(p: Insn[]): Buffer {
  const at = new Map<string, number>();
  p.forEach((insn, i) => {
    if (insn.label) at.set(insn.label, i);
  });
  const rel = (from: number, target: string | 0 | undefined): number => {
    if (target === undefined || target === 0) return 0;
    const to = at.get(target);
    if (to === undefined) throw new Error(`seccomp: no label ${target}`);
    const off = to - from - 1;
    if (off < 0 || off > 255) throw new Error(`seccomp: jump to ${target} out of range (${off})`);
    return off;
  };
  const buf = Buffer.alloc(8 * p.length);
  p.forEach((insn, i) => {
    buf.writeUInt16LE(insn.code, 8 * i);
    buf.writeUInt8(rel(i, insn.jt), 8 * i + 2);
    buf.writeUInt8(rel(i, insn.jf), 8 * i + 3);
    buf.writeUInt32LE(insn.k >>> 0, 8 * i + 4);
  });
  return buf;
}
