"""The run context travels explicitly: two ledgers and two users in one process never leak into each
other, the root options of one invocation do not outlive it, and the domain's policies (the backup
before a decision) hold for a script as for the CLI."""

from __future__ import annotations

import json
import os
import sqlite3

from conftest import FULL, UNITS, Dvk

from dvk.cycle.session import RunContext


def history_users(db) -> list[str]:
    con = sqlite3.connect(db)
    try:
        return [r[0] for r in con.execute("SELECT user FROM history ORDER BY id")]
    finally:
        con.close()


def test_root_options_of_one_invocation_do_not_outlive_it(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from dvk.cli import app

    a, default = tmp_path / "a.sqlite", tmp_path / "default.sqlite"
    monkeypatch.setenv("DVK_DB", str(default))
    monkeypatch.setenv("DVK_USER", "người mặc định")
    env_before = dict(os.environ)
    runner = CliRunner()
    res = runner.invoke(app, ["--db", str(a), "--user", "Thư ký A", "init"], catch_exceptions=False)
    assert res.exit_code == 0, res.stderr
    res = runner.invoke(app, ["init"], catch_exceptions=False)  # no --db: $DVK_DB, not the ledger above
    assert res.exit_code == 0, res.stderr
    assert dict(os.environ) == env_before  # nothing written into the environment
    assert history_users(a) == ["Thư ký A"]
    assert history_users(default) == ["người mặc định"]
    res = runner.invoke(app, ["--db", str(a), "info", "--json"], catch_exceptions=False)
    assert json.loads(res.stdout)["path"] == str(a)
    res = runner.invoke(app, ["info", "--json"], catch_exceptions=False)
    assert json.loads(res.stdout)["path"] == str(default)


def test_two_ledgers_and_two_users_in_one_process(tmp_path):
    from dvk.cycle.entries import register, validate_entry
    from dvk.cycle.setup import init_ledger
    from dvk.cycle.units import add_unit, list_units
    from dvk.cycle.config import criteria_for

    one = RunContext(tmp_path / "one.sqlite", "Người thứ nhất", "script một")
    two = RunContext(tmp_path / "two.sqlite", "Người thứ hai", "script hai")
    for run in (one, two):
        led, created = init_ledger(run.path, user=run.user, profile={}, criteria_file=None, command=run.command)
        led.close()
        assert created
    ids = {}
    for i in range(3):  # interleaved writes
        for run, unit in ((one, "A"), (two, "B")):
            with run.writing(f"lần {i}") as tx:
                if i == 0:
                    add_unit(tx, unit, f"Công đoàn {unit}", f"Chi bộ {unit}")
                units = {u["code"]: u for u in list_units(tx.conn)}
                e = validate_entry(year=2024, unit_code=unit, title=f"Mô hình {i}", field=1, crit=criteria_for(tx.conn, 2024),
                                   units=units)
                ids.setdefault(run.user, []).append(register(tx, e)["id"])
    assert ids == {"Người thứ nhất": ["2024-001", "2024-002", "2024-003"],
                   "Người thứ hai": ["2024-001", "2024-002", "2024-003"]}
    assert set(history_users(one.path)) == {"Người thứ nhất"}
    assert set(history_users(two.path)) == {"Người thứ hai"}
    con = sqlite3.connect(one.path)
    try:
        assert {r[0] for r in con.execute("SELECT command FROM history")} == {"script một"}
        assert {r[0] for r in con.execute("SELECT unit_code FROM entry")} == {"A"}
    finally:
        con.close()


def test_a_script_that_decides_gets_the_backup_the_cli_gets(tmp_path):
    from dvk.cycle.recognition import decide
    from dvk.ledger.backup import list_backups

    db = tmp_path / "so.sqlite"
    d = Dvk(db)
    d("init")
    for code, name, committee in UNITS:
        d("units", "add", code, name, "--committee", committee)
    eid = d("register", "--year", "2024", "--unit", "BVDK", "--title", "Chăm lo", "--field", "1",
            "--date", "10/02/2024").stdout.strip()
    d("report", eid, "--approach", "a", "--experience", "b", "--spread", "c", "--effectiveness", "d",
      "--sustainability", "e")
    d("confirm", eid, "--by", "Bí thư")
    d("score", eid, "--member", "Nguyễn Văn An", *FULL)
    run = RunContext(db, "tập lệnh", "python script.py")
    with run.open() as led:
        plan, profile = decide(led, 2024, 3, None, user=run.user, command=run.command)
    assert plan.recognized == [eid] and profile["symbol"] == "CĐN"
    backups = list_backups(db)
    assert [b.reason for b in backups] == ["recognize"]
    con = sqlite3.connect(backups[0].path)
    try:
        assert con.execute("SELECT count(*) FROM decision").fetchone()[0] == 0  # the state just before
    finally:
        con.close()
    assert history_users(db)[-1] == "tập lệnh"


def test_the_sqlite_ledger_is_a_store(tmp_path):
    """The SQLite ledger implements the storage seam the cycle, intake and documents use."""
    from dvk.cycle.setup import init_ledger
    from dvk.ledger.store import Store

    led, _ = init_ledger(tmp_path / "so.sqlite", user="t", profile={}, criteria_file=None)
    with led:
        assert isinstance(led, Store)
        assert led.backup_before("manual").exists() and led.setting("backup_keep") == "10"
