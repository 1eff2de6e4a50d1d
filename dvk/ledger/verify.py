"""Tamper check of a ledger (kiểm tra toàn vẹn sổ): `dvk verify`.

Three passes over one read snapshot:

1. **The hash chain.** Every history record is re-hashed from its own fields and its changes
   (in `seq` order); its `prev_hash` must be the stored hash of the record before it, ids run
   1, 2, 3… without gaps, each record holds exactly `n_changes` changes numbered 1…n, and no
   change belongs to a record that does not exist.
2. **The state.** The changes are replayed per (table, row key) — the latest state wins, a
   delete removes the row — and compared with the current rows of every table in `ROW_KEYS`:
   a missing row, an extra row, or a column whose value differs is reported with the table,
   the key, the column, what the history says and what the ledger now holds.
3. **The schema.** The tables (and their columns), indexes, triggers and views of `sqlite_master`
   are compared with what the migrations make for the ledger's revision (`expected_schema`: shipped for
   the head revision, built once per process on an in-memory database for an older one): a trigger,
   view, index, table or column added, dropped or changed with SQL is reported by name.

Every write also runs `check_before_write` under the write lock: the same replay, for the few rows
every command relies on (decisions, settings), with their pages and no foreign trigger or view.

Memory stays bounded and the work linear whatever the ledger's size, with no sort: a table with a
one-column text key and its replay are both read in their indexes' order and merged; any other table
is reached from its replay, key by key in the history's index order, through its primary key (no
dictionary of all rows, no temporary sort file; tests/ledger/test_verify.py checks every query's plan).

A data migration must record its changes through `dvk.ledger.history.Tx` like any command, or this
check reports the rows it touched. The chain has no secret key: someone who knows the format
can rewrite the whole history consistently, which is why the summary prints the last record's
hash — written down (or printed on the decision) it anchors everything before it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass, field
from itertools import chain, groupby, islice
from operator import itemgetter
from typing import Any, Iterator

from sqlalchemy import Boolean, Date, DateTime, Float, Integer, Numeric, String, cast, select
from sqlalchemy.engine import Connection

from dvk.errors import LedgerError
from dvk.ledger.history import GENESIS, load_state, record_hash, table
from dvk.ledger.labels import COLUMN_LABELS, COLUMN_LABELS_BY_TABLE, TABLE_LABELS
from dvk.ledger.tables import ROW_KEYS, TABLES
from dvk.text.numbers import thousands

MAX_KEPT = 1000  # problems kept with their details; the rest are only counted
CHUNK = 2000

# Text columns holding a JSON object: a difference is reported key by key ("… / G2: …").
JSON_OBJECT_COLUMNS = {("score", "marks")}


@dataclass
class Problem:
    """One disagreement, with where it is and what differs."""

    kind: str  # chain | missing | extra | differs
    message: str
    table: str | None = None
    key: str | None = None
    column: str | None = None
    expected: Any = None
    found: Any = None
    history_id: int | None = None


@dataclass
class Report:
    """What `verify` found. `ok` when the chain holds and every row agrees with the history."""

    records: int = 0
    changes: int = 0
    rows: int = 0
    head_id: int | None = None
    head_hash: str | None = None
    n_problems: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.n_problems == 0

    def add(self, problem: Problem) -> None:
        self.n_problems += 1
        if len(self.problems) < MAX_KEPT:
            self.problems.append(problem)

    def summary(self) -> str:
        """One Vietnamese line."""
        if self.ok:
            head = f" Mã kiểm tra cuối: #{self.head_id} {self.head_hash[:16]}." if self.head_hash else ""
            return (f"Sổ toàn vẹn: {thousands(self.records)} bản ghi lịch sử nối liền, "
                    f"{thousands(self.changes)} thay đổi; {thousands(self.rows)} dòng dữ liệu khớp với lịch sử.{head}")
        kinds = {p.kind for p in self.problems}
        against = ("cấu trúc dvk tạo ra (lược đồ)" if kinds == {"schema"} else
                   "lịch sử và cấu trúc dvk tạo ra" if "schema" in kinds else "lịch sử")
        return (f"Sổ có {thousands(self.n_problems)} chỗ không khớp với {against} — có thể đã bị sửa ngoài dvk "
                f"(đã kiểm {thousands(self.records)} bản ghi lịch sử, {thousands(self.rows)} dòng dữ liệu).")

    def details(self) -> list[str]:
        out = [p.message for p in self.problems]
        if self.n_problems > len(self.problems):
            out.append(f"… và {thousands(self.n_problems - len(self.problems))} chỗ khác.")
        return out

    def as_dict(self) -> dict:
        return {"ok": self.ok, "summary": self.summary(), "records": self.records, "changes": self.changes,
                "rows": self.rows, "head_id": self.head_id, "head_hash": self.head_hash,
                "n_problems": self.n_problems, "problems": [asdict(p) for p in self.problems]}


def verify(ledger) -> Report:
    """Check the hash chain, every current row against the history, and the schema against the
    migrations (one read snapshot). A ledger SQLite cannot read through is refused as damaged, with
    what `PRAGMA integrity_check` says."""
    from dvk.ledger.failures import DAMAGED, damaged

    try:
        return _verify(ledger)
    except LedgerError as exc:
        if DAMAGED not in exc.message:
            raise
        lines = [line for line in ledger.integrity_errors() if DAMAGED not in line]
        raise damaged(ledger.shown, checking=True, details=lines[:50])


def _verify(ledger) -> Report:
    from sqlalchemy import inspect

    report = Report()
    with ledger.read() as conn:
        if conn.dialect.name == "postgresql":
            from dvk.ledger.roles import require_whole_ledger

            require_whole_ledger(conn, "dvk verify", getattr(ledger, "shown", ""))
        existing = set(inspect(conn).get_table_names())
        for name in ("history", "change", *ROW_KEYS):
            if name not in existing:
                report.add(Problem("missing", f"Bảng “{name}” ({TABLE_LABELS.get(name, 'lịch sử')}) không còn trong "
                                   "sổ — bị xóa ngoài dvk.", table=name))
        if {"history", "change"} <= existing:
            check_chain(conn, report)
        check_state(conn, report, existing)
        check_schema(conn, report)
    return report


# ---------------------------------------------------------------- pass 3: the schema

SCHEMA_WORDS = {"table": "bảng", "index": "chỉ mục", "trigger": "trigger", "view": "view"}


def check_schema(conn: Connection, report: Report) -> None:
    """Compare the ledger's tables, columns, indexes, triggers and views with what the migrations make
    (`expected_schema` of the ledger's revision): anything added, dropped or changed behind dvk's back."""
    problems = _pg_problems(conn) if conn.dialect.name == "postgresql" else \
        schema_problems(conn.connection.dbapi_connection)
    for problem in problems:
        report.add(problem)


def _pg_problems(conn: Connection) -> list[Problem]:
    from dvk.ledger.pg_schema import pg_schema_problems

    return [Problem("schema", **p) for p in pg_schema_problems(conn, SCHEMA_WORDS, _shown)]


def schema_problems(raw) -> list[Problem]:
    """The differences between a ledger's schema and the one its revision's migrations make (`raw`: a
    sqlite3 connection). Nothing for a file that is not a ledger of a known revision (refused elsewhere)."""
    from dvk.ledger.migrations import SCHEMA_HEAD
    from dvk.ledger.migrations.runner import known_revisions
    from dvk.ledger.schema import expected_schema, read_schema

    have = read_schema(raw)
    if have.objects.get("alembic_version", None) is None or have.objects["alembic_version"].type != "table":
        return []
    revision = (raw.execute("SELECT version_num FROM alembic_version").fetchone() or (None,))[0]
    if revision != SCHEMA_HEAD and revision not in known_revisions():  # the head needs no Alembic
        return []
    want = expected_schema(revision)
    out: list[Problem] = []
    for name, obj in have.objects.items():
        exp = want.objects.get(name)
        word = SCHEMA_WORDS.get(obj.type, obj.type)
        on = f" trên bảng “{_shown(obj.table)}”" if obj.type in ("index", "trigger") else ""
        if exp is None:
            out.append(Problem("schema", f"Sổ có {word} lạ “{_shown(name)}”{on}, không do dvk tạo.",
                               table=obj.table, key=name, found=obj.sql))
        elif exp.type != obj.type or exp.table != obj.table:
            out.append(Problem("schema", f"“{_shown(name)}” trong sổ là {word}{on}, nhưng dvk tạo "
                               f"{SCHEMA_WORDS.get(exp.type, exp.type)} trên bảng “{exp.table}” — bị thay ngoài dvk.",
                               table=obj.table, key=name, expected=exp.sql, found=obj.sql))
        elif obj.type == "table":
            out.extend(_column_problems(name, want.columns.get(name, ()), have.columns.get(name, ()), exp, obj))
        elif exp.sql != obj.sql:
            out.append(Problem("schema", f"{word.capitalize()} “{name}”{on} khác với {word} dvk tạo — bị sửa ngoài "
                               "dvk.", table=obj.table, key=name, expected=exp.sql, found=obj.sql))
    reported = {"history", "change", *ROW_KEYS}  # a missing one is already reported by verify()
    for name, exp in want.objects.items():
        if name in have.objects or (exp.type == "table" and name in reported):
            continue
        if exp.type == "index" and exp.table not in have.objects:
            continue  # gone with its table
        word = SCHEMA_WORDS.get(exp.type, exp.type)
        on = f" của bảng “{exp.table}”" if exp.type in ("index", "trigger") else ""
        out.append(Problem("schema", f"Sổ thiếu {word} “{name}”{on} do dvk tạo — bị xóa ngoài dvk.",
                           table=exp.table, key=name, expected=exp.sql))
    return out


def _column_problems(name: str, want: tuple, have: tuple, exp, obj) -> list[Problem]:
    out = []
    w, h = {c[0]: c for c in want}, {c[0]: c for c in have}
    for col in have:
        if col[0] not in w:
            out.append(Problem("schema", f"Bảng “{name}” có cột lạ “{_shown(col[0])}”, không do dvk tạo.",
                               table=name, key=name, column=col[0]))
    for col in want:
        if col[0] not in h:
            out.append(Problem("schema", f"Bảng “{name}” thiếu cột “{col[0]}” do dvk tạo — bị xóa ngoài dvk.",
                               table=name, key=name, column=col[0]))
        elif h[col[0]] != col:
            out.append(Problem("schema", f"Cột “{col[0]}” của bảng “{name}” có kiểu, ràng buộc hoặc giá trị mặc định "
                               "khác với cột dvk tạo — bị sửa ngoài dvk.", table=name, key=name, column=col[0],
                               expected=list(col), found=list(h[col[0]])))
    if not out and exp.sql != obj.sql:
        out.append(Problem("schema", f"Bảng “{name}” có định nghĩa (ràng buộc, khóa) khác với bảng dvk tạo — bị sửa "
                           "ngoài dvk.", table=name, key=name, expected=exp.sql, found=obj.sql))
    return out


def _shown(name: Any) -> str:
    """A name from the file as it may be printed: control characters escaped, cut at 80 characters."""
    s = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in str(name))
    return s if len(s) <= 80 else s[:79] + "…"


# ---------------------------------------------------------------- before every write

RELIED_ON = ("meta", "decision")  # what every command relies on: the settings and the year locks


def check_before_write(conn: Connection, shown: str) -> None:
    """The cheap check `Ledger.write` runs under the write lock, before anything is written.

    The decisions (which years are locked) and the settings are compared with the replay of their
    own history changes (a few rows, found through `ix_change_row`), their pages and indexes pass
    SQLite's integrity check, and the ledger has no trigger or view the migrations did not make.
    A ledger that fails is refused with one message pointing to `dvk verify` and `dvk restore`;
    everything else is left to `dvk verify`, which stays the full check.
    """
    from dvk.ledger.failures import damaged
    from dvk.ledger.failures import tables_sound

    pg = conn.dialect.name == "postgresql"
    if pg:
        from dvk.ledger.pg_schema import pg_objects

        kinds = {n: k for n, (k, _t) in pg_objects(conn).items() if k in ("table", "trigger", "view")}
    else:
        kinds = dict(conn.exec_driver_sql(
            "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'trigger', 'view')").all())
    way_out = ("Lệnh không ghi gì; sổ giữ nguyên. Chạy dvk verify để xem toàn bộ, rồi khôi phục từ bản sao lưu: "
               "dvk restore TỆP_SAO_LƯU (xem các bản sao lưu: dvk backup --list).")
    gone = [t for t in ("history", "change", *RELIED_ON) if kinds.get(t) != "table"]
    if gone:
        raise LedgerError(f"Sổ “{shown}” thiếu bảng {', '.join(f'“{t}”' for t in gone)} — bị xóa ngoài dvk. {way_out}")
    if any(k in ("trigger", "view") for k in kinds.values()):
        found = _pg_problems(conn) if pg else schema_problems(conn.connection.dbapi_connection)
        odd = [p.message for p in found if p.key in kinds and kinds[p.key] in ("trigger", "view")]
        if odd:
            raise LedgerError(f"Sổ “{shown}” có trigger hoặc view không do dvk tạo — bị thêm ngoài dvk. {way_out}",
                              details=odd)
    if not pg and not tables_sound(conn, RELIED_ON):  # PostgreSQL checks its own pages (checksums, WAL)
        raise damaged(shown)
    report = Report()
    for name in RELIED_ON:
        _check_table(conn, name, report)
    if not report.ok:
        raise LedgerError(f"Sổ “{shown}” đã bị sửa ngoài dvk ở phần mọi lệnh ghi dựa vào (quyết định công nhận, cài "
                          f"đặt của sổ): {thousands(report.n_problems)} chỗ không khớp với lịch sử. {way_out}",
                          details=report.details())


# ---------------------------------------------------------------- pass 1: the chain

def check_chain(conn: Connection, report: Report) -> None:
    """Pass 1. Plain tuples straight from the driver, in primary-key order (no sort); the changes grouped by
    their record (`groupby`) and each record's change lines hashed in blocks of CHUNK: per change one
    f-string, nothing else."""
    ht, ct = TABLES["history"], TABLES["change"]
    records = _raw(conn, select(ht.c.id, ht.c.at, ht.c.user, ht.c.command, ht.c.summary, ht.c.n_changes,
                                ht.c.prev_hash, ht.c.hash).order_by(ht.c.id))
    groups = groupby(_raw(conn, select(ct.c.history_id, ct.c.seq, ct.c.table_name, ct.c.row_key, ct.c.op,
                                       ct.c.data).order_by(ct.c.history_id, ct.c.seq)), key=_first)
    group = next(groups, None)
    prev_hash, prev_id = GENESIS, 0
    for h in records:
        hid, at, user, command, summary, n_changes, h_prev, h_hash = h
        report.records += 1
        while group is not None and _sorts_before(group[0], hid):  # changes whose record does not exist
            _orphan(group, report)
            group = next(groups, None)
        if hid != prev_id + 1:
            gone = f"#{prev_id + 1}" if hid == prev_id + 2 else f"#{prev_id + 1}–#{hid - 1}"
            report.add(Problem("chain", f"Thiếu bản ghi lịch sử {gone} (trước {_record_where(h)}) — bị xóa ngoài dvk.",
                               history_id=hid))
        digest = hashlib.sha256()
        n, gap = 0, False
        if group is not None and group[0] == hid:
            changes = group[1]
            while part := list(islice(changes, CHUNK)):
                if not gap and list(map(_second, part)) != list(range(n + 1, n + 1 + len(part))):
                    gap = True  # seq runs 1…n without gaps
                n += len(part)
                digest.update("".join([f"{c[1]}\t{c[2]}\t{c[3]}\t{c[4]}\t{'' if c[5] is None else c[5]}\n"
                                       for c in part]).encode("utf-8"))
            group = next(groups, None)
        report.changes += n
        if gap or n != n_changes:
            report.add(Problem("chain", f"{_record_where(h)}: ghi {n_changes} thay đổi nhưng sổ còn {n}"
                               f"{' (số thứ tự không liền nhau)' if gap else ''} — thay đổi bị xóa hoặc thêm ngoài dvk.",
                               history_id=hid))
        rec = {"id": hid, "at": at, "user": user, "command": command, "summary": summary, "n_changes": n_changes}
        if h_prev != prev_hash:
            report.add(Problem("chain", f"{_record_where(h)}: không nối với bản ghi trước (#{prev_id}) — lịch sử bị "
                               "sửa, xóa hoặc chèn ngoài dvk.", history_id=hid, expected=prev_hash, found=h_prev))
        try:
            ok = record_hash(h_prev, rec, digest.hexdigest()) == h_hash
        except (TypeError, AttributeError):  # a field edited into a number or NULL
            ok = False
        if not ok:
            report.add(Problem("chain", f"{_record_where(h)}: mã kiểm tra không khớp với nội dung — bản ghi hoặc "
                               "các thay đổi của nó bị sửa ngoài dvk.", history_id=hid))
        prev_hash, prev_id = h_hash, hid
        report.head_id, report.head_hash = hid, h_hash
    while group is not None:  # changes after the last record
        _orphan(group, report)
        group = next(groups, None)


_first, _second = itemgetter(0), itemgetter(1)


def _sorts_before(history_id: Any, record_id: int) -> bool:
    """A change's record id comes before a record's (SQLite orders numbers before text: a record id edited
    into text comes after every record, and is an orphan)."""
    return isinstance(history_id, (int, float)) and history_id < record_id


def _orphan(group: tuple[Any, Iterator[tuple]], report: Report) -> None:
    """The changes of one history record that does not exist (`group`: its id and its changes)."""
    hid, n = group[0], sum(1 for _ in group[1])
    report.changes += n
    report.add(Problem("chain", f"Có {n} thay đổi thuộc bản ghi lịch sử #{hid} không tồn tại — bản ghi lịch sử "
                       "bị xóa ngoài dvk.", history_id=hid))


def _record_where(h) -> str:
    """Where a history record is, for a message (`h`: its id, at, user, command, … as a tuple)."""
    hid, at, user, command = h[0], h[1], h[2], h[3]
    try:
        when = dt.datetime.fromisoformat(at).astimezone().strftime("%d/%m/%Y %H:%M")
    except (TypeError, ValueError):
        when = str(at)
    command = str(command)
    if len(command) > 60:
        command = command[:59] + "…"
    return f"Bản ghi lịch sử #{hid} ({when}, {user}, “{command}”)"


# ---------------------------------------------------------------- pass 2: the state

def check_state(conn: Connection, report: Report, existing: set[str]) -> None:
    if "change" not in existing:
        return
    for name in ROW_KEYS:
        if name in existing:
            _check_table(conn, name, report)


def _check_table(conn: Connection, name: str, report: Report) -> None:
    """Compare one table's rows with the replay of its history, without sorting either side.

    A one-column text key: both sides in their own index's order, merged (`_merged`). Any other key (two
    or three columns, or a number): each key's changes in the history's index order, joined to the table's
    row through its primary key (`_joined`); the rows no change reaches are then found the same way."""
    t = table(name)
    keys = ROW_KEYS[name]
    if len(keys) == 1 and isinstance(t.c[keys[0]].type, String):
        _merged(conn, name, report)
    else:
        _joined(conn, name, report)


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
    current = _raw(conn, select(*table(name).columns).order_by(_binary(conn, key_col)))
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
    rows = _raw(conn, select(ct.c.row_key, ct.c.history_id, ct.c.seq, ct.c.op, ct.c.data)
                .where(ct.c.table_name == name).order_by(_binary(conn, ct.c.row_key)))
    for key, changes in groupby(rows, key=_first):
        last = next(changes)
        for r in changes:
            if _later(r, last):
                last = r
        if last[3] != "delete":
            yield key, last[4]


def _joined(conn: Connection, name: str, report: Report) -> None:
    """A table whose key is not one text column: each key's changes in the history's index order (no sort),
    each joined to the table's row with that key through the primary key; then, when fewer rows were
    reached than the table holds, the rows no change of the history reaches (a second look-up, not a sort).

    A change reaches a row when the row's key spells the change's row key ("5|2024-007") and the parts
    of that row key, split at '|' (the last part keeps any '|' of its own), are the row's key columns."""
    from sqlalchemy import and_, exists, func

    t = table(name)
    ct = TABLES["change"]
    cols = [t.c[k] for k in ROW_KEYS[name]]
    reaches = _reaches(conn, cols, ct.c.row_key)
    stmt = (select(ct.c.row_key, ct.c.history_id, ct.c.seq, ct.c.op, ct.c.data, *t.columns)
            .select_from(ct.outerjoin(t, reaches)).where(ct.c.table_name == name)
            .order_by(_binary(conn, ct.c.row_key)))
    rows = _Rows(name, 5)
    present = 5 + [c.name for c in t.columns].index(cols[0].name)  # a key column: NULL when no row is reached
    seen = 0
    for key, changes in groupby(_raw(conn, stmt), key=_first):
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
    if seen < total:
        unreached = select(_spelling(cols)).where(~exists().where(and_(ct.c.table_name == name, reaches)))
        for (key,) in _raw(conn, unreached):
            seen += 1
            _extra(name, _text(key), report)
    report.rows += seen


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


def _raw(conn: Connection, stmt) -> Iterator[tuple]:
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
