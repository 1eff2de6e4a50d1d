"""Helpers shared by the data-safety tests (verify, backup, crash, concurrency, bad environments).

Ledgers built through the CLI are made once per session and copied for each test: a closed
ledger is a single file (the WAL is checkpointed and removed when the last connection closes).
"""

from __future__ import annotations

import os
import sqlite3

import pg_support
import subprocess
import sys
from pathlib import Path

from conftest import UNITS, build_entry_ledger, copy_template

ROOT = Path(__file__).resolve().parent.parent


def cached_ledger(tmp_path_factory, dest: Path, name: str = "entry", build=build_entry_ledger) -> dict:
    """Copy a ledger built once per session by `build(db)` to `dest`; returns what `build` returned."""
    return dict(copy_template(tmp_path_factory, dest, name, build))


def integrity(db: Path) -> str:
    if pg_support.is_url(db):  # the server keeps its pages (checksums, WAL); the ledger must be readable
        pg_support.tables(db)
        return "ok"
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return ";".join(r[0] for r in con.execute("PRAGMA integrity_check"))
    finally:
        con.close()


def data_dump(db: Path) -> dict[str, list]:
    """Rows of every ledger table (not the history), to compare states."""
    from dvk.models import ROW_KEYS

    if pg_support.is_url(db):
        have = set(pg_support.tables(db))
        # values as sqlite3 reads them from a file (ISO dates, 0/1), so a server ledger and its SQLite copy compare
        return {t: sorted(repr(tuple(map(pg_support._as_sqlite, r))) for r in pg_support.query(db, f'SELECT * FROM "{t}"'))
                for t in ROW_KEYS if t in have}
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        have = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return {t: sorted(map(repr, con.execute(f'SELECT * FROM "{t}"'))) for t in ROW_KEYS if t in have}
    finally:
        con.close()


def count(db: Path, table: str, where: str = "1") -> int:
    if pg_support.is_url(db):
        return pg_support.query(db, f'SELECT count(*) FROM "{table}" WHERE {"true" if where == "1" else where}')[0][0]
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute(f'SELECT count(*) FROM "{table}" WHERE {where}').fetchone()[0]
    finally:
        con.close()


def dvk_env(env: dict | None = None) -> dict:
    """The environment of a `python -m dvk …` process: this one's, without DVK_DEBUG, with `env` and this
    checkout on PYTHONPATH."""
    e = {k: v for k, v in os.environ.items() if k != "DVK_DEBUG"}
    e.update(env or {})
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    return e


def dvk_process(*args: str, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    """Run `python -m dvk …` in a fresh process (what a clerk's shell or script does)."""
    import pg_support

    pg_support.ensure_all()  # the test's server databases, made on first use
    return subprocess.run([sys.executable, "-m", "dvk", *args], capture_output=True, text=True, env=dvk_env(env), **kw)


def verify_ok(db: Path) -> str:
    res = dvk_process("verify", "--db", str(db))
    assert res.returncode == 0, res.stderr
    return res.stdout


def build_year(db: Path, n: int, year: int = 2024) -> None:
    """A ledger with `n` complete entries of `year` (report, confirmation, two members' scores) written
    in one command through `Tx.insert_many`, so its history is as real as a clerk's."""
    import datetime as dt

    from dvk.cycle.config import criteria_for
    from dvk.cycle.entries import make_id, match_key
    from dvk.cycle.evidence import marks_json
    from dvk.cycle.setup import init_ledger
    from dvk.cycle.units import upsert_units

    led, _ = init_ledger(db, user="kiểm thử", profile={}, criteria_file=None)
    try:
        with led.write(user="kiểm thử", command="dvk test build", summary=f"{n} mô hình") as tx:
            upsert_units(tx, [{"code": c, "name": name, "committee": k} for c, name, k in UNITS])
            crit = criteria_for(tx.conn, year)
            entries, reports, confs, scores = [], [], [], []
            for i in range(n):
                code, _, committee = UNITS[i % len(UNITS)]
                eid, title = make_id(year, i + 1), f"Mô hình số {i + 1} của {code}"
                entries.append({"id": eid, "year": year, "seq": i + 1, "unit_code": code, "title": title,
                                "kind": "model", "subject": "collective", "person": None, "position": None,
                                "field": 1 + i % 5, "registered_on": dt.date(year, 2, 1 + i % 28), "late": False,
                                "sudden": False, "note": None, "match_key": match_key(code, title, None),
                                "org_code": "CDN"})
                reports.append({"entry_id": eid, "approach": "Cách làm", "experience": "Kinh nghiệm",
                                "spread": "Lan tỏa", "effectiveness": "Hiệu quả", "sustainability": "Bền vững",
                                "reported_on": dt.date(year, 8, 1), "file_path": None, "file_sha256": None})
                confs.append({"entry_id": eid, "committee": committee, "confirmed_by": "Bí thư",
                              "confirmed_on": dt.date(year, 9, 1), "comment": None, "rejected": False,
                              "reason": None})
                level = 7 if i % 5 == 0 else 9
                for m in ("Nguyễn Văn An", "Trần Thị Bích"):
                    scores.append({"entry_id": eid, "member": m,
                                   "marks": marks_json({c: level for c in crit.codes}, crit)})
            tx.insert_many("entry", entries)
            tx.insert_many("report", reports)
            tx.insert_many("confirmation", confs)
            tx.insert_many("score", scores)
    finally:
        led.close()


def build_odd_keys_ledger(path) -> None:
    """A ledger written through dvk's Tx whose keys order differently by tuple and by history spelling:
    entry ids that are prefixes of others ("E" / "E0" / "E~" / "Eé"), a member whose name holds '|',
    council years 999 and 2024 (as numbers and as text), decision ids 1…12 ("1" / "10"), and a score sheet
    deleted and one deleted then written again. `path`: a file or a server URL (tests/ledger/test_verify.py,
    test_pg_store.py)."""
    import datetime as dt

    from dvk.cycle.setup import init_ledger

    led, _ = init_ledger(path, user="t", profile={}, criteria_file=None)
    ids = ["E", "E0", "E~", "Eé", "E1", "E10"]
    members = ["Lê|Văn", "An", "Lê"]
    try:
        with led.write(user="t", command="odd keys") as tx:
            tx.insert("unit", {"code": "U", "name": "Đơn vị", "committee": None, "ordinal": 1, "org_code": "CDN"})
            tx.insert_many("entry", [{"id": e, "year": 2024, "seq": i, "unit_code": "U", "title": f"Mô hình {e}",
                                      "kind": "model", "subject": "collective", "field": 1,
                                      "registered_on": dt.date(2024, 2, 10), "match_key": f"u|{e}",
                                      "org_code": "CDN"} for i, e in enumerate(ids, 1)])
            tx.insert_many("score", [{"entry_id": e, "member": m, "marks": '{"G1":8}'} for e in ids for m in members])
            tx.insert_many("council_member", [{"org_code": "CDN", "year": y, "member": m, "position": None,
                                               "unit_code": None, "role": "member", "ordinal": i}
                                              for y in (999, 2024) for i, m in enumerate(members)])
            for n in range(1, 13):
                tx.insert("decision", {"id": n, "year": 2024, "number": n, "decided_on": dt.date(2024, 10, 1),
                                       "revoked": False, "kind": "recognition", "org_code": "CDN"})
            tx.insert_many("outcome", [{"decision_id": n, "entry_id": e, "recognized": n % 2 == 0, "score": 90.0,
                                        "reasons": "[]"} for n in (1, 10, 12) for e in ids])
        with led.write(user="t", command="deletes") as tx:
            tx.delete("score", {"entry_id": "E0", "member": "An"})
            tx.delete("score", {"entry_id": "E1", "member": "Lê"})
        with led.write(user="t", command="again") as tx:
            tx.insert("score", {"entry_id": "E1", "member": "Lê", "marks": '{"G1":9}'})
    finally:
        led.close()
