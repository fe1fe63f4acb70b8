// The client side of agent-run, written into each verification's scratch directory and mounted
// read-only in the verifier's sandbox: the `agent-run` command (on PATH) and the `outlast_agent`
// Python module (on PYTHONPATH) that task tests use to run the agent's code out of the grading
// process. Python 3.8+ is enough for them (the -P flag they pass needs 3.11; older Pythons ignore
// PYTHONSAFEPATH). The wire format is agent-broker.ts's. Documented in docs/task-format.md.

/** The `outlast_agent` module: run(), the function-test helpers, write_reward(). */
export const OUTLAST_AGENT_PY = String.raw`"""outlast_agent: run the agent's code out of the grading process (outlast's command verifier).

The grading code (a task's tests) runs as the verifier. The agent's code must not run in that process:
it could write the reward file, print a fake pass line or force the exit status. These helpers ask
outlast, through the socket at $OUTLAST_AGENT_RUN, to run a command as the agent instead: in a fresh
sandbox over this workspace, without /tests, /logs/verifier or the socket, with the task's limits.

    run(argv, stdin=b"", timeout=None, cwd=None) -> Result    one command, as the agent
    Case(name).equal(fn, args, want) / .approx / .raises / .unchanged
    check(module, cases) -> [(name, ok, why)]                the cases, calling the agent's module
    grade(module, cases) -> 0                                 check, print, write reward.json
    write_reward(value, **details)                            /logs/verifier/reward.json

Function tests send only the inputs to the agent's code; the expected values stay here, and results
come back as plain JSON data (an object whose __eq__ always says yes is not a value).
See docs/task-format.md.
"""
import json
import os
import signal
import socket
from concurrent.futures import ThreadPoolExecutor

SOCKET = os.environ.get("OUTLAST_AGENT_RUN", "/outlast/broker/agent-run.sock")
LOGS = "/logs/verifier"


class AgentRunError(Exception):
    """agent-run could not run the command (no broker here, a refused request)."""


class Result:
    """How a command run as the agent ended: exit_code (None when killed), stdout, stderr (bytes)."""

    def __init__(self, head, stdout, stderr):
        self.exit_code = head.get("exit_code")
        self.signal = head.get("signal")
        self.timed_out = bool(head.get("timed_out"))
        self.oom_killed = bool(head.get("oom_killed"))
        self.duration_ms = head.get("duration_ms")
        self.truncated_bytes = head.get("truncated_bytes", 0)
        self.stdout = stdout
        self.stderr = stderr

    @property
    def status(self):
        """The exit status a shell would show: the exit code, 124 on timeout, 128 + n for signal n."""
        if self.timed_out:
            return 124
        if self.exit_code is not None:
            return self.exit_code
        num = getattr(signal, self.signal or "", None)
        return 128 + int(num) if num is not None else 125

    def __repr__(self):
        return "Result(status=%r, stdout=%d bytes, stderr=%d bytes)" % (self.status, len(self.stdout), len(self.stderr))


def run(argv, stdin=b"", timeout=None, cwd=None):
    """Run argv (a list of strings) as the agent, over this workspace; returns a Result."""
    if isinstance(argv, str):
        raise TypeError("argv is a list of strings; use ['sh', '-c', line] for a shell command line")
    if isinstance(stdin, str):
        stdin = stdin.encode("utf-8")
    head = {"v": 1, "argv": [str(a) for a in argv], "cwd": cwd or os.getcwd(), "stdin_bytes": len(stdin)}
    if timeout is not None:
        head["timeout_sec"] = float(timeout)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(SOCKET)
    except OSError as e:
        s.close()
        raise AgentRunError("cannot reach outlast's agent-run broker at %s (%s): agent-run works only inside "
                            "outlast's command verifier" % (SOCKET, e.strerror)) from None
    with s:
        s.sendall(json.dumps(head).encode("utf-8") + b"\n" + stdin)
        s.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            b = s.recv(1 << 20)
            if not b:
                break
            chunks.append(b)
    data = b"".join(chunks)
    nl = data.find(b"\n")
    if nl < 0:
        raise AgentRunError("the broker closed the connection without an answer")
    h = json.loads(data[:nl].decode("utf-8"))
    if not h.get("ok"):
        raise AgentRunError(h.get("error") or "the broker refused the request")
    body = data[nl + 1:]
    n = h["stdout_bytes"]
    return Result(h, body[:n], body[n:n + h["stderr_bytes"]])


# -- function tests ---------------------------------------------------------------------------------

class Iter:
    """An argument that reaches the agent's function as an iterator over these items."""

    def __init__(self, items):
        self.items = list(items)


class Call:
    """An argument that is the result of calling the agent's function fn(*args) first."""

    def __init__(self, fn, args):
        self.fn, self.args = fn, list(args)


def _wire(v):
    if isinstance(v, Iter):
        return {"$iter": [_wire(x) for x in v.items]}
    if isinstance(v, Call):
        return {"$call": {"fn": v.fn, "args": [_wire(a) for a in v.args]}}
    if isinstance(v, tuple):
        return {"$tuple": [_wire(x) for x in v]}
    if isinstance(v, dict):
        return {"$dict": {str(k): _wire(x) for k, x in v.items()}}
    if isinstance(v, list):
        return [_wire(x) for x in v]
    return v


def _plain(v):
    """v as it comes back from the agent's side (JSON data: tuples become lists)."""
    return json.loads(json.dumps(v))


def _short(v, n=60):
    s = repr(v)
    return s if len(s) <= n else s[:n] + "..."


class Case:
    """One test: calls of the agent's functions and what each must give. All checks must hold."""

    def __init__(self, name):
        self.name = name
        self.checks = []

    def _add(self, kind, fn, args, expect, keep_args=False):
        call = {"fn": fn, "args": [_wire(a) for a in args]}
        if keep_args:
            call["keep_args"] = True
        self.checks.append((kind, fn, call, expect))
        return self

    def equal(self, fn, args, want):
        """fn(*args) == want (compared as JSON data)."""
        return self._add("equal", fn, args, want)

    def approx(self, fn, args, want, places=7):
        """fn(*args) is a number within 10**-places of want (as unittest's assertAlmostEqual)."""
        return self._add("approx", fn, args, (want, places))

    def raises(self, fn, args, exc="Exception"):
        """fn(*args) raises exc (a class name; subclasses count)."""
        return self._add("raises", fn, args, exc)

    def unchanged(self, fn, args):
        """fn(*args) leaves its (list or dict) arguments as they were."""
        return self._add("unchanged", fn, args, _plain(args), keep_args=True)


# Runs in the agent's sandbox, as the agent: import the module from the workspace, make each call,
# print one line per group (marked) on the original stdout; the module's own prints go to stderr.
_CALLER = r'''
import importlib, json, os, sys
_out = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
_req = json.loads(sys.stdin.readline())
sys.stdin = open(os.devnull)
sys.path.insert(0, os.getcwd())
def _emit(obj):
    _out.write(_req["mark"] + json.dumps(obj) + "\n")
    _out.flush()
def _exc(e):
    try:
        msg = str(e)[:200]
    except BaseException:
        msg = "?"
    return {"raises": [c.__name__ for c in type(e).__mro__], "message": msg}
def _enc(v):
    try:
        return {"value": json.loads(json.dumps(v))}
    except BaseException:
        return {"unserializable": type(v).__name__}
def _dec(a):
    if isinstance(a, dict):
        if "$iter" in a: return iter([_dec(x) for x in a["$iter"]])
        if "$tuple" in a: return tuple(_dec(x) for x in a["$tuple"])
        if "$dict" in a: return {k: _dec(x) for k, x in a["$dict"].items()}
        if "$call" in a: return _call(a["$call"])[0]
    if isinstance(a, list): return [_dec(x) for x in a]
    return a
def _call(c):
    fn = getattr(_mod, c["fn"])
    args = [_dec(a) for a in c["args"]]
    return fn(*args), args
try:
    _mod = importlib.import_module(_req["module"])
except BaseException as e:
    _emit({"import_error": _exc(e)})
    sys.exit(0)
for _g in _req["groups"]:
    _res = []
    for _c in _g["calls"]:
        try:
            _v, _args = _call(_c)
            _r = _enc(_v)
            if _c.get("keep_args"):
                _r["args_after"] = _enc(_args).get("value")
        except BaseException as e:
            _r = _exc(e)
        _res.append(_r)
    _emit({"id": _g["id"], "results": _res})
'''
_BOOT = "import json,sys; exec(json.loads(sys.stdin.readline()))"


def _call_groups(module, groups, timeout):
    mark = "\x1eoutlast-call:" + os.urandom(8).hex() + ":"
    req = json.dumps({"mark": mark, "module": module, "groups": groups})
    r = run(["python3", "-P", "-c", _BOOT, "outlast-call", module], stdin=json.dumps(_CALLER) + "\n" + req + "\n", timeout=timeout)
    got, import_error = {}, None
    for line in r.stdout.decode("utf-8", "replace").split("\n"):
        if not line.startswith(mark):
            continue
        try:
            obj = json.loads(line[len(mark):])
        except ValueError:
            continue
        if "import_error" in obj and import_error is None:
            import_error = obj["import_error"]
        elif isinstance(obj.get("id"), str) and obj["id"] not in got:
            got[obj["id"]] = obj.get("results")
    return got, import_error, r


def _ended(r):
    if r.timed_out:
        return "timed out"
    if r.oom_killed:
        return "ran out of memory"
    return "the agent's code ended the process (status %s)" % r.status


def _judge(checks, results):
    if not isinstance(results, list) or len(results) != len(checks):
        return False, "no result"
    for i, ((kind, fn, _call, expect), r) in enumerate(zip(checks, results)):
        where = "%s (call %d)" % (fn, i + 1) if len(checks) > 1 else fn
        if not isinstance(r, dict):
            return False, "%s: no result" % where
        if kind == "raises":
            if expect not in (r.get("raises") or []):
                got = "raised %s" % r["raises"][0] if r.get("raises") else "returned %s" % _short(r.get("value"))
                return False, "%s %s, expected %s" % (where, got, expect)
            continue
        if "raises" in r:
            return False, "%s raised %s: %s" % (where, r["raises"][0], _short(r.get("message", ""), 80))
        if "value" not in r:
            return False, "%s returned a %s, not plain data" % (where, r.get("unserializable", "?"))
        got = r["value"]
        if kind == "equal":
            if got != _plain(expect):
                return False, "%s returned %s, expected %s" % (where, _short(got), _short(expect))
        elif kind == "approx":
            want, places = expect
            if isinstance(got, bool) or not isinstance(got, (int, float)) or round(abs(got - want), places) != 0:
                return False, "%s returned %s, expected about %s" % (where, _short(got), _short(want))
        elif kind == "unchanged":
            if r.get("args_after") != expect:
                return False, "%s changed its arguments" % where
    return True, ""


def check(module, cases, timeout=30, case_timeout=10, workers=4):
    """Run every case against the agent's module (one agent-run for all; a case whose result is
    missing, e.g. because the agent's code ended the process, runs again alone). [(name, ok, why)]."""
    groups = [{"id": str(i), "calls": [c[2] for c in case.checks]} for i, case in enumerate(cases)]
    got, import_error, r = _call_groups(module, groups, timeout)
    why_missing = {}
    missing = [g for g in groups if g["id"] not in got]
    if missing and import_error is None:
        def alone(g):
            return g["id"], _call_groups(module, [g], case_timeout)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for gid, (g2, ie, r2) in pool.map(alone, missing):
                if gid in g2:
                    got[gid] = g2[gid]
                else:
                    why_missing[gid] = "import failed" if ie else _ended(r2)
    out = []
    for i, case in enumerate(cases):
        gid = str(i)
        if import_error is not None:
            out.append((case.name, False, "importing %s raised %s: %s" % (module, import_error["raises"][0], _short(import_error.get("message", ""), 80))))
        elif gid not in got:
            out.append((case.name, False, why_missing.get(gid) or _ended(r)))
        else:
            ok, why = _judge(case.checks, got[gid])
            out.append((case.name, ok, why))
    return out


def write_reward(value, **details):
    """Write /logs/verifier/reward.json: {"reward": value, ...details}."""
    with open(os.path.join(LOGS, "reward.json"), "w") as f:
        json.dump(dict(details, reward=value), f)


def grade(module, cases, **kw):
    """check(), print a line per case and "N passed, N failed", write the reward (passed / total)."""
    results = check(module, cases, **kw)
    for name, ok, why in results:
        print("ok   %s" % name if ok else "FAIL %s: %s" % (name, why))
    passed = sum(1 for _, ok, _ in results if ok)
    failed = len(results) - passed
    print("%d passed, %d failed" % (passed, failed))
    write_reward(round(passed / len(results), 4) if results else 0.0, passed=passed, failed=failed)
    return 0
`;

/** The `agent-run` command. */
export const AGENT_RUN_SCRIPT = String.raw`#!/usr/bin/env python3
"""agent-run: run a command as the agent, out of the grading process (outlast's command verifier).

usage: agent-run [--timeout SEC] [--] COMMAND [ARG...]

Runs COMMAND in a fresh sandbox as the agent, over this workspace (the current directory when it is
inside the workspace), without /tests, /logs/verifier or the broker, with the task's limits. Its
stdin is this command's stdin; its stdout and stderr come back on this command's; the exit status
is its exit status (124: it timed out; 128+n: killed by signal n; 125: agent-run itself failed).
See docs/task-format.md.
"""
import os
import sys

sys.path.insert(0, os.environ.get("OUTLAST_HELPER_PYTHON", "/outlast/python"))
import outlast_agent  # noqa: E402

MAX_STDIN = 16 * 1024 * 1024


def main(args):
    timeout = None
    while args and args[0].startswith("-"):
        a = args.pop(0)
        if a == "--":
            break
        if a in ("-h", "--help"):
            print(__doc__.strip())
            return 0
        if a in ("-t", "--timeout") or a.startswith("--timeout="):
            v = a.split("=", 1)[1] if "=" in a else (args.pop(0) if args else "")
            try:
                timeout = float(v)
            except ValueError:
                timeout = -1
            if not timeout > 0:
                print("agent-run: --timeout needs a positive number of seconds, got %r" % v, file=sys.stderr)
                return 125
            continue
        print("agent-run: unknown option %s (usage: agent-run [--timeout SEC] [--] COMMAND [ARG...])" % a, file=sys.stderr)
        return 125
    if not args:
        print("usage: agent-run [--timeout SEC] [--] COMMAND [ARG...]", file=sys.stderr)
        return 125
    stdin = b""
    if sys.stdin is not None and not sys.stdin.isatty():
        stdin = sys.stdin.buffer.read(MAX_STDIN + 1)
        if len(stdin) > MAX_STDIN:
            print("agent-run: stdin is limited to %d bytes" % MAX_STDIN, file=sys.stderr)
            return 125
    try:
        r = outlast_agent.run(args, stdin=stdin, timeout=timeout)
    except outlast_agent.AgentRunError as e:
        print("agent-run: %s" % e, file=sys.stderr)
        return 125
    sys.stdout.buffer.write(r.stdout)
    sys.stdout.flush()
    sys.stderr.buffer.write(r.stderr)
    if r.truncated_bytes:
        sys.stderr.write("agent-run: %d bytes of the command's output were cut\n" % r.truncated_bytes)
    if r.timed_out:
        sys.stderr.write("agent-run: the command timed out\n")
    sys.stderr.flush()
    return r.status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
`;
