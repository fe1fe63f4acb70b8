#!/usr/bin/env python3
"""check_kernel.py — the rules a candidate kernel must follow, checked before it runs.

usage: check_kernel.py ENTRY OBJECT SOURCE [SOURCE...] -- CC_FLAGS...

The compiled object is what counts (the source can hide anything behind macros, attributes and
pragmas; the object cannot):
  1. sections: only code, data, read-only data, TLS, unwind tables and notes; no constructors or
     destructors of any kind (.init_array, .fini_array, .preinit_array, .ctors, .dtors, .init,
     .fini, by name or by section type): nothing of the kernel may run before or after a call;
  2. symbols: exactly one external definition, ENTRY (helpers and data must be `static`), no
     GNU_IFUNC symbols (their resolvers run at load time), and calls only to an allowlist: memory and
     math functions, the OpenMP runtime (but not its clocks, omp_get_wtime/omp_get_wtick) and GCC's
     vector math / CPU-detection helpers: no I/O, clocks, environment, threads or process control;
  3. instructions: no system calls (syscall, sysenter, int), no clocks or counters (rdtsc, rdtscp,
     rdpmc, rdpid).
And in the source, after preprocessing: no inline assembly or `syscall`, no `#pragma GCC optimize`
or optimize attributes (the compiler flags are the task's, the same for the reference and the
candidate), no #line directives; only system headers (<name.h>) and "kernel.h" are included.
Exit 0 when the kernel follows the rules; otherwise print one line, the reason, and exit 1.
"""
import re
import subprocess
import sys

ALLOWED_UNDEFINED = re.compile(
    r"^(memcpy|memmove|memset|memcmp|malloc|calloc|realloc|free|aligned_alloc|posix_memalign|abort|"
    r"__stack_chk_fail|__assert_fail|_GLOBAL_OFFSET_TABLE_|"
    r"(exp|exp2|expm1|log|log2|log1p|sqrt|tanh|pow|fabs|fmax|fmin|floor|ceil|round|lround|rint|lrint|nearbyint|"
    r"trunc|erf|sin|cos|fma|ldexp|frexp|copysign)f?|__\w+_finite|"
    r"GOMP_\w+|omp_\w+|_ZGV\w+|__cpu_model|__cpu_indicator_init|__(mul|div)[sdx]c3)$"
)
# OpenMP names that are clocks
DENIED_UNDEFINED = re.compile(r"^(omp_get_wtime|omp_get_wtick)$")
# sections an object may have (by name prefix); anything else is refused
ALLOWED_SECTION = re.compile(
    r"^(|\.text(\..*)?|\.rodata(\..*)?|\.data(\..*)?|\.bss(\..*)?|\.tdata(\..*)?|\.tbss(\..*)?|\.lrodata(\..*)?|\.ldata(\..*)?|"
    r"\.lbss(\..*)?|\.comment|\.note\.GNU-stack|\.note\.gnu\.property|\.eh_frame|\.group|\.debug_\w+|\.symtab|\.strtab|\.shstrtab|\.symtab_shndx)$"
)
INIT_SECTION = re.compile(r"^\.(init_array|fini_array|preinit_array|ctors|dtors|init|fini)(\..*)?$")
INIT_TYPES = {"INIT_ARRAY", "FINI_ARRAY", "PREINIT_ARRAY"}
FORBIDDEN_INSN = re.compile(r"^\s*[0-9a-f]+:\s+(syscall|sysenter|int\s|int3|vmcall|rdtscp?|rdpmc|rdpid)\b.*$", re.M)
FORBIDDEN_TOKENS = re.compile(r"\b(asm|__asm|__asm__|syscall)\b")
OPTIMIZE_PRAGMA = re.compile(r"^\s*#\s*pragma\s+(GCC\s+)?(optimize|push_options|pop_options|reset_options)\b", re.M)
OPTIMIZE_ATTR = re.compile(r"\b(__)?optimize(__)?\b")
LINE_DIRECTIVE = re.compile(r"^\s*#\s*(line\b|\d)")
INCLUDE = re.compile(r"^\s*#\s*include(_next)?\s*(.*)$")
OK_INCLUDE = re.compile(r'^(<[A-Za-z0-9_][A-Za-z0-9_./]*\.h>|"kernel\.h")\s*(//.*|/\*.*)?$')


def fail(msg):
    print(msg)
    sys.exit(1)


def run(argv, what):
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"{what} failed on the compiled kernel: {r.stderr.strip()[:200]}")
    return r.stdout


def attributes(body):
    """The contents of every __attribute__((...)) and [[...]] in the text."""
    out = []
    for m in re.finditer(r"__attribute__\s*\(\(", body):
        depth, i = 2, m.end()
        while i < len(body) and depth > 0:
            depth += {"(": 1, ")": -1}.get(body[i], 0)
            i += 1
        out.append(body[m.end() : i])
    out += re.findall(r"\[\[(.*?)\]\]", body, re.S)
    return out


def check_source(src, cflags):
    text = open(src, encoding="utf-8", errors="replace").read()
    # splice continued lines and blank out comments, as the preprocessor would, keeping line numbers
    text = re.sub(r"\\\n", "", text)
    text = re.sub(r"/\*.*?\*/", lambda m: " " + "\n" * m.group(0).count("\n"), text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    for n, line in enumerate(text.splitlines(), 1):
        if LINE_DIRECTIVE.match(line):
            fail(f"{src}:{n}: #line directives are not allowed in a kernel")
        m = INCLUDE.match(line)
        if m and (m.group(1) or not OK_INCLUDE.match(m.group(2).strip()) or ".." in m.group(2)):
            fail(f"{src}:{n}: only system headers (<name.h>) and \"kernel.h\" may be included: {line.strip()[:80]}")
    pre = subprocess.run(["gcc", "-E", *cflags, src], capture_output=True, text=True)
    if pre.returncode != 0:
        fail(f"{src}: does not preprocess: {(pre.stderr.strip().splitlines() or ['?'])[-1][:200]}")
    # keep only the lines that come from the source itself, not from system headers
    current, own = None, []
    for line in pre.stdout.splitlines():
        m = re.match(r'^# (\d+) "([^"]*)"', line)
        if m:
            current = m.group(2)
            continue
        if current == src:
            own.append(line)
    body = "\n".join(own)
    m = FORBIDDEN_TOKENS.search(body)
    if m:
        fail(f"{src}: `{m.group(0)}` is not allowed in a kernel (no inline assembly or system calls)")
    m = OPTIMIZE_PRAGMA.search(body)
    if m:
        fail(f"{src}: `#pragma GCC {m.group(2)}` is not allowed: the compiler flags are the task's, the same for the reference and the kernel")
    for a in attributes(body):
        if OPTIMIZE_ATTR.search(a):
            fail(f"{src}: the `optimize` attribute is not allowed: the compiler flags are the task's, the same for the reference and the kernel")


def check_object(entry, obj):
    # 1. sections
    for line in run(["readelf", "-S", "-W", obj], "readelf").splitlines():
        m = re.match(r"^\s*\[\s*(\d+)\]\s+(\S+)\s+(\S+)", line)
        if not m or m.group(1) == "0":
            continue
        name, kind = m.group(2), m.group(3)
        base = re.sub(r"^\.rela?(?=\.)", "", name)
        if INIT_SECTION.match(base) or kind in INIT_TYPES:
            fail(f"the compiled kernel has a {base} section: constructors, destructors and init code are not allowed (nothing may run outside the kernel's calls)")
        if kind in ("RELA", "REL"):
            continue
        if not ALLOWED_SECTION.match(name):
            fail(f"the compiled kernel has a section {name}: only code, data and read-only data sections are allowed")
    # 2. symbols
    defined, undefined = [], []
    for line in run(["nm", "-P", obj], "nm").splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        name, kind = parts[0], parts[1]
        if kind == "i":
            fail(f"the compiled kernel defines an indirect function ({name}): ifunc resolvers run at load time, outside the kernel's calls")
        if kind in ("U", "w"):
            undefined.append(name)
        elif kind.isupper() or kind in ("u", "v"):
            defined.append((name, kind))
    extra = [f"{n} ({k})" for n, k in defined if n != entry]
    if extra:
        fail(f"the kernel defines external symbols other than {entry}: {', '.join(extra[:8])} (make helpers and data `static`)")
    if not any(n == entry and k == "T" for n, k in defined):
        fail(f"the kernel does not define the function {entry}")
    clocks = sorted({n for n in undefined if DENIED_UNDEFINED.match(n)})
    if clocks:
        fail(f"the kernel calls {', '.join(clocks)}: clocks are not allowed in a kernel")
    bad = sorted({n for n in undefined if not ALLOWED_UNDEFINED.match(n)})
    if bad:
        fail(f"the kernel calls functions outside the allowlist (memory, math, OpenMP): {', '.join(bad[:8])}")
    # 3. instructions
    m = FORBIDDEN_INSN.search(run(["objdump", "-d", "--no-show-raw-insn", obj], "objdump"))
    if m:
        fail(f"the compiled kernel contains a `{m.group(1).strip()}` instruction (no system calls, clocks or counters)")


def main():
    args = sys.argv[1:]
    if "--" not in args or len(args) < 4:
        fail("check_kernel.py: bad usage")
    cut = args.index("--")
    entry, obj, sources, cflags = args[0], args[1], args[2:cut], args[cut + 1 :]
    for src in sources:
        check_source(src, cflags)
    check_object(entry, obj)
    print("kernel rules: ok")


if __name__ == "__main__":
    main()
