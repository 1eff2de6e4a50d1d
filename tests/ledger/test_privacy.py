"""The ledger holds people's names and positions: the ledger, its -wal/-shm files, backups and exports
are readable by their owner only (0600; backup folders 0700), whatever the user's umask."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from safety_support import ROOT

pytestmark = [pytest.mark.sqlite_only("file modes of the ledger file, its -wal/-shm and the backups beside it"),
              pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")]


def mode(p: Path) -> int:
    return stat.S_IMODE(Path(p).stat().st_mode)


def dvk_022(*args: str) -> subprocess.CompletedProcess:
    """`python -m dvk …` started by a shell whose umask lets everyone read new files."""
    env = {k: v for k, v in os.environ.items() if k != "DVK_DEBUG"}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    res = subprocess.run([sys.executable, "-m", "dvk", *args], env=env, capture_output=True, text=True,
                         preexec_fn=lambda: os.umask(0o022))
    assert res.returncode == 0, res.stderr
    return res


def test_the_library_creates_private_files_whatever_the_umask(tmp_path):
    from dvk.cycle.setup import init_ledger
    from dvk.ledger.backup import backup_before, backup_to

    old = os.umask(0o022)
    try:
        led, _ = init_ledger(tmp_path / "so.sqlite", user="t", profile={}, criteria_file=None)
        with led:
            assert mode(led.path) == 0o600
            assert mode(backup_to(led, tmp_path / "ban-sao.sqlite")) == 0o600
            auto = backup_before(led, "manual")
            assert mode(auto) == 0o600 and mode(auto.parent) == 0o700
    finally:
        os.umask(old)


def test_the_cli_ledger_its_wal_and_shm_and_backups_are_private(tmp_path):
    db = tmp_path / "so.sqlite"
    dvk_022("init", "--db", str(db))
    assert mode(db) == 0o600
    # A reader keeps the ledger open, so the -wal and -shm of the next write stay on disk to be checked.
    reader = sqlite3.connect(db)
    reader.execute("SELECT count(*) FROM unit").fetchone()
    try:
        dvk_022("units", "add", "BVDK", "Công đoàn Bệnh viện Đa khoa Đồng Nai", "--db", str(db))
        for side in ("-wal", "-shm"):
            p = Path(f"{db}{side}")
            assert p.exists() and mode(p) == 0o600, side
    finally:
        reader.close()
    from conftest import Dvk

    Dvk(db)("backup")
    Dvk(db)("backup", str(tmp_path / "ban-sao.sqlite"))
    folder = db.with_name(db.name + ".backups")
    assert mode(folder) == 0o700 and [mode(p) for p in folder.iterdir()] == [0o600]
    assert mode(tmp_path / "ban-sao.sqlite") == 0o600


def _has_export() -> bool:
    from typer.main import get_command

    from dvk.cli import app

    return "export" in get_command(app).commands


@pytest.mark.skipif(not _has_export(), reason="`dvk export` has not landed yet")
def test_exported_documents_are_private(tmp_path):
    from safety_support import build_year

    db = tmp_path / "so.sqlite"
    build_year(db, 5)
    from conftest import Dvk

    d = Dvk(db)
    d("recognize", "--year", "2024", "--number", "3")
    out = tmp_path / "van-ban"
    os.umask(0o022)  # what the shell had; the command itself sets the owner-only umask
    d("export", "--year", "2024", "--out", str(out))
    files = [p for p in out.rglob("*") if p.is_file()]
    assert files and {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}
