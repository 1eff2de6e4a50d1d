"""Benchmark harness: dvk's commands against plain sqlite3 baselines, in the same run.

For each size it builds a ledger with full cycles (reports, confirmations, 3 council members'
scores; bench/build.py), then times each command as its own process (`python -m dvk …`) and a
baseline process that does the same work with plain `sqlite3` and the standard library:

* start-up: `dvk --version` vs `python -c "import typer"`, and the import floor of the CLI;
* single commands a clerk types (`show ID`, `register`, `score ID`, `check ID`, `history ID`) on 100
  entries and at every size, each alternated with a plain sqlite3 process doing the same read or write;
* `dvk list` (plain lines, its output not a terminal) against its own `--json`;
* `list --json`, `check --json`, `status --json`, `recognize` (dry run and real, on a copy)
  vs a baseline that reads the same tables with sqlite3, computes the same scores and writes
  the same JSON — for `list`, `check` and the dry run the same bytes, Vietnamese reasons and every
  gate's text included (tests/design/test_bench_baselines.py compares them) — or inserts the same
  outcome rows;
* `verify` (hash chain + replay) vs a baseline that only recomputes the chain's hashes.

It prints a table: time, baseline, ratio, peak memory (maximum resident set size of each
process, from os.wait4). Imports, exports and sorting have their own scripts (import_bench.py,
export_bench.py, sort_bench.py); `--all` runs them too at their default sizes.

    .venv/bin/python bench/run.py                   # 1,000, 10,000 and 100,000 entries
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
YEAR = %(year)d
W = {"G1": 8, "G2": 8, "G3": 8, "G4": 8, "G5": 8, "S1": 10, "S2": 10, "S3": 10, "S4": 10, "S5": 10, "S6": 10}
PASS, MIN_MEMBERS = 80, 1
START, END = f"{YEAR}-02-01", f"{YEAR}-02-29"
ASPECTS = (("approach", "Cách làm"), ("experience", "Kinh nghiệm"), ("spread", "Tính lan tỏa"),
           ("effectiveness", "Hiệu quả"), ("sustainability", "Sự bền vững"))
def vn_date(iso):
    y, m, d = iso.split("-")
    return f"{d}/{m}/{y}"
def vn_score(x):
    return f"{x:.2f}".replace(".", ",")
def total(marks):
    num = den = 0
    for c, v in marks.items():
        if v is None: continue
        num += v * W[c]; den += W[c]
    return num * 10 / den if den else None
units = {c: (n, k) for c, n, k in con.execute("SELECT code, name, committee FROM unit")}
def rows(texts):
    # Every entry of the year judged as dvk judges it, with its Vietnamese reasons: all five gates' texts when
    # `texts` (check), else only the failing ones' (list, recognize).
    ents = con.execute("SELECT id, unit_code, title, kind, subject, person, position, field, registered_on, "
                       "late, sudden, note, seq FROM entry WHERE year=? ORDER BY seq", (YEAR,))
    reps = {r[0]: r for r in con.execute("SELECT r.entry_id, r.approach, r.experience, r.spread, r.effectiveness, "
                                         "r.sustainability FROM report r JOIN entry e ON e.id=r.entry_id WHERE e.year=?",
                                         (YEAR,))}
    confs = {r[0]: r for r in con.execute("SELECT c.entry_id, c.committee, c.rejected, c.reason FROM confirmation c "
                                          "JOIN entry e ON e.id=c.entry_id WHERE e.year=?", (YEAR,))}
    sheets = {}
    for eid, m, marks in con.execute("SELECT s.entry_id, s.member, s.marks FROM score s JOIN entry e "
                                     "ON e.id=s.entry_id WHERE e.year=?", (YEAR,)):
        sheets.setdefault(eid, {})[m] = total(json.loads(marks))
    for e in ents:
        eid, on, sudden = e[0], e[8], e[10]
        r, c, totals = reps.get(eid), confs.get(eid), sheets.get(eid, {})
        gates = []
        if sudden:
            gates.append(("registration", "Đăng ký", True, "Thành tích đột xuất, không phải đăng ký."))
        elif on is None:
            gates.append(("registration", "Đăng ký", False, "Chưa có ngày đăng ký."))
        elif START <= on <= END:
            gates.append(("registration", "Đăng ký", True, texts and f"Đăng ký ngày {vn_date(on)}, đúng hạn."))
        else:
            gates.append(("registration", "Đăng ký", False, f"Đăng ký ngày {vn_date(on)}, ngoài thời hạn "
                          f"{vn_date(START)}–{vn_date(END)} và không phải thành tích đột xuất."))
        if r is None:
            gates.append(("report", "Báo cáo thành tích", False, "Chưa có báo cáo thành tích."))
        else:
            empty = [label for (_, label), v in zip(ASPECTS, r[1:]) if not (v and v.strip())]
            gates.append(("report", "Báo cáo thành tích", False, "Báo cáo thành tích còn thiếu: " + ", ".join(empty) + ".")
                         if empty else ("report", "Báo cáo thành tích", True, "Báo cáo nêu đủ 5 nội dung."))
        if c is None:
            gates.append(("confirmation", "Xác nhận của cấp ủy", False, "Chưa có xác nhận của cấp ủy cùng cấp."))
        elif c[2]:
            gates.append(("confirmation", "Xác nhận của cấp ủy", False,
                          f"Cấp ủy “{c[1]}” không xác nhận: {c[3] or 'không nêu lý do'}."))
        else:
            gates.append(("confirmation", "Xác nhận của cấp ủy", True, texts and f"Đã được “{c[1]}” xác nhận."))
        n = len(totals)
        gates.append(("scores", "Chấm điểm", False, f"Mới có {n} thành viên Hội đồng chấm điểm, cần ít nhất {MIN_MEMBERS}.")
                     if n < MIN_MEMBERS else ("scores", "Chấm điểm", True, texts and f"{n} thành viên Hội đồng đã chấm điểm."))
        values = [t for t in totals.values() if t is not None]
        score = sum(values) / len(values) if values else None
        if score is None:
            gates.append(("pass_mark", "Điểm đạt", False, f"Chưa có điểm (điểm đạt {PASS})."))
        elif score >= PASS:
            gates.append(("pass_mark", "Điểm đạt", True, texts and f"Điểm {vn_score(score)} ≥ điểm đạt {PASS}."))
        else:
            gates.append(("pass_mark", "Điểm đạt", False, f"Điểm {vn_score(score)} thấp hơn điểm đạt {PASS}."))
        status = "scored" if totals else "confirmed" if c and not c[2] else "reported" if r else "registered"
        yield e, status, score, gates, totals
def entry_json(e, status, score, gates):
    reasons = [g[3] for g in gates if not g[2]]
    return {"id": e[0], "year": YEAR, "unit": e[1], "unit_name": units[e[1]][0], "title": e[2], "kind": e[3],
            "subject": e[4], "person": e[5], "position": e[6], "field": e[7], "registered_on": e[8],
            "late": bool(e[9]), "sudden": bool(e[10]), "note": e[11], "status": status,
            "score": None if score is None else round(score, 2), "eligible": not reasons, "reasons": reasons}
def stream(items):
    out = sys.stdout
    out.write("[")
    for i, it in enumerate(items):
        out.write((",\n  " if i else "\n  ") + json.dumps(it, ensure_ascii=False))
    out.write("\n]\n")
'''

BASELINES = {
    "list": BASE_COMMON + r'''
stream(entry_json(e, status, score, gates) for e, status, score, gates, _ in rows(False))
''',
    "check": BASE_COMMON + r'''
stream({**entry_json(e, status, score, gates),
        "gates": [{"code": g[0], "label": g[1], "ok": g[2], "reason": g[3]} for g in gates],
        "member_totals": {m: None if t is None else round(t, 2) for m, t in totals.items()},
        "pass_mark": float(PASS)} for e, status, score, gates, totals in rows(True))
''',
    "recognize_dry": BASE_COMMON + r'''
ok, bad = [], []
for e, status, score, gates, _ in rows(False):
    reasons = [g[3] for g in gates if not g[2]]
    (bad.append({"id": e[0], "reasons": reasons}) if reasons else ok.append(e[0]))
out = sys.stdout
out.write(f'{{\n  "year": {YEAR},\n  "number": 1,\n  "date": "{YEAR}-10-15",\n  "dry_run": true,\n  "recognized": [')
out.write(",".join("\n    " + json.dumps(x) for x in ok) + "\n  ],\n" if ok else "],\n")
out.write('  "not_recognized": [')
out.write(",".join("\n    " + json.dumps(x, ensure_ascii=False) for x in bad) + "\n  ]\n}\n" if bad else "]\n}\n")
''',
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
for e, status, score, gates, _ in rows(False):
    reasons = [g[3] for g in gates if not g[2]]
    out.append((1, e[0], not reasons, score, json.dumps(reasons, ensure_ascii=False)))
con.execute("CREATE TEMP TABLE o (d INT, e TEXT, r INT, s REAL, reasons TEXT)")
con.executemany("INSERT INTO o VALUES (?,?,?,?,?)", out)
con.commit()
''',
    "verify": r'''
import hashlib, sqlite3, sys
con = sqlite3.connect(sys.argv[1])
prev = "0" * 64
for hid, at, user, command, summary, n in con.execute(
        "SELECT id, at, user, command, summary, n_changes FROM history ORDER BY id").fetchall():
    h = hashlib.sha256()
    for seq, t, k, op, data in con.execute("SELECT seq, table_name, row_key, op, data FROM change "
                                           "WHERE history_id=? ORDER BY seq", (hid,)):
        h.update(f"{seq}\t{t}\t{k}\t{op}\t{'' if data is None else data}\n".encode())
    prev = hashlib.sha256("\n".join([prev, str(hid), at, user, command, summary, str(n), h.hexdigest()]).encode()
                          ).hexdigest()
print(prev)
''',
}

# Single commands a clerk types, each against a plain process doing the same read or write with sqlite3
# (the entry in the middle of the year; writes in one BEGIN IMMEDIATE with their history record).
ONE_COMMON = r'''
import hashlib, json, sqlite3, sys, datetime
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("PRAGMA busy_timeout=5000"); con.execute("PRAGMA foreign_keys=ON"); con.execute("PRAGMA synchronous=FULL")
EID = sys.argv[2]
def record(cmd, changes):
    at = datetime.datetime.now(datetime.timezone.utc).isoformat()
    hid = con.execute("INSERT INTO history (at, user, command, summary, n_changes, prev_hash, hash) "
                      "VALUES (?, 'bench', ?, '', 0, '', '')", (at, cmd)).lastrowid
    d = hashlib.sha256()
    for seq, (t, k, op, data) in enumerate(changes, 1):
        con.execute("INSERT INTO change VALUES (?, ?, ?, ?, ?, ?)", (hid, seq, t, k, op, data))
        d.update(f"{seq}\t{t}\t{k}\t{op}\t{data}\n".encode())
    prev = con.execute("SELECT hash FROM history WHERE id < ? ORDER BY id DESC LIMIT 1", (hid,)).fetchone()[0]
    h = hashlib.sha256("\n".join([prev, str(hid), at, "bench", cmd, "", str(len(changes)), d.hexdigest()]).encode())
    con.execute("UPDATE history SET n_changes=?, prev_hash=?, hash=? WHERE id=?", (len(changes), prev, h.hexdigest(), hid))
'''
ONE = {
    "show": ONE_COMMON + r'''
e = con.execute("SELECT * FROM entry WHERE id=?", (EID,)).fetchone()
r = con.execute("SELECT * FROM report WHERE entry_id=?", (EID,)).fetchone()
c = con.execute("SELECT * FROM confirmation WHERE entry_id=?", (EID,)).fetchone()
s = {m: json.loads(x) for m, x in con.execute("SELECT member, marks FROM score WHERE entry_id=? ORDER BY member", (EID,))}
print(json.dumps({"entry": e, "report": r, "confirmation": c, "scores": s}, ensure_ascii=False, indent=2))
''',
    "register": ONE_COMMON + r'''
con.execute("BEGIN IMMEDIATE")
year = 2024
org = con.execute("SELECT code FROM org ORDER BY ordinal, code LIMIT 1").fetchone()[0]  # the ledger's first
seq = con.execute("SELECT coalesce(max(seq), 0) + 1 FROM entry WHERE org_code=? AND year=?", (org, year)).fetchone()[0]
eid = f"{year}-{seq:03d}"
row = {"id": eid, "year": year, "seq": seq, "unit_code": "BVDKDN", "title": f"Mô hình {seq}", "kind": "model",
       "subject": "collective", "person": None, "position": None, "field": 1, "registered_on": "2024-02-10",
       "late": False, "sudden": False, "note": None, "match_key": f"bvdkdn|mo hinh {seq}|", "org_code": org}
dup = con.execute("SELECT id FROM entry WHERE org_code=? AND year=? AND match_key=?",
                  (org, year, row["match_key"])).fetchone()
con.execute("INSERT INTO entry VALUES (:id, :year, :seq, :unit_code, :title, :kind, :subject, :person, :position, "
            ":field, :registered_on, :late, :sudden, :note, :match_key, :org_code)", row)
record("bench register", [("entry", eid, "insert", json.dumps(row, sort_keys=True, ensure_ascii=False))])
con.execute("COMMIT")
print(eid)
''',
    "score": ONE_COMMON + r'''
con.execute("BEGIN IMMEDIATE")
marks = {c: 8 for c in ("G1", "G2", "G3", "G4", "G5", "S1", "S2", "S3", "S4", "S5")}; marks["S6"] = None
data = json.dumps(marks, separators=(",", ":"))
con.execute("INSERT OR REPLACE INTO score (entry_id, member, marks) VALUES (?, 'Bench', ?)", (EID, data))
record("bench score", [("score", f"{EID}|Bench", "update",
                        json.dumps({"entry_id": EID, "member": "Bench", "marks": data}, sort_keys=True))])
con.execute("COMMIT")
print(EID)
''',
    "check": ONE_COMMON + r'''
W = {"G1": 8, "G2": 8, "G3": 8, "G4": 8, "G5": 8, "S1": 10, "S2": 10, "S3": 10, "S4": 10, "S5": 10, "S6": 10}
e = con.execute("SELECT * FROM entry WHERE id=?", (EID,)).fetchone()
r = con.execute("SELECT * FROM report WHERE entry_id=?", (EID,)).fetchone()
c = con.execute("SELECT * FROM confirmation WHERE entry_id=?", (EID,)).fetchone()
tot = []
for (marks,) in con.execute("SELECT marks FROM score WHERE entry_id=?", (EID,)):
    m = json.loads(marks); num = sum(v * W[k] for k, v in m.items() if v is not None)
    tot.append(num * 10 / sum(W[k] for k, v in m.items() if v is not None))
print(json.dumps({"id": EID, "score": sum(tot) / len(tot) if tot else None, "report": r is not None,
                  "confirmed": c is not None}))
''',
    "history": ONE_COMMON + r'''
ids = "SELECT history_id FROM change WHERE substr(row_key, instr(row_key, '|') + 1) = ? " \
      "UNION SELECT history_id FROM change WHERE table_name = 'score' AND row_key >= ? AND row_key < ?"
recs = con.execute(f"SELECT * FROM history WHERE id IN ({ids}) ORDER BY id DESC LIMIT 30",
                   (EID, EID + "|", EID + "}")).fetchall()
print(json.dumps(recs, ensure_ascii=False, indent=2))
''',
}
ONE_ARGS = {
    "show": lambda eid: ["show", eid],
    "register": lambda eid: ["register", "--year", "2024", "--unit", "BVDKDN", "--title", f"Mô hình đo {time.time_ns()}",
                             "--field", "1", "--date", "10/02/2024"],
    "score": lambda eid: ["score", eid, "--member", "Đo thử", "G1=8", "G2=8", "G3=8", "G4=8", "G5=8", "S1=8", "S2=8",
                          "S3=8", "S4=8", "S5=8", "S6=na"],
    "check": lambda eid: ["check", eid],
    "history": lambda eid: ["history", eid],
}


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


# The whole-year commands whose baselines write the same bytes (tests/design/test_bench_baselines.py checks it).
SAME_OUTPUT = {"list": ["list", "--year", str(YEAR), "--json"], "check": ["check", "--year", str(YEAR), "--json"]}
DRY_RUN = ["recognize", "--year", str(YEAR), "--number", "1", "--date", f"15/10/{YEAR}", "--dry-run", "--json"]
SAME_OUTPUT["recognize_dry"] = DRY_RUN


def baseline(name: str, db: Path, tmp: Path) -> list[str]:
    script = tmp / f"base_{name}.py"
    script.write_text(BASELINES[name] % {"year": YEAR}, encoding="utf-8")
    return [sys.executable, str(script), str(db)]


def dvk(*args: str) -> list[str]:
    return [sys.executable, "-m", "dvk", *args]


def built(size: int, tmp: Path) -> Path:
    db = tmp / f"bench-{size}.sqlite"
    if not db.exists():
        # Built in a child process so this process stays small: a forked child's peak RSS
        # (ru_maxrss) starts from its parent's, which would inflate every measurement.
        print(f"… building a ledger of {size:,} entries with full cycles", flush=True)
        subprocess.run([sys.executable, str(HERE / "build.py"), "--size", str(size), "--out", str(db)], check=True)
        print(f"  ({db.stat().st_size / 1e6:.0f} MB)", flush=True)
        subprocess.run(dvk("info"), env={**os.environ, "DVK_DB": str(db)}, stdout=subprocess.DEVNULL, check=True)
    return db


def bench_single(size: int, tmp: Path, repeat: int) -> list[tuple]:
    """The single commands, each run alternately with its plain baseline (best of `repeat`), on a copy
    of the ledger (register and score write)."""
    db = built(size, tmp)
    copy = tmp / f"bench-{size}-single.sqlite"
    shutil.copyfile(db, copy)
    eid = f"{YEAR}-{max(1, size // 2):03d}"
    env = {**os.environ, "DVK_DB": str(copy), "DVK_USER": "bench"}
    rows = []
    for name, script in ONE.items():
        path = tmp / f"one_{name}.py"
        path.write_text(script, encoding="utf-8")
        times, btimes, mems, bmems = [], [], [], []
        for _ in range(repeat):  # alternating, so both see the same load
            t, m, _ = run(dvk(*ONE_ARGS[name](eid)), env=env)
            bt, bm, _ = run([sys.executable, str(path), str(copy), eid])
            times.append(t), btimes.append(bt), mems.append(m), bmems.append(bm)
        rows.append((size, f"dvk {name}" + (" ID" if name in ("show", "check", "history", "score") else ""),
                     min(times), min(btimes), max(mems), max(bmems)))
    for p in tmp.glob(f"bench-{size}-single.sqlite*"):
        shutil.rmtree(p) if p.is_dir() else p.unlink()
    return rows


def bench_size(size: int, tmp: Path, repeat: int) -> list[tuple]:
    db = built(size, tmp)
    env = {**os.environ, "DVK_DB": str(db), "DVK_USER": "bench"}
    rows = []
    t, m = best_of(repeat, dvk("list", "--year", str(YEAR)), env=env)
    bt, bm = best_of(repeat, dvk("list", "--year", str(YEAR), "--json"), env=env)
    rows.append((size, "dvk list (plain lines) vs its --json", t, bt, m, bm))
    for name, args in [("list", SAME_OUTPUT["list"]), ("check", SAME_OUTPUT["check"]),
                       ("status", ["status", "--year", str(YEAR), "--json"])]:
        t, m = best_of(repeat, dvk(*args), env=env)
        bt, bm = best_of(repeat, baseline(name, db, tmp))
        rows.append((size, f"dvk {' '.join(args[:1])} --json", t, bt, m, bm))
    t, m = best_of(repeat, dvk(*DRY_RUN), env=env)
    bt, bm = best_of(repeat, baseline("recognize_dry", db, tmp))
    rows.append((size, "dvk recognize --dry-run", t, bt, m, bm))
    copy = tmp / f"bench-{size}-copy.sqlite"
    shutil.copyfile(db, copy)
    t, m, _ = run(dvk("recognize", "--year", str(YEAR), "--number", "1", "--date", f"15/10/{YEAR}", "--json"),
                  env={**env, "DVK_DB": str(copy)})
    bt, bm, _ = run(baseline("recognize", copy, tmp))
    rows.append((size, "dvk recognize (writes, incl. backup)", t, bt, m, bm))
    times, btimes, mems, bmems = [], [], [], []
    for _ in range(repeat):  # read only: alternating with its baseline, so both see the same load
        t, m, _ = run(dvk("verify"), env={**env, "DVK_DB": str(copy)})
        bt, bm, _ = run(baseline("verify", copy, tmp))
        times.append(t), btimes.append(bt), mems.append(m), bmems.append(bm)
    t, bt, m, bm = min(times), min(btimes), max(mems), max(bmems)
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
    # The floor of a command that would skip SQLAlchemy (a stdlib-sqlite3 path): the CLI's own imports
    # (Typer, Rich, dvk.cli) against a bare interpreter that imports sqlite3 and json.
    t3, m3 = best_of(repeat, [sys.executable, "-c", "import sqlite3, json, rich.console, dvk.cli"])
    t4, m4 = best_of(repeat, [sys.executable, "-c", "import sqlite3, json"])
    t5, m5 = best_of(repeat, [sys.executable, "-c", "import sqlite3, json, rich.console, dvk.cli, sqlalchemy.engine, "
                              "sqlalchemy.sql, dvk.ledger.tables"])
    return [("-", "dvk --version", t, bt, m, bm), ("-", "dvk --help", t2, bt, m2, bm),
            ("-", "imports: typer+rich+dvk.cli vs sqlite3", t3, t4, m3, m4),
            ("-", "imports: + SQLAlchemy Core + tables", t5, t4, m5, m4)]


def compile_dvk() -> None:
    """Start-up is timed as an installed dvk starts: with its modules compiled (pip compiles what it
    installs; an editable checkout compiles on its first run unless PYTHONDONTWRITEBYTECODE is set, as on
    some machines, where every process would compile dvk's modules again, ≈ 0.1 s)."""
    import compileall

    import dvk

    compileall.compile_dir(str(Path(dvk.__file__).parent), quiet=1)
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        print("PYTHONDONTWRITEBYTECODE is set: dvk's modules compiled once beforehand")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="1000,10000,100000",
                    help="comma-separated entry counts (default 1000,10000,100000)")
    ap.add_argument("--no-single", action="store_true", help="skip the single commands (show, register, …)")
    ap.add_argument("--single-only", action="store_true",
                    help="only start-up and the single commands (at 100 entries and at each --size)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per command; the best time is kept")
    ap.add_argument("--keep", type=Path, help="keep the built ledgers in this folder (reused next time)")
    ap.add_argument("--all", action="store_true", help="also run import_bench.py, export_bench.py, sort_bench.py")
    a = ap.parse_args()
    sizes = [int(s.replace("_", "")) for s in a.size.split(",") if s]
    tmp = a.keep or Path(tempfile.mkdtemp(prefix="dvk-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"SQLite {__import__('sqlite3').sqlite_version}; {time.strftime('%Y-%m-%d')}")
    compile_dvk()
    rows = bench_startup(max(a.repeat, 5))
    singles = sorted({100, *sizes}) if not a.no_single else []
    for size in singles:
        rows += bench_single(size, tmp, max(a.repeat, 5) if size < 500_000 else 3)
    for size in sizes if not a.single_only else []:
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
