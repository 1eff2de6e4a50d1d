"""Registrations from a file (`dvk register --from`): one entry per row, matched to the ledger by its
folded unit, title and person, new ids in file order.
"""

from __future__ import annotations

import datetime as dt
from array import array
from dataclasses import field
from typing import Any, Mapping
from sqlalchemy import and_, bindparam, select

from dvk.cycle.common import KINDS as ENTRY_KINDS, MAX_YEAR, MIN_YEAR, SUBJECTS, today
from dvk.cycle.entries import next_seq
from dvk.text.dates import DateError, parse_date
from dvk.errors import Problem
from dvk.ledger.history import table as db_table
from dvk.text.normalize import fold, fold_clean
from dvk.intake.cells import _KIND_WORDS, _SUBJECT_WORDS, _cell_problem, _flag, _int, _same_text, _show, _text, _word, clean_fast
from dvk.intake.columns import Column, REGISTRATION_COLUMNS, REGISTRATION_IGNORED, _REQUIRED
from dvk.intake.engine import LOOKUP_CHUNK, _Importer, _Item
from dvk.intake.result import Conflict, MAX_NEW_IDS


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
        et = db_table("entry")
        q = select(et.c.match_key).distinct().where(et.c.year == year, et.c.match_key.in_(bindparam("keys", expanding=True)))
        out: list[str] = []
        for i in range(0, len(keys), LOOKUP_CHUNK):
            out.extend(self.conn.execute(q, {"keys": keys[i:i + LOOKUP_CHUNK]}).scalars())
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
