"""Single commands a clerk types stay light (issue 11): what they import, and indexed look-ups."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest

# Imported by none of the common commands on an up-to-date ledger: SQLModel/pydantic (the run-time path
# uses Core tables), the ORM, Alembic (only to migrate), the document libraries.
NOT_IMPORTED = ("sqlmodel", "pydantic", "pydantic_core", "alembic", "docx", "docxtpl", "openpyxl", "mako")


def _modules_of(db, args: list[str]) -> tuple[set[str], subprocess.CompletedProcess]:
    code = ("import sys, os\nos.environ['DVK_DB'] = sys.argv[1]\nos.environ['DVK_USER'] = 'thư ký'\n"
            f"sys.argv = ['dvk', *{args!r}]\nfrom dvk.entry import main\n"
            "try:\n    main()\nexcept SystemExit as exc:\n    code = exc.code\nelse:\n    code = 0\n"
            "print('\\n'.join(sys.modules), file=sys.stderr)\nsys.stderr.write('EXIT %s' % code)\n")
    out = subprocess.run([sys.executable, "-c", code, str(db)], capture_output=True, text=True)
    return set(out.stderr.split()), out


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    """A copy of the demo ledger (`demo.build(db, user="kiểm thử", …)`, built once per session)."""
    from conftest import build_demo_ledger, copy_template

    db = tmp_path_factory.mktemp("fast") / "l.sqlite"
    copy_template(tmp_path_factory, db, "demo", build_demo_ledger)
    return db


def test_the_common_commands_import_no_sqlmodel_pydantic_alembic_or_document_library(demo_db, tmp_path):
    import shutil

    db = tmp_path / "w.sqlite"
    shutil.copyfile(demo_db, db)
    full = ["G1=8", "G2=9", "G3=8", "G4=8", "G5=9", "S1=9", "S2=8", "S3=na", "S4=9", "S5=8", "S6=9"]
    for args in (["show", "2025-001"], ["info"], ["check", "2025-001"], ["history", "2025-001"],
                 ["list", "--year", "2025", "--json"], ["status", "--year", "2025"], ["check", "--year", "2025"],
                 ["history", "-n", "1"],
                 ["register", "--year", "2027", "--unit", "VPSYT", "--title", "Mô hình mới", "--field", "2",
                  "--date", "10/02/2027"],  # 2026 is decided in the demo (the 2026–2030 phase's first year)
                 ["score", "2027-001", "--member", "Nguyễn Văn An", *full],
                 ["history", "-n", "3", "--changes"],
                 ["verify"]):  # the schema of an up-to-date ledger is compared with the shipped one
        mods, out = _modules_of(db, args)
        assert out.stderr.endswith("EXIT 0"), (args, out.stdout, out.stderr[-500:])
        assert "sqlalchemy" in mods, args  # the command really opened the ledger
        heavy = {m for m in mods if m.split(".")[0] in NOT_IMPORTED or m.startswith("sqlalchemy.orm")}
        assert not heavy, (args, sorted(heavy)[:10])
    con = sqlite3.connect(db)
    assert con.execute("SELECT member FROM score WHERE entry_id = '2027-001'").fetchall() == [("Nguyễn Văn An",)]


def test_a_typed_value_pydantic_would_take_differently_still_goes_through_typer(ledger):
    """Digits are converted without pydantic; anything else gets Typer's own coercion and message."""
    assert ledger("list", "--year", " 2024 ", "--json").stdout.strip() == "[]"
    res = ledger.fails("list", "--year", "2024.5", code=2)
    assert "--year: phải là số nguyên" in res.stderr
    res = ledger.fails("history", "-n", "mười", code=2)
    assert "phải là số nguyên" in res.stderr
    assert ledger("list", "--year", "2_024", "--json").stdout.strip() == "[]"  # pydantic's reading of "2_024"


def _old_history(db, row: str) -> list[int]:
    """What `dvk history ROW` listed before the index: a LIKE scan of the change table."""
    con = sqlite3.connect(db)
    return [r[0] for r in con.execute(
        "SELECT DISTINCT history_id FROM change WHERE row_key = ? OR row_key LIKE ? OR row_key LIKE ? "
        "ORDER BY history_id DESC", (row, f"{row}|%", f"%|{row}"))]


def test_history_of_an_entry_or_a_unit_finds_what_the_scan_found(demo_db, dvk):
    for row in ("2025-001", "2025-012", "2024-003", "VPSYT", "BVDKDN"):
        res = dvk("--db", str(demo_db), "history", row, "-n", "1000", "--json")
        recs = json.loads(res.stdout)
        assert [r["id"] for r in recs] == _old_history(demo_db, row), row
        assert recs, row
        for r in recs:
            assert r["changes"], (row, r["id"])
            for c in r["changes"]:
                k = c["row_key"]
                assert k == row or k.startswith(row + "|") or k.endswith("|" + row), (row, k)
    outcome = [c for r in json.loads(dvk("--db", str(demo_db), "history", "2025-001", "--json").stdout)
               for c in r["changes"] if c["table_name"] == "outcome"]
    assert outcome and outcome[0]["row_key"].endswith("|2025-001")


def test_history_of_an_entry_reads_the_change_table_through_its_indexes(demo_db):
    from sqlalchemy import select

    from dvk.ledger import history as hist
    from dvk.ledger.sqlite import Ledger

    with Ledger.open(demo_db) as led, led.read() as conn:
        ht = hist.TABLES["history"]
        for q in (select(ht.c.id).where(ht.c.id.in_(select(hist._touching("2025-001").c.history_id))),):
            sql = str(q.compile(conn, compile_kwargs={"literal_binds": True}))
            plan = [r[3] for r in sqlite3.connect(demo_db).execute("EXPLAIN QUERY PLAN " + sql)]
            assert any("ix_change_key_tail" in p for p in plan), plan
            assert not any(p.startswith("SCAN change") for p in plan), plan


def test_the_console_entry_builds_only_the_command_typed():
    from dvk.cli import app, app_for

    names = [c.name for c in app.registered_commands] + [g.name for g in app.registered_groups]
    assert len(names) > 20
    for name in names:
        slim = app_for(["--db", "x.sqlite", "--user", "An", "--debug", name, "--help"])
        assert [c.name for c in slim.registered_commands] + [g.name for g in slim.registered_groups] == [name]
        assert slim.registered_callback is app.registered_callback
    for argv in ([], ["--help"], ["--version"], ["shw", "2024-001"], ["--db"], ["--nonsense", "show"]):
        assert app_for(argv) is app, argv


def test_a_command_says_the_same_through_the_console_entry_as_through_the_whole_app(ledger, full_entry):
    """Help, usage errors and output of a command are those of the whole application."""
    import os

    env = {**os.environ, "DVK_DB": str(ledger.db), "COLUMNS": "200"}
    env.pop("DVK_DEBUG", None)
    for args in (["show", "--help"], ["units", "--help"], ["show"], ["list", "--year", "2024"], ["shw"],
                 ["--db", str(ledger.db), "check", full_entry]):
        out = subprocess.run([sys.executable, "-m", "dvk", *args], capture_output=True, text=True, env=env)
        whole = ledger.runner.invoke(__import__("dvk.cli", fromlist=["app"]).app, args,
                                     env={"COLUMNS": "200", "DVK_DB": str(ledger.db), "DVK_DEBUG": None})
        assert out.returncode == whole.exit_code, args
        assert out.stdout == whole.stdout, args
        assert out.stderr.strip() == whole.stderr.strip(), args
