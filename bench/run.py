"""Benchmark harness: dvk's commands against plain sqlite3 baselines, in the same run.

For each size it builds a ledger with full cycles (reports, confirmations, 3 council members'
scores; bench/build.py), then times each command as its own process (`python -m dvk …`) and a
baseline process that does the same work with plain `sqlite3` and the standard library:

* start-up: `dvk --version` vs `python -c "import typer"`;
* `list --json`, `check --json`, `status --json`, `recognize` (dry run and real, on a copy)
  vs a baseline that reads the same tables with sqlite3, computes the same scores and writes
  the same JSON (or inserts the same outcome rows);
* `verify` (hash chain + replay) vs a baseline that only recomputes the chain's hashes.

It prints a table: time, baseline, ratio, peak memory (maximum resident set size of each
process, from os.wait4). Imports, exports and sorting have their own scripts (import_bench.py,
export_bench.py, sort_bench.py); `--all` runs them too at their default sizes.

    .venv/bin/python bench/run.py                   # 1,000 and 100,000 entries
    .venv/bin/python bench/run.py --size 1000000    # a million (builds a ~3 GB ledger, ~5 min)
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

YEAR = 2024

# ---------------------------------------------------------------- baselines (plain sqlite3)

BASE_COMMON = r'''
import json, sqlite3, sys
db = sys.argv[1]
con = sqlite3.connect(db)
W = {"G1": 8, "G2": 8, "G3": 8, "G4": 8, "G5": 8, "S1": 10, "S2": 10, "S3": 10, "S4": 10, "S5": 10, "S6": 10}
def total(marks):
    num = den = 0
    for c, v in marks.items():
        if v is None: continue
        num += v * W[c]; den += W[c]
    return num * 10 / den if den else None
def rows():
    ents = con.execute("SELECT id, unit_code, title, kind, subject, person, position, field, registered_on, "
                       "late, sudden, note, seq FROM entry WHERE year=? ORDER BY seq", (%(year)d,))
    reps = {r[0]: r for r in con.execute("SELECT r.entry_id, r.approach, r.experience, r.spread, r.effectiveness, "
                                         "r.sustainability FROM report r JOIN entry e ON e.id=r.entry_id WHERE e.year=?",
                                         (%(year)d,))}
    confs = {r[0]: r for r in con.execute("SELECT c.entry_id, c.committee, c.rejected FROM confirmation c "
                                          "JOIN entry e ON e.id=c.entry_id WHERE e.year=?", (%(year)d,))}
    sheets = {}
    for eid, m, marks in con.execute("SELECT s.entry_id, s.member, s.marks FROM score s JOIN entry e "
                                     "ON e.id=s.entry_id WHERE e.year=?", (%(year)d,)):
        sheets.setdefault(eid, []).append(total(json.loads(marks)))
    for e in ents:
        r = reps.get(e[0]); c = confs.get(e[0]); s = [t for t in sheets.get(e[0], []) if t is not None]
        score = sum(s) / len(s) if s else None
        reasons = []
        if e[10] == 0 and not ("%(year)d-02-01" <= (e[8] or "") <= "%(year)d-02-29"): reasons.append("late")
        if r is None or not all(x and x.strip() for x in r[1:]): reasons.append("report")
        if c is None or c[2]: reasons.append("confirmation")
        if score is None or score < 80: reasons.append("score")
        yield e, score, reasons
'''

BASELINES = {
    "list": BASE_COMMON + r'''
out = sys.stdout
out.write("[")
for i, (e, score, reasons) in enumerate(rows()):
    out.write((",\n" if i else "\n") + json.dumps({"id": e[0], "unit": e[1], "title": e[2], "kind": e[3],
        "subject": e[4], "person": e[5], "position": e[6], "field": e[7], "registered_on": e[8], "late": bool(e[9]),
        "sudden": bool(e[10]), "note": e[11], "score": score, "eligible": not reasons, "reasons": reasons},
        ensure_ascii=False))
out.write("\n]\n")
''',
    "check": None,  # same work as list plus per-gate detail: reuse "list"
    "status": r'''
import json, sqlite3, sys
con = sqlite3.connect(sys.argv[1])
q = """SELECT e.unit_code, e.field, count(*), count(r.entry_id),
       sum(c.entry_id IS NOT NULL AND c.rejected = 0),
       sum((SELECT count(*) FROM score s WHERE s.entry_id = e.id) > 0)
       FROM entry e LEFT JOIN report r ON r.entry_id = e.id LEFT JOIN confirmation c ON c.entry_id = e.id
       WHERE e.year = ? GROUP BY e.unit_code, e.field"""
print(json.dumps([list(r) for r in con.execute(q, (%(year)d,))]))
''',
    "recognize": BASE_COMMON + r'''
out = []
for e, score, reasons in rows():
    out.append((1, e[0], not reasons, score, json.dumps(reasons)))
con.execute("CREATE TEMP TABLE o (d INT, e TEXT, r INT, s REAL, reasons TEXT)")
con.executemany("INSERT INTO o VALUES (?,?,?,?,?)", out)
con.commit()
''',
    "verify": r'''
import hashlib, sqlite3, sys
con = sqlite3.connect(sys.argv[1])
prev = "0" * 64
for hid, in con.execute("SELECT id FROM history ORDER BY id"):
    h = hashlib.sha256()
    for row in con.execute("SELECT seq, table_name, row_key, op, data FROM change WHERE history_id=? ORDER BY seq",
                           (hid,)):
        h.update("\t".join("" if x is None else str(x) for x in row).encode())
    prev = hashlib.sha256((prev + h.hexdigest()).encode()).hexdigest()
print(prev)
''',
}
BASELINES["check"] = BASELINES["list"]


def run(argv: list[str], *, stdout=subprocess.DEVNULL, env=None) -> tuple[float, float, int]:
    """Run a process; return (seconds, peak RSS in MB, exit code)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        print(f"  ! {' '.join(argv[:6])}… exited {code}: {err.strip()[:300]}", file=sys.stderr)
    return elapsed, usage.ru_maxrss / 1024, code


def best_of(n: int, argv: list[str], **kw) -> tuple[float, float]:
    times, mems = [], []
    for _ in range(n):
        t, m, _ = run(argv, **kw)
        times.append(t)
        mems.append(m)
    return min(times), max(mems)


def baseline(name: str, db: Path, tmp: Path) -> list[str]:
    script = tmp / f"base_{name}.py"
    script.write_text(BASELINES[name] % {"year": YEAR}, encoding="utf-8")
    return [sys.executable, str(script), str(db)]


def dvk(*args: str) -> list[str]:
    return [sys.executable, "-m", "dvk", *args]


def bench_size(size: int, tmp: Path, repeat: int) -> list[tuple]:
    db = tmp / f"bench-{size}.sqlite"
    if not db.exists():
        # Built in a child process so this process stays small: a forked child's peak RSS
        # (ru_maxrss) starts from its parent's, which would inflate every measurement.
        print(f"… building a ledger of {size:,} entries with full cycles", flush=True)
        subprocess.run([sys.executable, str(HERE / "build.py"), "--size", str(size), "--out", str(db)], check=True)
        print(f"  ({db.stat().st_size / 1e6:.0f} MB)", flush=True)
    env = {**os.environ, "DVK_DB": str(db), "DVK_USER": "bench"}
    rows = []
    for name, args in [("list", ["list", "--year", str(YEAR), "--json"]),
                       ("check", ["check", "--year", str(YEAR), "--json"]),
                       ("status", ["status", "--year", str(YEAR), "--json"])]:
        t, m = best_of(repeat, dvk(*args), env=env)
        bt, bm = best_of(repeat, baseline(name, db, tmp))
        rows.append((size, f"dvk {' '.join(args[:1])} --json", t, bt, m, bm))
    t, m = best_of(repeat, dvk("recognize", "--year", str(YEAR), "--number", "1", "--dry-run", "--json"), env=env)
    bt, bm = best_of(repeat, baseline("recognize", db, tmp))
    rows.append((size, "dvk recognize --dry-run", t, bt, m, bm))
    copy = tmp / f"bench-{size}-copy.sqlite"
    shutil.copyfile(db, copy)
    t, m, _ = run(dvk("recognize", "--year", str(YEAR), "--number", "1", "--json"), env={**env, "DVK_DB": str(copy)})
    bt, bm, _ = run(baseline("recognize", copy, tmp))
    rows.append((size, "dvk recognize (writes, incl. backup)", t, bt, m, bm))
    t, m, _ = run(dvk("verify"), env={**env, "DVK_DB": str(copy)})
    bt, bm, _ = run(baseline("verify", copy, tmp))
    rows.append((size, "dvk verify", t, bt, m, bm))
    for p in tmp.glob(f"bench-{size}-copy.sqlite*"):
        if p.is_dir():
            shutil.rmtree(p)
        else:
            p.unlink()
    return rows


def bench_startup(repeat: int) -> list[tuple]:
    t, m = best_of(repeat, dvk("--version"))
    bt, bm = best_of(repeat, [sys.executable, "-c", "import typer"])
    t2, m2 = best_of(repeat, dvk("--help"))
    return [("-", "dvk --version", t, bt, m, bm), ("-", "dvk --help", t2, bt, m2, bm)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="1000,100000", help="comma-separated entry counts (default 1000,100000)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per command; the best time is kept")
    ap.add_argument("--keep", type=Path, help="keep the built ledgers in this folder (reused next time)")
    ap.add_argument("--all", action="store_true", help="also run import_bench.py, export_bench.py, sort_bench.py")
    a = ap.parse_args()
    sizes = [int(s.replace("_", "")) for s in a.size.split(",") if s]
    tmp = a.keep or Path(tempfile.mkdtemp(prefix="dvk-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"SQLite {__import__('sqlite3').sqlite_version}; {time.strftime('%Y-%m-%d')}")
    rows = bench_startup(max(a.repeat, 5))
    for size in sizes:
        rows += bench_size(size, tmp, a.repeat if size < 500_000 else 1)
    print()
    print(f"| {'entries':>9} | {'command':<38} | {'time':>8} | {'baseline':>8} | {'ratio':>5} | {'peak MB':>7} | "
          f"{'base MB':>7} |")
    print(f"|{'-' * 11}|{'-' * 40}|{'-' * 10}|{'-' * 10}|{'-' * 7}|{'-' * 9}|{'-' * 9}|")
    for size, name, t, bt, m, bm in rows:
        sz = f"{size:,}" if isinstance(size, int) else size
        print(f"| {sz:>9} | {name:<38} | {t:7.2f}s | {bt:7.2f}s | {t / bt:5.1f} | {m:7.0f} | {bm:7.0f} |")
    if a.all:
        for script in ("import_bench.py", "export_bench.py", "sort_bench.py"):
            if (HERE / script).exists():
                print(f"\n== {script}", flush=True)
                subprocess.run([sys.executable, str(HERE / script)], check=False)
    if not a.keep:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
