"""Helpers shared by the data-safety tests (verify, backup, crash, concurrency, bad environments).

Ledgers built through the CLI are made once per session and copied for each test: a closed
ledger is a single file (the WAL is checkpointed and removed when the last connection closes).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from conftest import ASPECTS, FULL, UNITS, Dvk

_CACHE: dict[str, tuple[Path, dict]] = {}
ROOT = Path(__file__).resolve().parent.parent


def build_entry_ledger(db: Path) -> dict:
    """Three units and one 2024 entry taken through report, confirmation and a passing score."""
    d = Dvk(db)
    d("init")
    for code, name, committee in UNITS:
        d("units", "add", code, name, "--committee", committee)
    eid = d("register", "--year", "2024", "--unit", "BVDK", "--title", "Chăm lo đoàn viên khó khăn",
            "--field", "1", "--date", "10/02/2024").stdout.strip()
    d("report", eid, *ASPECTS)
    d("confirm", eid, "--by", "Bí thư Trần Văn Bình")
    d("score", eid, "--member", "Nguyễn Văn An", *FULL)
    return {"eid": eid}


def cached_ledger(tmp_path_factory, dest: Path, name: str = "entry", build=build_entry_ledger) -> dict:
    """Copy a ledger built once per session by `build(db)` to `dest`; returns what `build` returned."""
    if name not in _CACHE:
        src = tmp_path_factory.mktemp(f"tpl-{name}") / "so-dvk.sqlite"
        info = build(src)
        _CACHE[name] = (src, info)
    src, info = _CACHE[name]
    shutil.copy2(src, dest)
    os.chmod(dest, 0o600)
    return dict(info)


def integrity(db: Path) -> str:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return ";".join(r[0] for r in con.execute("PRAGMA integrity_check"))
    finally:
        con.close()


def data_dump(db: Path) -> dict[str, list]:
    """Rows of every ledger table (not the history), to compare states."""
    from dvk.models import ROW_KEYS

    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        have = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return {t: sorted(map(repr, con.execute(f'SELECT * FROM "{t}"'))) for t in ROW_KEYS if t in have}
    finally:
        con.close()


def count(db: Path, table: str, where: str = "1") -> int:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute(f'SELECT count(*) FROM "{table}" WHERE {where}').fetchone()[0]
    finally:
        con.close()


def dvk_process(*args: str, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    """Run `python -m dvk …` in a fresh process (what a clerk's shell or script does)."""
    e = {k: v for k, v in os.environ.items() if k != "DVK_DEBUG"}
    e.update(env or {})
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "dvk", *args], capture_output=True, text=True, env=e, **kw)


def verify_ok(db: Path) -> str:
    res = dvk_process("verify", "--db", str(db))
    assert res.returncode == 0, res.stderr
    return res.stdout
