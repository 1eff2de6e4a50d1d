"""Schema migrations: every released schema opens and upgrades without loss; a newer one is refused
untouched; the migrations build exactly the schema the models describe.

`tests/fixtures/ledger-<revision>.sqlite` is a small ledger made by the release whose newest
schema was <revision> (3 units, 4 entries with reports, a refused confirmation, two members'
scores, a decision, its revocation and a second decision, a profile change), kept in rollback-journal
mode so it is one file. ledger-0002 is ledger-0001 upgraded by the 0002 release, with the 2023 documents
exported and then unit BVDK renamed by `units import` (which that release applied to decided years too). When a migration is added, the ledger of the release before it stays here
for good, and the new release adds its own.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from pathlib import Path

import pytest

from safety_support import data_dump

pytestmark = pytest.mark.sqlite_only("the released SQLite ledger files of each revision (tests/fixtures/ledger-*.sqlite)")

FIXTURES = Path(__file__).parents[1] / "fixtures"
VERSIONS = Path(__file__).resolve().parents[2] / "dvk" / "ledger" / "migrations" / "versions"


def sha(p: Path) -> str:
    return hashlib.sha256(Path(p).read_bytes()).hexdigest()


def revisions() -> list[str]:
    """Revision ids in upgrade order, from the migration files."""
    from alembic.script import ScriptDirectory

    from dvk.ledger.migrations.runner import _config

    return [s.revision for s in reversed(list(ScriptDirectory.from_config(_config()).walk_revisions()))]


def test_schema_head_is_alembics_head_and_the_chain_is_linear():
    from dvk.ledger.migrations import SCHEMA_HEAD
    from dvk.ledger.migrations.runner import head

    assert SCHEMA_HEAD == head()
    revs = revisions()
    assert revs[-1] == SCHEMA_HEAD and len(revs) == len(set(revs))
    files = sorted(p.name for p in VERSIONS.glob("[0-9]*.py"))
    assert [f.split("_", 1)[0] for f in files] == revs, "one file per revision, named <revision>_<what>.py"


def test_a_fixture_for_every_released_schema():
    revs = revisions()
    for rev in revs[:-1]:  # the head may not be released yet; every schema before it was
        assert (FIXTURES / f"ledger-{rev}.sqlite").exists(), f"missing tests/fixtures/ledger-{rev}.sqlite"
    for f in FIXTURES.glob("ledger-*.sqlite"):
        rev = re.fullmatch(r"ledger-(.+)\.sqlite", f.name)[1]
        con = sqlite3.connect(f"file:{f}?mode=ro&immutable=1", uri=True)  # no -wal/-shm beside it
        assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == rev
        con.close()


def test_migrations_build_exactly_the_models_schema(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from dvk.ledger.sqlite import Ledger
    from dvk.models import SQLModel

    with Ledger.open(tmp_path / "moi.sqlite", create=True) as led:
        with led.read() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == [], diff


@pytest.mark.parametrize("fixture", sorted(FIXTURES.glob("ledger-*.sqlite")), ids=lambda p: p.stem)
def test_a_released_ledger_opens_and_upgrades_without_loss(dvk, fixture):
    from dvk.ledger.migrations import SCHEMA_HEAD

    rev = fixture.stem.split("-", 1)[1]
    dvk.db.write_bytes(fixture.read_bytes())
    before = data_dump(dvk.db)
    old_columns = _columns(dvk.db)
    con = sqlite3.connect(dvk.db)
    old_history = con.execute("SELECT * FROM history ORDER BY id").fetchall()
    con.close()

    info = json.loads(dvk("info", "--json").stdout)
    assert info["schema"] == SCHEMA_HEAD
    assert _rows(dvk.db, old_columns) == _rows(fixture, old_columns), "every value of every row is kept"
    con = sqlite3.connect(dvk.db)
    history = con.execute("SELECT * FROM history ORDER BY id").fetchall()
    con.close()
    assert history[: len(old_history)] == old_history
    backups = sorted(dvk.db.with_name(dvk.db.name + ".backups").glob("*-migrate.sqlite"))
    if rev == SCHEMA_HEAD:
        assert history == old_history and backups == []
    else:
        assert [h[3] for h in history[len(old_history):]] == ["migrate"]
        [b] = backups
        assert data_dump(b) == before  # the backup taken before the upgrade is the old ledger
    # The history written by the old release still verifies, and the ledger works as usual.
    assert "Sổ toàn vẹn" in dvk("verify").stdout
    entries = json.loads(dvk("list", "--year", "2023", "--json").stdout)
    assert [e["status"] for e in entries] == ["recognized", "recognized", "not_recognized"]
    dvk("register", "--year", "2024", "--unit", "CDC", "--title", "Mô hình sau nâng cấp", "--field", "4")
    dvk("verify")


def _read_only(db: Path) -> sqlite3.Connection:
    """A committed fixture is opened immutable: no -wal/-shm is left beside a WAL-mode file."""
    return sqlite3.connect(f"file:{db}?mode=ro" + ("&immutable=1" if db.parent == FIXTURES else ""), uri=True)


def _columns(db: Path) -> dict[str, list[str]]:
    """The columns of each ledger table (a migration may add tables and columns, never drop a value)."""
    con = _read_only(db)
    try:
        have = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        from dvk.models import ROW_KEYS

        return {t: [r[1] for r in con.execute(f'PRAGMA table_info("{t}")')] for t in ROW_KEYS if t in have}
    finally:
        con.close()


def _rows(db: Path, columns: dict[str, list[str]]) -> dict[str, list[str]]:
    con = _read_only(db)
    try:
        return {t: sorted(map(repr, con.execute(f'SELECT {", ".join(chr(34) + c + chr(34) for c in cols)} FROM "{t}"')))
                for t, cols in columns.items()}
    finally:
        con.close()


def _newer_in_delete_mode(tmp_path: Path) -> Path:
    p = tmp_path / "moi-hon.sqlite"
    p.write_bytes((FIXTURES / "ledger-0001.sqlite").read_bytes())
    return p


def _newer_in_wal_mode(tmp_path: Path) -> Path:
    from conftest import Dvk

    p = tmp_path / "moi-hon-wal.sqlite"
    Dvk(p)("init")
    return p


@pytest.mark.parametrize("make", [_newer_in_delete_mode, _newer_in_wal_mode], ids=["delete-journal", "wal"])
def test_a_ledger_from_a_newer_dvk_is_refused_and_left_byte_identical(dvk, tmp_path, make):
    p = make(tmp_path)
    con = sqlite3.connect(p)
    con.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    con.execute("CREATE TABLE future_table (x)")
    con.commit()
    con.close()
    digest = sha(p)
    siblings = sorted(x.name for x in tmp_path.iterdir())
    for args in (["info"], ["list", "--year", "2023"], ["verify"], ["backup"],
                 ["register", "--year", "2024", "--unit", "BVDK", "--title", "x", "--field", "1"]):
        res = dvk.fails(*args[:1], "--db", str(p), *args[1:])
        assert "phiên bản dvk mới hơn" in res.stderr and "9999_from_the_future" in res.stderr
        assert "sổ không bị thay đổi" in res.stderr
    assert sha(p) == digest
    assert sorted(x.name for x in tmp_path.iterdir()) == siblings  # no -wal, -shm or backups left


def test_a_sqlite_database_that_is_not_a_ledger_is_refused_untouched(dvk, tmp_path):
    p = tmp_path / "khac.sqlite"
    con = sqlite3.connect(p)
    con.execute("CREATE TABLE danh_ba (ten TEXT)")
    con.execute("INSERT INTO danh_ba VALUES ('Nguyễn Văn An')")
    con.commit()
    con.close()
    digest = sha(p)
    for args in (["info"], ["init"]):
        res = dvk.fails(*args, "--db", str(p))
        assert "không phải sổ dvk" in res.stderr
    assert sha(p) == digest
