"""Several writers at once: they wait for each other (busy timeout, BEGIN IMMEDIATE) instead of failing
with "database is locked", nothing is lost, the history chain stays whole, and a backup taken meanwhile
is consistent."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from conftest import FULL
from safety_support import ROOT, cached_ledger, count, integrity, verify_ok

pytestmark = pytest.mark.sqlite_only("SQLite's BEGIN IMMEDIATE, busy timeout and WAL; the PostgreSQL counterpart is test_pg_concurrency.py")

WORKER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    import typer.testing
    from typer.testing import CliRunner
    from dvk.cli import app

    command = typer.testing._get_command(app)  # build the command tree once, not for every invocation
    typer.testing._get_command = lambda _app: command

    db, unit, n, go, tag = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]), sys.argv[6]
    full = json.loads(sys.argv[5])
    while not go.exists():  # start every worker at the same moment
        time.sleep(0.001)
    runner, failures = CliRunner(), []
    def dvk(*args):
        r = runner.invoke(app, [args[0], "--db", db, *args[1:]])
        if r.exit_code != 0:
            failures.append(f"{args[0]}: {r.exit_code} {r.stderr} {r.stdout}")
        return r.stdout.strip()
    for i in range(n // 2):  # n commands in all: a registration, then its score, n/2 times
        eid = dvk("register", "--year", "2025", "--unit", unit, "--title", f"Mô hình {tag} số {i}",
                  "--field", str(1 + i % 5), "--date", "10/02/2025", "--user", f"thư ký {unit}")
        dvk("score", eid, "--member", f"Ủy viên {tag}", *full, "--user", f"thư ký {unit}")
    print(json.dumps(failures, ensure_ascii=False))
""")


def _env() -> dict:
    e = {k: v for k, v in os.environ.items() if k != "DVK_DEBUG"}
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    return e


@pytest.fixture
def entry(dvk, tmp_path_factory):
    return dvk, cached_ledger(tmp_path_factory, dvk.db)["eid"]


@pytest.mark.slow
def test_four_writer_processes_lose_nothing(entry, tmp_path):
    d, _ = entry
    units = ["BVDK", "BVNHI", "CDC", "BVDK"]
    n = 20
    records = count(d.db, "history")
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(d.db), u, str(n), str(go), json.dumps(FULL),
                               f"người viết {k}"], env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for k, u in enumerate(units)]
    time.sleep(1.0)  # let the interpreters start
    go.touch()
    backups = []
    while any(p.poll() is None for p in procs):  # back up while they write
        if len(backups) < 3:
            backups.append(tmp_path / f"giua-chung-{len(backups)}.sqlite")
            d("backup", str(backups[-1]))
        time.sleep(0.2)
    for p in procs:
        out, err = p.communicate()
        assert p.returncode == 0, err
        assert json.loads(out) == [], out
        assert "locked" not in err and "Traceback" not in err
    writers = len(units)
    assert count(d.db, "entry", "year = 2025") == writers * n // 2
    assert count(d.db, "score", "entry_id LIKE '2025-%'") == writers * n // 2
    con = sqlite3.connect(d.db)
    ids = [r[0] for r in con.execute("SELECT id FROM entry WHERE year = 2025 ORDER BY seq")]
    users = dict(con.execute("SELECT user, count(*) FROM history GROUP BY user").fetchall())
    con.close()
    assert ids == [f"2025-{i:03d}" for i in range(1, writers * n // 2 + 1)], "ids are unique and gapless"
    assert count(d.db, "history") == records + writers * n
    assert users["thư ký BVDK"] == 2 * n and users["thư ký CDC"] == n
    assert "Sổ toàn vẹn" in d("verify").stdout
    for b in backups:  # every backup taken mid-way is a consistent ledger of its own
        assert integrity(b) == "ok"
        verify_ok(b)


@pytest.mark.slow
def test_writers_started_as_separate_commands_at_once(entry, tmp_path):
    """Four `python -m dvk register` at the same moment, as four clerks' scripts would."""
    d, _ = entry
    env = _env()
    procs = [subprocess.Popen([sys.executable, "-m", "dvk", "register", "--db", str(d.db), "--year", "2025",
                               "--unit", "CDC", "--title", f"Đăng ký song song {i}", "--field", "3",
                               "--date", "11/02/2025"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for i in range(4)]
    outs = [p.communicate() for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, outs
    assert sorted(o[0].strip() for o in outs) == [f"2025-{i:03d}" for i in range(1, 5)]
    verify_ok(d.db)


def test_a_writer_waits_for_a_long_transaction_and_readers_do_not(entry):
    d, _ = entry
    other = sqlite3.connect(d.db, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # someone else is writing for a while
    released = threading.Event()

    def release():
        time.sleep(1.0)
        other.execute("ROLLBACK")
        released.set()

    t = threading.Thread(target=release)
    t.start()
    try:
        t0 = time.monotonic()
        d("list", "--year", "2024")  # reading does not wait
        assert time.monotonic() - t0 < 0.9 and not released.is_set()
        eid = d("register", "--year", "2024", "--unit", "CDC", "--title", "Chờ đến lượt", "--field", "2",
                "--date", "12/02/2024").stdout.strip()
        assert released.is_set(), "the write waited for the other transaction"
    finally:
        t.join()
        other.close()
    assert eid == "2024-002"
    d("verify")
