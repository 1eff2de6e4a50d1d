"""The schema a ledger should have: what the migrations make, read from `sqlite_master` and
`PRAGMA table_info` and normalised, so `dvk verify`, `dvk restore` and every write can tell a
trigger, index, view or column added behind dvk's back."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass


# sqlite_master entries SQLite itself keeps (statistics of ANALYZE / `PRAGMA optimize`): not the schema.
_INTERNAL_TABLES = ("sqlite_stat1", "sqlite_stat2", "sqlite_stat3", "sqlite_stat4", "sqlite_sequence")


@dataclass(frozen=True)
class SchemaObject:
    """One `sqlite_master` entry: a table, index, trigger or view, its table and its normalised SQL."""

    type: str
    name: str
    table: str
    sql: str | None


@dataclass(frozen=True)
class Schema:
    """A database's schema: its `sqlite_master` entries by name and each table's columns
    (name, declared type, not null, default, primary-key position), from `PRAGMA table_info`."""

    objects: dict[str, SchemaObject]
    columns: dict[str, tuple[tuple, ...]]


_IDENT = re.compile(r'"([A-Za-z_][A-Za-z0-9_]*)"|`([A-Za-z_][A-Za-z0-9_]*)`|\[([A-Za-z_][A-Za-z0-9_]*)\]')
_SQL_PARTS = re.compile(r"('(?:[^']|'')*')|([^']+)")


def normalize_sql(sql: str | None) -> str | None:
    """One spelling of a CREATE statement: keywords and names in lower case, identifier quotes dropped
    where they are not needed, whitespace collapsed; string literals kept exactly."""
    if sql is None:
        return None
    out = []
    for literal, rest in _SQL_PARTS.findall(sql):
        if literal:
            out.append(literal)
            continue
        rest = _IDENT.sub(lambda m: m.group(1) or m.group(2) or m.group(3), rest).lower()
        rest = re.sub(r"\s+", " ", rest)
        rest = re.sub(r"\s*([(),;])\s*", r"\1", rest)
        out.append(rest)
    return "".join(out).strip().rstrip(";")


def read_schema(conn: sqlite3.Connection) -> Schema:
    """The schema of an open database (a raw sqlite3 connection), normalised for comparison."""
    objects: dict[str, SchemaObject] = {}
    columns: dict[str, tuple[tuple, ...]] = {}
    for type_, name, tbl, sql in conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"):
        if name in _INTERNAL_TABLES:
            continue
        objects[name] = SchemaObject(type_, name, tbl, normalize_sql(sql))
        if type_ == "table":
            columns[name] = tuple(
                (r[1], str(r[2] or "").upper(), int(r[3]), normalize_sql(r[4]), int(r[5]))
                for r in conn.execute(f'PRAGMA table_info("{name.replace(chr(34), chr(34) * 2)}")')
            )
    return Schema(objects, columns)


_EXPECTED: dict[str, Schema] = {}


def expected_schema(revision: str) -> Schema:
    """The schema the migrations make up to `revision`, once per process. The head revision's is shipped
    with the package (`dvk/ledger/schema_head.py`, written by tools/make_tables.py from `migrated_schema`
    and checked against it by tests/ledger/test_tables.py), so checking an up-to-date ledger imports
    neither Alembic nor the migrations; any other revision is built by running them."""
    cached = _EXPECTED.get(revision)
    if cached is not None:
        return cached
    from dvk.ledger import schema_head

    if revision == schema_head.REVISION:
        schema = Schema({o[1]: SchemaObject(*o) for o in schema_head.OBJECTS}, dict(schema_head.COLUMNS))
    else:
        schema = migrated_schema(revision)
    _EXPECTED[revision] = schema
    return schema


def migrated_schema(revision: str) -> Schema:
    """The schema the migrations make up to `revision`, built by running them on a fresh in-memory
    database (so it follows every migration added later)."""
    from sqlalchemy import create_engine

    from dvk.ledger.migrations.runner import upgrade

    engine = create_engine("sqlite://")
    try:
        with engine.connect() as conn:
            with conn.begin():
                upgrade(conn, revision)
            return read_schema(conn.connection.dbapi_connection)
    finally:
        engine.dispose()
