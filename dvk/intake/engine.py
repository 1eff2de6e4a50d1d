"""The import engine every kind of file shares: read the table, skip examples and blank rows, parse each
row into a candidate with its problems, decide a batch at a time against the ledger and the plan,
spool rejected rows for the rejects file, report progress to the caller.
"""

from __future__ import annotations

import json
import pickle
import tempfile
from operator import itemgetter
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence
from sqlalchemy import select

from dvk.cycle.config import criteria_for
from dvk.cycle.decisions import ensure_unlocked
from dvk.cycle.units import list_units
from dvk.cycle.orgs import current as org_of
from dvk.criteria import CriteriaSet
from dvk.errors import InvalidInput, Problem, ValidationFailed
from dvk.ledger.bulk import bulk_cache
from dvk.ledger.history import table as db_table
from dvk.ledger.plan import WritePlan
from dvk.rules import Issue, Units, unit_key
from dvk.intake.tables.jsonfile import LongNumber
from dvk.intake.cells import _is_example, _shown, _text
from dvk.intake.columns import Column, REJECT_REASON_KEY, _REQUIRED, column_spec
from dvk.intake.result import ImportOptions, ImportResult


BATCH = 5000  # rows per executemany (the history flushes by the same size)


LOOKUP_CHUNK = 500  # keys per IN (...) query


# How a planned row is found again: its key in the ledger, and (scores) the entry it belongs to.
PLAN_KEYS: dict[str, Any] = {
    "entry": lambda r: f"{r['year']}|{r['match_key']}",
    "report": itemgetter("entry_id"),
    "confirmation": itemgetter("entry_id"),
    "score": lambda r: f"{r['entry_id']}|{r['member']}",
}


PLAN_GROUPS: dict[str, Any] = {"score": itemgetter("entry_id")}


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


class _NoProgress:
    """What an import reports its progress to when the caller shows none (scripts, tests, --json)."""

    def update(self, rows: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(opts: "ImportOptions", label: str) -> Any:
    """The caller's progress display for `label` (`ImportOptions.progress`: label -> an object with
    update(rows) and close()), or one that shows nothing."""
    return opts.progress(label) if opts.progress is not None else _NoProgress()


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

    def __init__(self, conn: Any, path: Path, opts: ImportOptions, spool: _Spool | None, plan: WritePlan) -> None:
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
        self.unit_codes = Units(self.units)  # a unit as typed: its code, or the one equal to it folded

    # ------------------------------------------------------------ helpers for subclasses
    def all_columns(self) -> tuple[Column, ...]:
        return self.columns

    def crit(self, year: int) -> CriteriaSet:
        c = self._crits.get(year)
        if c is None:
            c = self._crits[year] = criteria_for(self.conn, year)
        return c

    def unit_code(self, raw: str) -> str | None:
        return self.unit_codes.find(raw)

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

    def issue_problems(self, row: Any, issues: Iterable[Issue], keys: Mapping[str | None, str | None] = {}
                       ) -> list[Problem]:
        """The problems of a row that dvk.rules found, each at its column (`keys`: a rule's field -> the
        column key, when they differ; None: the row as a whole)."""
        return [self.problem(row, i.reason, keys.get(i.field, i.field), i.value) for i in issues]

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
            q = select(et.c.id, et.c.year, et.c.unit_code, et.c.title).where(et.c.id.in_(uniq[i:i + LOOKUP_CHUNK]),
                                                                             et.c.org_code == org_of(self.conn))
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
        if unit is not None and unit_key(unit) != unit_key(e["unit_code"]):
            item.problems = [self.problem(row, f"mô hình {entry_id} thuộc đơn vị {e['unit_code']}, không phải "
                                               f"đơn vị ghi ở dòng này", "_unit", unit)]
            return None
        return e

    # ------------------------------------------------------------ the loop
    def open_table(self) -> Any:
        from dvk.intake.tables.table import read_table

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
        from dvk.intake.tables.base import REASON_HEADER, TableError, fold_header

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
            progress = _progress(self.opts, f"Đang nhập {self.fname}")
            try:
                with bulk_cache(self.conn):  # the lookups of a big file read the indexes at random
                    self.loop(table, progress)
            except TableError as exc:
                raise InvalidInput(exc.message)
            finally:
                progress.close()
        finally:
            table.close()
        self.res.changes = self.plan.n_rows
        return self.res

    def loop(self, table: Any, progress: Any) -> None:
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
