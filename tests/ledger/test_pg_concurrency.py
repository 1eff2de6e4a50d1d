"""Many writers at once on a PostgreSQL ledger: the advisory lock serialises them for the hash chain and
the entry numbering, nothing is lost, no id repeats, and readers are not blocked meanwhile."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

import pg_support
from conftest import Dvk, build_units_ledger
from safety_support import ROOT

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]

WORKER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    import typer.testing
    from typer.testing import CliRunner
    from dvk.cli import app

    command = typer.testing._get_command(app)
    typer.testing._get_command = lambda _app: command

    db, unit, n, go, tag = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]), sys.argv[5]
    while not go.exists():  # start every worker at the same moment
        time.sleep(0.001)
    runner, failures, ids = CliRunner(), [], []
    for i in range(n):
        r = runner.invoke(app, ["register", "--db", db, "--year", "2025", "--unit", unit, "--title",
                                f"Mô hình {tag} số {i}", "--field", str(1 + i % 5), "--date", "10/02/2025"])
        if r.exit_code != 0:
            failures.append(f"{r.exit_code} {r.stderr} {r.stdout}")
        else:
            ids.append(r.stdout.strip())
    print(json.dumps({"failures": failures, "ids": ids}, ensure_ascii=False))
""")


@pytest.fixture
def server_ledger(tmp_path):
    name = pg_support.new_name("conc")
    url = pg_support.create_database(name)
    build_units_ledger(url)
    yield url
    pg_support.drop_database(name)


def test_sixteen_writer_processes_on_postgres_lose_nothing(server_ledger, tmp_path):
    url = server_ledger
    units = ["BVDK", "BVNHI", "CDC"]
    procs_n, n = 16, 20
    before = pg_support.query(url, "SELECT count(*) FROM history")[0][0]
    go = tmp_path / "go"
    env = {k: v for k, v in os.environ.items() if k != "DVK_DEBUG"}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, url, units[k % 3], str(n), str(go), f"người viết {k}"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for k in range(procs_n)]
    time.sleep(1.5)  # let the interpreters start
    go.touch()
    reads = 0
    while any(p.poll() is None for p in procs):  # readers are not blocked while they write
        t0 = time.monotonic()
        Dvk(url)("status", "--year", "2025")
        assert time.monotonic() - t0 < 10
        reads += 1
        time.sleep(0.2)  # a reader now and then: not a core taken from the writers
    ids: list[str] = []
    for p in procs:
        out, err = p.communicate()
        assert p.returncode == 0, err
        res = json.loads(out)
        assert res["failures"] == [], res["failures"]
        assert "Traceback" not in err
        ids += res["ids"]
    total = procs_n * n
    assert len(ids) == total and len(set(ids)) == total, "no entry id handed out twice"
    rows = pg_support.query(url, "SELECT id FROM entry WHERE year = 2025 ORDER BY seq")
    assert [r[0] for r in rows] == [f"2025-{i:03d}" for i in range(1, total + 1)], "ids are unique and gapless"
    assert sorted(ids) == [r[0] for r in rows]
    assert pg_support.query(url, "SELECT count(*) FROM history")[0][0] == before + total
    res = Dvk(url)("verify")
    assert "Sổ toàn vẹn" in res.stdout and f"{before + total} bản ghi lịch sử nối liền" in res.stdout
    assert reads >= 1
