"""Achievement reports from a file (`dvk report --from`): the five aspects per entry; a blank cell never
erases, a change to a confirmed report needs --update --force (and clears the confirmation).
"""

from __future__ import annotations

from typing import Any, Mapping

from dvk.cycle.common import today
from dvk.criteria import ASPECTS
from dvk.text.dates import DateError, parse_date
from dvk.errors import Problem
from dvk.ledger.history import table as db_table
from dvk.rules import Issue, date_issue, report_aspects, report_blank
from dvk.intake.cells import _as_text, _entry_id, _show
from dvk.intake.columns import REPORT_COLUMNS
from dvk.intake.engine import _Importer, _Item
from dvk.intake.result import Conflict


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
        issues: list[Issue] = []
        if eid is None:
            issues.append(Issue("id", "thiếu mã mô hình, điển hình"))
        # the same rules as `dvk report` (dvk.rules.report_aspects): a blank cell never erases
        aspects, _blank, found = report_aspects({key: _as_text(v[key]) for key, _ in ASPECTS})
        issues += found
        raw = v["reported_on"]
        on = None
        if raw is not None:
            try:
                on = parse_date(raw)
            except DateError as exc:
                issues.append(date_issue("reported_on", "ngày báo cáo", raw, exc.reason))
        if not aspects and not issues:
            issues.append(report_blank(aspects))  # type: ignore[arg-type]
        if issues:
            problems.extend(self.issue_problems(row, issues, {"aspects": None}))
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
