#!/usr/bin/env python3
"""check_kernel.py — the rules a candidate kernel must follow, checked before it is timed.

usage: check_kernel.py ENTRY OBJECT SOURCE [SOURCE...] -- CC_FLAGS...

1. The sources, after preprocessing, contain no inline assembly, no `syscall`, and no
   constructor/destructor/section/alias/ifunc/weak attributes; they include only system headers
   (<name.h>) and "kernel.h".
2. The compiled object defines exactly one external symbol, ENTRY (helpers must be `static`), and
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
        for n, line in enumerate(text.splitlines(), 1):
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
