#!/usr/bin/env bash
# Oracle for clean-csv: apply the rules of instruction.md to raw.csv and write clean.csv.
set -euo pipefail
python3 -B - <<'PY'
import csv, datetime

months = {m: i + 1 for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split())}

def to_iso(s):
    if "/" in s:
        d, m, y = (int(x) for x in s.split("/"))
    elif "," in s:
        mon_day, y = s.split(",")
        mon, d = mon_day.split()
        m, d, y = months[mon], int(d), int(y)
    else:
        y, m, d = (int(x) for x in s.split("-"))
    return datetime.date(y, m, d).isoformat()

with open("raw.csv", newline="", encoding="utf-8") as f:
    reader = csv.reader(f)
    header = next(reader)
    rows = [[x.strip() for x in r] for r in reader]

keep = {}
for rid, name, email, date, plan in rows:
    email = email.lower()
    if not email or " " in email or email.count("@") != 1:
        continue
    name = " ".join(w[0].upper() + w[1:].lower() for w in name.split())
    row = [int(rid), name, email, to_iso(date), plan.lower() or "free"]
    if email not in keep or row[0] < keep[email][0]:
        keep[email] = row

with open("clean.csv", "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["id", "name", "email", "signup_date", "plan"])
    for row in sorted(keep.values()):
        w.writerow(row)
PY
echo "wrote clean.csv"
