#!/usr/bin/env python3
"""check_kernel.py — the rules a candidate kernel must follow, checked before it is timed.

usage: check_kernel.py ENTRY OBJECT SOURCE [SOURCE...] -- CC_FLAGS...

1. The sources, after preprocessing, contain no inline assembly, no `syscall`, and no
   constructor/destructor/section/alias/ifunc/weak attributes, no #line directives (which could
   disguise the kernel's own lines as a header's); they include only system headers (<name.h>)
   and "kernel.h".
2. The compiled object contains no system-call instructions, defines exactly one external symbol, ENTRY (helpers must be `static`), and
   calls nothing outside an allowlist: memory and math functions, the OpenMP runtime and GCC's
   vector math/CPU-detection helpers. No I/O, no clocks, no environment, no process control: the
   kernel cannot read or patch the timer, write result files or talk to the driver.
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
FORBIDDEN_TOKENS = re.compile(r"\b(asm|__asm|__asm__|syscall)\b")
FORBIDDEN_ATTR = re.compile(r"\b(__)?(constructor|destructor|section|alias|ifunc|weak|weakref|visibility|used|naked)(__)?\b")
LINE_DIRECTIVE = re.compile(r"^\s*#\s*(line\b|\d)")
INCLUDE = re.compile(r"^\s*#\s*include(_next)?\s*(.*)$")
OK_INCLUDE = re.compile(r'^(<[A-Za-z0-9_][A-Za-z0-9_./]*\.h>|"kernel\.h")\s*(//.*|/\*.*)?$')


def fail(msg):
    print(msg)
    sys.exit(1)


def main():
    args = sys.argv[1:]
    if "--" not in args or len(args) < 4:
        fail("check_kernel.py: bad usage")
    cut = args.index("--")
    entry, obj, sources, cflags = args[0], args[1], args[2:cut], args[cut + 1 :]
    for src in sources:
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
        for am in re.finditer(r"__attribute__\s*\(\((.*?)\)\)", body, re.S):
            bad = FORBIDDEN_ATTR.search(am.group(1))
            if bad:
                fail(f"{src}: attribute `{bad.group(0)}` is not allowed in a kernel")
    # whatever the source did, the machine code must not enter the kernel
    dis = subprocess.run(["objdump", "-d", "--no-show-raw-insn", obj], capture_output=True, text=True)
    if dis.returncode != 0:
        fail(f"objdump failed on the compiled kernel: {dis.stderr.strip()[:200]}")
    bad_insn = re.search(r"^\s*[0-9a-f]+:\s+(syscall|sysenter|int\s|int3|vmcall|rdpid)\b.*$", dis.stdout, re.M)
    if bad_insn:
        fail(f"the compiled kernel contains a `{bad_insn.group(1).strip()}` instruction (no system calls)")
    nm = subprocess.run(["nm", "-P", obj], capture_output=True, text=True)
    if nm.returncode != 0:
        fail(f"nm failed on the compiled kernel: {nm.stderr.strip()[:200]}")
    defined, undefined = [], []
    for line in nm.stdout.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        name, kind = parts[0], parts[1]
        if kind == "U" or kind == "w":
            undefined.append(name)
        elif kind.isupper() or kind in ("u", "v", "i"):
            defined.append((name, kind))
    extra = [f"{n} ({k})" for n, k in defined if n != entry]
    if extra:
        fail(f"the kernel defines external symbols other than {entry}: {', '.join(extra[:8])} (make helpers and data `static`)")
    if not any(n == entry and k == "T" for n, k in defined):
        fail(f"the kernel does not define the function {entry}")
    bad = sorted({n for n in undefined if not ALLOWED_UNDEFINED.match(n)})
    if bad:
        fail(f"the kernel calls functions outside the allowlist (memory, math, OpenMP): {', '.join(bad[:8])}")
    print("kernel rules: ok")


if __name__ == "__main__":
    main()
