"""Party-committee confirmations from a file (`dvk confirm --from`)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

from dvk.cycle.common import today
from dvk.text.dates import DateError, parse_date
from dvk.errors import Problem
from dvk.ledger.history import table as db_table
from dvk.rules import Issue, confirmable, confirmation, date_issue
from dvk.intake.cells import _as_text, _entry_id, _flag, _same_text, _show
from dvk.intake.columns import CONFIRMATION_COLUMNS, REJECT_REASON_KEY
from dvk.intake.engine import _Importer, _Item
from dvk.intake.result import Conflict


# a field of dvk.rules.confirmation / confirmable -> the column it is read from
_KEYS = {"confirmed_by": "by", "confirmed_on": "on", "entry_id": "id"}


class _Confirmations(_Importer):
    kind = "confirmations"
    columns = CONFIRMATION_COLUMNS
    reason_key = REJECT_REASON_KEY

    def parse(self, row: Any, problems: list[Problem]) -> Any:
        v = row[1]
        eid = _entry_id(v["id"])
        issues: list[Issue] = []
        if eid is None:
            issues.append(Issue("id", "thiếu mã mô hình, điển hình"))
        rejected = _flag(v["rejected"])
        if rejected is None:
            issues.append(Issue("rejected", "cột Không xác nhận chỉ ghi “x” hoặc để trống", v["rejected"]))
        # the same rules as `dvk confirm` (dvk.rules.confirmation)
        values, found = confirmation(committee=_as_text(v["committee"]), by=_as_text(v["by"]),
                                     comment=_as_text(v["comment"]), rejected=bool(rejected), reason=_as_text(v["reason"]))
        issues += found
        raw = v["on"]
        on = None
        if raw is not None:
            try:
                on = parse_date(raw)
            except DateError as exc:
                issues.append(date_issue("confirmed_on", "ngày xác nhận", raw, exc.reason))
        if issues:
            problems.extend(self.issue_problems(row, issues, _KEYS))
            return None
        return (eid, values, on)

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
            new = {"entry_id": eid, **vals}
            new["committee"], issues = confirmable(eid, reported=eid in reported, committee=new["committee"],
                                                   unit_code=e["unit_code"],
                                                   unit_committee=self.units.get(e["unit_code"], {}).get("committee"))
            if issues:
                it.problems = self.issue_problems(it.row, issues, _KEYS)
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
