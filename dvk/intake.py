"""Bulk intake (nhập hàng loạt): registrations, reports, confirmations and scores from files.

The 34 grassroots unions send Excel/CSV/JSON files; `dvk register|report|confirm|score --from FILE`
brings them in. One import is:

1. **read** — `dvk.tabular.read_table` streams the rows (headers matched regardless of case,
   diacritics and spacing; legacy TCVN3/VNI text converted; every cell NFC);
2. **check** — every row is checked with the same rules as the single-entry commands, and every
   problem is collected as a `Problem(reason, file, row, column, value)`;
3. **plan** — rows are decided by batches of `BATCH` inside a READ transaction (a snapshot of the
   ledger; no write lock): what each row matches, new ids, conflicts. The writes decided go to a
   `_Plan` on disk (a temporary SQLite file), which also answers "was this key planned already?"
   for the later rows of the file, as the ledger would if they had been written;
4. **write** — only then is the write lock taken, the ledger checked unchanged since the snapshot
   (its last history record), and the planned batches applied in ONE transaction, in their order:
   new rows through `bulk_insert` (executemany; each row recorded in the history exactly as
   `Tx.insert_many` records it), changed rows (`--update`) through `Tx.update_many`. If another
   command wrote meanwhile, the file is planned again; when that keeps happening, the last of
   `REPLANS` plans is made under the lock from the rows the plan before kept on disk (never from
   the file itself), so an import always ends.

So the input file is read and checked without holding the lock: a slow disk, a huge file or a
refused one never makes another writer wait, and a dry run never takes the lock at all.

All or nothing: if any row is bad (and `--skip-invalid` is not given) nothing is written and
`ValidationFailed` lists every problem. A dry run runs the very same planning, so its counts and
ids are exactly those of the real run. An import that changes nothing writes nothing (no empty
history record).

Idempotent: a registration is matched to the ledger by `ops.match_key` (folded unit, title and
person, indexed by year); reports and confirmations by entry id; scores by entry id and council
member. The same row again is "already there"; the same key with different values is a conflict
(listed, not written) unless `--update`.

Memory stays bounded: rows are streamed, only the current batch is held, existing rows are looked
up per batch with an indexed IN query (rows planned by earlier batches of the same import, in the
plan's index), planned writes and rejected rows are spooled to temporary files, and only a capped
number of problems, conflicts and new ids is kept for the report.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import pickle
import re
import secrets
import sqlite3
import stat
import tempfile
import unicodedata
from array import array
from bisect import bisect_left
from fractions import Fraction
from functools import lru_cache
from operator import itemgetter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

from sqlalchemy import and_, select
from sqlalchemy.exc import DBAPIError

from dvk.criteria import _num
from dvk.scoring import parse_score_value
from dvk.cycle.common import KINDS as ENTRY_KINDS, MAX_YEAR, MIN_YEAR, SUBJECTS, check_year, text_field, entry_year, today
from dvk.cycle.config import criteria_for
from dvk.cycle.decisions import ensure_unlocked
from dvk.cycle.entries import entry_id_of, make_id, next_seq
from dvk.cycle.evidence import marks_json, match_member, member_near_message
from dvk.cycle.units import list_units
from dvk.criteria import ASPECTS, CriteriaSet
from dvk.text.dates import DateError, fmt_date, parse_date
from dvk.errors import DvkError, InvalidInput, LedgerError, Problem, ValidationFailed
from dvk.ledger.history import table as db_table
from dvk.tabular import LongNumber, fold_header
from dvk.text.normalize import clean, fold, fold_clean, nfc
from dvk.text.safety import MAX_LEN, text_problem

BATCH = 5000  # rows per executemany (the history flushes by the same size)
LOOKUP_CHUNK = 500  # keys per IN (...) query
MAX_PROBLEMS = 500  # problems kept for the report (all are counted)
MAX_CONFLICTS = 200
MAX_NEW_IDS = 1000
MAX_NOTES = 200
REPLANS = 3  # plans of one import when other commands keep writing meanwhile
PROGRESS_FROM = 5000  # rows read before a progress bar appears
IMPORT_CACHE_KIB = 16384  # SQLite page cache of the import's connection while it writes
EXAMPLE_MARK = "[VÍ DỤ]"  # rows of the forms' examples start a cell with this; they are skipped
REJECT_REASON_KEY = "Lý do bị loại"  # JSON member / column of a rejects file for confirmations

KINDS = ("registrations", "reports", "confirmations", "scores")
KIND_LABELS = {
    "registrations": "đăng ký",
    "reports": "báo cáo thành tích",
    "confirmations": "xác nhận của cấp ủy",
    "scores": "điểm chấm",
}


# ---------------------------------------------------------------- columns

@dataclass(frozen=True)
class Column:
    """One column of an import file: canonical key, the form's header, other accepted spellings."""

    key: str
    header: str
    aliases: tuple[str, ...] = ()

    @property
    def spellings(self) -> list[str]:
        return [self.header, self.key, *self.aliases]


REGISTRATION_COLUMNS: tuple[Column, ...] = (
    Column("year", "Năm"),
    Column("unit", "Mã đơn vị", ("unit_code", "Mã ĐV")),
    Column("title", "Tên mô hình, điển hình", ("Tên mô hình", "Tên điển hình", "Tên mô hình điển hình")),
    Column("kind", "Loại", ("Loại hình",)),
    Column("subject", "Đối tượng"),
    Column("person", "Họ và tên", ("Họ tên", "Họ và tên cá nhân")),
    Column("position", "Chức vụ"),
    Column("field", "Lĩnh vực"),
    Column("registered_on", "Ngày đăng ký", ("date",)),
    Column("sudden", "Đột xuất", ("Thành tích đột xuất",)),
    Column("note", "Ghi chú"),
)
# Keys of `dvk list --json` that a registration import ignores without a warning.
REGISTRATION_IGNORED: tuple[Column, ...] = (
    Column("_id", "id", ("Mã mô hình", "Mã")),
    Column("_unit_name", "unit_name", ("Tên đơn vị",)),
    Column("_late", "late", ("Muộn", "Đăng ký muộn")),
    Column("_status", "status", ("Trạng thái",)),
    Column("_score", "score", ("Điểm",)),
    Column("_eligible", "eligible"),
    Column("_reasons", "reasons"),
)

ID_COLUMN = Column("id", "Mã", ("Mã mô hình", "Mã mô hình, điển hình", "entry_id", "Mã số"))
TITLE_INFO = Column("_title", "Tên mô hình, điển hình", ("title", "Tên mô hình", "Tên"))
UNIT_INFO = Column("_unit", "Mã đơn vị", ("unit", "unit_code", "Đơn vị"))

REPORT_COLUMNS: tuple[Column, ...] = (
    ID_COLUMN, TITLE_INFO, UNIT_INFO,
    Column("approach", "Cách làm"),
    Column("experience", "Kinh nghiệm"),
    Column("spread", "Tính lan tỏa", ("Lan tỏa", "Tính lan toả", "Lan toả")),
    Column("effectiveness", "Hiệu quả"),
    Column("sustainability", "Sự bền vững", ("Bền vững", "Tính bền vững")),
    Column("reported_on", "Ngày báo cáo", ("date", "Ngày")),
)

CONFIRMATION_COLUMNS: tuple[Column, ...] = (
    ID_COLUMN, TITLE_INFO, UNIT_INFO,
    Column("committee", "Cấp ủy", ("Cấp ủy xác nhận", "Cấp uỷ")),
    Column("by", "Người xác nhận", ("confirmed_by", "Người ký xác nhận", "Người ký")),
    Column("on", "Ngày xác nhận", ("confirmed_on", "date")),
    Column("comment", "Nhận xét", ("Nhận xét, đánh giá",)),
    Column("rejected", "Không xác nhận", ("reject",)),
    Column("reason", "Lý do", ("Lý do không xác nhận",)),
)

MEMBER_COLUMN = Column("member", "Thành viên", ("Thành viên Hội đồng", "Người chấm"))
SCORE_BASE_COLUMNS: tuple[Column, ...] = (ID_COLUMN, TITLE_INFO, UNIT_INFO, MEMBER_COLUMN)

_REQUIRED = {
    "registrations": ("unit", "title", "field"),
    "reports": ("id",),
    "confirmations": ("id",),
    "scores": ("id",),
}
# Sheet names Excel and LibreOffice give by default: never a council member's name.
_DEFAULT_SHEET = re.compile(r"^(sheet|trang tính|trang|feuil|tabelle|hoja|foglio|planilha|blad)\s*\d*$", re.I)
_LISTS_SHEET = "Danh mục"  # the forms' hidden sheet of drop-down values


def column_spec(columns: Iterable[Column]) -> dict[str, list[str]]:
    return {c.key: c.spellings for c in columns}


# ---------------------------------------------------------------- options and result

@dataclass
class ImportOptions:
    """What the command line asked for."""

    dry_run: bool = False
    skip_invalid: bool = False
    rejects: Path | None = None
    update: bool = False
    year: int | None = None  # registrations: the year of rows without one (and a check of the others)
    member: str | None = None  # scores: the member of a file without a member column
    force: bool = False  # reports, with update: change a report the Party committee has confirmed (clears it)
    progress: bool = True
    force: bool = False  # --rejects may replace an existing file (never the ledger, a backup, the input)


@dataclass
class Conflict:
    """A row that matches something in the ledger but differs from it."""

    where: str
    target: str  # entry id (and member for scores)
    diffs: list[tuple[str, str, str]]  # (column, in the ledger, in the file)
    note: str = ""  # why --update alone does not settle it (a report the Party committee confirmed)

    def text(self) -> str:
        parts = "; ".join(f"{c}: sổ ghi “{a}”, tệp ghi “{b}”" for c, a, b in self.diffs)
        return (f"{self.where}: trùng với {self.target} đã có trong sổ nhưng khác ({parts})"
                + (f"; {self.note}" if self.note else "") + ".")

    def as_dict(self) -> dict:
        out = {"where": self.where, "target": self.target,
               "diffs": [{"column": c, "ledger": a, "file": b} for c, a, b in self.diffs]}
        if self.note:
            out["note"] = self.note
        return out


@dataclass
class ImportResult:
    """What an import did (or, for a dry run, would do)."""

    kind: str
    file: str
    dry_run: bool = False
    rows: int = 0
    added: int = 0
    already: int = 0
    updated: int = 0
    conflicts: int = 0
    rejected: int = 0
    blank: int = 0
    examples: int = 0
    new_ids: list[str] = field(default_factory=list)
    new_ids_more: int = 0
    conflict_list: list[Conflict] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    legacy: dict[str, int] = field(default_factory=dict)  # encoding -> cells converted
    legacy_where: list[str] = field(default_factory=list)
    unknown_headers: list[str] = field(default_factory=list)
    skipped_sheets: list[str] = field(default_factory=list)
    rejects_file: str | None = None
    changes: int = 0  # rows recorded in the history
    confirmations_cleared: int = 0  # reports: confirmations deleted because the report changed (--update --force)
    notes: list[str] = field(default_factory=list)  # what the reader should know (a member's spelling)
    notes_more: int = 0

    def add_note(self, text: str) -> None:
        if len(self.notes) < MAX_NOTES:
            self.notes.append(text)
        else:
            self.notes_more += 1

    def add_problem(self, p: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(p)

    def add_new_id(self, entry_id: str) -> None:
        if len(self.new_ids) < MAX_NEW_IDS:
            self.new_ids.append(entry_id)
        else:
            self.new_ids_more += 1

    def add_conflict(self, c: Conflict) -> None:
        self.conflicts += 1
        if len(self.conflict_list) < MAX_CONFLICTS:
            self.conflict_list.append(c)

    def as_json(self) -> dict:
        return {
            "kind": self.kind, "file": self.file, "dry_run": self.dry_run, "rows": self.rows,
            "added": self.added, "already": self.already, "updated": self.updated,
            "conflicts": self.conflicts, "rejected": self.rejected, "blank": self.blank,
            "examples": self.examples, "new_ids": self.new_ids, "new_ids_truncated": self.new_ids_more > 0,
            "conflict_details": [c.as_dict() for c in self.conflict_list],
            "problems": [_problem_json(p) for p in self.problems], "problem_count": self.problem_count,
            "legacy_converted": self.legacy, "unknown_headers": self.unknown_headers,
            "rejects_file": self.rejects_file, "confirmations_cleared": self.confirmations_cleared,
            "notes": self.notes,
        }

    def summary_line(self) -> str:
        return (f"Nhập {KIND_LABELS[self.kind]} từ “{Path(self.file).name}”: thêm {self.added}, "
                f"cập nhật {self.updated}, đã có {self.already}, xung đột {self.conflicts}, "
                f"bị loại {self.rejected}"
                + (f"; xóa {self.confirmations_cleared} xác nhận của cấp ủy vì báo cáo thay đổi (--force)"
                   if self.confirmations_cleared else ""))


def _problem_json(p: Problem) -> dict:
    value = p.value
    if isinstance(value, (dt.date, dt.datetime)):
        value = value.isoformat()
    return {"file": p.file, "row": p.row, "column": p.column, "value": value, "reason": p.reason,
            "text": p.text()}


# ---------------------------------------------------------------- cell values

def _text(v: Any) -> str | None:
    """A one-line text cell, NFC with tidy spaces; None when empty."""
    if v is None:
        return None
    if isinstance(v, str):
        return clean_fast(v) or None
    if isinstance(v, bool):
        return "x" if v else None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (dt.date, dt.datetime)):
        return fmt_date(v)
    return clean(str(v)) or None


def _cell_problem(raw: Any, cleaned: str | None, key: str) -> str | None:
    """The field's rule (dvk.text.safety.text_problem, MAX_LEN[key]) for a text cell: `raw` as read,
    `cleaned` what would be stored. None when the cell may be stored."""
    return text_problem(raw if isinstance(raw, str) else "", cleaned, MAX_LEN[key])


_is_nfc = unicodedata.is_normalized


def clean_fast(text: str) -> str:
    """`dvk.text.normalize.clean(text)`, returning at once the common text that is already clean.

    Printable text has no tab, line break, NBSP, zero-width or other odd space (they are all
    "Other"/"Separator" characters), so NFC text without double, leading or trailing spaces is
    what `clean` would give back unchanged.
    """
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " " and _is_nfc("NFC", text):
        return text
    return clean(text) or ""


def _shown(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (dt.datetime, dt.date)):
        return fmt_date(v)
    return str(v)


_INT_RE = re.compile(r"\s*(\d{1,6})(?:[.,]0+)?\s*")


def _int(v: Any) -> int | None:
    """An integer cell ("3", 3, 3.0); None when it is not one."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return int(v) if v.is_integer() else None
    if isinstance(v, str):
        m = _INT_RE.fullmatch(v)
        return int(m.group(1)) if m else None
    return None


@lru_cache(maxsize=1024)
def _word(v: Any) -> str:
    """Key to compare a word value: no case, accents, spaces or punctuation ("Mô hình" -> "mohinh")."""
    return fold_header(v)


_KIND_WORDS = {"mohinh": "model", "model": "model", "dienhinh": "exemplar", "exemplar": "exemplar"}
_SUBJECT_WORDS = {"tapthe": "collective", "collective": "collective", "canhan": "individual",
                  "individual": "individual"}
_YES = {"x", "co", "yes", "y", "true", "1", "dotxuat", "sudden", "khongxacnhan", "v"}
_NO = {"", "khong", "no", "n", "false", "0"}


def _flag(v: Any) -> bool | None:
    """A tick cell: "x"/"có"/True/1 -> True, empty/"không"/False/0 -> False, else None."""
    if v is None:
        return False
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return {1: True, 0: False}.get(v)  # type: ignore[call-overload]
    w = _word(v)
    if w in _YES:
        return True
    if w in _NO:
        return False
    return None


def _is_example(v: Any) -> bool:
    return isinstance(v, str) and nfc(v).lstrip().upper().startswith(EXAMPLE_MARK)


def _entry_id(v: Any) -> str | None:
    """An entry id as typed ("2024-007", "2024-7") in the ledger's spelling (dvk.cycle.entries.entry_id_of)."""
    t = _text(v)
    return None if t is None else entry_id_of(t)


# ---------------------------------------------------------------- bulk writes

def _iso(v: Any) -> Any:
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    raise TypeError(f"{type(v).__name__} is not JSON serializable")


# The very spelling of dvk.ledger.history.canonical (sorted keys, no spaces, dates in ISO), with one
# encoder built once instead of a dict copy and an encoder per row.
_canonical = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_iso).encode
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
    JSON template of a complete row with its keys sorted, getter of a tuple's values in that order)."""
    hit = _SQL.get(table_name)
    if hit is None:
        from sqlalchemy import Date

        from dvk.models import ROW_KEYS

        t = db_table(table_name)
        cols = [c.name for c in t.columns]
        quoted = ", ".join(f'"{c}"' for c in cols)
        sql = f'INSERT INTO "{t.name}" ({quoted}) VALUES ({", ".join("?" * len(cols))})'
        dates = tuple(i for i, c in enumerate(t.columns) if isinstance(c.type, Date))
        order = sorted(range(len(cols)), key=lambda i: cols[i])
        template = "{" + ",".join(json.encoder.encode_basestring(cols[i]).replace("%", "%%") + ":%s"
                                  for i in order) + "}"
        hit = _SQL[table_name] = (sql, itemgetter(*cols), dates, ROW_KEYS[table_name], template,
                                  itemgetter(*order))
    return hit


def bulk_insert(tx: Any, table_name: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """What `tx.insert_many(table_name, rows)` does — write complete rows and record each one in the
    history — without SQLAlchemy's per-row parameter processing: rows go to the driver as tuples
    (dates as ISO text, as the Date type stores them) and are recorded with `Tx.record_inserted`
    under the same key and canonical JSON. tests/test_intake_history.py holds the ledger it leaves
    (tables, changes, digest, `dvk verify`) equal to insert_many's.
    """
    if not rows:
        return
    sql, getter, dates, keys, template, sorted_values = _insert_sql(table_name)
    n_cols = template.count(":%s")
    params: list[tuple] = []
    recorded: list[tuple[str, str]] = []
    enc = _canonical
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
    tx.conn.exec_driver_sql(sql, params)
    tx.record_inserted(table_name, recorded)


# ---------------------------------------------------------------- rejects spool

class _Spool:
    """Rows kept on disk (pickled one by one): the rejected rows until they are written as a
    rejects file, or the rows read, for a plan made again. A temporary file without a name (it
    disappears with the process, even a killed one); read back once all rows are added."""

    def __init__(self) -> None:
        self.fh = tempfile.TemporaryFile(prefix="dvk-spool-")
        self.count = 0

    def add(self, row: Any) -> None:
        pickle.dump(row, self.fh, protocol=pickle.HIGHEST_PROTOCOL)
        self.count += 1

    def rows(self) -> Iterator[Any]:
        fh = self.fh
        fh.flush()
        fh.seek(0)
        load = pickle.load
        for _ in range(self.count):
            yield load(fh)

    def close(self) -> None:
        self.fh.close()


# ---------------------------------------------------------------- the plan

# How a planned row is found again: its key in the ledger, and (scores) the entry it belongs to.
_PLAN_KEY: dict[str, Any] = {
    "entry": lambda r: f"{r['year']}|{r['match_key']}",
    "report": itemgetter("entry_id"),
    "confirmation": itemgetter("entry_id"),
    "score": lambda r: f"{r['entry_id']}|{r['member']}",
}
_PLAN_GROUP: dict[str, Any] = {"score": itemgetter("entry_id")}


class _Plan:
    """The writes an import decided while it read its file, kept on disk until they are applied
    under the write lock: batch by batch, in their order, through the very calls that would have
    made them (`bulk_insert`, `Tx.update_many`), so the ledger and its history are what writing
    at once would have left. It is also an index of the rows planned so far, the latest state of
    each: later rows of the file find them there as they would find them in the ledger.

    The batches are pickled into SQLite's private temporary database (a file without a name, gone
    with the connection or the process, even a killed one). In memory:
    a bitmap of the hashes of the keys planned (8 MiB, two bits a key; hash() is fixed for the life of
    the process, which is the plan's), which answers almost every
    lookup ("not planned") at once, and for each batch its keys' hashes, sorted (12 bytes a row),
    searched only when the bitmap says "maybe"; a hit is checked against the row itself.
    """

    _BITS = 1 << 26

    def __init__(self) -> None:
        self.db = sqlite3.connect("", isolation_level=None)  # "": SQLite's private temporary database
        self.db.executescript("""
            PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
            CREATE TABLE log (seq INTEGER PRIMARY KEY, op TEXT NOT NULL, tbl TEXT NOT NULL, rows BLOB NOT NULL);
            BEGIN;
        """)  # one transaction that is never committed: the database is thrown away
        self.n_ops = 0
        self.n_rows = 0
        self._seen = bytearray(self._BITS // 8)
        # per batch (newest last): (seq, sorted key hashes, their rows' positions, the same for groups)
        self._runs: list[tuple[int, array, array, array | None, array | None]] = []
        self._batches: dict[int, list] = {}  # a few unpickled batches, for lookups

    def _mark_all(self, hashes: Iterable[int]) -> None:
        seen, mask = self._seen, self._BITS - 1
        for h in hashes:
            a, b = h & mask, (h >> 32) & mask
            seen[a >> 3] |= 1 << (a & 7)
            seen[b >> 3] |= 1 << (b & 7)

    def _maybe_of(self, hashes: Sequence[int]) -> list[bool]:
        seen, mask = self._seen, self._BITS - 1
        return [bool(seen[(h & mask) >> 3] & (1 << (h & 7))) and bool(seen[((h >> 32) & mask) >> 3] & (1 << ((h >> 32) & 7)))
                for h in hashes]

    def add(self, op: str, table_name: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Plan `op` ("insert" or "update") of complete `rows` of `table_name`, or ("delete") of the rows
        with these natural keys (not indexed: a deleted row is not a planned state to find again)."""
        if not rows:
            return
        self.n_ops += 1
        seq = self.n_ops
        self.db.execute("INSERT INTO log VALUES (?, ?, ?, ?)",
                        (seq, op, table_name, pickle.dumps(list(rows), protocol=pickle.HIGHEST_PROTOCOL)))
        if op == "delete":
            return
        key, group = _PLAN_KEY[table_name], _PLAN_GROUP.get(table_name)
        salt = hash(table_name)
        pairs = sorted((hash(key(r)) ^ salt, i) for i, r in enumerate(rows))
        self._mark_all([h for h, _i in pairs])
        groups = None
        if group is not None:
            salt = hash((table_name, None))
            groups = sorted((hash(group(r)) ^ salt, i) for i, r in enumerate(rows))
            self._mark_all([h for h, _i in groups])
        self._runs.append((seq, array("q", [h for h, _ in pairs]), array("i", [i for _, i in pairs]),
                           array("q", [h for h, _ in groups]) if groups else None,
                           array("i", [i for _, i in groups]) if groups else None))
        self.n_rows += len(rows)

    def _batch(self, seq: int) -> list:
        batch = self._batches.get(seq)
        if batch is None:
            if len(self._batches) >= 4:
                self._batches.clear()
            blob = self.db.execute("SELECT rows FROM log WHERE seq = ?", (seq,)).fetchone()[0]
            batch = self._batches[seq] = pickle.loads(blob)
        return batch

    def _hits(self, h: int, groups: bool) -> Iterator[dict]:
        """The planned rows whose key (or group) hash is `h`, newest first."""
        for seq, hashes, positions, ghashes, gpositions in reversed(self._runs):
            if groups:
                hashes, positions = ghashes, gpositions  # type: ignore[assignment]
                if hashes is None:
                    continue
            at = bisect_left(hashes, h)
            while at < len(hashes) and hashes[at] == h:
                yield self._batch(seq)[positions[at]]
                at += 1

    def get(self, table_name: str, keys: Sequence[str]) -> dict[str, dict]:
        """The latest planned state of the rows of `table_name` with these keys (a copy of each)."""
        if not self.n_rows:
            return {}
        key = _PLAN_KEY[table_name]
        out: dict[str, dict] = {}
        salt = hash(table_name)
        hashes = [hash(k) ^ salt for k in keys]
        for k, h, maybe in zip(keys, hashes, self._maybe_of(hashes)):
            if not maybe or k in out:
                continue
            for row in self._hits(h, groups=False):
                if key(row) == k:  # the newest state of that row, not another key with the same hash
                    out[k] = dict(row)
                    break
        return out

    def in_groups(self, table_name: str, groups: Sequence[str]) -> list[dict]:
        """The latest planned state of every row of `table_name` in these groups (scores: entries)."""
        if not self.n_rows:
            return []
        key, group = _PLAN_KEY[table_name], _PLAN_GROUP[table_name]
        out: dict[str, dict] = {}
        salt = hash((table_name, None))
        wanted = list(dict.fromkeys(groups))
        hashes = [hash(g) ^ salt for g in wanted]
        for g, h, maybe in zip(wanted, hashes, self._maybe_of(hashes)):
            if not maybe:
                continue
            for row in self._hits(h, groups=True):
                k = key(row)
                if group(row) == g and k not in out:  # newest first: the first state seen is the latest
                    out[k] = dict(row)
        return list(out.values())

    def batches(self) -> Iterator[tuple[str, str, list[dict]]]:
        """(op, table, rows) of every planned batch, in the order they were planned."""
        self._batches.clear()
        for seq in range(1, self.n_ops + 1):
            op, table_name, blob = self.db.execute("SELECT op, tbl, rows FROM log WHERE seq = ?", (seq,)).fetchone()
            yield op, table_name, pickle.loads(blob)

    def close(self) -> None:
        self.db.close()


# ---------------------------------------------------------------- progress

class _Progress:
    """A progress bar on stderr, shown only once a file proves longer than PROGRESS_FROM rows."""

    def __init__(self, enabled: bool, label: str) -> None:
        self.enabled = enabled
        self.label = label
        self.bar: Any = None
        self.task: Any = None

    def update(self, rows: int) -> None:
        if not self.enabled or rows % 1000:
            return
        if self.bar is None:
            if rows < PROGRESS_FROM:
                return
            from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            from dvk.commands.common import err_console

            self.bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(bar_width=None),
                                TextColumn("{task.completed:,} dòng"), TimeElapsedColumn(),
                                console=err_console(), transient=True)
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=None)
        self.bar.update(self.task, completed=rows)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


# ---------------------------------------------------------------- the engine

class _Item:
    """One row of the current batch: the row read, what it became, its problems."""

    __slots__ = ("row", "cand", "problems")

    def __init__(self, row: Any, cand: Any, problems: list[Problem] | None) -> None:
        self.row = row
        self.cand = cand
        self.problems = problems


class _Importer:
    """Shared machinery; one subclass per kind of file."""

    kind = ""
    columns: tuple[Column, ...] = ()
    info_keys: tuple[str, ...] = ("id", "_title", "_unit")  # columns that do not count as data
    sheet: str | None = None

    def __init__(self, conn: Any, path: Path, opts: ImportOptions, spool: _Spool | None, plan: _Plan) -> None:
        self.conn = conn  # inside a read transaction: a snapshot of the ledger
        self.plan = plan
        self.path = path
        self.opts = opts
        self.spool = spool
        self.res = ImportResult(self.kind, str(path), dry_run=opts.dry_run)
        self.fname = path.name
        self.table: Any = None
        self.headers: dict[tuple[str | None, str], str] = {}  # (sheet, key) -> header text in the file
        self.writing = True  # False once the import is bound to fail: keep checking, stop planning writes
        self._unlocked: set[int] = set()
        self._crits: dict[int, CriteriaSet] = {}
        self.units = {u["code"]: u for u in list_units(self.conn)}
        folded: dict[str, list[str]] = {}
        for code in self.units:
            folded.setdefault(fold(code), []).append(code)
        self._unit_by_fold = {k: v[0] for k, v in folded.items() if len(v) == 1}

    # ------------------------------------------------------------ helpers for subclasses
    def all_columns(self) -> tuple[Column, ...]:
        return self.columns

    def crit(self, year: int) -> CriteriaSet:
        c = self._crits.get(year)
        if c is None:
            c = self._crits[year] = criteria_for(self.conn, year)
        return c

    def unit_code(self, raw: str) -> str | None:
        if raw in self.units:
            return raw
        return self._unit_by_fold.get(fold(raw))

    def write(self, table_name: str, inserts: Sequence[dict], updates: Sequence[dict]) -> None:
        """Plan a batch's new and changed rows (written under the lock once the file is read)."""
        if self.writing:
            self.plan.add("insert", table_name, inserts)
            self.plan.add("update", table_name, updates)

    def write_deletes(self, table_name: str, keys: Sequence[dict]) -> None:
        """Plan deleting the rows with these natural keys (written under the lock, recorded)."""
        if self.writing:
            self.plan.add("delete", table_name, keys)

    def unlock(self, year: int, what: str) -> None:
        """Refuse the whole import (LockedYear) when it would change a decided year."""
        if year not in self._unlocked:
            ensure_unlocked(self.conn, year, what)
            self._unlocked.add(year)

    def where(self, row: Any) -> str:
        if row[3]:
            return f"{self.fname}, trang tính “{row[3]}”, {row[4]} {row[0]}"
        return f"{self.fname}, {row[4]} {row[0]}"

    def problem(self, row: Any, reason: str, key: str | None = None, value: Any = None) -> Problem:
        column = None
        if key is not None:
            column = self.headers.get((row[3], key)) or self.headers.get((None, key)) or self._label(key)
        file = self.fname if not row[3] else f"{self.fname}, trang tính “{row[3]}”"
        return Problem(reason, file=file, row=row[0], column=column,
                       value=_shown(value) if value is not None else None, location_word=row[4])

    def _label(self, key: str) -> str:
        for c in self.all_columns():
            if c.key == key:
                return c.header
        return key

    def rows_by_id(self, t: Any, col: Any, ids: Sequence[str], *extra: Any) -> dict[str, dict]:
        out: dict[str, dict] = {}
        uniq = list(dict.fromkeys(ids))
        for i in range(0, len(uniq), LOOKUP_CHUNK):
            q = select(t).where(col.in_(uniq[i:i + LOOKUP_CHUNK]), *extra)
            for r in self.conn.execute(q).mappings():
                out[r[col.name]] = dict(r)
        return out

    def entries(self, ids: Sequence[str]) -> dict[str, dict]:
        et = db_table("entry")
        out: dict[str, dict] = {}
        uniq = list(dict.fromkeys(ids))
        for i in range(0, len(uniq), LOOKUP_CHUNK):
            q = select(et.c.id, et.c.year, et.c.unit_code, et.c.title).where(et.c.id.in_(uniq[i:i + LOOKUP_CHUNK]))
            for r in self.conn.execute(q):
                out[r.id] = {"id": r.id, "year": r.year, "unit_code": r.unit_code, "title": r.title}
        return out

    def check_entry(self, item: _Item, entry_id: str, known: Mapping[str, dict]) -> dict | None:
        """The entry a row names, or None after recording the problem (missing, other unit)."""
        row = item.row
        e = known.get(entry_id)
        if e is None:
            item.problems = [self.problem(row, "không có mô hình, điển hình mã này trong sổ (dạng mã: 2024-007)",
                                          "id", row[1].get("id"))]
            return None
        unit = _text(row[1].get("_unit"))
        if unit is not None and fold(unit) != fold(e["unit_code"]):
            item.problems = [self.problem(row, f"mô hình {entry_id} thuộc đơn vị {e['unit_code']}, không phải "
                                               f"đơn vị ghi ở dòng này", "_unit", unit)]
            return None
        return e

    # ------------------------------------------------------------ the loop
    def open_table(self) -> Any:
        from dvk.tabular import read_table

        return read_table(self.path, column_spec(self.all_columns()), sheet=self.sheet)

    def file_problems(self, table: Any) -> list[Problem]:
        """Problems with the file as a whole (missing columns)."""
        out = []
        for key in self.required_keys():
            if key in table.missing:
                label = self._label(key)
                sheets = [i.name for i in table.sheet_info if key in i.missing and i.name]
                file = self.fname + (f", trang tính {', '.join('“' + s + '”' for s in sheets)}" if sheets else "")
                out.append(Problem(f"thiếu cột “{label}”", file=file))
        return out

    def required_keys(self) -> tuple[str, ...]:
        return _REQUIRED[self.kind]

    replay: Any = None  # (table, rows spool): read these rows again instead of the file
    keep_rows: _Spool | None = None  # keep the rows read, for a plan made again under the lock

    def run(self) -> ImportResult:
        from dvk.tabular import REASON_HEADER, TableError, fold_header

        try:
            table = self.open_table() if self.replay is None else _replayed(*self.replay)
        except TableError as exc:
            raise InvalidInput(exc.message)
        self.table = table
        try:
            for info in table.sheet_info:
                for key, text in info.columns.items():
                    self.headers[(info.name, key)] = text
            ignore = {fold_header(REASON_HEADER), fold_header(REJECT_REASON_KEY)}
            self.res.unknown_headers = [h for h in table.unknown_headers if fold_header(h) not in ignore]
            self.res.skipped_sheets = list(getattr(table, "skipped_sheets", []))
            bad = self.file_problems(table)
            if bad:
                raise ValidationFailed(problems=bad, headline=f"Tệp “{self.fname}” thiếu cột bắt buộc; "
                                                              "không ghi gì vào sổ.")
            self.reject_headers = self.rejects_headers(table)
            progress = _Progress(self.opts.progress and _stderr_is_terminal(), f"Đang nhập {self.fname}")
            # A bigger page cache for this import's connection: the (year, match_key) and change
            # indexes grow in random order, and SQLite's default 2 MiB cache spills them to the
            # journal again and again. Bounded (IMPORT_CACHE_KIB), and put back afterwards.
            cache_was = self.conn.exec_driver_sql("PRAGMA cache_size").scalar()
            self.conn.exec_driver_sql(f"PRAGMA cache_size=-{IMPORT_CACHE_KIB}")
            try:
                self.loop(table, progress)
            except TableError as exc:
                raise InvalidInput(exc.message)
            finally:
                progress.close()
                try:
                    self.conn.exec_driver_sql(f"PRAGMA cache_size={int(cache_was)}")
                except DBAPIError:  # the connection is failing already: that error is the one to show
                    pass
        finally:
            table.close()
        self.res.changes = self.plan.n_rows
        return self.res

    def loop(self, table: Any, progress: _Progress) -> None:
        res = self.res
        data_keys = [c.key for c in self.columns if c.key not in self.info_keys and not c.key.startswith("_")]
        n_data = len(data_keys)
        data_of = itemgetter(*data_keys) if n_data > 1 else (lambda d, k=data_keys[0]: (d[k],))
        example_key = self.example_key
        parse = self.parse
        json_records = table.format == "json"  # only JSON can nest a list or an object in a cell
        batch: list[_Item] = []
        n = 0
        for row in (table if self.keep_rows is None else _keeping(table, self.keep_rows)):
            n += 1
            if not n % 1000:  # the bar moves by thousands
                progress.update(n)
            values = row[1]
            if example_key and values.get(example_key) is not None and _is_example(values[example_key]):
                res.examples += 1
                continue
            if data_of(values).count(None) == n_data:  # every data cell empty (0 is a value)
                res.blank += 1
                continue
            if row[2]:
                self.note_legacy(row)
            problems: list[Problem] = []
            if json_records and self.nested_problems(row, problems):
                batch.append(_Item(row, None, problems))
                continue
            cand = parse(row, problems)
            batch.append(_Item(row, cand, problems or None))
            if len(batch) >= BATCH:
                self.flush(batch)
                batch = []
        if batch:
            self.flush(batch)
        res.rows = n

    example_key = "_title"
    _read_keys: frozenset[str] | None = None

    def nested_problems(self, row: Any, problems: list[Problem]) -> bool:
        """A problem for each cell of a JSON record that holds a list or an object (not one value), or
        an integer too long to be one (tabular.LongNumber).
        Only the columns the import reads count: the other keys of `dvk list --json` (reasons...) are
        ignored as they are in every other case."""
        read = self._read_keys
        if read is None:
            read = self._read_keys = frozenset(c.key for c in self.columns)
        for key, value in row[1].items():
            if key in read and isinstance(value, (list, dict)):
                shown = json.dumps(value, ensure_ascii=False, default=str)
                problems.append(self.problem(row, "giá trị không hợp lệ (cần một giá trị: chữ, số hoặc để trống; "
                                                  "không phải danh sách hay đối tượng JSON)", key,
                                             shown if len(shown) <= 200 else shown[:199] + "…"))
            elif key in read and isinstance(value, LongNumber):
                digits = value.digits.lstrip("-")
                problems.append(self.problem(row, f"số quá dài ({len(digits)} chữ số)", key, digits[:20] + "…"))
        return bool(problems)

    def note_legacy(self, row: Any) -> None:
        for key, enc in row[2].items():
            name = {"tcvn3": "TCVN3 (ABC)", "vni": "VNI"}.get(enc, enc)
            self.res.legacy[name] = self.res.legacy.get(name, 0) + 1
            if len(self.res.legacy_where) < 20:
                col = self.headers.get((row[3], key)) or self._label(key)
                self.res.legacy_where.append(f"{self.where(row)}, cột “{col}”")

    def flush(self, batch: list[_Item]) -> None:
        """Look up what the batch's rows match, decide each row in file order, write."""
        good = [it for it in batch if it.problems is None]
        if good:
            self.decide(good)
        for it in batch:
            if it.problems is not None:
                self.reject(it)

    def reject(self, item: _Item) -> None:
        res = self.res
        res.rejected += 1
        for p in item.problems or ():
            res.add_problem(p)
        if not self.opts.skip_invalid:
            self.writing = False
        if self.spool is not None:
            row = item.row
            cols = self.reject_columns
            out = {cols[k]: v for k, v in row[1].items() if k in cols}
            self.complete_reject(item, out)
            out[self.reason_key] = "; ".join(
                (f"cột “{p.column}”: " if p.column else "") + p.reason
                + (f" (giá trị: “{p.value}”)" if p.value not in (None, "") else "") for p in item.problems or ())
            self.spool.add(out)

    def complete_reject(self, item: _Item, out: dict) -> None:
        """Add what the rejects file needs besides the row's own cells (scores: the member)."""

    reason_key = "Lý do"

    def rejects_headers(self, table: Any) -> list[str]:
        cols = table.columns  # key -> header text found (first sheet that has it)
        self.reject_columns = dict(cols)
        return table.reject_headers() if len(table.sheet_info) == 1 else list(cols.values())

    # ------------------------------------------------------------ to implement
    def parse(self, row: Any, problems: list[Problem]) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def decide(self, items: list[_Item]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


def _keeping(rows: Iterable[Any], spool: _Spool) -> Iterator[Any]:
    for row in rows:
        spool.add(row)
        yield row


def _replayed(table: Any, rows: _Spool) -> Any:
    """`table` (closed) iterating the rows kept from it, not its file."""
    import copy

    again = copy.copy(table)
    again._iter_impl = rows.rows
    again._closer = None
    return again


def _stderr_is_terminal() -> bool:
    from dvk.commands.common import err_console

    return bool(err_console().is_terminal)


def _same_text(a: str | None, b: str | None) -> bool:
    return fold(a or "") == fold(b or "")


def _show_bool(v: Any) -> str:
    return "x" if v else "(trống)"


def _show(v: Any) -> str:
    if v is None or v == "":
        return "(trống)"
    if isinstance(v, bool):
        return _show_bool(v)
    return _shown(v)


# ---------------------------------------------------------------- registrations

class _Registrations(_Importer):
    kind = "registrations"
    columns = REGISTRATION_COLUMNS
    info_keys = ()
    example_key = "note"

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self._seq: dict[int, int] = {}
        self._first_seq: dict[int, int] = {}
        self._lines: dict[int, array] = {}  # year -> file line of each entry added, by seq
        self._years: dict[Any, int | None] = {}
        self._fields: dict[int, set[int]] = {}
        self._dates: dict[str, Any] = {}
        self._windows: dict[int, tuple[dt.date, dt.date]] = {}
        self._unit_keys: dict[str, str] = {}
        self._today = today()
        # value as typed -> what it means, for the columns that take a few values again and again
        self._words: dict[Any, Any] = {}
        self._subjects: dict[Any, Any] = {}
        self._ints: dict[Any, Any] = {}

    @staticmethod
    def _remember(cache: dict, raw: Any, value: Any) -> Any:
        """Keep `value` as the meaning of the text `raw` (a few hundred texts at most) and return it.
        Only texts: 1, 1.0 and True are one dict key but not one value of a cell."""
        if type(raw) is str and len(cache) < 1000:
            cache[raw] = value
        return value

    def all_columns(self) -> tuple[Column, ...]:
        return REGISTRATION_COLUMNS + REGISTRATION_IGNORED

    def required_keys(self) -> tuple[str, ...]:
        keys = _REQUIRED[self.kind]
        return keys if self.opts.year is not None else ("year", *keys)

    def _date(self, raw: Any) -> Any:
        """A date, or the DateError's short reason as a str."""
        if isinstance(raw, str):
            hit = self._dates.get(raw)
            if hit is None:
                try:
                    hit = parse_date(raw)
                except DateError as exc:
                    hit = exc.reason or "không phải ngày dạng dd/mm/yyyy hoặc yyyy-mm-dd"
                if len(self._dates) > 20000:
                    self._dates.clear()
                self._dates[raw] = hit
            return hit
        try:
            return parse_date(raw)
        except DateError as exc:
            return exc.reason or "không phải ngày dạng dd/mm/yyyy hoặc yyyy-mm-dd"

    def parse(self, row: Any, problems: list[Problem]) -> Any:
        v = row[1]
        opts = self.opts
        # year
        raw = v["year"]
        if raw is None:
            year = opts.year
            if year is None:
                problems.append(self.problem(row, "thiếu năm", "year"))
        else:
            year = self._years.get(raw, -1)
            if year == -1:
                year = _int(raw)
                if year is not None and not (MIN_YEAR <= year <= MAX_YEAR):
                    year = None
                if len(self._years) < 1000:
                    self._years[raw] = year
            if year is None:
                problems.append(self.problem(row, f"năm không hợp lệ (phải là số trong khoảng {MIN_YEAR}–"
                                                  f"{MAX_YEAR})", "year", raw))
            elif opts.year is not None and year != opts.year:
                problems.append(self.problem(row, f"năm {year} khác với năm đang nhập (--year {opts.year})",
                                             "year", raw))
                year = None
        # unit
        raw = v["unit"]
        unit = None
        if raw is None:
            problems.append(self.problem(row, "thiếu mã đơn vị", "unit"))
        else:
            unit = raw if raw in self.units else self.unit_code(raw if isinstance(raw, str) else _text(raw) or "")
            if unit is None:
                problems.append(self.problem(row, "không có đơn vị mã này trong sổ (xem: dvk units list)",
                                             "unit", raw))
        # title
        raw = v["title"]
        title = None
        why = None
        if raw is not None:
            title = (clean_fast(raw) if isinstance(raw, str) else _text(raw)) or None
            why = _cell_problem(raw, title, "title")
        if why:
            problems.append(self.problem(row, f"tên {why}", "title"))
        elif title is None:
            problems.append(self.problem(row, "thiếu tên mô hình, điển hình", "title"))
        # kind, subject
        raw = v["kind"]
        kind = "model"
        if raw is not None:
            kind = self._words.get(raw, 0)
            if kind == 0:
                kind = self._remember(self._words, raw, _KIND_WORDS.get(_word(raw)))
            if kind is None:
                problems.append(self.problem(row, "loại không hợp lệ (ghi “Mô hình” hoặc “Điển hình”)", "kind", raw))
        person = _text(v["person"])
        position = _text(v["position"])
        for key, value, noun in (("person", person, "họ và tên"), ("position", position, "chức vụ")):
            why = _cell_problem(v[key], value, key) if v[key] is not None else None
            if why:
                problems.append(self.problem(row, f"{noun} {why}", key))
        raw = v["subject"]
        if raw is None:
            subject = "individual" if person else "collective"
        else:
            subject = self._subjects.get(raw, 0)
            if subject == 0:
                subject = self._remember(self._subjects, raw, _SUBJECT_WORDS.get(_word(raw)))
            if subject is None:
                problems.append(self.problem(row, "đối tượng không hợp lệ (ghi “Tập thể” hoặc “Cá nhân”)",
                                             "subject", raw))
        if subject == "individual":
            if not person:
                problems.append(self.problem(row, "điển hình cá nhân phải có họ và tên", "person"))
            elif len(person.split()) < 2:
                problems.append(self.problem(row, "họ và tên phải có ít nhất họ và tên", "person", person))
        elif subject == "collective":
            if person:
                problems.append(self.problem(row, "tập thể không ghi họ và tên (ghi “Cá nhân” ở cột Đối tượng "
                                                  "nếu là cá nhân)", "person", person))
            if position:
                problems.append(self.problem(row, "tập thể không ghi chức vụ", "position", position))
        # field
        raw = v["field"]
        fnum = None
        if raw is None:
            problems.append(self.problem(row, "thiếu lĩnh vực", "field"))
        else:
            fnum = self._ints.get(raw, -1)
            if fnum == -1:
                fnum = self._remember(self._ints, raw, _int(raw))
            numbers = self._fields.get(year) if year is not None else None
            if numbers is None and year is not None:
                numbers = self._fields[year] = {f.number for f in self.crit(year).fields}
            if fnum is None or (numbers is not None and fnum not in numbers):
                allowed = ", ".join(map(str, sorted(numbers))) if numbers else "1–5"
                problems.append(self.problem(row, f"lĩnh vực không hợp lệ (chỉ có {allowed})", "field", raw))
        # date, sudden, note
        raw = v["registered_on"]
        on = None
        if raw is not None:
            on = self._date(raw)
            if isinstance(on, str):
                problems.append(self.problem(row, f"ngày đăng ký không hợp lệ: {on}", "registered_on", raw))
                on = None
        raw = v["sudden"]
        sudden = _flag(raw)
        if sudden is None:
            problems.append(self.problem(row, "cột Đột xuất chỉ ghi “x” hoặc để trống", "sudden", raw))
        note = _text(v["note"])
        why = _cell_problem(v["note"], note, "note") if v["note"] is not None else None
        if why:
            problems.append(self.problem(row, f"ghi chú {why}", "note"))
        if problems:
            return None
        # The rules of ops.validate_entry were all checked above, column by column; the row is
        # built here as ops.entry_row builds it (tests/test_intake_registrations.py holds the two
        # paths equal) without re-cleaning every text, which is what keeps a big import fast.
        if on is None:
            on = self._today
        window = self._windows.get(year)  # type: ignore[arg-type]
        if window is None:
            window = self._windows[year] = self.crit(year).window(year)  # type: ignore[arg-type]
        sudden = bool(sudden)
        ukey = self._unit_keys.get(unit)  # type: ignore[arg-type]
        if ukey is None:
            ukey = self._unit_keys[unit] = fold(unit)  # type: ignore[arg-type]
        key = f"{ukey}|{fold_clean(title)}|{fold_clean(person) if person else ''}"
        return ({"id": None, "year": year, "seq": 0, "unit_code": unit, "title": title, "kind": kind,
                 "subject": subject, "person": person, "position": position, "field": fnum, "registered_on": on,
                 "late": (not sudden) and not (window[0] <= on <= window[1]), "sudden": sudden, "note": note,
                 "match_key": key}, v["registered_on"] is not None)

    _COMPARE = (("kind", "Loại"), ("subject", "Đối tượng"), ("position", "Chức vụ"), ("field", "Lĩnh vực"),
                ("registered_on", "Ngày đăng ký"), ("sudden", "Đột xuất"), ("note", "Ghi chú"))

    def _diffs(self, cur: Mapping, new: Mapping, date_given: bool) -> list[tuple[str, str, str]]:
        out = []
        for key, label in self._COMPARE:
            a, b = cur[key], new[key]
            if key in ("position", "note"):
                same = _same_text(a, b)
            elif key == "registered_on":
                same = (not date_given) or a == b
            else:
                same = a == b
            if not same:
                if key == "kind":
                    a, b = ENTRY_KINDS.get(a, a), ENTRY_KINDS.get(b, b)
                elif key == "subject":
                    a, b = SUBJECTS.get(a, a), SUBJECTS.get(b, b)
                out.append((self.headers.get((None, key), label), _show(a), _show(b)))
        return out

    def _setup_year(self, year: int) -> None:
        """The year's next free seq (ops.next_seq) and the file lines of the entries this import adds."""
        if year not in self._seq:
            self._seq[year] = self._first_seq[year] = next_seq(self.conn, year)
            self._lines[year] = array("I")

    def _added_line(self, row: Mapping) -> int | None:
        first = self._first_seq.get(row["year"])
        if first is None or row["seq"] < first:
            return None
        lines = self._lines[row["year"]]
        i = row["seq"] - first
        return lines[i] if i < len(lines) else None

    def _known_keys(self, year: int, keys: list[str]) -> list[str]:
        """The keys among `keys` that an entry of `year` has (a SELECT per LOOKUP_CHUNK keys)."""
        out: list[str] = []
        for i in range(0, len(keys), LOOKUP_CHUNK):
            chunk = keys[i:i + LOOKUP_CHUNK]
            sql = (f'SELECT DISTINCT "match_key" FROM "entry" WHERE "year" = ? AND "match_key" IN '
                   f'({",".join("?" * len(chunk))})')
            out.extend(r[0] for r in self.conn.exec_driver_sql(sql, (year, *chunk)))
        return out

    def decide(self, items: list[_Item]) -> None:
        et = db_table("entry")
        res = self.res
        by_year: dict[int, list[str]] = {}
        for it in items:
            r = it.cand[0]
            by_year.setdefault(r["year"], []).append(r["match_key"])
        existing: dict[tuple[int, str], dict] = {}
        for year, keys in by_year.items():
            # Which keys the ledger has, through the (year, match_key) index and the driver; the
            # full rows (typed by SQLAlchemy) only for those -- none at all for a new list.
            hits = self._known_keys(year, list(dict.fromkeys(keys)))
            for i in range(0, len(hits), LOOKUP_CHUNK):
                q = select(et).where(and_(et.c.year == year, et.c.match_key.in_(hits[i:i + LOOKUP_CHUNK])))
                for r in self.conn.execute(q).mappings():
                    existing.setdefault((year, r["match_key"]), dict(r))
            for r in self.plan.get("entry", [f"{year}|{k}" for k in keys]).values():  # planned by earlier batches
                existing[(year, r["match_key"])] = r
        pending: dict[tuple[int, str], dict] = {}
        inserts: list[dict] = []
        updates: list[dict] = []
        for year in by_year:
            self._setup_year(year)
        unlocked, lines_of, new_ids, seqs = self._unlocked, self._lines, res.new_ids, self._seq
        for it in items:
            new, date_given = it.cand
            year = new["year"]
            k = (year, new["match_key"])
            cur = pending.get(k) or existing.get(k)
            if cur is None:
                if year not in unlocked:
                    self.unlock(year, f"danh sách đăng ký năm {year}")
                seq = seqs[year]
                seqs[year] = seq + 1
                new["seq"] = seq
                new["id"] = eid = f"{year}-{seq:03d}"  # ops.make_id
                lines_of[year].append(it.row[0])
                inserts.append(new)
                pending[k] = new
                if len(new_ids) < MAX_NEW_IDS:
                    new_ids.append(eid)
                else:
                    res.new_ids_more += 1
                continue
            diffs = self._diffs(cur, new, date_given)
            if not diffs:
                res.already += 1
            elif self.opts.update:
                self.unlock(year, f"danh sách đăng ký năm {year}")
                merged = cur if k in pending else dict(cur)
                for key in ("kind", "subject", "position", "field", "sudden", "note"):
                    merged[key] = new[key]
                if date_given:
                    merged["registered_on"] = new["registered_on"]
                start, end = self.crit(year).window(year)
                on = merged["registered_on"]
                merged["late"] = (not merged["sudden"]) and not (on is not None and start <= on <= end)
                if k not in pending:
                    updates.append(merged)
                    pending[k] = merged
                res.updated += 1
            else:
                line = self._added_line(cur)
                target = cur["id"] + (f" (vừa thêm từ dòng {line} của tệp)" if line else "")
                res.add_conflict(Conflict(self.where(it.row), target, diffs))
        res.added += len(inserts)
        self.write("entry", inserts, updates)


# ---------------------------------------------------------------- reports

class _Reports(_Importer):
    kind = "reports"
    columns = REPORT_COLUMNS
    _LABELS = dict(ASPECTS)

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self._cleared: set[str] = set()  # entries whose confirmation this import deletes (--update --force)

    def parse(self, row: Any, problems: list[Problem]) -> Any:
        v = row[1]
        eid = _entry_id(v["id"])
        if eid is None:
            problems.append(self.problem(row, "thiếu mã mô hình, điển hình", "id"))
        aspects: dict[str, str | None] = {}
        for key, label in ASPECTS:
            raw = v[key]
            if raw is None:
                continue
            try:
                aspects[key] = text_field(raw if isinstance(raw, str) else _shown(raw), label, max_len=20000,
                                         multiline=True)
            except InvalidInput as exc:
                problems.append(self.problem(row, exc.message.rstrip("."), key))
        aspects = {k: t for k, t in aspects.items() if t}
        raw = v["reported_on"]
        on = None
        if raw is not None:
            try:
                on = parse_date(raw)
            except DateError as exc:
                problems.append(self.problem(row, f"ngày báo cáo không hợp lệ: {exc.reason or 'sai dạng'}",
                                             "reported_on", raw))
        if not aspects and not problems:
            problems.append(self.problem(row, "báo cáo trống: chưa ghi nội dung nào trong 5 nội dung"))
        if problems:
            return None
        return (eid, aspects, on)

    def decide(self, items: list[_Item]) -> None:
        rt, ct = db_table("report"), db_table("confirmation")
        res = self.res
        ids = [it.cand[0] for it in items]
        known = self.entries(ids)
        existing = self.rows_by_id(rt, rt.c.entry_id, ids)
        existing.update(self.plan.get("report", ids))
        # Only a report that exists can have been confirmed (or refused) by the Party committee; one this
        # import already cleared (an earlier batch, --update --force) is no longer confirmed.
        confirmed = self.rows_by_id(ct, ct.c.entry_id, [i for i in existing if i not in self._cleared]) \
            if existing else {}
        cleared: list[str] = []
        pending: dict[str, dict] = {}
        inserts: list[dict] = []
        updates: list[dict] = []
        for it in items:
            eid, aspects, on = it.cand
            e = self.check_entry(it, eid, known)
            if e is None:
                continue
            cur = pending.get(eid) or existing.get(eid)
            if cur is None:
                self.unlock(e["year"], f"báo cáo của {eid}")
                row = {"entry_id": eid, "approach": None, "experience": None, "spread": None, "effectiveness": None,
                       "sustainability": None, "reported_on": on or today(), "file_path": None,
                       "file_sha256": None, "confirmation_cleared_on": None}
                row.update(aspects)
                inserts.append(row)
                pending[eid] = row
                res.added += 1
                continue
            diffs = [(self.headers.get((it.row[3], k)) or self._LABELS[k], _show(cur[k]), _show(t))
                     for k, t in aspects.items() if cur[k] != t]
            if on is not None and cur["reported_on"] != on:
                diffs.append((self.headers.get((it.row[3], "reported_on")) or "Ngày báo cáo",
                              _show(cur["reported_on"]), _show(on)))
            conf = confirmed.get(eid)
            if not diffs:
                res.already += 1
            elif self.opts.update and conf is not None and not self.opts.force:
                self.unlock(e["year"], f"báo cáo của {eid}")
                # What the Party committee vouched for changes only on purpose (--update --force).
                res.add_conflict(Conflict(self.where(it.row), f"báo cáo của {eid} {_confirmed_words(conf)}", diffs,
                                          "cần --update --force để sửa: xác nhận bị xóa, phải xác nhận lại"))
            elif self.opts.update:
                self.unlock(e["year"], f"báo cáo của {eid}")
                merged = cur if eid in pending else dict(cur)
                merged.update(aspects)
                if on is not None:
                    merged["reported_on"] = on
                if conf is not None:
                    merged["confirmation_cleared_on"] = today()
                    cleared.append(eid)
                    del confirmed[eid]
                if eid not in pending:
                    updates.append(merged)
                    pending[eid] = merged
                res.updated += 1
            else:
                res.add_conflict(Conflict(self.where(it.row), f"báo cáo của {eid}", diffs,
                                          f"báo cáo {_confirmed_words(conf)}" if conf is not None else ""))
        self.write("report", inserts, updates)
        # In the same transaction, recorded: the entries need confirming again.
        self.write_deletes("confirmation", [{"entry_id": eid} for eid in cleared])
        self._cleared.update(cleared)
        res.confirmations_cleared += len(cleared)


def _confirmed_words(conf: Mapping) -> str:
    return (f"đã bị cấp ủy “{conf['committee']}” từ chối xác nhận" if conf["rejected"]
            else f"đã được cấp ủy “{conf['committee']}” xác nhận")


# ---------------------------------------------------------------- confirmations

class _Confirmations(_Importer):
    kind = "confirmations"
    columns = CONFIRMATION_COLUMNS
    reason_key = REJECT_REASON_KEY

    def parse(self, row: Any, problems: list[Problem]) -> Any:
        v = row[1]
        eid = _entry_id(v["id"])
        if eid is None:
            problems.append(self.problem(row, "thiếu mã mô hình, điển hình", "id"))

        def text(key: str, label: str, max_len: int, multiline: bool = False) -> str | None:
            raw = v[key]
            if raw is None:
                return None
            try:
                return text_field(raw if isinstance(raw, str) else _shown(raw), label, max_len=max_len,
                                 multiline=multiline)
            except InvalidInput as exc:
                problems.append(self.problem(row, exc.message.rstrip("."), key))
                return None

        committee = text("committee", "tên cấp ủy", 300)
        by = text("by", "người xác nhận", 200)
        if by is None and v["by"] is None:
            problems.append(self.problem(row, "thiếu người ký xác nhận", "by"))
        comment = text("comment", "nhận xét", 5000, multiline=True)
        reason = text("reason", "lý do", 2000)
        rejected = _flag(v["rejected"])
        if rejected is None:
            problems.append(self.problem(row, "cột Không xác nhận chỉ ghi “x” hoặc để trống", "rejected",
                                         v["rejected"]))
        elif rejected and not reason:
            problems.append(self.problem(row, "cấp ủy không xác nhận thì phải ghi lý do", "reason"))
        raw = v["on"]
        on = None
        if raw is not None:
            try:
                on = parse_date(raw)
            except DateError as exc:
                problems.append(self.problem(row, f"ngày xác nhận không hợp lệ: {exc.reason or 'sai dạng'}",
                                             "on", raw))
        if problems:
            return None
        return (eid, {"committee": committee, "confirmed_by": by, "comment": comment, "rejected": bool(rejected),
                      "reason": reason if rejected else None}, on)

    _LABELS = {"committee": ("committee", "Cấp ủy"), "confirmed_by": ("by", "Người xác nhận"),
               "comment": ("comment", "Nhận xét"), "rejected": ("rejected", "Không xác nhận"),
               "reason": ("reason", "Lý do"), "confirmed_on": ("on", "Ngày xác nhận")}

    def _diffs(self, row: Any, cur: Mapping, new: Mapping, on: dt.date | None) -> list[tuple[str, str, str]]:
        out = []
        for key in ("committee", "confirmed_by", "comment", "rejected", "reason"):
            a, b = cur[key], new[key]
            same = (a == b) if key == "rejected" else _same_text(a, b)
            if not same:
                k, label = self._LABELS[key]
                out.append((self.headers.get((row[3], k)) or label, _show(a), _show(b)))
        if on is not None and cur["confirmed_on"] != on:
            out.append((self.headers.get((row[3], "on")) or "Ngày xác nhận", _show(cur["confirmed_on"]), _show(on)))
        return out

    def decide(self, items: list[_Item]) -> None:
        ct, rt = db_table("confirmation"), db_table("report")
        res = self.res
        ids = [it.cand[0] for it in items]
        known = self.entries(ids)
        reported = set(self.rows_by_id(rt, rt.c.entry_id, ids))
        existing = self.rows_by_id(ct, ct.c.entry_id, ids)
        existing.update(self.plan.get("confirmation", ids))
        pending: dict[str, dict] = {}
        inserts: list[dict] = []
        updates: list[dict] = []
        for it in items:
            eid, vals, on = it.cand
            e = self.check_entry(it, eid, known)
            if e is None:
                continue
            if eid not in reported:
                it.problems = [self.problem(it.row, f"{eid} chưa có báo cáo thành tích; cấp ủy xác nhận vào bản báo "
                                                    "cáo, hãy nhập báo cáo trước", "id", it.row[1].get("id"))]
                continue
            new = {"entry_id": eid, **vals}
            if not new["committee"]:
                new["committee"] = self.units.get(e["unit_code"], {}).get("committee")
                if not new["committee"]:
                    it.problems = [self.problem(it.row, f"thiếu tên cấp ủy (đơn vị {e['unit_code']} chưa khai báo "
                                                        "cấp ủy trong sổ)", "committee")]
                    continue
            cur = pending.get(eid) or existing.get(eid)
            if cur is None:
                self.unlock(e["year"], f"xác nhận của {eid}")
                new["confirmed_on"] = on or today()
                row = {k: new[k] for k in ("entry_id", "committee", "confirmed_by", "confirmed_on", "comment",
                                           "rejected", "reason")}
                inserts.append(row)
                pending[eid] = row
                res.added += 1
                continue
            diffs = self._diffs(it.row, cur, new, on)
            if not diffs:
                res.already += 1
            elif self.opts.update:
                self.unlock(e["year"], f"xác nhận của {eid}")
                merged = cur if eid in pending else dict(cur)
                for k in ("committee", "confirmed_by", "comment", "rejected", "reason"):
                    merged[k] = new[k]
                if on is not None:
                    merged["confirmed_on"] = on
                if eid not in pending:
                    updates.append(merged)
                    pending[eid] = merged
                res.updated += 1
            else:
                res.add_conflict(Conflict(self.where(it.row), f"xác nhận của {eid}", diffs))
        self.write("confirmation", inserts, updates)


# ---------------------------------------------------------------- scores

class _Scores(_Importer):
    kind = "scores"
    info_keys = ("id", "_title", "_unit", "member")
    sheet = "*"

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        from dvk.criteria import load_text

        cs = db_table("criteria_set")
        self.codes: list[str] = []
        self._code_sets: list[set[str]] = []
        for r in self.conn.execute(select(cs.c.text).order_by(cs.c.from_year)):
            crit = load_text(r.text, stored=True)
            self._code_sets.append(set(crit.codes))
            for code in crit.codes:
                if code not in self.codes:
                    self.codes.append(code)
        self.columns = SCORE_BASE_COLUMNS + tuple(Column(c, c) for c in self.codes)
        self._members: dict[str | None, Any] = {}
        self._spellings: set[tuple[str, str]] = set()  # (as written, member it is) already noted

    def open_table(self) -> Any:
        from dvk.tabular import read_table

        sheet = "*" if self.path.suffix.lower() in (".xlsx", ".xlsm") else None
        return read_table(self.path, column_spec(self.all_columns()), sheet=sheet)

    def file_problems(self, table: Any) -> list[Problem]:
        out = super().file_problems(table)
        common = set.intersection(*self._code_sets) if self._code_sets else set()
        missing = [c for c in self.codes if c in common and c in table.missing]
        if missing:
            out.append(Problem("thiếu cột điểm của tiêu chí " + ", ".join(missing) + " (mỗi tiêu chí một cột, "
                               "tiêu đề là mã tiêu chí)", file=self.fname))
        if "member" in table.missing and self.opts.member is None and table.format != "xlsx":
            out.append(Problem("thiếu cột “Thành viên” (tên thành viên Hội đồng chấm); hoặc nêu --member",
                               file=self.fname))
        for info in table.sheet_info:  # "G1" twice, or "G1" and "g1": which one is the score?
            for key, cols in info.duplicates.items():
                what = f"tiêu chí {key}" if key in self.codes else f"cột “{self._label(key)}”"
                named = " và ".join(f"“{text}”" + (f" ({table.column_ref(i)})" if table.column_ref(i) else "")
                                    for i, text in cols)
                out.append(Problem(f"{len(cols)} cột cùng là {what}: {named}; mỗi tiêu chí chỉ một cột, hãy bỏ bớt",
                                   file=self.fname + (f", trang tính “{info.name}”" if info.name else "")))
        return out

    def _sheet_member(self, sheet: str | None) -> Any:
        """The member a sheet stands for, or a str problem (default sheet name)."""
        if sheet in self._members:
            return self._members[sheet]
        given = clean(self.opts.member) if self.opts.member else None
        named = clean(sheet) if sheet and not _DEFAULT_SHEET.match(sheet.strip()) else None
        why = _cell_problem(sheet, named, "member") if named else None
        if why:
            out: Any = (None, f"tên trang tính (tên thành viên Hội đồng) {why}")
        elif named and given and fold(named) != fold(given):
            out = (None, f"trang tính “{sheet}” mang tên một thành viên khác với --member “{given}”")
        elif named:
            out = (named, None)
        elif given:
            out = (given, None)
        elif sheet:
            out = (None, f"trang tính “{sheet}” mang tên mặc định: hãy đặt tên trang tính là tên thành viên "
                         "Hội đồng, hoặc thêm cột “Thành viên”")
        else:
            out = (None, "thiếu tên thành viên Hội đồng (cột “Thành viên” hoặc --member)")
        self._members[sheet] = out
        return out

    def parse(self, row: Any, problems: list[Problem]) -> Any:
        v = row[1]
        eid = _entry_id(v["id"])
        if eid is None:
            problems.append(self.problem(row, "thiếu mã mô hình, điển hình", "id"))
        member = _text(v["member"])
        if member is None:
            member, why = self._sheet_member(row[3])
            if member is None:
                problems.append(self.problem(row, why, "member"))
        else:
            why = _cell_problem(v["member"], member, "member")
            if why:
                problems.append(self.problem(row, f"tên thành viên {why}", "member"))
        year = entry_year(eid) if eid else None
        if eid is not None and year is None:
            problems.append(self.problem(row, "mã mô hình không đúng dạng (ví dụ 2024-007)", "id", v["id"]))
        if year is None:
            return None
        try:
            crit = self.crit(year)
        except DvkError as exc:
            problems.append(self.problem(row, exc.message.rstrip("."), "id", v["id"]))
            return None
        values: dict[str, Any] = {}
        missing = []
        for code in crit.codes:
            raw = v.get(code)
            if raw is None:
                missing.append(code)
                continue
            try:
                values[code] = parse_score_value(raw, crit, code)
            except InvalidInput as exc:
                problems.append(self.problem(row, exc.message.rstrip("."), code, raw))
        for code in self.codes:
            if code not in crit.codes and v.get(code) is not None:
                problems.append(self.problem(row, f"tiêu chí {code} không có trong bộ tiêu chí năm {year}", code,
                                             v.get(code)))
        if missing:
            problems.append(self.problem(row, "chưa chấm các tiêu chí: " + ", ".join(missing)
                                         + " (tiêu chí cụ thể không áp dụng thì ghi na)"))
        if problems:
            return None
        return (eid, member, values)

    def complete_reject(self, item: _Item, out: dict) -> None:
        col = self.reject_columns.get("member", MEMBER_COLUMN.header)
        if out.get(col) is None and item.row[3]:
            out[col] = item.row[3]

    def rejects_headers(self, table: Any) -> list[str]:
        headers = super().rejects_headers(table)
        if "member" not in self.reject_columns:
            self.reject_columns["member"] = MEMBER_COLUMN.header
            headers = [*headers[:1], MEMBER_COLUMN.header, *headers[1:]]
        return headers

    def decide(self, items: list[_Item]) -> None:
        st = db_table("score")
        res = self.res
        ids = [it.cand[0] for it in items]
        known = self.entries(ids)
        existing: dict[tuple[str, str], dict] = {}
        uniq = list(dict.fromkeys(ids))
        for i in range(0, len(uniq), LOOKUP_CHUNK):
            q = select(st).where(st.c.entry_id.in_(uniq[i:i + LOOKUP_CHUNK]))
            for r in self.conn.execute(q).mappings():
                existing[(r["entry_id"], r["member"])] = dict(r)
        for r in self.plan.in_groups("score", uniq):  # sheets planned by earlier batches
            existing[(r["entry_id"], r["member"])] = r
        members: dict[str, list[str]] = {}  # entry -> who scored it (ledger, plan, this batch)
        for eid, member in existing:
            members.setdefault(eid, []).append(member)
        pending: dict[tuple[str, str], dict] = {}
        inserts: list[dict] = []
        updates: list[dict] = []
        for it in items:
            eid, member, values = it.cand
            e = self.check_entry(it, eid, known)
            if e is None:
                continue
            scored = members.setdefault(eid, [])
            same, near = match_member(member, scored)  # one member, one sheet (the same rule as `dvk score`)
            if near is not None:
                it.problems = [self.problem(it.row, member_near_message(eid, member, near), "member", member)]
                continue
            if same is not None and same != member:
                if (member, same) not in self._spellings:  # said once for each spelling
                    self._spellings.add((member, same))
                    self.res.add_note(f"{self.where(it.row)}: tên “{member}” là thành viên “{same}” đã có phiếu "
                                      f"(cho {eid}); các phiếu ghi tên này được xét dưới tên “{same}”.")
                member = same
            crit = self.crit(e["year"])
            marks = marks_json(values, crit)  # exactly what `dvk score` stores
            k = (eid, member)
            cur = pending.get(k) or existing.get(k)
            if cur is None:
                self.unlock(e["year"], f"điểm của {eid}")
                row = {"entry_id": eid, "member": member, "marks": marks}
                inserts.append(row)
                pending[k] = row
                scored.append(member)
                res.added += 1
                continue
            if cur["marks"] == marks or json.loads(cur["marks"]) == json.loads(marks):
                res.already += 1
                continue
            if self.opts.update:
                self.unlock(e["year"], f"điểm của {eid}")
                if k in pending:
                    cur["marks"] = marks
                else:
                    row = {"entry_id": eid, "member": member, "marks": marks}
                    updates.append(row)
                    pending[k] = row
                res.updated += 1
                continue
            old, new = json.loads(cur["marks"]), json.loads(marks)
            diffs = [(self.headers.get((it.row[3], c)) or c, _show_score(old.get(c, "")), _show_score(new.get(c, "")))
                     for c in dict.fromkeys([*old, *new]) if old.get(c, "") != new.get(c, "")]
            res.add_conflict(Conflict(self.where(it.row), f"điểm của {member} cho {eid}", diffs))
        self.write("score", inserts, updates)


def _show_score(v: Any) -> str:
    if v == "":
        return "(trống)"
    if v is None:
        return "na"
    return _num(Fraction(str(v)))


IMPORTERS: dict[str, type[_Importer]] = {
    "registrations": _Registrations,
    "reports": _Reports,
    "confirmations": _Confirmations,
    "scores": _Scores,
}


# ---------------------------------------------------------------- running an import

class _Changed(Exception):
    """The ledger changed between the plan (a snapshot) and the write lock: plan again."""


def _rejects_format(path: Path, table_format: str) -> str:
    ext = path.suffix.lower().lstrip(".")
    if ext in ("csv", "txt", "tsv"):
        return "csv"
    if ext in ("xlsx", "xlsm"):
        return "xlsx"
    if ext == "json":
        return "json"
    return table_format


def check_options(opts: ImportOptions) -> None:
    if opts.year is not None:
        check_year(opts.year)
    if opts.rejects is not None and not opts.skip_invalid:
        raise InvalidInput("--rejects chỉ dùng cùng --skip-invalid (nhập các dòng hợp lệ, ghi các dòng bị loại "
                           "ra tệp).")


def _samefile(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def _resolved(p: Path) -> Path:
    try:
        return p.resolve()
    except (OSError, RuntimeError):
        return p.absolute()


def check_rejects_target(rejects: Path, *, ledger: Path, source: Path, force: bool) -> Path:
    """The --rejects file, refused (InvalidInput) before anything is read or written when it is —
    whatever `force` says — the ledger, one of its side files (-wal, -shm, -journal), anything in
    its backups folder, any SQLite database (another ledger, a backup copied elsewhere), the input
    file (also through a hard or symbolic link), a directory or a special file; when it exists
    (unless `force`); or when its folder is missing or not writable.
    """
    from dvk.ledger.backup import backup_dir
    from dvk.ledger.paths import SQLITE_MAGIC

    target = Path(rejects).expanduser()
    what = f"Tệp ghi dòng bị loại (--rejects) “{target}”"
    real = _resolved(target)
    ledger_files = [Path(f"{q}{side}") for q in {Path(ledger).absolute(), _resolved(Path(ledger))}
                    for side in ("", "-wal", "-shm", "-journal")]
    if real in ledger_files or target.absolute() in ledger_files or any(_samefile(target, q) for q in ledger_files):
        raise InvalidInput(f"{what} là chính sổ “{ledger}” hoặc tệp đi kèm của sổ; dvk không bao giờ ghi đè sổ. "
                           "Hãy chọn tệp khác.")
    backups = {backup_dir(Path(ledger).absolute()), backup_dir(_resolved(Path(ledger)))}
    for folder in backups | {_resolved(b) for b in backups}:
        if real == folder or folder in real.parents or folder in target.absolute().parents:
            raise InvalidInput(f"{what} nằm trong thư mục sao lưu “{folder}” của sổ; dvk không ghi vào đó. "
                               "Hãy chọn tệp khác.")
    if real == _resolved(source) or _samefile(target, source):
        raise InvalidInput(f"{what} không được trùng với tệp nhập “{source.name}”.")
    if os.path.lexists(target):
        try:
            st = os.stat(target)
        except OSError:
            st = None  # a symbolic link to nothing: replacing the link itself writes nowhere else
        if st is not None:
            if stat.S_ISDIR(st.st_mode):
                raise InvalidInput(f"{what} là một thư mục; hãy nêu tên tệp (ví dụ “{target / 'loai.csv'}”).")
            if not stat.S_ISREG(st.st_mode):
                raise InvalidInput(f"{what} không phải là tệp thường; hãy chọn tệp khác.")
            try:
                with open(target, "rb") as fh:
                    head = fh.read(len(SQLITE_MAGIC))
            except OSError:
                head = b""
            if head == SQLITE_MAGIC:
                raise InvalidInput(f"{what} là một cơ sở dữ liệu SQLite (một sổ hay một bản sao lưu?); dvk không ghi "
                                   "đè tệp này, kể cả với --force. Hãy chọn tệp khác.")
        if not force:
            raise InvalidInput(f"{what} đã tồn tại; dvk không ghi đè. Hãy chọn tên khác, hoặc dùng --force để ghi đè "
                               "tệp đó. Chưa nhập gì.")
    folder = target.parent
    if not folder.exists():
        raise InvalidInput(f"Thư mục “{folder}” của tệp ghi dòng bị loại (--rejects) không tồn tại. Chưa nhập gì.")
    if not folder.is_dir():
        raise InvalidInput(f"“{folder}” (thư mục của tệp --rejects) không phải là thư mục. Chưa nhập gì.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InvalidInput(f"Không có quyền ghi vào thư mục “{folder}” của tệp ghi dòng bị loại (--rejects). "
                           "Chưa nhập gì.")
    return target


def _state_mark(conn: Any, below: int | None = None) -> int:
    """The last history record (below `below`): every write of dvk adds one, so an unchanged mark
    means an unchanged ledger."""
    sql = 'SELECT max("id") FROM "history"' + (' WHERE "id" < ?' if below is not None else "")
    return conn.exec_driver_sql(sql, (below,) if below is not None else ()).scalar() or 0


@dataclass
class _Planned:
    """One plan of an import: the importer (its table, rejects headers), the result, the writes."""

    importer: _Importer
    res: ImportResult
    plan: _Plan
    spool: _Spool | None
    mark: int

    def close(self) -> None:
        try:
            self.plan.close()
        finally:
            if self.spool is not None:
                self.spool.close()


def _plan(conn: Any, kind: str, path: Path, opts: ImportOptions, *, replay: Any = None,
          keep_rows: _Spool | None = None) -> _Planned:
    """Read, check and decide the whole file on `conn` (a read transaction: no write lock), or with
    `replay` = (table, rows) the rows an earlier plan read from it (`keep_rows` keeps them)."""
    spool = _Spool() if (opts.skip_invalid and opts.rejects is not None) else None
    plan = _Plan()
    try:
        importer = IMPORTERS[kind](conn, path, opts, spool, plan)
        importer.replay, importer.keep_rows = replay, keep_rows
        res = importer.run()
        mark = _state_mark(conn)
    except BaseException:
        plan.close()
        if spool is not None:
            spool.close()
        raise
    return _Planned(importer, res, plan, spool, mark)


def _write_plan(tx: Any, planned: _Planned, opts: ImportOptions, before_commit: Any) -> None:
    """Apply the planned batches in `tx`, in their order, through the calls that would have made them."""
    conn = tx.conn
    cache_was = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size=-{IMPORT_CACHE_KIB}")  # see _Importer.run
    progress = _Progress(opts.progress and _stderr_is_terminal(), "Đang ghi vào sổ")
    done = 0
    try:
        for op, table_name, rows in planned.plan.batches():
            if op == "insert":
                bulk_insert(tx, table_name, rows)
            elif op == "update":
                tx.update_many(table_name, rows)
            else:
                for key in rows:
                    tx.delete(table_name, key)
            done += len(rows)
            progress.update(done - done % 1000)
    finally:
        progress.close()
        try:
            conn.exec_driver_sql(f"PRAGMA cache_size={int(cache_was)}")
        except DBAPIError:  # the connection is failing already: that error is the one to show
            pass
    planned.res.changes = tx.n
    tx.note(planned.res.summary_line())
    if before_commit is not None:
        before_commit()


def _refuse_problems(res: ImportResult, path: Path, opts: ImportOptions) -> None:
    if res.problem_count and not opts.skip_invalid:
        raise ValidationFailed(
            problems=res.problems,
            headline=f"Tệp “{path.name}” có {res.problem_count} lỗi ở {res.rejected} dòng; không ghi gì vào sổ. "
                     "Sửa tệp rồi nhập lại (hoặc dùng --skip-invalid --rejects TỆP để nhập các dòng hợp lệ và ghi "
                     "các dòng lỗi ra tệp).",
        )


class _NothingToWrite(Exception):
    """Raised inside a write transaction to leave it without a trace (the import changes nothing)."""


def _stage_rejects(target: Path, planned: _Planned) -> Path:
    """Write the rejected rows to a new temporary file beside `target` (published after the commit)."""
    from dvk.tabular import TableError, write_rejects

    importer = planned.importer
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp{target.suffix}")
    fmt = _rejects_format(target, importer.table.format)
    try:
        write_rejects(tmp, fmt, importer.reject_headers, planned.spool.rows() if planned.spool else [],
                      importer.reason_key, delimiter=importer.table.delimiter if fmt == "csv" else None,
                      reason_header=importer.reason_key)
    except TableError as exc:
        raise InvalidInput(exc.message.replace(str(tmp), str(target)) + " Chưa nhập gì vào sổ.")
    return tmp


def _publish_rejects(tmp: Path, target: Path, force: bool) -> None:
    """Give the rejects file its name: never over another file unless `force` (no clobbering race:
    a hard link fails if the name was taken meanwhile)."""
    from dvk.ledger.failures import os_reason

    kept = f" Các dòng hợp lệ đã được ghi vào sổ; các dòng bị loại được giữ ở tệp “{tmp}”."
    try:
        if force:
            os.replace(tmp, target)
            return
        try:
            os.link(tmp, target)
        except FileExistsError:
            raise InvalidInput(f"Tệp “{target}” vừa được tạo trong lúc nhập; dvk không ghi đè." + kept)
        except OSError:  # a file system without hard links (FAT, some network shares)
            fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            os.close(fd)
            os.replace(tmp, target)
            return
        os.unlink(tmp)
    except FileExistsError:
        raise InvalidInput(f"Tệp “{target}” vừa được tạo trong lúc nhập; dvk không ghi đè." + kept)
    except OSError as exc:
        raise InvalidInput(f"Không ghi được tệp “{target}”: {os_reason(exc)}." + kept)


def run_import(led: Any, kind: str, path: Path, opts: ImportOptions, *, user: str, command: str,
               before_commit: Any = None) -> ImportResult:
    """Import one file into the ledger `led` (a dvk.ledger.store.Store); all or nothing, in one transaction.

    The file is read, checked and planned without the write lock (see the module's docstring);
    the lock is held only to write the plan. If other commands wrote meanwhile, the file is
    planned again; the last of `REPLANS` plans is made under the write lock from the rows the
    one before read and kept (not from the file), so an import always ends.
    `before_commit()`, if given, is called as the last thing inside the write transaction (the
    CLI makes Ctrl-C wait from there: a commit is whole).

    Raises ValidationFailed (every problem listed) when a row is bad and `skip_invalid` is off,
    LockedYear when it would change a decided year, InvalidInput for an unreadable file or a
    refused --rejects file (checked before anything else).
    """
    if kind not in IMPORTERS:
        raise ValueError(kind)
    check_options(opts)
    path = Path(path)
    target = None
    if opts.rejects is not None:
        target = check_rejects_target(opts.rejects, ledger=led.path, source=path, force=opts.force)
    summary = f"Nhập {KIND_LABELS[kind]} từ {path.name}"
    gc_was = _fewer_collections()
    kept: tuple[Any, _Spool] | None = None  # (table, rows) read by the last plan made without the lock
    try:
        for attempt in range(1, REPLANS):
            keep = _Spool() if attempt == REPLANS - 1 else None
            try:
                with led.read() as conn:
                    planned = _plan(conn, kind, path, opts, keep_rows=keep)
            except BaseException:
                if keep is not None:
                    keep.close()
                raise
            if keep is not None:
                kept = (planned.importer.table, keep)
            staged: Path | None = None
            try:
                res = planned.res
                _refuse_problems(res, path, opts)
                if opts.dry_run:
                    return res
                if target is not None:
                    staged = _stage_rejects(target, planned)
                if planned.plan.n_ops:
                    with led.write(user=user, command=command, summary=summary) as tx:
                        if _state_mark(tx.conn, below=tx.history_id) != planned.mark:
                            raise _Changed
                        _write_plan(tx, planned, opts, before_commit)
                if staged is not None:
                    tmp, staged = staged, None  # kept (and named in the message) if it cannot be published
                    _publish_rejects(tmp, target, opts.force)  # type: ignore[arg-type]
                    res.rejects_file = str(target)
                return res
            except _Changed:
                continue
            finally:
                if staged is not None:
                    _unlink(staged)
                planned.close()
        # Other commands wrote during every plan: the last one under the lock, from the rows kept.
        staged = None
        locked: _Planned | None = None
        try:
            try:
                with led.write(user=user, command=command, summary=summary) as tx:
                    locked = _plan(tx.conn, kind, path, opts, replay=kept)
                    _refuse_problems(locked.res, path, opts)
                    if target is not None:
                        staged = _stage_rejects(target, locked)
                    if not locked.plan.n_ops:
                        raise _NothingToWrite
                    _write_plan(tx, locked, opts, before_commit)
            except _NothingToWrite:
                pass
            res = locked.res
            if staged is not None:
                tmp, staged = staged, None
                _publish_rejects(tmp, target, opts.force)  # type: ignore[arg-type]
                res.rejects_file = str(target)
            return res
        finally:
            if staged is not None:
                _unlink(staged)
            if locked is not None:
                locked.close()
    finally:
        if kept is not None:
            kept[1].close()
        _fewer_collections(gc_was)


def _unlink(p: Path) -> None:
    try:
        p.unlink()
    except OSError:
        pass


def _fewer_collections(restore: tuple[int, int, int] | None = None) -> tuple[int, int, int]:
    """Run the cyclic garbage collector less often during an import, or restore its thresholds.

    An import allocates a few dicts and tuples per row, none in a cycle, and frees them batch by
    batch; with the default threshold (a young collection every 700 allocations, and full ones
    that walk every object SQLAlchemy and Typer keep alive) the collector took about a sixth of
    the CPU time of a 100,000-row import. Reference counting still frees everything at once.
    """
    import gc

    if restore is not None:
        gc.set_threshold(*restore)
        return restore
    was = gc.get_threshold()
    gc.set_threshold(max(was[0], 50_000), max(was[1], 20), max(was[2], 100))
    return was
