"""Shared fixtures: every test gets its own ledger file on disk; no test touches a real one."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

os.environ.pop("DVK_DB", None)


def _memoize_command_tree() -> None:
    """Build the Click command tree of the Typer app once per session, not once per invoke (~75 ms)."""
    import typer.testing as typer_testing

    original = typer_testing._get_command
    cache: dict[int, object] = {}

    def cached(app):
        cmd = cache.get(id(app))
        if cmd is None:
            cmd = cache[id(app)] = original(app)
        return cmd

    typer_testing._get_command = cached


_memoize_command_tree()


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path, monkeypatch):
    """Point the default ledger and user data dir at a temp dir; internal errors re-raise."""
    monkeypatch.setenv("DVK_DB", str(tmp_path / "default-ledger.sqlite"))
    monkeypatch.setenv("DVK_USER", "thư ký kiểm thử")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("DVK_DEBUG", "1")
    monkeypatch.setenv("COLUMNS", "200")
    yield


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "so-dvk.sqlite"


class Dvk:
    """Runs `dvk` commands in-process through Typer's CliRunner against one ledger file."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.runner = CliRunner()

    def __call__(self, *args: str, ok: bool = True, input: str | None = None):
        from dvk.cli import app

        argv = [str(a) for a in args]
        if "--db" not in argv and argv and argv[0] not in ("demo", "--help", "--version"):
            argv = self._with_db(argv)
        res = self.runner.invoke(app, argv, input=input, catch_exceptions=False)
        if ok and res.exit_code != 0:
            raise AssertionError(f"dvk {' '.join(argv)} exited {res.exit_code}\nstdout:\n{res.stdout}\n"
                                 f"stderr:\n{res.stderr}")
        return res

    def _with_db(self, argv: list[str]) -> list[str]:
        # --db goes after the (sub)command names: find the first option or positional after them.
        groups = {"org", "units", "criteria", "council"}
        n = 2 if argv[0] in groups and len(argv) > 1 else 1
        return argv[:n] + ["--db", str(self.db)] + argv[n:]

    def fails(self, *args: str, code: int = 1):
        import os as _os

        old = _os.environ.pop("DVK_DEBUG", None)
        try:
            res = self(*args, ok=False)
        finally:
            if old is not None:
                _os.environ["DVK_DEBUG"] = old
        assert res.exit_code == code, (res.exit_code, res.stdout, res.stderr)
        assert "Traceback" not in res.stderr + res.stdout
        return res


@pytest.fixture
def dvk(db) -> Dvk:
    return Dvk(db)


UNITS = [
    ("BVDK", "Công đoàn Bệnh viện Đa khoa Đồng Nai", "Đảng ủy Bệnh viện Đa khoa Đồng Nai"),
    ("BVNHI", "Công đoàn Bệnh viện Nhi đồng Đồng Nai", "Chi bộ Bệnh viện Nhi đồng Đồng Nai"),
    ("CDC", "Công đoàn Trung tâm Kiểm soát bệnh tật tỉnh", "Chi bộ Trung tâm Kiểm soát bệnh tật"),
]
FULL = ["G1=8", "G2=9", "G3=8", "G4=8.5", "G5=9", "S1=9", "S2=8", "S3=na", "S4=9", "S5=8", "S6=9"]
ASPECTS = ["--approach", "Cách làm sáng tạo", "--experience", "Kinh nghiệm rút ra", "--spread",
           "Lan tỏa đến 12 khoa", "--effectiveness", "Tiết kiệm 120 triệu đồng", "--sustainability",
           "Duy trì 3 năm liên tục"]


@pytest.fixture
def ledger(dvk):
    """An initialised ledger with three units."""
    dvk("init")
    for code, name, committee in UNITS:
        dvk("units", "add", code, name, "--committee", committee)
    return dvk


@pytest.fixture
def full_entry(ledger):
    """One 2024 entry taken through report, confirmation and a passing score."""
    eid = ledger("register", "--year", "2024", "--unit", "BVDK", "--title", "Chăm lo đoàn viên khó khăn",
                 "--field", "1", "--date", "10/02/2024").stdout.strip()
    ledger("report", eid, *ASPECTS)
    ledger("confirm", eid, "--by", "Bí thư Trần Văn Bình")
    ledger("score", eid, "--member", "Nguyễn Văn An", *FULL)
    return eid


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def ledger_dump(path: Path) -> str:
    """Every row of every table, to compare a ledger before and after a refused command."""
    con = sqlite3.connect(path)
    try:
        out = []
        for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"):
            out.append(f"## {name}")
            out.extend(sorted(repr(r) for r in con.execute(f'SELECT * FROM "{name}"')))
        return "\n".join(out)
    finally:
        con.close()
