"""The ledger's history (lịch sử): every write records who, when, which command and what rows.

All writes of a command go through a `Tx`, which changes the tables and records each changed
row's full new state in `change`; the command's `history` record carries the SHA-256 of the
record before it and of its own changes, so any edit made behind the tool's back shows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any, Mapping, Sequence

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from dvk.ledger.tables import ROW_KEYS, TABLES

GENESIS = "0" * 64
BATCH = 5000
_INSERT_CHANGE = ('INSERT INTO "change" ("history_id", "seq", "table_name", "row_key", "op", "data") '
                  "VALUES (?, ?, ?, ?, ?, ?)")


def driver_sql(conn: Connection, sql: str) -> str:
    """A statement written with qmark placeholders (SQLite's), in the spelling of `conn`'s driver
    (psycopg: %s). The statements given here hold no "?" or "%" other than their placeholders."""
    if getattr(getattr(conn, "dialect", None), "paramstyle", "qmark") in ("format", "pyformat"):
        return sql.replace("?", "%s")
    return sql


def table(name: str):
    return TABLES[name]


def _iso_default(v: Any) -> Any:
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    raise TypeError(f"Object of type {type(v).__name__} is not JSON serializable")


# One encoder for every row (sorted keys, no spaces, text as is, dates in ISO): the spelling the
# hash chain and `dvk verify` depend on; tests/ledger/test_intake_history.py compares it with the
# json.dumps of the row with its dates made ISO that it replaced.
_ENCODE = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_iso_default).encode
canonical_text = _ENCODE  # the encoder itself, for a dict built to be encoded (the bulk path)


def canonical(row: Mapping[str, Any]) -> str:
    """The one JSON spelling of a row used in `change.data` and in hashes."""
    if type(row) is not dict:
        row = dict(row)  # a RowMapping or another Mapping: encode its items like a dict's
    return _ENCODE(row)


_SCAN = json.JSONDecoder().scan_once  # the C scanner json.loads ends in, without its two Python layers


def load_state(data: str | None) -> dict:
    """A row's state as a change records it (`change.data`, written by `canonical`): a dict, or {} for
    none or for anything that is not a JSON object (a value edited behind dvk's back)."""
    if data is None:
        return {}
    if type(data) is str:
        try:  # the canonical spelling: one object, nothing around it
            v, end = _SCAN(data, 0)
            if end == len(data):
                return v if isinstance(v, dict) else {}
        except (StopIteration, ValueError):
            pass
    try:  # anything else exactly as json.loads takes it (spaces around, bytes…)
        v = json.loads(data)
    except (TypeError, ValueError):
        return {}
    return v if isinstance(v, dict) else {}


def row_key(table_name: str, row: Mapping[str, Any]) -> str:
    return "|".join(str(row[k]) for k in ROW_KEYS[table_name])


def record_hash(prev_hash: str, rec: Mapping[str, Any], changes_digest: str) -> str:
    head = "\n".join(
        [prev_hash, str(rec["id"]), rec["at"], rec["user"], rec["command"], rec["summary"], str(rec["n_changes"]),
         changes_digest]
    )
    return hashlib.sha256(head.encode("utf-8")).hexdigest()


def change_line(seq: int, table_name: str, key: str, op: str, data: str | None) -> bytes:
    return f"{seq}\t{table_name}\t{key}\t{op}\t{data if data is not None else ''}\n".encode("utf-8")


def _head_functions(conn: Connection) -> bool:
    """Whether the server ledger has the history-head functions of its logins (dvk.ledger.roles), checked
    once per connection (they are made before any such login can connect, and never dropped)."""
    has = conn.info.get("dvk.head_functions")
    if has is None:
        has = conn.info["dvk.head_functions"] = bool(conn.exec_driver_sql(
            "SELECT to_regprocedure('dvk_history_last_id()') IS NOT NULL").scalar())
    return has


def _refused(user: str, verb: str, n: int, table_name: str) -> None:
    from dvk.errors import LedgerError
    from dvk.ledger.labels import TABLE_LABELS

    label = TABLE_LABELS.get(table_name, table_name)
    raise LedgerError(f"Tài khoản “{user}” không có quyền {verb} {n} dòng của bảng “{label}” (máy chủ chỉ cho mỗi "
                      "vai trò ghi phần của mình). Lệnh không ghi gì; sổ giữ nguyên.")


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds")


class Tx:
    """The writes of one command inside one transaction, recorded as one history record."""

    def __init__(self, conn: Connection, *, user: str, command: str, summary: str = "") -> None:
        self.conn = conn
        self.user = user
        self.command = command
        self.summary = summary
        self.at = now_iso()
        self._digest = hashlib.sha256()
        self._pending: list[dict] = []
        self.n = 0
        values = dict(at=self.at, user=user, command=command, summary=summary, n_changes=0, prev_hash="", hash="")
        if conn.dialect.name != "sqlite":
            # A sequence would leave the gap of a rolled-back writer, which the chain check reports: the
            # next id is taken under the write lock (dvk.ledger.postgres), as SQLite's rowid is.
            if _head_functions(conn):  # a login that may read only part of the history
                values["id"] = conn.exec_driver_sql("SELECT dvk_history_last_id()").scalar() + 1
            else:
                ht = TABLES["history"]
                values["id"] = (conn.execute(select(func.max(ht.c.id))).scalar() or 0) + 1
        res = conn.execute(insert(TABLES["history"]).values(**values))
        self.history_id = res.inserted_primary_key[0]

    # ------------------------------------------------------------ recording
    def _record(self, table_name: str, key: str, op: str, data: str | None) -> None:
        self.n += 1
        self._digest.update(change_line(self.n, table_name, key, op, data))
        self._pending.append(
            {"history_id": self.history_id, "seq": self.n, "table_name": table_name, "row_key": key, "op": op,
             "data": data}
        )
        if len(self._pending) >= BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self.conn.execute(insert(TABLES["change"]), self._pending)
            self._pending = []

    def record_inserted(self, table_name: str, rows: Sequence[tuple[str, str]], op: str = "insert") -> None:
        """Record rows a bulk path inserted itself, as `insert_many` would: `rows` holds each row's
        (row key, canonical JSON of the full row) in insertion order. The caller guarantees the JSON
        is what the table now holds (`canonical`, `row_key`); `dvk verify` checks that it is. With
        `op="update"`: rows it changed (a data migration), each with its full new state.
        """
        if not rows:
            return
        self._flush()
        hid, first = self.history_id, self.n + 1
        # Positional tuples straight to the driver (no per-row parameter processing); the same
        # lines as change_line() for the digest.
        params = [(hid, seq, table_name, key, op, data) for seq, (key, data) in enumerate(rows, first)]
        self.conn.exec_driver_sql(driver_sql(self.conn, _INSERT_CHANGE), params)
        self._digest.update("".join([f"{seq}\t{table_name}\t{key}\t{op}\t{'' if data is None else data}\n"
                                     for seq, (key, data) in enumerate(rows, first)]).encode("utf-8"))
        self.n = first + len(rows) - 1

    # ------------------------------------------------------------ writes
    def insert(self, table_name: str, row: Mapping[str, Any]) -> Any:
        t = table(table_name)
        res = self.conn.execute(insert(t).values(**row))
        full = dict(row)
        if table_name == "decision" and "id" not in full:
            full["id"] = res.inserted_primary_key[0]
        full = self._complete(t, full)
        self._record(table_name, row_key(table_name, full), "insert", canonical(full))
        return res.inserted_primary_key[0] if res.inserted_primary_key else None

    def insert_many(self, table_name: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Bulk insert (executemany) of complete rows, recorded row by row."""
        if not rows:
            return
        t = table(table_name)
        names = set(t.columns.keys())
        if not all(names <= r.keys() for r in rows):
            rows = [self._complete(t, dict(r)) for r in rows]  # record exactly what the table holds
        self.conn.execute(insert(t), list(rows))
        for row in rows:
            self._record(table_name, row_key(table_name, row), "insert", canonical(row))

    def update(self, table_name: str, key: Mapping[str, Any], values: Mapping[str, Any]) -> None:
        t = table(table_name)
        cond = and_(*[t.c[k] == v for k, v in key.items()])
        res = self.conn.execute(update(t).where(cond).values(**values))
        after = self.conn.execute(select(t).where(cond)).mappings().first()
        if after is None:
            return
        if res.rowcount == 0:
            # A row the store lets us see but not change (a PostgreSQL row-level policy skips it silently):
            # recording an update would make the history claim what did not happen.
            _refused(self.user, "sửa", 1, table_name)
        self._record(table_name, row_key(table_name, after), "update", canonical(dict(after)))

    def update_many(self, table_name: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Bulk update of complete rows (every column given), keyed by the table's natural key."""
        if not rows:
            return
        from sqlalchemy import bindparam

        t = table(table_name)
        keys = ROW_KEYS[table_name]
        stmt = update(t).where(and_(*[t.c[k] == bindparam("k_" + k) for k in keys])).values(
            {c: bindparam("v_" + c) for c in rows[0].keys() if c not in keys}
        )
        params = [
            {**{"k_" + k: r[k] for k in keys}, **{"v_" + c: v for c, v in r.items() if c not in keys}} for r in rows
        ]
        res = self.conn.execute(stmt, params)
        if self.conn.dialect.supports_sane_multi_rowcount and 0 <= res.rowcount < len(rows):
            _refused(self.user, "sửa", len(rows) - res.rowcount, table_name)
        for row in rows:
            self._record(table_name, row_key(table_name, row), "update", canonical(row))

    def upsert(self, table_name: str, row: Mapping[str, Any]) -> str:
        """Insert or replace one whole row; returns "insert" or "update"."""
        t = table(table_name)
        keys = ROW_KEYS[table_name]
        cond = and_(*[t.c[k] == row[k] for k in keys])
        exists = self.conn.execute(select(*[t.c[k] for k in keys]).where(cond)).first()
        if exists:
            self.update(table_name, {k: row[k] for k in keys}, {c: v for c, v in row.items() if c not in keys})
            return "update"
        self.insert(table_name, row)
        return "insert"

    def delete(self, table_name: str, key: Mapping[str, Any]) -> int:
        t = table(table_name)
        cond = and_(*[t.c[k] == v for k, v in key.items()])
        keys = ROW_KEYS[table_name]
        gone = self.conn.execute(select(*[t.c[k] for k in keys]).where(cond)).mappings().all()
        if not gone:
            return 0
        res = self.conn.execute(delete(t).where(cond))
        if res.rowcount is not None and 0 <= res.rowcount < len(gone):
            # Rows the store let us see but not delete (a PostgreSQL row-level policy skips them silently):
            # recording their deletion would make the history lie.
            _refused(self.user, "xóa", len(gone) - res.rowcount, table_name)
        for g in gone:
            self._record(table_name, row_key(table_name, g), "delete", None)
        return len(gone)

    def _complete(self, t, row: dict) -> dict:
        """Fill column defaults so the recorded state equals what the table holds."""
        out = {}
        for c in t.columns:
            if c.name in row:
                out[c.name] = row[c.name]
            elif c.default is not None and getattr(c.default, "is_scalar", False):
                out[c.name] = c.default.arg
            else:
                out[c.name] = None
        return out

    def note(self, summary: str) -> None:
        self.summary = summary

    # ------------------------------------------------------------ closing
    def finish(self) -> None:
        self._flush()
        ht = TABLES["history"]
        if self.conn.dialect.name != "sqlite" and _head_functions(self.conn):
            prev = self.conn.exec_driver_sql("SELECT dvk_history_hash_before(%(i)s)", {"i": self.history_id}).scalar()
        else:
            prev = self.conn.execute(
                select(ht.c.hash).where(ht.c.id < self.history_id).order_by(ht.c.id.desc()).limit(1)
            ).scalar()
        prev = prev or GENESIS
        rec = {"id": self.history_id, "at": self.at, "user": self.user, "command": self.command,
               "summary": self.summary, "n_changes": self.n}
        h = record_hash(prev, rec, self._digest.hexdigest())
        self.conn.execute(
            update(ht).where(ht.c.id == self.history_id).values(
                summary=self.summary, n_changes=self.n, prev_hash=prev, hash=h
            )
        )


# The row key after its first "|", spelled exactly as the index ix_change_key_tail (migration 0004) is —
# on PostgreSQL with strpos, which like instr answers 0 when there is no "|" (the whole key).
KEY_TAIL = "substr(row_key, instr(row_key, '|') + 1)"
KEY_TAIL_PG = "substr(row_key, strpos(row_key, '|') + 1)"


def key_tail(conn: Connection) -> str:
    return KEY_TAIL_PG if conn.dialect.name == "postgresql" else KEY_TAIL


def _touching(row: str, tail_sql: str = KEY_TAIL):
    """The changes of a row: its key is `row`, starts with "row|" (a score sheet of an entry) or has
    `row` after its first "|" (an outcome of an entry, a decision's unit). Two indexed lookups — the
    key's tail through ix_change_key_tail, the key's start through ix_change_row per table — never a
    scan of the change table."""
    from sqlalchemy import literal_column, union

    ct = TABLES["change"]
    tail = select(ct.c.history_id, ct.c.seq).where(literal_column(tail_sql) == row)
    tables = ct.c.table_name.in_(sorted(ROW_KEYS))
    head = select(ct.c.history_id, ct.c.seq).where(tables, ct.c.row_key >= row + "|",
                                                   ct.c.row_key < row + "}")  # "}" follows "|"
    whole = select(ct.c.history_id, ct.c.seq).where(tables, ct.c.row_key == row)  # a key with "|" in it
    return union(tail, head, whole).subquery()


def list_history(conn: Connection, *, row: str | None = None, limit: int = 50) -> list[dict]:
    """History records, newest first; with `row` only those that touched that entry/row key."""
    ht = TABLES["history"]
    q = select(ht).order_by(ht.c.id.desc()).limit(limit)
    if row:
        q = q.where(ht.c.id.in_(select(_touching(row, key_tail(conn)).c.history_id)))
    return [dict(r) for r in conn.execute(q).mappings()]


def changes_of(conn: Connection, history_id: int, row: str | None = None, limit: int = 200) -> list[dict]:
    ct = TABLES["change"]
    q = select(ct).where(ct.c.history_id == history_id).order_by(ct.c.seq).limit(limit)
    if row:
        t = _touching(row, key_tail(conn))
        q = (select(ct).join(t, and_(t.c.history_id == ct.c.history_id, t.c.seq == ct.c.seq))
             .where(t.c.history_id == history_id).order_by(ct.c.seq).limit(limit))
    return [dict(r) for r in conn.execute(q).mappings()]


def last_record(conn: Connection, below: int | None = None) -> int:
    """The id of the last history record (below `below`): every write of dvk adds one, so an unchanged
    mark means an unchanged ledger (an import plans without the lock and writes only if it holds)."""
    ht = TABLES["history"]
    q = select(func.max(ht.c.id))
    if below is not None:
        q = q.where(ht.c.id < below)
    return conn.execute(q).scalar() or 0
