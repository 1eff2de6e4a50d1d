"""The benchmark measures what it says (issue 11): its plain-sqlite3 baselines for the whole-year commands
write exactly what dvk writes, and its chain-only baseline for `verify` reaches the same last hash."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _module(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    """(bench/run.py as a module, a 300-entry bench ledger, a scratch folder): late registrations, reports
    missing an aspect, refused confirmations and failing scores all occur in it."""
    tmp = tmp_path_factory.mktemp("bench")
    db = tmp / "bench-300.sqlite"
    _module("build").build(db, 300)
    return _module("run"), db, tmp


def _out(argv: list[str], db: Path) -> str:
    env = {**os.environ, "DVK_DB": str(db)}
    done = subprocess.run(argv, env=env, capture_output=True, text=True, encoding="utf-8")
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.parametrize("name", ["list", "check", "recognize_dry"])
def test_each_whole_year_baseline_writes_what_dvk_writes(bench, name):
    run, db, tmp = bench
    mine = _out(run.dvk(*run.SAME_OUTPUT[name]), db)
    plain = _out(run.baseline(name, db, tmp), db)
    assert plain == mine
    assert "ngoài thời hạn" in mine and "còn thiếu: Sự bền vững" in mine and "không xác nhận" in mine
    assert "thấp hơn điểm đạt" in mine
    if name == "check":
        assert "đúng hạn." in mine and "Báo cáo nêu đủ 5 nội dung." in mine  # passing gates' texts too


def test_the_verify_baseline_reaches_the_chains_last_hash(bench):
    run, db, tmp = bench
    head = _out(run.baseline("verify", db, tmp), db).strip()
    assert len(head) == 64
    assert f" {head[:16]}." in _out([sys.executable, "-m", "dvk", "verify"], db)
