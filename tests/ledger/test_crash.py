"""Crash safety: SIGKILL in the middle of a big write, of `recognize`, of an import and of an export.

After each kill the ledger must pass `PRAGMA integrity_check` and `dvk verify` and hold exactly the
state before the command or exactly the state after it (the "after" state comes from running the same
command to completion on a copy). Automatic backups and output files are written under a temporary
name and renamed, so nothing half-written is ever left under a final name.

The kills are aimed, not random: the test watches the ledger's -wal file (or the backup folder) and
kills the process as soon as the write is under way, so each run lands in the middle of the work.
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path
from typing import Callable

import pytest

from safety_support import ROOT, build_year, data_dump, integrity

pytestmark = [pytest.mark.sqlite_only("SIGKILL mid-write, then SQLite's PRAGMA integrity_check of the file and its -wal"),
              pytest.mark.slow]


def _env() -> dict:
    e = {k: v for k, v in os.environ.items() if k != "DVK_DEBUG"}
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    return e


def _size(p: Path) -> int:
    try:
        return p.stat().st_size
    except OSError:  # renamed or removed while we looked
        return -1


def wal_over(db: Path, n: int) -> Callable[[], bool]:
    wal = Path(f"{db}-wal")
    return lambda: _size(wal) > n


def backup_being_written(db: Path) -> Callable[[], bool]:
    folder = db.with_name(db.name + ".backups")

    def writing() -> bool:
        try:
            return any(p.name.endswith(".tmp") and _size(p) > 0 for p in folder.iterdir())
        except OSError:
            return False
    return writing


def run_and_kill(argv: list[str], when: Callable[[], bool], timeout: float = 60) -> str:
    """Start `argv`, SIGKILL it the moment `when()` holds; returns how it ended."""
    proc = subprocess.Popen(argv, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    end = time.monotonic() + timeout
    try:
        while time.monotonic() < end:
            if proc.poll() is not None:
                return f"finished ({proc.returncode}): {proc.stderr.read().decode()[-500:]}"
            if when():
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                return "killed"
            time.sleep(0.0005)
        raise AssertionError("the process neither finished nor reached the kill point")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()


def check_after_crash(db: Path, before: dict, after: dict) -> str:
    """The ledger is sound and holds exactly one of the two states; returns which."""
    assert integrity(db) == "ok"
    from dvk.ledger.sqlite import Ledger
    from dvk.ledger.verify import verify

    with Ledger.open(db) as led:
        report = verify(led)
        assert report.ok, report.details()[:10]
    state = data_dump(db)
    assert state in (before, after), "the ledger holds a state that is neither before nor after the command"
    for b in db.with_name(db.name + ".backups").glob("*.sqlite"):
        assert integrity(b) == "ok", f"half-written backup under a final name: {b}"
    return "before" if state == before else "after"


def reference_after(db: Path, argv_for: Callable[[Path], list[str]], tmp_path: Path) -> dict:
    ref = tmp_path / "tham-chieu.sqlite"
    shutil.copy2(db, ref)
    res = subprocess.run(argv_for(ref), env=_env(), capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return data_dump(ref)


def dvk_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "dvk", *args]


# ---------------------------------------------------------------- a big write made by hand

BULK = textwrap.dedent("""
    import sys
    from dvk.ledger.sqlite import Ledger
    led = Ledger.open(sys.argv[1])
    with led.write(user="kiểm thử", command="bulk", summary="12.000 đơn vị") as tx:
        for b in range(12):
            tx.insert_many("unit", [{"code": f"K{b:02d}-{i:04d}", "name": f"Công đoàn cơ sở {b}-{i}",
                                     "committee": "Chi bộ", "ordinal": 100 + b * 1000 + i, "org_code": "CDN"}
                                    for i in range(1000)])
    led.close()
""")


def test_kill_during_a_big_write(tmp_path):
    db = tmp_path / "so.sqlite"
    build_year(db, 0)
    before = data_dump(db)
    after = reference_after(db, lambda p: [sys.executable, "-c", BULK, str(p)], tmp_path)
    seen = set()
    for threshold in (64 * 1024, 1024 * 1024):
        ended = run_and_kill([sys.executable, "-c", BULK, str(db)], wal_over(db, threshold))
        assert ended == "killed", ended
        seen.add(check_after_crash(db, before, after))
    assert "before" in seen  # a kill did land inside the transaction (a loaded machine may be late for one)


# ---------------------------------------------------------------- recognize

def test_kill_during_recognize(tmp_path):
    db = tmp_path / "so.sqlite"
    build_year(db, 800)
    before = data_dump(db)
    argv = lambda p: dvk_argv("recognize", "--year", "2024", "--number", "7", "--date", "15/10/2024", "--db", str(p))
    after = reference_after(db, argv, tmp_path)
    assert before != after
    # During the automatic backup that comes first, then in the middle of writing the decision.
    ended = run_and_kill(argv(db), backup_being_written(db))
    assert ended == "killed", ended
    assert check_after_crash(db, before, after) == "before"
    ended = run_and_kill(argv(db), wal_over(db, 32 * 1024))  # writing the decision (or just done, if late)
    assert ended == "killed", ended
    if check_after_crash(db, before, after) == "before":
        res = subprocess.run(argv(db), env=_env(), capture_output=True, text=True)  # a run that is not killed
        assert res.returncode == 0, res.stderr
        assert check_after_crash(db, before, after) == "after"


# ---------------------------------------------------------------- import

def _registrations(path: Path, n: int) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Năm", "Mã đơn vị", "Tên mô hình, điển hình", "Loại", "Đối tượng", "Họ và tên", "Chức vụ",
                    "Lĩnh vực", "Ngày đăng ký", "Đột xuất", "Ghi chú"])
        for i in range(n):
            w.writerow([2025, ("BVDK", "BVNHI", "CDC")[i % 3], f"Mô hình nhập số {i}", "Mô hình", "Tập thể", "", "",
                        1 + i % 5, "10/02/2025", "", ""])
    return path


def _has_import() -> bool:
    from typer.main import get_command

    from dvk.cli import app

    return any(p.name == "from_" or "--from" in getattr(p, "opts", []) for p in get_command(app).commands["register"].params)


# `dvk …` in a process that stops in the middle of the import's write transaction — the first batch of
# entries inserted and recorded in the history, the rest not — and says so by creating a file. An import
# writes under a 16 MiB page cache (`bulk_cache`), so its pages reach the -wal file only when it commits,
# in one short burst: a kill aimed at the WAL's size alone lands after the commit as often as not.
PAUSED_IN_THE_WRITE = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from dvk.ledger.history import Tx

    marker = Path(sys.argv[1])
    sys.argv = ["dvk", *sys.argv[2:]]
    recorded = Tx.record_inserted

    def record_inserted(self, table_name, rows):
        recorded(self, table_name, rows)
        if table_name == "entry" and rows:
            marker.write_text("đang ghi")
            time.sleep(600)  # until killed

    Tx.record_inserted = record_inserted
    from dvk.entry import main
    main()
""")


@pytest.mark.skipif(not _has_import(), reason="`dvk register --from FILE` has not landed yet")
def test_kill_during_an_import(tmp_path):
    db = tmp_path / "so.sqlite"
    build_year(db, 0)
    src = _registrations(tmp_path / "dang-ky.csv", 4000)
    before = data_dump(db)
    args = lambda p: ["register", "--from", str(src), "--db", str(p)]
    argv = lambda p: dvk_argv(*args(p))
    after = reference_after(db, argv, tmp_path)
    assert len(after["entry"]) == 4000
    seen = set()
    # In the middle of the write transaction, for certain: the ledger holds the state before.
    marker = tmp_path / "dang-ghi"

    def paused_in_the_write() -> bool:
        if not marker.exists():
            return False
        con = sqlite3.connect(db, timeout=0, isolation_level=None)
        try:
            con.execute("BEGIN IMMEDIATE")
            raise AssertionError("the import paused outside its write transaction")
        except sqlite3.OperationalError as e:  # "database is locked": the import holds the write lock
            assert "locked" in str(e), e
            return True
        finally:
            con.close()

    ended = run_and_kill([sys.executable, "-c", PAUSED_IN_THE_WRITE, str(marker), *args(db)], paused_in_the_write)
    assert ended == "killed", ended
    seen.add(check_after_crash(db, before, after))
    assert seen == {"before"}
    # While its commit writes the WAL (or just after it): either state, never a mixture.
    for threshold in (32 * 1024, 256 * 1024):
        ended = run_and_kill(argv(db), wal_over(db, threshold))
        # The commit is one burst of writes: on a busy machine the import may commit, checkpoint and exit
        # between two polls. That run must then have left the state after.
        assert ended == "killed" or ended.startswith("finished (0)"), ended
        seen.add(check_after_crash(db, before, after))
        assert ended == "killed" or "after" in seen
        if "after" in seen:
            break
    assert "before" in seen


# ---------------------------------------------------------------- export

def _has_export() -> bool:
    from typer.main import get_command

    from dvk.cli import app

    return "export" in get_command(app).commands


@pytest.mark.skipif(not _has_export(), reason="`dvk export` has not landed yet")
def test_kill_during_an_export(tmp_path):
    db = tmp_path / "so.sqlite"
    build_year(db, 20)
    res = subprocess.run(dvk_argv("recognize", "--year", "2024", "--number", "7", "--db", str(db)), env=_env(),
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    before = data_dump(db)
    out = tmp_path / "van-ban"
    argv = lambda p, o: dvk_argv("export", "--year", "2024", "--out", str(o), "--db", str(p))
    after = reference_after(db, lambda p: argv(p, tmp_path / "tham-chieu-out"), tmp_path)
    finals = {p.name for p in (tmp_path / "tham-chieu-out").rglob("*") if p.is_file()}
    assert finals
    first_file = lambda: out.exists() and any(out.iterdir())
    outcomes = []
    for when in (first_file, wal_over(db, 0)):  # while writing the files; while recording them
        if out.exists():
            shutil.rmtree(out)
        ended = run_and_kill(argv(db, out), when)
        # The recording transaction is short: on a busy machine the export may commit and exit
        # between two polls. That run must then have left the state after; at least one run is killed.
        assert ended == "killed" or ended.startswith("finished (0)"), ended
        outcomes.append(ended)
        check_after_crash(db, before, after)
        for f in out.rglob("*"):
            if f.is_file() and f.name in finals and f.suffix in (".docx", ".xlsx"):
                with zipfile.ZipFile(f) as z:
                    assert z.testzip() is None, f"half-written {f.name} under its final name"
    assert "killed" in outcomes, outcomes
