"""Council members' score sheets from a file (`dvk score --from`): one sheet per member, one column per
criterion; one member is one sheet whatever the spelling of the name.
"""

from __future__ import annotations

import json
from typing import Any
from sqlalchemy import select

from dvk.cycle.common import entry_year
from dvk.cycle.evidence import match_member, member_near_message, score_row
from dvk.errors import DvkError, Problem
from dvk.ledger.history import table as db_table
from dvk.rules import Issue, member_name, score_values
from dvk.text.normalize import clean, fold
from dvk.intake.cells import _as_text, _entry_id, _show_score, clean_fast
from dvk.intake.columns import Column, MEMBER_COLUMN, SCORE_BASE_COLUMNS, _DEFAULT_SHEET, column_spec
from dvk.intake.engine import LOOKUP_CHUNK, _Importer, _Item
from dvk.intake.result import Conflict


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
        from dvk.cycle.orgs import current as org_of

        for r in self.conn.execute(select(cs.c.text).where(cs.c.org_code == org_of(self.conn)).order_by(cs.c.from_year)):
            crit = load_text(r.text, stored=True)
            self._code_sets.append(set(crit.codes))
            for code in crit.codes:
                if code not in self.codes:
                    self.codes.append(code)
        self.columns = SCORE_BASE_COLUMNS + tuple(Column(c, c) for c in self.codes)
        self._members: dict[str | None, Any] = {}
        self._spellings: set[tuple[str, str]] = set()  # (as written, member it is) already noted

    def _council(self, year: int) -> Any:
        """The year's council (dvk.cycle.council.council_of), read once per import."""
        cache = self.__dict__.setdefault("_councils", {})
        if year not in cache:
            from dvk.cycle.council import council_of

            cache[year] = council_of(self.conn, year)
        return cache[year]

    def open_table(self) -> Any:
        from dvk.intake.tables.table import read_table

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
        named, why = (member_name(sheet, required=False) if sheet and not _DEFAULT_SHEET.match(sheet.strip())
                      else (None, None))
        if why:
            out: Any = (None, f"tên trang tính: {why.reason}")
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
        """The row's cells, then the one rule set: dvk.rules.member_name and score_values, exactly as
        `dvk score` calls them (a row names its criteria by their columns)."""
        v = row[1]
        eid = _entry_id(v["id"])
        issues: list[Issue] = []
        if eid is None:
            issues.append(Issue("id", "thiếu mã mô hình, điển hình"))
        member, why = member_name(_as_text(v["member"]), required=False, clean=clean_fast)
        if why:
            issues.append(why)
        elif member is None:
            member, said = self._sheet_member(row[3])
            if member is None:
                issues.append(Issue("member", said))
        year = entry_year(eid) if eid else None
        if eid is not None and year is None:
            issues.append(Issue("id", "mã mô hình không đúng dạng (ví dụ 2024-007)", v["id"]))
        if year is None:
            problems.extend(self.issue_problems(row, issues))
            return None
        try:
            crit = self.crit(year)
        except DvkError as exc:
            problems.extend(self.issue_problems(row, [*issues, Issue("id", exc.message.rstrip("."), v["id"])]))
            return None
        values, found = score_values({c: v[c] for c in crit.codes if v.get(c) is not None}, crit)
        issues += [i for i in found if i.field is not None]
        issues += [Issue(code, f"tiêu chí {code} không có trong bộ tiêu chí năm {year}", v.get(code))
                   for code in self.codes if code not in crit.codes and v.get(code) is not None]
        issues += [i for i in found if i.field is None]  # the criteria not scored: the row as a whole
        if issues:
            problems.extend(self.issue_problems(row, issues))
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
            council = self._council(e["year"])
            if council is not None:  # the rule of `dvk score` (dvk.cycle.council.Council.problem)
                admitted, why = council.problem(e, member)
                if why is not None:
                    it.problems = [self.problem(it.row, why, "member", member)]
                    continue
                member = admitted
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
            sheet = score_row(eid, member, values, crit)  # exactly what `dvk score` stores
            marks = sheet["marks"]
            k = (eid, member)
            cur = pending.get(k) or existing.get(k)
            if cur is None:
                self.unlock(e["year"], f"điểm của {eid}")
                row = sheet
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
                    cur["marks"], cur["total"] = marks, sheet["total"]
                else:
                    row = sheet
                    updates.append(row)
                    pending[k] = row
                res.updated += 1
                continue
            old, new = json.loads(cur["marks"]), json.loads(marks)
            diffs = [(self.headers.get((it.row[3], c)) or c, _show_score(old.get(c, "")), _show_score(new.get(c, "")))
                     for c in dict.fromkeys([*old, *new]) if old.get(c, "") != new.get(c, "")]
            res.add_conflict(Conflict(self.where(it.row), f"điểm của {member} cho {eid}", diffs))
        self.write("score", inserts, updates)
