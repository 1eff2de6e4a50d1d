"""The bulk path of writing: complete rows of a table inserted and recorded in the history by the
thousand — what `Tx.insert_many` does, without SQLAlchemy's per-row parameter processing — and the
bigger page cache a long write gets. Used by bulk intake and by recognition (its outcomes)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Iterator, Mapping, Sequence

from sqlalchemy.exc import DBAPIError

from dvk.ledger.history import canonical_text, driver_sql, table
from dvk.ledger.tables import ROW_KEYS

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from dvk.ledger.history import Tx

BULK_CACHE_KIB = 16384  # SQLite page cache of a connection while it writes in bulk


@contextlib.contextmanager
def bulk_cache(conn: "Connection", kib: int = BULK_CACHE_KIB) -> Iterator[None]:
    """A bigger page cache for `conn` while a bulk write runs, put back afterwards: the (year, match_key)
    and change indexes grow in random order, and SQLite's default 2 MiB cache spills them to the journal
    again and again. Bounded (`kib`)."""
    if conn.dialect.name != "sqlite":  # a server keeps its own cache (shared_buffers)
        yield
        return
    was = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size=-{int(kib)}")
    try:
        yield
    finally:
        try:
            conn.exec_driver_sql(f"PRAGMA cache_size={int(was)}")
        except DBAPIError:  # the connection is failing already: that error is the one to show
            pass


# The same spelling value by value, for complete rows whose values are all of these exact types:
# text as the encoder writes it (ensure_ascii=False), integers, booleans, null and dates in ISO.
# A row with any other value (float, datetime, a subclass...) goes through `_canonical`.
_JSON_VALUE: dict[type, Any] = {
    str: json.encoder.encode_basestring,  # what JSONEncoder(ensure_ascii=False) uses for text
    int: int.__repr__,
    bool: {True: "true", False: "false"}.__getitem__,
    type(None): lambda _v: "null",
    dt.date: lambda d: f'"{d.isoformat()}"',
}
_SQL: dict[str, tuple] = {}


def _insert_sql(table_name: str) -> tuple:
    """(INSERT statement, row -> tuple getter, indexes of Date columns, natural key columns,
    JSON template of a complete row with its keys sorted, getter of a tuple's values in that order,
    the column names in table order)."""
    hit = _SQL.get(table_name)
    if hit is None:
        from sqlalchemy import Date

        t = table(table_name)
        cols = [c.name for c in t.columns]
        quoted = ", ".join(f'"{c}"' for c in cols)
        sql = f'INSERT INTO "{t.name}" ({quoted}) VALUES ({", ".join("?" * len(cols))})'
        dates = tuple(i for i, c in enumerate(t.columns) if isinstance(c.type, Date))
        order = sorted(range(len(cols)), key=lambda i: cols[i])
        template = "{" + ",".join(json.encoder.encode_basestring(cols[i]).replace("%", "%%") + ":%s"
                                  for i in order) + "}"
        hit = _SQL[table_name] = (sql, itemgetter(*cols), dates, ROW_KEYS[table_name], template,
                                  itemgetter(*order), tuple(cols))
    return hit


class Prepared:
    """Complete rows of a table made ready for `write_prepared`: the driver's parameters (a tuple a row,
    in the table's column order, dates as ISO text) and what the history records of each (row key,
    canonical JSON). Cheap to keep (tuples and strings: a write plan pickles them fast) and made
    before the write lock is taken, so that holding it costs only the writing."""

    __slots__ = ("table_name", "params", "recorded")

    def __init__(self, table_name: str, params: list[tuple], recorded: list[tuple[str, str]]) -> None:
        self.table_name, self.params, self.recorded = table_name, params, recorded

    def __len__(self) -> int:
        return len(self.params)

    def __reduce__(self):
        return (Prepared, (self.table_name, self.params, self.recorded))

    def rows(self) -> list[dict]:
        """The rows again as mappings of their Python values (dates as dates)."""
        _sql, _getter, dates, _keys, _template, _order, cols = _insert_sql(self.table_name)
        out = []
        for values in self.params:
            row = dict(zip(cols, values))
            for i in dates:
                v = values[i]
                if v is not None:
                    row[cols[i]] = dt.date.fromisoformat(v)
            out.append(row)
        return out


def prepare_rows(table_name: str, rows: Sequence[Mapping[str, Any]]) -> Prepared:
    """The driver parameters and history records of complete `rows` of `table_name` (see `insert_rows`)."""
    sql, getter, dates, keys, template, sorted_values, _cols = _insert_sql(table_name)
    n_cols = template.count(":%s")
    params: list[tuple] = []
    recorded: list[tuple[str, str]] = []
    enc = canonical_text
    spell = _JSON_VALUE.__getitem__
    one_key = keys[0] if len(keys) == 1 else None
    for r in rows:
        values = getter(r)
        if dates:
            values = list(values)
            for i in dates:
                if values[i] is not None:
                    values[i] = values[i].isoformat()
            values = tuple(values)
        params.append(values)
        key = str(r[one_key]) if one_key is not None else "|".join([str(r[k]) for k in keys])
        data = None
        if len(r) == n_cols:  # exactly the table's columns (the getter found them all)
            try:
                data = template % tuple([spell(type(v))(v) for v in sorted_values(values)])
            except KeyError:  # a value of another type: the encoder decides
                pass
        recorded.append((key, data if data is not None else enc(r)))
    return Prepared(table_name, params, recorded)


def write_prepared(tx: "Tx", prepared: Prepared) -> None:
    """Insert prepared rows and record each in the history (`insert_rows`, its second half)."""
    if not prepared.params:
        return
    tx.conn.exec_driver_sql(driver_sql(tx.conn, _insert_sql(prepared.table_name)[0]), prepared.params)
    tx.record_inserted(prepared.table_name, prepared.recorded)


def insert_rows(tx: "Tx", table_name: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """What `tx.insert_many(table_name, rows)` does — write complete rows and record each one in the
    history — without SQLAlchemy's per-row parameter processing: rows go to the driver as tuples
    (dates as ISO text, as the Date type stores them) and are recorded with `Tx.record_inserted`
    under the same key and canonical JSON. tests/ledger/test_intake_history.py holds the ledger it leaves
    (tables, changes, digest, `dvk verify`) equal to insert_many's. An import prepares its rows while it
    reads (`prepare_rows`) and writes them under the lock (`write_prepared`).
    """
    if rows:
        write_prepared(tx, prepare_rows(table_name, rows))
