"""The schema check of a PostgreSQL ledger (`dvk verify`, the check before every write): its tables with
their columns, indexes, triggers and views against what the migrations make for its revision, by name
and kind (each object's SQL is PostgreSQL's own spelling, so it is not compared). The problems are
returned as the fields of `dvk.ledger.verify.Problem`."""

from __future__ import annotations

from typing import Any, Callable

from sqlalchemy.engine import Connection

from dvk.ledger.tables import ROW_KEYS


def pg_objects(conn: Connection) -> dict[str, tuple[str, str]]:
    """name -> (type, table) of the tables, views, indexes and triggers in the ledger's schema
    (PostgreSQL's own: primary-key and unique-constraint indexes, internal triggers, left out)."""
    out: dict[str, tuple[str, str]] = {}
    for name, kind in conn.exec_driver_sql(
            "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = current_schema()"):
        out[name] = ("view" if kind == "VIEW" else "table", name)
    for name, tbl in conn.exec_driver_sql(
            "SELECT i.indexname, i.tablename FROM pg_indexes i WHERE i.schemaname = current_schema() AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname AND c.contype IN ('p', 'u'))"):
        out[name] = ("index", tbl)
    for name, tbl in conn.exec_driver_sql(
            "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal AND n.nspname = current_schema()"):
        out[name] = ("trigger", tbl)
    return out


def pg_schema_problems(conn: Connection, words: dict[str, str], shown: Callable[[Any], str]) -> list[dict]:
    """`schema_problems` on PostgreSQL: the tables with their columns, the indexes, triggers and views of
    the ledger's schema against what the migrations make for its revision (by name and kind; the SQL of
    each is PostgreSQL's own spelling, so it is not compared)."""
    from dvk.ledger.migrations import SCHEMA_HEAD
    from dvk.ledger.migrations.runner import known_revisions
    from dvk.ledger.schema import expected_schema

    have = pg_objects(conn)
    if have.get("alembic_version", ("",))[0] != "table":
        return []
    revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    if revision != SCHEMA_HEAD and revision not in known_revisions():  # the head needs no Alembic
        return []
    want = expected_schema(revision)
    expected = {n: o for n, o in want.objects.items() if not n.startswith("sqlite_autoindex_")}
    out: list[dict] = []
    for name, (kind, tbl) in sorted(have.items()):
        exp = expected.get(name)
        word = words.get(kind, kind)
        on = f" trên bảng “{shown(tbl)}”" if kind in ("index", "trigger") else ""
        if exp is None:
            out.append(dict(message=f"Sổ có {word} lạ “{shown(name)}”{on}, không do dvk tạo.", table=tbl, key=name))
        elif exp.type != kind or exp.table != tbl:
            out.append(dict(message=f"“{shown(name)}” trong sổ là {word}{on}, nhưng dvk tạo "
                               f"{words.get(exp.type, exp.type)} trên bảng “{exp.table}” — bị thay ngoài dvk.",
                               table=tbl, key=name))
        elif kind == "table":
            cols = [r[0] for r in conn.exec_driver_sql(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
                "AND table_name = %(t)s ORDER BY ordinal_position", {"t": name})]
            wanted = [c[0] for c in want.columns.get(name, ())]
            for c in cols:
                if c not in wanted:
                    out.append(dict(message=f"Bảng “{name}” có cột lạ “{shown(c)}”, không do dvk tạo.",
                                       table=name, key=name, column=c))
            for c in wanted:
                if c not in cols:
                    out.append(dict(message=f"Bảng “{name}” thiếu cột “{c}” do dvk tạo — bị xóa ngoài dvk.",
                                       table=name, key=name, column=c))
    reported = {"history", "change", *ROW_KEYS}
    for name, exp in expected.items():
        if name in have or (exp.type == "table" and name in reported):
            continue
        if exp.type == "index" and exp.table not in have:
            continue
        word = words.get(exp.type, exp.type)
        on = f" của bảng “{exp.table}”" if exp.type in ("index", "trigger") else ""
        out.append(dict(message=f"Sổ thiếu {word} “{name}”{on} do dvk tạo — bị xóa ngoài dvk.",
                           table=exp.table, key=name, expected=exp.sql))
    return out
