"""Registrations from a file (`dvk register --from`): one entry per row, matched to the ledger by its
folded unit, title and person, new ids in file order.
"""

from __future__ import annotations

from array import array
from typing import Any, Mapping
from sqlalchemy import and_, bindparam, select

from dvk.cycle.common import KINDS as ENTRY_KINDS, SUBJECTS, today
from dvk.cycle.entries import next_seq
from dvk.cycle.orgs import current as org_of, id_prefix
from dvk.text.dates import DateError, parse_date
from dvk.errors import Problem
from dvk.ledger.history import table as db_table
from dvk.rules import Issue, date_issue, in_field_order, is_late, make_id, registration, year_issue
from dvk.intake.cells import _KIND_WORDS, _SUBJECT_WORDS, _as_text, _flag, _int, _same_text, _show, _text, _word, clean_fast
from dvk.intake.columns import Column, REGISTRATION_COLUMNS, REGISTRATION_IGNORED, _REQUIRED
from dvk.intake.engine import LOOKUP_CHUNK, _Importer, _Item
from dvk.intake.result import Conflict, MAX_NEW_IDS


_UNSET: Any = object()


_KEYS = {"unit_code": "unit"}  # a field of dvk.rules.registration -> the column it is read from


def _coerced(value: Any, raw: Any) -> Any:
    """What a cell means (a number, one of the domain's words), or the cell as typed when it means
    nothing: the rule then says why it is not one."""
    return raw if value is None else value


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
        self._years: dict[Any, Any] = {}
        self._dates: dict[str, Any] = {}
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
        """The row's cells coerced (each value as typed -> what it means, cached), then the one rule
        set: dvk.rules.registration, exactly as `dvk register` calls it."""
        v = row[1]
        found: list[Issue] = []  # what the cells themselves say (an unreadable date…), besides the rules
        raw = v["year"]
        year: Any = self.opts.year
        if raw is not None:
            year = self._years.get(raw, _UNSET)
            if year is _UNSET:
                year = self._remember(self._years, raw, _coerced(_int(raw), raw))
            if self.opts.year is not None and year != self.opts.year and year_issue(year) is None:
                found.append(Issue("year", f"năm {year} khác với năm đang nhập (--year {self.opts.year})", raw))
        raw = v["unit"]
        unit = raw if raw is None or type(raw) is str else (_text(raw) or "")
        raw = v["kind"]
        kind: Any = "model"
        if raw is not None:
            kind = self._words.get(raw, _UNSET)
            if kind is _UNSET:
                kind = self._remember(self._words, raw, _coerced(_KIND_WORDS.get(_word(raw)), raw))
        raw = v["subject"]
        subject: Any = None
        if raw is not None:
            subject = self._subjects.get(raw, _UNSET)
            if subject is _UNSET:
                subject = self._remember(self._subjects, raw, _coerced(_SUBJECT_WORDS.get(_word(raw)), raw))
        raw = v["field"]
        fnum: Any = None
        if raw is not None:
            fnum = self._ints.get(raw, _UNSET)
            if fnum is _UNSET:
                fnum = self._remember(self._ints, raw, _coerced(_int(raw), raw))
        raw = v["registered_on"]
        on = None
        if raw is not None:
            on = self._date(raw)
            if isinstance(on, str):
                found.append(date_issue("registered_on", "ngày đăng ký", raw, on))
                on = None
        raw = v["sudden"]
        sudden = _flag(raw)
        if sudden is None:
            found.append(Issue("sudden", "cột Đột xuất chỉ ghi “x” hoặc để trống", raw))
        new, issues = registration(
            year=year, unit=unit, title=_as_text(v["title"]), kind=kind, subject=subject,
            person=_as_text(v["person"]), position=_as_text(v["position"]), field=fnum, registered_on=on,
            sudden=bool(sudden), note=_as_text(v["note"]), units=self.unit_codes, crit_of=self.crit,
            today=self._today, clean=clean_fast)
        if issues or found:
            problems.extend(self.issue_problems(row, in_field_order(found + issues), _KEYS))
            return None
        return (new, v["registered_on"] is not None)

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
        q = select(et.c.match_key).distinct().where(et.c.year == year, et.c.org_code == org_of(self.conn),
                                                    et.c.match_key.in_(bindparam("keys", expanding=True)))
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
                q = select(et).where(and_(et.c.year == year, et.c.org_code == org_of(self.conn),
                                          et.c.match_key.in_(hits[i:i + LOOKUP_CHUNK])))
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
        org = org_of(self.conn)
        prefix = id_prefix(self.conn, org)
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
                new["id"] = eid = make_id(year, seq, prefix)
                new["org_code"] = org
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
                merged["late"] = is_late(on, merged["sudden"], (start, end))
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
