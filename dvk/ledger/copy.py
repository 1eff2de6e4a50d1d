"""Moving a ledger between stores (`dvk copy`, the backups of a PostgreSQL ledger).

Every table is copied row for row — the history and its changes included, unchanged — from one read
snapshot of the source into a new ledger made by the same migrations, in one transaction. Nothing is
added to the history (the copy is the same ledger, not a change of it): `dvk verify` passes on the copy
and its last history hash is the source's, which is checked before the copy is reported done.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.schema import sort_tables

from dvk.errors import LedgerError
from dvk.ledger.tables import TABLES

if TYPE_CHECKING:
    from dvk.ledger.store import Store

CHUNK = 5000


@dataclass(frozen=True)
class CopyResult:
    source: str
    dest: str
    records: int
    rows: int
    head_id: int | None
    head_hash: str | None


def _ordered():
    """The tables, each after the tables it refers to."""
    return sort_tables(list(TABLES.values()))


def _rows(conn: Connection, t) -> Iterator[list[dict]]:
    pk = list(t.primary_key.columns) or list(t.columns)
    res = conn.execution_options(stream_results=True).execute(select(t).order_by(*pk))
    while part := res.mappings().fetchmany(CHUNK):
        yield [dict(r) for r in part]


def _fill(src_conn: Connection, dst_conn: Connection) -> int:
    n = 0
    for t in _ordered():
        for batch in _rows(src_conn, t):
            dst_conn.execute(insert(t), batch)
            n += len(batch)
    return n


def copy_into_sqlite(src: "Store", dest: Path, *, self_contained: bool = False) -> int:
    """Write `src` as a new SQLite ledger at `dest` (which must not exist): staged under a temporary name
    beside it, verified against the source, then renamed. Returns the rows copied. `self_contained` (a
    backup): the copy is left in rollback-journal mode, one file like SQLite's own backups."""
    from dvk.ledger.paths import _fsync_dir
    from dvk.ledger.sqlite import Ledger
    from dvk.ledger.verify import verify

    dest = Path(dest)
    staged = dest.with_name(f".{dest.name}.copy-{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        staged.unlink()
    try:
        with src.read() as sconn:
            if sconn.dialect.name == "postgresql":
                from dvk.ledger.roles import require_whole_ledger

                require_whole_ledger(sconn, "chép hoặc sao lưu sổ", str(getattr(src, "shown", "")))
            head = _head(sconn)
            with Ledger.open(staged, create=True, shown=str(dest)) as dst:
                dst.conn.info["begin_mode"] = "IMMEDIATE"
                try:
                    with dst.conn.begin():
                        n = _fill(sconn, dst.conn)
                finally:
                    dst.conn.info["begin_mode"] = "DEFERRED"
        with Ledger.open(staged, shown=str(dest)) as dst:
            report = verify(dst)
        if not report.ok or (report.head_id, report.head_hash) != head:
            raise LedgerError(f"Bản sao “{dest}” không khớp với sổ gốc sau khi chép ({report.summary()}); "
                              "không có gì được ghi.", details=report.details()[:20])
        if self_contained:
            import sqlite3

            raw = sqlite3.connect(staged)
            try:
                raw.execute("PRAGMA journal_mode=DELETE")
            finally:
                raw.close()
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{staged}{suffix}").unlink()
        os.replace(staged, dest)
        _fsync_dir(dest.parent)
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{staged}{suffix}").unlink()
    return n


def _head(conn: Connection) -> tuple[int | None, str | None]:
    ht = TABLES["history"]
    row = conn.execute(select(ht.c.id, ht.c.hash).order_by(ht.c.id.desc()).limit(1)).first()
    return (row[0], row[1]) if row else (None, None)
