# Checks /app/summary.json against the pristine copy of the log shipped with the tests.
import collections
import json
import re
import sys

LINE = re.compile(r'^(\S+) \S+ \S+ \[[^\]]+\] "(\S+) (\S+) (\S+)" (\d{3}) (\d+|-)(?:\s|$)')


def expected(log_path):
    total = malformed = size_sum = errors = 0
    ips, statuses, paths = set(), collections.Counter(), collections.Counter()
    with open(log_path, encoding="utf-8") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not line.strip():
                continue
            m = LINE.match(line)
            if not m:
                malformed += 1
                continue
            total += 1
            ip, _method, path, _proto, status, size = m.groups()
            ips.add(ip)
            statuses[status] += 1
            paths[path] += 1
            size_sum += 0 if size == "-" else int(size)
            errors += status.startswith("5")
    top = sorted(paths.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    return {
        "total_requests": total,
        "malformed_lines": malformed,
        "unique_ips": len(ips),
        "status_counts": dict(statuses),
        "top_paths": [{"path": p, "count": c} for p, c in top],
        "bytes_total": size_sum,
        "error_rate": round(errors / total, 4) if total else 0.0,
    }


def main():
    log_path, summary_path = sys.argv[1], sys.argv[2]
    want = expected(log_path)
    try:
        with open(summary_path, encoding="utf-8") as f:
            got = json.load(f)
    except FileNotFoundError:
        print(f"FAIL: {summary_path} does not exist")
        return 1
    except json.JSONDecodeError as e:
        print(f"FAIL: {summary_path} is not valid JSON: {e}")
        return 1
    if not isinstance(got, dict):
        print("FAIL: summary.json is not a JSON object")
        return 1
    ok = True
    if set(got) != set(want):
        print(f"FAIL: keys {sorted(got)} != {sorted(want)}")
        ok = False
    for key, value in want.items():
        if key not in got:
            continue
        g = got[key]
        same = abs(g - value) < 1e-9 if key == "error_rate" and isinstance(g, (int, float)) else g == value
        print(f"{'ok  ' if same else 'FAIL'} {key}")
        ok = ok and same
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
