# Grades clean.csv (in the working directory) against the rules, computed from the pristine raw.csv
# shipped with the tests. Writes /logs/verifier/reward.json: {"reward": r, ...} where r = rows exactly
# right / max(rows expected, rows written), times 0.9 when the rows are not sorted by id.
import collections
import csv
import datetime
import json
import os
import sys

HEADER = ["id", "name", "email", "signup_date", "plan"]
MONTHS = {m: i + 1 for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split())}


def norm_date(s):
    if "/" in s:
        d, m, y = s.split("/")
        return datetime.date(int(y), int(m), int(d)).isoformat()
    if "," in s:
        md, y = s.split(",")
        mon, day = md.split()
        return datetime.date(int(y), MONTHS[mon], int(day)).isoformat()
    return datetime.date.fromisoformat(s).isoformat()


def expected(raw_path):
    with open(raw_path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))[1:]
    best = {}
    for r in rows:
        rid, name, email, date, plan = (x.strip() for x in r)
        email = email.lower()
        if not email or " " in email or email.count("@") != 1:
            continue
        name = " ".join(w[:1].upper() + w[1:].lower() for w in name.split(" ") if w)
        row = (str(int(rid)), name, email, norm_date(date), plan.lower() or "free")
        if email not in best or int(rid) < int(best[email][0]):
            best[email] = row
    return sorted(best.values(), key=lambda r: int(r[0]))


def main():
    tests_dir = os.path.dirname(os.path.abspath(__file__))
    logs = sys.argv[1] if len(sys.argv) > 1 else "/logs/verifier"
    want = expected(os.path.join(tests_dir, "raw.csv"))
    result = {"reward": 0.0, "rows_expected": len(want), "rows_right": 0, "rows_written": 0, "problem": None}
    try:
        with open("clean.csv", newline="", encoding="utf-8") as f:
            got = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        result["problem"] = f"cannot read clean.csv: {e}"
        got = None
    if got is not None:
        if not got or got[0] != HEADER:
            result["problem"] = "missing or wrong header"
        else:
            body = [tuple(r) for r in got[1:]]
            result["rows_written"] = len(body)
            left = collections.Counter(want)
            right = 0
            for row in body:
                if left[row] > 0:
                    left[row] -= 1
                    right += 1
            result["rows_right"] = right
            reward = right / max(len(want), len(body), 1)
            ids = [r[0] for r in body]
            if not all(i.isdigit() for i in ids) or ids != sorted(ids, key=int):
                result["problem"] = "rows are not sorted by id"
                reward *= 0.9
            result["reward"] = round(reward, 4)
    os.makedirs(logs, exist_ok=True)
    with open(os.path.join(logs, "reward.json"), "w") as f:
        json.dump(result, f)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
