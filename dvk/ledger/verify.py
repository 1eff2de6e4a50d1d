"""Tamper check of a ledger (kiểm tra toàn vẹn sổ): `dvk verify`.

Three passes over one read snapshot:

1. **The hash chain.** Every history record is re-hashed from its own fields and its changes
   (in `seq` order); its `prev_hash` must be the stored hash of the record before it, ids run
   1, 2, 3… without gaps, each record holds exactly `n_changes` changes numbered 1…n, and no
   change belongs to a record that does not exist.
2. **The state.** The changes are replayed per (table, row key) — the latest state wins, a
   delete removes the row — and compared with the current rows of every table in `ROW_KEYS`:
   a missing row, an extra row, or a column whose value differs is reported with the table,
   the key, the column, what the history says and what the ledger now holds (`dvk.ledger.replay`).
3. **The schema.** The tables (and their columns), indexes, triggers and views of `sqlite_master`
   are compared with what the migrations make for the ledger's revision (`expected_schema`: shipped for
   the head revision, built once per process on an in-memory database for an older one): a trigger,
   view, index, table or column added, dropped or changed with SQL is reported by name.

Every write also runs `check_before_write` under the write lock: the same replay, for the few rows
every command relies on (decisions, settings), with their pages and no foreign trigger or view.

Memory stays bounded and the work linear whatever the ledger's size, with no sort: the chain is read
in primary-key order, and the state as `dvk.ledger.replay` says (no dictionary of all rows, no temporary
sort file; tests/ledger/test_verify.py checks every query's plan).

A data migration must record its changes through `dvk.ledger.history.Tx` like any command, or this
check reports the rows it touched. The chain has no secret key: someone who knows the format
can rewrite the whole history consistently, which is why the summary prints the last record's
hash — written down (or printed on the decision) it anchors everything before it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from itertools import groupby, islice
from operator import itemgetter
from typing import Any, Iterator

from sqlalchemy import select
from sqlalchemy.engine import Connection

from dvk.errors import LedgerError
from dvk.ledger.findings import Problem, Report
from dvk.ledger.history import GENESIS, record_hash
from dvk.ledger.labels import TABLE_LABELS
from dvk.ledger.replay import CHUNK, check_state, check_table, raw_rows
from dvk.ledger.tables import ROW_KEYS, TABLES
from dvk.text.numbers import thousands

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
        check_table(conn, name, report)
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
    records = raw_rows(conn, select(ht.c.id, ht.c.at, ht.c.user, ht.c.command, ht.c.summary, ht.c.n_changes,
                                ht.c.prev_hash, ht.c.hash).order_by(ht.c.id))
    groups = groupby(raw_rows(conn, select(ct.c.history_id, ct.c.seq, ct.c.table_name, ct.c.row_key, ct.c.op,
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
