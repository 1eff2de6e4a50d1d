"""Big years (issue 11): views stream plain lines with flat memory, recognize keeps no list of verdicts,
backups say their size and never fill the disk."""

from __future__ import annotations

import collections
import importlib.util
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import backup_folder, ledger_dump
from pg_support import PG

ROOT = Path(__file__).resolve().parents[2]
SIZE = 6000


def _build(path: Path, size: int) -> None:
    spec = importlib.util.spec_from_file_location("bench_build", ROOT / "bench" / "build.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.build(path, size)


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("big") / "big.sqlite"
    _build(db, SIZE)
    return db


def _peak_mb(db: Path, *args: str) -> tuple[str, float]:
    """Run dvk as its own process, output to a file (not a terminal): (stdout, peak RSS in MB)."""
    env = {**os.environ, "DVK_DB": str(db), "DVK_USER": "kiểm thử"}
    env.pop("DVK_DEBUG", None)
    with open(db.with_suffix(".out"), "wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "dvk", *args], stdout=fh, stderr=subprocess.PIPE, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert os.waitstatus_to_exitcode(status) == 0, err
    return db.with_suffix(".out").read_text(encoding="utf-8"), usage.ru_maxrss / 1024


def test_views_of_a_big_year_print_plain_lines_with_flat_memory(big):
    """Memory bound, not timing: a whole-year view takes about what opening the ledger takes, not a table
    of every row (the Rich table of 10,000 rows took 228 MB; a year is judged one entry at a time)."""
    _, base = _peak_mb(big, "info")
    for args, lines in ((["list", "--year", "2024"], SIZE + 1), (["check", "--year", "2024"], SIZE + 2),
                        (["recognize", "--year", "2024", "--number", "1", "--dry-run"], None)):
        out, peak = _peak_mb(big, *args)
        assert peak < base + 30, (args, peak, base)
        rows = out.splitlines()
        if lines is not None:
            assert len(rows) == lines, args
        header = rows[0].split("\t")
        assert header[0] == "Mã" and len(rows[1].split("\t")) == len(header), (args, rows[:2])
    out, _ = _peak_mb(big, "list", "--year", "2024")
    first = out.splitlines()[1].split("\t")
    assert first[0] == "2024-001" and first[7] in ("Đã chấm điểm", "Đã xác nhận", "Đã báo cáo")


def test_recognize_writes_every_outcome_with_flat_memory_and_verify_holds(big, tmp_path):
    db = tmp_path / "copy.sqlite"
    shutil.copyfile(big, db)
    _, base = _peak_mb(db, "info")
    out, peak = _peak_mb(db, "recognize", "--year", "2024", "--number", "3", "--json")
    assert peak < base + 30, (peak, base)
    res = json.loads(out)
    assert len(res["recognized"]) + len(res["not_recognized"]) == SIZE and res["recognized"]
    con = sqlite3.connect(db)
    assert con.execute("SELECT count(*) FROM outcome").fetchone()[0] == SIZE
    by = dict(con.execute("SELECT entry_id, recognized FROM outcome").fetchall())
    assert all(by[i] == 1 for i in res["recognized"])
    assert all(by[r["id"]] == 0 and r["reasons"] for r in res["not_recognized"])
    con.close()
    verified, _ = _peak_mb(db, "verify")
    assert "Sổ toàn vẹn" in verified


def test_a_short_list_on_a_terminal_is_a_table(ledger, full_entry):
    import pty

    master, slave = pty.openpty()
    env = {**os.environ, "DVK_DB": str(ledger.db), "COLUMNS": "160"}
    proc = subprocess.Popen([sys.executable, "-m", "dvk", "list", "--year", "2024"], stdout=slave,
                            stderr=subprocess.PIPE, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait()
    os.close(master)
    text = b"".join(chunks).decode("utf-8", "replace")
    assert "Năm 2024: 1 mô hình, điển hình" in text and "┃" in text and full_entry in text
    piped = ledger("list", "--year", "2024").stdout.splitlines()  # not a terminal: plain lines
    assert piped[0].startswith("Mã\tĐơn vị\tTên") and piped[1].startswith(f"{full_entry}\tBVDK\t")


# ---------------------------------------------------------------- backups and free space

Usage = collections.namedtuple("Usage", "total used free")


def test_backup_list_says_each_size_the_total_and_the_free_space(ledger, full_entry):
    ledger("backup")
    ledger("backup")
    out = ledger("backup", "--list").stdout
    assert "Tổng cộng 2 bản sao lưu" in out and "ổ đĩa còn trống" in out
    assert " KB" in out


def test_a_backup_that_would_not_fit_is_refused_before_anything_is_written(ledger, full_entry, monkeypatch):
    import dvk.ledger.backup as backup

    ledger("backup")
    folder = backup_folder(ledger.db)
    before = sorted(p.name for p in folder.iterdir())
    dump = ledger_dump(ledger.db)
    monkeypatch.setattr(backup.shutil, "disk_usage", lambda p: Usage(10 ** 9, 10 ** 9 - 4096, 4096))
    res = ledger.fails("recognize", "--year", "2024", "--number", "5")
    err = " ".join(res.stderr.split())
    assert "Không đủ chỗ trống để sao lưu sổ" in err and "dvk backup --list" in err
    assert "sổ không bị thay đổi" in err
    assert ledger_dump(ledger.db) == dump and sorted(p.name for p in folder.iterdir()) == before
    res = ledger.fails("backup")
    assert "Không đủ chỗ trống" in res.stderr and sorted(p.name for p in folder.iterdir()) == before


def test_backups_taking_more_than_the_free_space_left_are_warned_of(ledger, full_entry, monkeypatch):
    import dvk.ledger.backup as backup

    # the size of a copy: the ledger file's (a server ledger's: that of its portable SQLite backup)
    one = (ledger.db.stat().st_size if not PG
           else Path(json.loads(ledger("backup", "--json").stdout)["backup"]).stat().st_size)
    size = one + 32768  # with its -wal
    free = size + (1 << 20) + 65536  # room for the next copy, but less than what the backups already take
    for _ in range(free // one + 2):
        ledger("backup")  # made by hand: kept by the rotation
    monkeypatch.setattr(backup.shutil, "disk_usage", lambda p: Usage(10 ** 9, 10 ** 9, free))
    res = ledger("recognize", "--year", "2024", "--number", "5")
    assert "Đã ghi Quyết định" in res.stdout
    err = " ".join(res.stderr.split())
    assert "nhiều hơn chỗ trống còn lại" in err and "backup_keep" in err
    res = ledger("backup", "--list")
    assert "nhiều hơn chỗ trống còn lại" in " ".join(res.stderr.split())


# ---------------------------------------------------------------- stored totals (score.total, migration 0004)

def _year_json(d, *args) -> str:
    return d(*args).stdout


def test_each_sheet_keeps_its_exact_total_and_the_year_is_judged_from_it(ledger, full_entry):
    from fractions import Fraction

    from dvk.cycle.config import criteria_for
    from dvk.ledger.stores import open_ledger
    from dvk.scoring import member_total, stored_total

    ledger("score", full_entry, "--member", "Trần Thị Bình", "G1=7", "G2=7,5", "G3=8", "G4=8", "G5=9", "S1=na",
           "S2=8", "S3=na", "S4=9", "S5=8", "S6=9")
    con = sqlite3.connect(ledger.db)
    sheets = con.execute("SELECT member, marks, total FROM score ORDER BY member").fetchall()
    con.close()
    with open_ledger(ledger.db) as led, led.read() as conn:
        crit = criteria_for(conn, 2024)
    for member, marks, total in sheets:
        exact = member_total(json.loads(marks), crit)
        assert stored_total(total, marks, crit) == exact and isinstance(exact, Fraction), member
        assert total.split(" ")[0] == f"{exact.numerator}/{exact.denominator}"
    judged = [_year_json(ledger, "check", "--year", "2024", "--json"), _year_json(ledger, "list", "--year", "2024",
              "--json"), _year_json(ledger, "recognize", "--year", "2024", "--number", "4", "--dry-run", "--json")]
    sql = sqlite3.connect(ledger.db)
    sql.execute("UPDATE score SET total = NULL")  # as a sheet without one: judged from its marks
    sql.commit()
    sql.close()
    assert judged == [_year_json(ledger, "check", "--year", "2024", "--json"),
                      _year_json(ledger, "list", "--year", "2024", "--json"),
                      _year_json(ledger, "recognize", "--year", "2024", "--number", "4", "--dry-run", "--json")]


def test_a_total_that_does_not_belong_to_the_marks_is_not_used(ledger, full_entry):
    """Marks changed behind a stored total (or criteria changed since): the marks decide, never the old total."""
    before = json.loads(ledger("check", full_entry, "--json").stdout)
    assert before["eligible"] is True
    low = json.dumps({c: 1 for c in ("G1", "G2", "G3", "G4", "G5", "S1", "S2", "S3", "S4", "S5", "S6")},
                     separators=(",", ":"))
    con = sqlite3.connect(ledger.db)
    con.execute("UPDATE score SET marks = ?", (low,))  # the total column keeps the old, passing total
    con.commit()
    con.close()
    rows = json.loads(ledger("check", "--year", "2024", "--json").stdout)
    assert rows[0]["eligible"] is False and rows[0]["score"] == 10.0
    assert any("thấp hơn điểm đạt" in r for r in rows[0]["reasons"])


@pytest.mark.sqlite_only("upgrades the committed SQLite fixture file of revision 0003 in place")
def test_the_0003_ledger_gets_every_total_in_the_upgrade_and_verify_holds(dvk):
    from dvk.ledger.migrations import SCHEMA_HEAD

    fixture = ROOT / "tests" / "fixtures" / "ledger-0003.sqlite"
    dvk.db.write_bytes(fixture.read_bytes())
    assert json.loads(dvk("info", "--json").stdout)["schema"] == SCHEMA_HEAD
    con = sqlite3.connect(dvk.db)
    n, with_total = con.execute("SELECT count(*), count(total) FROM score").fetchone()
    recorded = con.execute("SELECT count(*) FROM change c JOIN history h ON h.id = c.history_id "
                           "WHERE h.command = 'migrate' AND c.table_name = 'score' AND c.op = 'update'").fetchone()[0]
    con.close()
    assert n > 0 and with_total == n == recorded
    assert "Sổ toàn vẹn" in dvk("verify").stdout
