"""A ledger damaged, tampered with or locked away behind dvk's back, and restores that would undo
what the ledger holds: each is refused with one Vietnamese message, exit 1, every file as it was."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from conftest import ledger_dump
from safety_support import cached_ledger, count, data_dump, dvk_process, integrity

REGISTER = ["register", "--year", "2025", "--unit", "BVNHI", "--title", "Mô hình mới", "--field", "2",
            "--date", "12/02/2025"]
DECISION_07 = "Quyết định số 07/QĐ-CĐN ngày 15/10/2024 (năm 2024)"


def sha(p: Path) -> str:
    return hashlib.sha256(Path(p).read_bytes()).hexdigest()


def sql(db: Path, *statements: str) -> None:
    con = sqlite3.connect(db)
    try:
        con.execute("PRAGMA foreign_keys = OFF")
        for s in statements:
            con.execute(s)
        con.commit()
    finally:
        con.close()


def one_line(res) -> str:
    return " ".join((res.stderr + res.stdout).split())  # the console wraps long lines


def clean(res, *fragments: str) -> str:
    out = one_line(res)
    assert "Traceback" not in out and "Lỗi nội bộ" not in out, out
    for f in fragments:
        assert f in out, out
    return out


def backups_of(db: Path) -> list[Path]:
    return sorted(db.with_name(db.name + ".backups").glob("*.sqlite"))


def siblings(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def entry(dvk, tmp_path_factory):
    return dvk, cached_ledger(tmp_path_factory, dvk.db)["eid"]


def _recognized(db: Path) -> dict:
    from conftest import Dvk
    from safety_support import build_entry_ledger

    info = build_entry_ledger(db)
    Dvk(db)("recognize", "--year", "2024", "--number", "7")
    return info


@pytest.fixture
def recognized(dvk, tmp_path_factory):
    """A 2024 entry recognised by decision 07/QĐ-CĐN of 15/10/2024."""
    info = cached_ledger(tmp_path_factory, dvk.db, "recognized", _recognized)
    return dvk, info["eid"]


def _backup(d, dest: Path) -> Path:
    return Path(json.loads(d("backup", str(dest), "--json").stdout)["backup"])


# ---------------------------------------------------------------- a ledger locked away

def _without_read_rights(*args: str, cwd: Path | None = None):
    """Run dvk in a process that file modes bind (root keeps reading a mode-000 file unless it drops
    CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH)."""
    if os.geteuid() != 0:
        return dvk_process(*args)
    setpriv = shutil.which("setpriv")
    if not setpriv:
        pytest.skip("running as root without setpriv: root reads any file")
    import sys

    from safety_support import ROOT

    env = {k: v for k, v in os.environ.items() if k != "DVK_DEBUG"}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    probe = subprocess.run([setpriv, "--bounding-set", "-dac_override,-dac_read_search", sys.executable, "-c", "1"],
                           capture_output=True)
    if probe.returncode:
        pytest.skip("setpriv cannot drop capabilities here")
    return subprocess.run([setpriv, "--bounding-set", "-dac_override,-dac_read_search", sys.executable, "-m", "dvk",
                           *args], capture_output=True, text=True, env=env, cwd=cwd)


def test_an_unreadable_ledger_is_exit_1_in_vietnamese(entry, tmp_path):
    d, _ = entry
    os.chmod(d.db, 0)
    try:
        for args in (["info"], ["list", "--year", "2024"], ["verify"], REGISTER, ["restore", str(d.db)]):
            res = _without_read_rights(*args, "--db", str(d.db))
            assert res.returncode == 1, (args, res.returncode, res.stderr)
            clean(res, f"Không có quyền đọc sổ “{d.db}”")
            assert "not readable" not in res.stderr
        b = _backup(d, tmp_path / "b.sqlite")
        os.chmod(b, 0)
        res = _without_read_rights("restore", str(b), "--db", str(tmp_path / "moi.sqlite"))
        assert res.returncode == 1 and "not readable" not in res.stderr
        clean(res, f"Không có quyền đọc sổ “{b}”")
        assert not (tmp_path / "moi.sqlite").exists()
    finally:
        os.chmod(d.db, 0o600)


@contextlib.contextmanager
def unwritable_folder(folder: Path):
    """A folder no file can be created in: `chattr +i` as root (root ignores modes), else mode 555."""
    if os.geteuid() != 0:
        os.chmod(folder, 0o555)
        try:
            yield
        finally:
            os.chmod(folder, 0o755)
        return
    if not shutil.which("chattr") or subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode:
        pytest.skip("running as root and `chattr +i` is unavailable here")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_a_ledger_in_a_folder_that_is_not_writable_can_be_read(entry, tmp_path):
    d, eid = entry
    folder = tmp_path / "chi-doc"
    folder.mkdir()
    p = folder / "so.sqlite"
    shutil.copy2(d.db, p)
    digest = sha(p)
    with unwritable_folder(folder):
        assert json.loads(d("list", "--year", "2024", "--json", "--db", str(p)).stdout)[0]["id"] == eid
        assert eid in d("show", eid, "--db", str(p)).stdout
        assert "Sổ toàn vẹn" in d("verify", "--db", str(p)).stdout
        d("info", "--db", str(p))
        d("backup", str(tmp_path / "ban-sao.sqlite"), "--db", str(p))
        for args in (REGISTER, ["units", "add", "MOI", "Công đoàn mới"]):
            clean(d.fails(*args, "--db", str(p)), "chỉ cho phép đọc, không ghi được",
                  "Sổ không bị thay đổi")
        res = dvk_process("list", "--year", "2024", "--db", str(p))
        assert res.returncode == 0 and eid in res.stdout, res.stderr
        assert siblings(folder) == ["so.sqlite"]
    assert sha(p) == digest and integrity(tmp_path / "ban-sao.sqlite") == "ok"
    assert data_dump(tmp_path / "ban-sao.sqlite") == data_dump(p)


def test_a_ledger_with_pending_changes_in_a_folder_that_is_not_writable_is_refused_clearly(entry, tmp_path):
    d, _ = entry
    keep = sqlite3.connect(d.db)  # holds the ledger open, so its -wal is not folded back in on exit
    keep.execute("SELECT 1 FROM unit").fetchone()
    d("units", "add", "MOI", "Công đoàn mới")
    folder = tmp_path / "chi-doc"
    folder.mkdir()
    p = folder / "so.sqlite"
    shutil.copy2(d.db, p)  # the ledger and its pending changes, copied as they are
    shutil.copy2(f"{d.db}-wal", f"{p}-wal")
    keep.close()
    assert Path(f"{p}-wal").stat().st_size > 0
    with unwritable_folder(folder):
        clean(d.fails("list", "--year", "2024", "--db", str(p)), "trong thư mục không ghi được",
              "còn thay đổi chưa gộp trong tệp “so.sqlite-wal”")


def test_a_fifo_given_as_the_ledger_is_refused_without_waiting(dvk, tmp_path):
    fifo = tmp_path / "ong.sqlite"
    os.mkfifo(fifo)
    res = dvk_process("info", "--db", str(fifo), timeout=60)
    assert res.returncode == 1
    clean(res, "không phải là một tệp thường")


# ---------------------------------------------------------------- --db that is not UTF-8

def test_a_ledger_path_that_is_not_utf8_is_refused_before_anything_is_created(dvk, tmp_path):
    bad = str(tmp_path) + "/so-\udcff.sqlite"  # the byte 0xFF as it reaches Python from a shell
    names = siblings(tmp_path)
    for args in (["init", "--db", bad], ["info", "--db", bad], [*REGISTER, "--db", bad]):
        clean(dvk.fails(*args), "so-\\xff.sqlite", "không phải Unicode UTF-8")
    assert siblings(tmp_path) == names
    res = subprocess.run([os.fsencode(__import__("sys").executable), b"-m", b"dvk", b"init", b"--db",
                          os.fsencode(tmp_path) + b"/so-\xff.sqlite"], capture_output=True, text=True,
                         env={**{k: v for k, v in os.environ.items() if k != "DVK_DEBUG"},
                              "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    assert res.returncode == 1 and "không phải Unicode UTF-8" in one_line(res)
    assert siblings(tmp_path) == names


def test_a_ledger_name_too_long_for_the_file_system_is_said_in_vietnamese(dvk, tmp_path):
    long = tmp_path / ("s" * 300 + ".sqlite")
    out = clean(dvk.fails("info", "--db", str(long)), "tên tệp hoặc đường dẫn quá dài")
    assert "File name too long" not in out
