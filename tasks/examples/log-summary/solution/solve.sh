#!/usr/bin/env bash
# Oracle for log-summary: parse /app/access_log and write /app/summary.json.
set -euo pipefail
python3 - <<'PY'
import collections, json, re

line_re = re.compile(r'^(\S+) \S+ \S+ \[[^\]]+\] "(\S+) (\S+) (\S+)" (\d{3}) (\d+|-)(?:\s|$)')
total = malformed = size_sum = errors = 0
ips, statuses, paths = set(), collections.Counter(), collections.Counter()
with open("/app/access_log", encoding="utf-8") as f:
    for raw in f:
        line = raw.rstrip("\n")
        if not line.strip():
            continue
        m = line_re.match(line)
        if not m:
            malformed += 1
            continue
        ip, _, path, _, status, size = m.groups()
        total += 1
        ips.add(ip)
        statuses[status] += 1
        paths[path] += 1
        size_sum += 0 if size == "-" else int(size)
        if status.startswith("5"):
            errors += 1
top = sorted(paths.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
summary = {
    "total_requests": total,
    "malformed_lines": malformed,
    "unique_ips": len(ips),
    "status_counts": dict(sorted(statuses.items())),
    "top_paths": [{"path": p, "count": c} for p, c in top],
    "bytes_total": size_sum,
    "error_rate": round(errors / total, 4) if total else 0.0,
}
with open("/app/summary.json", "w", encoding="utf-8") as f:
    json.dump(summary, f, indent=2)
    f.write("\n")
PY
echo "wrote /app/summary.json"
