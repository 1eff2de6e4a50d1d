"""Party-committee confirmations from a file (`dvk confirm --from`)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

from dvk.cycle.common import text_field, today
from dvk.text.dates import DateError, parse_date
from dvk.errors import InvalidInput, Problem
from dvk.ledger.history import table as db_table
from dvk.intake.cells import _entry_id, _flag, _same_text, _show, _shown
from dvk.intake.columns import CONFIRMATION_COLUMNS, REJECT_REASON_KEY
from dvk.intake.engine import _Importer, _Item
from dvk.intake.result import Conflict


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
