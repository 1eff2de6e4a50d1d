"""The Core tables the run-time path uses (dvk/ledger/tables.py) are the SQLModel declaration's, exactly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy.dialects import sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

ROOT = Path(__file__).resolve().parents[2]


def _ddl(obj) -> str:
    return str(obj.compile(dialect=sqlite.dialect())).strip()


def test_the_generated_module_is_up_to_date():
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "make_tables.py"), "--check"])
    assert done.returncode == 0, "dvk/ledger/tables.py or schema_head.py is out of date: run tools/make_tables.py"


def test_the_shipped_head_schema_is_what_the_migrations_make():
    """`verify` and every write check an up-to-date ledger against the shipped schema (no Alembic): it must be
    the head's, object by object and column by column; another revision is still built by its migrations."""
    from dvk.ledger import schema_head
    from dvk.ledger.migrations import SCHEMA_HEAD
    from dvk.ledger.schema import _EXPECTED, expected_schema, migrated_schema

    assert schema_head.REVISION == SCHEMA_HEAD
    made = migrated_schema(SCHEMA_HEAD)
    shipped = expected_schema(SCHEMA_HEAD)
    assert shipped.objects == made.objects
    assert shipped.columns == made.columns
    _EXPECTED.pop("0004", None)
    older = expected_schema("0004")
    assert older == migrated_schema("0004") and older != shipped


def test_every_table_column_and_index_equals_the_declaration():
    from dvk.ledger import tables
    from dvk.models import ROW_KEYS, SQLModel

    declared = SQLModel.metadata.tables
    assert set(tables.TABLES) == set(declared)
    assert tables.ROW_KEYS == ROW_KEYS
    for name, want in declared.items():
        have = tables.TABLES[name]
        assert _ddl(CreateTable(have)) == _ddl(CreateTable(want)), name
        assert [c.name for c in have.columns] == [c.name for c in want.columns], name
        for hc, wc in zip(have.columns, want.columns):
            assert (hc.nullable, hc.primary_key, hc.autoincrement) == (wc.nullable, wc.primary_key, wc.autoincrement)
            assert (hc.default.arg if hc.default is not None else None) == \
                   (wc.default.arg if wc.default is not None else None), (name, hc.name)
            assert {f.target_fullname for f in hc.foreign_keys} == {f.target_fullname for f in wc.foreign_keys}
            base = wc.type.impl if type(wc.type).__name__ == "AutoString" else wc.type  # AutoString: a String
            assert type(hc.type) is type(base) and hc.type.python_type is base.python_type, (name, hc.name)
        assert sorted(_ddl(CreateIndex(i)) for i in have.indexes) == sorted(_ddl(CreateIndex(i)) for i in want.indexes)


def test_the_run_time_tables_know_their_text_columns_as_strings():
    """verify orders by a text key through its index only when SQLAlchemy knows the column is a string."""
    from sqlalchemy import String

    from dvk.ledger.tables import TABLES

    assert isinstance(TABLES["entry"].c.id.type, String)
    assert isinstance(TABLES["change"].c.row_key.type, String)


def test_every_declared_index_is_the_one_the_migrations_make():
    """Alembic's comparison skips expression indexes (ix_change_key_tail): compare their SQL here."""
    from dvk.ledger.migrations import SCHEMA_HEAD
    from dvk.ledger.schema import expected_schema, normalize_sql
    from dvk.models import SQLModel

    made = expected_schema(SCHEMA_HEAD).objects
    for t in SQLModel.metadata.tables.values():
        for i in t.indexes:
            assert normalize_sql(_ddl(CreateIndex(i))) == made[i.name].sql, i.name
