"""Pass 2 of `dvk verify` (and of the check before every write): the state replayed from the history
against every table's current rows.

The changes are replayed per (table, row key) — the latest state wins, a delete removes the row — and
compared with the current rows of every table in `ROW_KEYS`: a missing row, an extra row, or a column
whose value differs is reported with the table, the key, the column, what the history says and what the
ledger now holds.

Memory stays bounded and the work linear whatever the ledger's size, with no sort: a table with a
one-column text key and its replay are both read in their indexes' order and merged; any other table
is reached from its replay, key by key in the history's index order, through its primary key (no
dictionary of all rows, no temporary sort file; tests/ledger/test_verify.py checks every query's plan).
"""

from __future__ import annotations

import datetime as dt
import json
from itertools import chain, groupby
from operator import itemgetter
from typing import Any, Iterator

from sqlalchemy import Boolean, Date, DateTime, Float, Integer, Numeric, String, cast, select
from sqlalchemy.engine import Connection

from dvk.ledger.findings import Problem, Report
from dvk.ledger.history import load_state, table
from dvk.ledger.labels import COLUMN_LABELS, COLUMN_LABELS_BY_TABLE, TABLE_LABELS
from dvk.ledger.tables import ROW_KEYS, TABLES

CHUNK = 2000  # rows fetched from the driver at a time

# Text columns holding a JSON object: a difference is reported key by key ("… / G2: …").
JSON_OBJECT_COLUMNS = {("score", "marks")}

_first = itemgetter(0)


def check_state(conn: Connection, report: Report, existing: set[str]) -> None:
    if "change" not in existing:
        return
    for name in ROW_KEYS:
        if name in existing:
            check_table(conn, name, report)


def check_table(conn: Connection, name: str, report: Report) -> None:
    """Compare one table's rows with the replay of its history, without sorting either side.

    On SQLite (with its JSON functions): each key's changes in the history's index order, joined to the
    table's row through its primary key, and SQLite itself passes over every row whose one change is
    exactly the row (`_joined` with `_shown_equal`): only the others reach Python. Elsewhere, a one-column
    text key: both sides in their own index's order, merged (`_merged`); any other key, the same join with
    every row compared here. The rows no change reaches are then found by a second look-up."""
    t = table(name)
    keys = ROW_KEYS[name]
    if conn.dialect.name == "sqlite" and _json_functions(conn):
        _joined(conn, name, report, filtered=True)
    elif len(keys) == 1 and isinstance(t.c[keys[0]].type, String):
        _merged(conn, name, report)
    else:
        _joined(conn, name, report)


def _json_functions(conn: Connection) -> bool:
    """Whether this SQLite has its JSON functions (built in since 3.38, in most builds long before)."""
    known = conn.info.get("dvk.json_functions")
    if known is None:
        from sqlalchemy.exc import DBAPIError

        try:
            known = conn.exec_driver_sql("SELECT json_object('a', json('true'))").scalar() == '{"a":true}'
        except DBAPIError:
            known = False
        conn.info["dvk.json_functions"] = known
    return known


def _shown_equal(t, ct):
    """SQLite: the condition that a change's data is exactly the JSON text of the row it reaches, as the
    history's encoder writes it (`canonical`: keys sorted, no spaces, text as is; a boolean column's 0/1 as
    false/true), and that it is the only change of its row. Text equal to the canonical text decodes to the
    values the row holds, so the row needs no look in Python; anything else (another spelling of a number,
    a value of another type, bytes, a state recorded before a column existed, a row changed more than once)
    is not shown equal and is compared as before."""
    from sqlalchemy import and_, case, exists, func, literal, literal_column, null, or_

    pairs: list = []
    for col in sorted(t.columns, key=lambda c: c.name):
        value = (case((col == 1, func.json("true")), (col == 0, func.json("false")), else_=col)
                 if isinstance(col.type, Boolean) else col)
        pairs += [literal(col.name), value]
    holds_bytes = or_(*[func.typeof(col) == "blob" for col in t.columns])  # JSON cannot hold them: never equal
    as_json = case((holds_bytes, null()), else_=func.json_object(*pairs))
    other = ct.alias("other_change")
    alone = ~exists().where(and_(other.c.table_name == ct.c.table_name, other.c.row_key == ct.c.row_key,
                                 literal_column("other_change.rowid") != literal_column("change.rowid")))
    return and_(ct.c.op != "delete", ct.c.data == as_json, alone)


class _Rows:
    """How a table's raw rows compare with a replayed state (`same`), and the column-by-column report of
    a difference (`compare`): `start` is where the table's columns begin in a raw row."""

    def __init__(self, name: str, start: int) -> None:
        self.name = name
        self.cols = _columns(table(name))
        self.defaults = [(n, d) for n, _, d in self.cols]
        names = [n for n, _d in self.defaults]
        self.start = start
        self.positions = {n: i for i, n in enumerate(names, start)}
        self.pick = itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))

    def check(self, key: str, data: str | None, raw: tuple, report: Report) -> None:
        # Fast path: every column equal as Python compares them (1 == True == 1.0, "x" == "x"), as the
        # per-column fast path of _compare would find; otherwise look column by column. A state
        # recorded before a column existed lacks it: its default stands for it.
        want = load_state(data)
        try:
            values = self.pick(want)
        except KeyError:
            values = tuple([want.get(n, d) for n, d in self.defaults])
        if values != raw[self.start:]:
            _compare(self.cols, self.name, key, want, _RawRow(self.positions, raw), report)


def _missing(name: str, key: str, report: Report) -> None:
    report.add(Problem("missing", f"{_where(name, key)}: lịch sử ghi có dòng này nhưng sổ không còn — "
                       "bị xóa ngoài dvk.", table=name, key=key))


def _extra(name: str, key: str, report: Report) -> None:
    report.add(Problem("extra", f"{_where(name, key)}: sổ có dòng này nhưng lịch sử không ghi — "
                       "bị thêm ngoài dvk.", table=name, key=key))


def _merged(conn: Connection, name: str, report: Report) -> None:
    """A table with a one-column text key: the replay (`_replayed`) and the table, both read in key order
    through their indexes, merged."""
    rows = _Rows(name, 0)
    key_col = table(name).c[ROW_KEYS[name][0]]
    expected = _replayed(conn, name)
    # Raw values (no type processing): a date edited into nonsense must be reported, not crash.
    current = raw_rows(conn, select(*table(name).columns).order_by(_binary(conn, key_col)))
    at = rows.positions[key_col.name]
    seen = 0
    e, c = next(expected, None), next(current, None)
    while e is not None and c is not None:
        ek, ck = e[0], c[at]
        if ek == ck:
            seen += 1
            rows.check(ek, e[1], c, report)
            e, c = next(expected, None), next(current, None)
            continue
        ek, ck = _text(ek), _text(ck)  # a key edited into a number or bytes compares as its text
        if ek < ck:
            _missing(name, ek, report)
            e = next(expected, None)
        elif ck < ek:
            seen += 1
            _extra(name, ck, report)
            c = next(current, None)
        else:
            seen += 1
            rows.check(ek, e[1], c, report)
            e, c = next(expected, None), next(current, None)
    while e is not None:
        _missing(name, _text(e[0]), report)
        e = next(expected, None)
    while c is not None:
        seen += 1
        _extra(name, _text(c[at]), report)
        c = next(current, None)
    report.rows += seen


def _replayed(conn: Connection, name: str) -> Iterator[tuple[str, str | None]]:
    """(row key, the latest change's data) per row the history says exists now, in key order; streamed.

    Ordered by row key only, so SQLite walks the index `ix_change_row (table_name, row_key)`
    without a sort; within one key the latest change is picked by (history_id, seq).
    """
    ct = TABLES["change"]
    rows = raw_rows(conn, select(ct.c.row_key, ct.c.history_id, ct.c.seq, ct.c.op, ct.c.data)
                .where(ct.c.table_name == name).order_by(_binary(conn, ct.c.row_key)))
    for key, changes in groupby(rows, key=_first):
        last = next(changes)
        for r in changes:
            if _later(r, last):
                last = r
        if last[3] != "delete":
            yield key, last[4]


def _joined(conn: Connection, name: str, report: Report, *, filtered: bool = False) -> None:
    """Each key's changes in the history's index order (no sort), each joined to the table's row with that key
    through the primary key; `filtered` (SQLite): without the rows SQLite shows equal (`_shown_equal`). Then
    the rows no change of the history reaches (a second look-up, not a sort) — on the other path only when
    fewer rows were reached than the table holds.

    A change reaches a row when the row's key spells the change's row key ("5|2024-007") and the parts
    of that row key, split at '|' (the last part keeps any '|' of its own), are the row's key columns."""
    from sqlalchemy import and_, case, exists, func

    t = table(name)
    ct = TABLES["change"]
    cols = [t.c[k] for k in ROW_KEYS[name]]
    reaches = _reaches(conn, cols, ct.c.row_key)
    where = [ct.c.table_name == name]
    if filtered:  # NULL (bytes, a state with no data) is not shown equal either
        where.append(case((and_(cols[0].is_not(None), _shown_equal(t, ct)), 0), else_=1) == 1)
    stmt = (select(ct.c.row_key, ct.c.history_id, ct.c.seq, ct.c.op, ct.c.data, *t.columns)
            .select_from(ct.outerjoin(t, reaches)).where(*where)
            .order_by(_binary(conn, ct.c.row_key)))
    rows = _Rows(name, 5)
    present = 5 + [c.name for c in t.columns].index(cols[0].name)  # a key column: NULL when no row is reached
    seen = 0
    for key, changes in groupby(raw_rows(conn, stmt), key=_first):
        last = next(changes)
        for r in changes:
            if _later(r, last):
                last = r
        key = _text(key)
        if last[present] is None:
            if last[3] != "delete":
                _missing(name, key, report)
        elif last[3] == "delete":
            seen += 1
            _extra(name, key, report)
        else:
            seen += 1
            rows.check(key, last[4], last, report)
    total = conn.execute(select(func.count()).select_from(t)).scalar_one()
    if filtered or seen < total:
        unreached = select(_spelling(cols)).where(~exists().where(and_(ct.c.table_name == name, reaches)))
        for (key,) in raw_rows(conn, unreached):
            _extra(name, _text(key), report)
    report.rows += total


def _spelling(cols):
    """The key columns as the history spells a row key: "5|2024-007"."""
    out = None
    for col in cols:
        part = col if isinstance(col.type, String) else cast(col, String)
        out = part if out is None else out + "|" + part
    return out


def _reaches(conn: Connection, cols, row_key):
    """The condition that a change's `row_key` names the row with these key columns: the spelling is the
    same and the row key's parts are the columns — on SQLite as equalities on the primary key's columns,
    so each is one index look-up."""
    from sqlalchemy import and_, func

    pg = conn.dialect.name == "postgresql"
    conds = [_binary(conn, _spelling(cols)) == row_key]
    rest = row_key
    for i, col in enumerate(cols):
        if i == len(cols) - 1:
            part = rest
        else:
            bar = func.strpos(rest, "|") if pg else func.instr(rest, "|")
            part, rest = func.substr(rest, 1, bar - 1), func.substr(rest, bar + 1)
        if isinstance(col.type, String):
            conds.append(col == part)
        elif pg:  # a text that is no number must not fail the cast: compare as text
            conds.append(cast(col, String) == part)
        else:
            conds.append(col == cast(part, Integer))
    return and_(*conds)


def _later(change: tuple, last: tuple) -> bool:
    """Whether a change (row key, history id, seq, …) comes after another of the same row: by (history id,
    seq), in SQLite's order of values when an edit made one of them text or bytes."""
    try:
        return (change[1], change[2]) > (last[1], last[2])
    except TypeError:
        return (_rank(change[1]), _rank(change[2])) > (_rank(last[1]), _rank(last[2]))


def _rank(v: Any) -> tuple:
    """A value where SQLite orders it: NULL, then numbers, then text, then bytes."""
    if v is None:
        return (0, 0)
    if isinstance(v, (int, float)):
        return (1, v)
    return (2, v) if isinstance(v, str) else (3, bytes(v))


def _text(key: Any) -> str:
    """A row key as text, whatever an edit behind dvk's back made of it."""
    return key if type(key) is str else str(key)


class _RawRow:
    """A raw row's values by column name (one tuple, names shared by every row of the table)."""

    __slots__ = ("_pos", "_row")

    def __init__(self, pos: dict[str, int], row: tuple) -> None:
        self._pos, self._row = pos, row

    def __getitem__(self, name: str) -> Any:
        return self._row[self._pos[name]]


def raw_rows(conn: Connection, stmt) -> Iterator[tuple]:
    """Rows of `stmt` as the driver's plain tuples — raw values, no result processing — fetched CHUNK at a
    time on the connection's own cursor (the same read snapshot), flattened without a Python frame per row."""
    return chain.from_iterable(_chunks(conn, stmt))


def _chunks(conn: Connection, stmt) -> Iterator[list[tuple]]:
    compiled = stmt.compile(dialect=conn.dialect)
    params = compiled.construct_params()
    args = tuple(params[k] for k in compiled.positiontup) if compiled.positional else params
    sql = str(compiled)
    base = conn.dialect.loaded_dbapi.Error
    cur = conn.connection.dbapi_connection.cursor()
    try:
        cur.execute(sql, args)
        while part := cur.fetchmany(CHUNK):
            yield part
    except base as exc:  # as SQLAlchemy would raise it, so the ledger's translation of errors applies
        from sqlalchemy.exc import DBAPIError

        raise DBAPIError.instance(sql, args, exc, base) from exc
    finally:
        cur.close()


def _binary(conn: Connection, expr):
    """Order strings by code point, like Python compares them (SQLite's default BINARY)."""
    return expr.collate("C") if conn.dialect.name == "postgresql" else expr


def _columns(t) -> list[tuple[str, Any, Any]]:
    """(name, type, default) of each column; the default stands for a column the history lacks."""
    out = []
    for col in t.columns:
        d = col.default
        out.append((col.name, col.type, d.arg if d is not None and getattr(d, "is_scalar", False) else None))
    return out


def _compare(cols, name: str, key: str, expected: dict, found, report: Report) -> None:
    for cname, ctype, default in cols:
        want = expected.get(cname, default) if cname in expected else default
        have = found[cname]
        if want == have and (want is None) == (have is None):  # fast path: 1 == True == 1.0, "x" == "x"
            continue
        w, h = _norm(ctype, want), _norm(ctype, have)
        if w == h and type(w) is type(h):
            continue
        if (name, cname) in JSON_OBJECT_COLUMNS and _json_diff(name, key, cname, w, h, report):
            continue
        label = COLUMN_LABELS_BY_TABLE.get((name, cname)) or COLUMN_LABELS.get(cname, cname)
        report.add(Problem("differs", f"{_where(name, key)} / {label}: lịch sử ghi {_fmt(w, ctype)}, "
                           f"sổ hiện ghi {_fmt(h, ctype)} — bị sửa ngoài dvk.", table=name, key=key, column=cname,
                           expected=_plain(w), found=_plain(h)))


def _json_diff(name: str, key: str, column: str, want: Any, have: Any, report: Report) -> bool:
    if not (isinstance(want, str) and isinstance(have, str)):  # bytes of the same text are not the text
        return False
    try:
        a, b = json.loads(want), json.loads(have)
    except (TypeError, ValueError):
        return False
    if not (isinstance(a, dict) and isinstance(b, dict)):
        return False
    for k in list(a) + [k for k in b if k not in a]:
        va, vb = a.get(k, _ABSENT), b.get(k, _ABSENT)
        if va == vb and type(va) is type(vb) or _num_eq(va, vb):
            continue
        report.add(Problem("differs", f"{_where(name, key)} / {k}: lịch sử ghi {_fmt(va)}, sổ hiện ghi {_fmt(vb)}"
                           " — bị sửa ngoài dvk.", table=name, key=key, column=f"{column}.{k}",
                           expected=_plain(va), found=_plain(vb)))
    return True


def _num_eq(a: Any, b: Any) -> bool:
    nums = (int, float)
    return (isinstance(a, nums) and isinstance(b, nums) and not isinstance(a, bool) and not isinstance(b, bool)
            and a == b)


class _Absent:
    def __repr__(self) -> str:
        return "(không có)"


_ABSENT = _Absent()


def _norm(coltype, v: Any) -> Any:
    """One spelling per value, whether it comes from the history's JSON or from the raw row."""
    if v is None:
        return None
    if isinstance(coltype, Boolean):
        return bool(v) if v in (0, 1) else v  # True == 1, False == 0
    if isinstance(coltype, Integer):
        if isinstance(v, float) and v.is_integer():
            return int(v)
        return v
    if isinstance(coltype, (Float, Numeric)):
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v
    if isinstance(coltype, DateTime):
        try:
            return dt.datetime.fromisoformat(str(v))
        except ValueError:
            return v
    if isinstance(coltype, Date):
        return v.isoformat() if isinstance(v, dt.date) else v
    if isinstance(coltype, String) and isinstance(v, (int, float)) and not isinstance(v, bool):
        return str(v)
    return v


def _where(name: str, key: str) -> str:
    parts = key.split("|")
    if name == "org_profile" or name == "criteria_set":
        parts = ["đầu" if p == "0" else p for p in parts]
    if name == "decision":
        return f"Quyết định #{key}"
    if name == "outcome" and len(parts) == 2:
        return f"Kết quả công nhận của {parts[1]} theo quyết định #{parts[0]}"
    return f"{TABLE_LABELS.get(name, name)} {' / '.join(parts)}"


def _fmt(v: Any, coltype=None) -> str:
    if isinstance(coltype, Date) and isinstance(v, str):
        try:
            return dt.date.fromisoformat(v).strftime("%d/%m/%Y")
        except ValueError:
            pass
    if v is None:
        return "(trống)"
    if v is _ABSENT:
        return "(không có)"
    if isinstance(v, bool):
        return "có" if v else "không"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v).replace(".", ",")
    if isinstance(v, (dict, list)):
        v = json.dumps(v, ensure_ascii=False)
    if isinstance(v, bytes):
        v = v.hex()
    s = str(v)
    if len(s) > 80:
        s = s[:79] + "…"
    return f"“{s}”"


def _plain(v: Any) -> Any:
    if v is _ABSENT:
        return None
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, bytes):
        return v.hex()
    return v
