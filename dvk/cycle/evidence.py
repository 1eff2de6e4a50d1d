"""What an entry is judged on besides its registration: the achievement report (báo cáo thành tích),
the Party committee's confirmation (xác nhận của cấp ủy) and the council members' score sheets.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Mapping, Sequence
from sqlalchemy import select

from dvk import rules
from dvk.rules import Issue
from dvk.scoring import member_total, total_text
from dvk.criteria import ASPECTS, CriteriaSet
from dvk.text.dates import fmt_date
from dvk.errors import InvalidInput
from dvk.files import read_regular
from dvk.ledger.history import Tx, table
from dvk.text.normalize import fold, fold_marks
from dvk.cycle.common import today
from dvk.cycle.config import criteria_for
from dvk.cycle.decisions import ensure_unlocked
from dvk.cycle.entries import get_entry
from dvk.cycle.units import get_unit


MAX_REPORT_FILE_BYTES = 100 * 1024 * 1024  # a report file kept by its SHA-256 (a scan, a .docx, a PDF)


REPORT_CONTENT = tuple(k for k, _ in ASPECTS) + ("reported_on", "file_sha256")  # what a confirmation vouches for


@dataclass(frozen=True)
class ReportFile:
    """A report file read and hashed before any write lock is taken: its full path and SHA-256."""

    path: str
    sha256: str


def read_report_file(path: Path) -> ReportFile:
    """Hash a report file (`dvk report --file/--from-docx`): only a regular file of at most
    MAX_REPORT_FILE_BYTES, read before the write transaction is opened (`dvk.files.read_regular`)."""
    import hashlib

    h = hashlib.sha256()
    read_regular(path, max_bytes=MAX_REPORT_FILE_BYTES, what="tệp báo cáo",
                 hint="hãy chỉ định tệp báo cáo (PDF, Word, ảnh chụp…)", sink=h.update)
    return ReportFile(str(Path(path).resolve()), h.hexdigest())


@dataclass
class SavedReport:
    """What `save_report` did: the row as stored, the aspects still empty (labels), the aspects given
    blank and left aside (keys; a blank never erases), the confirmation a change cleared (or None),
    whether anything changed."""

    row: dict
    missing: list[str]
    ignored: list[str]
    cleared: dict | None
    changed: bool


def save_report(tx: Tx, entry_id: str, aspects: Mapping[str, str | None], reported_on: dt.date | None,
                file: ReportFile | Path | None, *, force: bool = False,
                names: Mapping[str | None, str | None] | None = None, found: Iterable[Issue] = ()) -> SavedReport:
    """Record (or complete) an achievement report.

    A blank aspect never erases what is stored (it is listed in `ignored`); every problem is refused
    at once (dvk.rules.report_aspects, report_blank; `found`: the caller's own, `names`: how it names
    each field). A report the Party committee has confirmed (or refused) is what the committee
    vouched for: changing its content needs `force`, and then the confirmation is deleted in the same
    transaction and the report marked `confirmation_cleared_on`, so the entry needs confirming again.
    """
    entry = get_entry(tx.conn, entry_id)
    eid = entry["id"]
    ensure_unlocked(tx.conn, entry["year"], f"báo cáo của {eid}")
    t = table("report")
    cur = tx.conn.execute(select(t).where(t.c.entry_id == eid)).mappings().first()
    cur = dict(cur) if cur else None
    row = dict(cur) if cur else {"entry_id": eid, "approach": None, "experience": None, "spread": None,
                                 "effectiveness": None, "sustainability": None, "reported_on": None,
                                 "file_path": None, "file_sha256": None, "confirmation_cleared_on": None}
    texts, ignored, issues = rules.report_aspects(aspects)
    issues = [*found, *issues]
    row.update(texts)
    row["reported_on"] = reported_on or row["reported_on"] or today()
    if file is not None:
        rf = file if isinstance(file, ReportFile) else read_report_file(file)
        row["file_path"], row["file_sha256"] = rf.path, rf.sha256
    blank = rules.report_blank(row) if not issues else None
    if blank or issues:
        raise rules.refusal([*issues, *([blank] if blank else [])], names, what="Báo cáo thành tích")
    cleared = None
    if cur is not None:
        differs = [k for k in REPORT_CONTENT if row[k] != cur[k]]
        if differs:
            ct = table("confirmation")
            conf = tx.conn.execute(select(ct).where(ct.c.entry_id == eid)).mappings().first()
            if conf is not None:
                if not force:
                    raise InvalidInput(confirmed_report_message(eid, dict(conf), differs))
                cleared = dict(conf)
                tx.delete("confirmation", {"entry_id": eid})
                row["confirmation_cleared_on"] = today()
    changed = cur is None or row != cur
    if changed:
        tx.upsert("report", row)
    missing = [label for key, label in ASPECTS if not row[key]]
    return SavedReport(row, missing, ignored, cleared, changed)


_CONTENT_LABELS = {**dict(ASPECTS), "reported_on": "ngày báo cáo", "file_sha256": "tệp báo cáo"}


def confirmed_report_message(entry_id: str, conf: Mapping, differs: Sequence[str], *, hint: str = "--force") -> str:
    """Why a change to a report the Party committee has confirmed (or refused) is refused."""
    when = f" ngày {fmt_date(conf['confirmed_on'])}" if conf.get("confirmed_on") else ""
    if conf.get("rejected"):
        said = f"cấp ủy “{conf['committee']}” đã không xác nhận{when}"
        what = "ý kiến đó"
    else:
        said = f"đã được cấp ủy “{conf['committee']}” xác nhận{when}"
        what = "xác nhận đó"
    parts = ", ".join(_CONTENT_LABELS.get(k, k).lower() for k in differs)
    return (f"Báo cáo thành tích của {entry_id} {said}; sửa báo cáo ({parts}) thì {what} không còn giá trị. "
            f"Nếu chắc chắn, chạy lại với {hint}: {what} bị xóa (ghi vào lịch sử) và cần cấp ủy xác nhận lại "
            f"(dvk confirm {entry_id} --by …).")


def save_confirmation(tx: Tx, entry_id: str, *, committee: str | None, by: str | None, on: dt.date | None,
                      comment: str | None, rejected: bool, reason: str | None,
                      names: Mapping[str | None, str | None] | None = None, found: Iterable[Issue] = ()) -> dict:
    """Record the Party committee's confirmation (or refusal) of an entry's report; every problem is
    refused at once (dvk.rules.confirmation, confirmable; `found`, `names` as for `save_report`)."""
    entry = get_entry(tx.conn, entry_id)
    ensure_unlocked(tx.conn, entry["year"], f"xác nhận của {entry['id']}")
    rt = table("report")
    reported = tx.conn.execute(select(rt.c.entry_id).where(rt.c.entry_id == entry["id"])).first() is not None
    unit = get_unit(tx.conn, entry["unit_code"])
    values, issues = rules.confirmation(committee=committee, by=by, comment=comment, rejected=rejected,
                                        reason=reason)
    values["committee"], more = rules.confirmable(entry["id"], reported=reported, committee=values["committee"],
                                                  unit_code=unit["code"], unit_committee=unit.get("committee"))
    issues = [*found, *more, *issues]
    if issues:
        raise rules.refusal(issues, names, what="Xác nhận của cấp ủy")
    row = {"entry_id": entry["id"], "confirmed_on": on or today(), **values}
    tx.upsert("confirmation", row)
    return row


def marks_json(values: Mapping[str, Fraction | float | None], crit: CriteriaSet) -> str:
    """One member's sheet as stored: criteria in the set's order, numbers as plain JSON numbers."""
    out = {}
    for code in crit.codes:
        if code in values:
            v = values[code]
            if v is None:
                out[code] = None
            else:
                f = float(v)
                out[code] = int(f) if f == int(f) else f
    return json.dumps(out, ensure_ascii=False, separators=(",", ":"))


def match_member(name: str, members: Iterable[str]) -> tuple[str | None, str | None]:
    """Which council member `name` is among the `members` who scored one entry.

    (spelling, None): one of them — the same text, or equal after `fold` (case, spacing, old/new
    tone placement: "NGUYỄN VĂN HÙNG", "Nguyễn  Văn Hùng"); the sheet is theirs, under `spelling`.
    (None, other): a new name that differs from `other` in its diacritics alone ("Nguyen Van Hung"
    next to "Nguyễn Văn Hùng"): refused, it may be the same person. (None, None): a new member.
    """
    members = list(members)
    if name in members:
        return name, None
    key, near = fold(name), None
    for m in members:
        if fold(m) == key:
            return m, None
    bare = fold_marks(name)
    for m in members:
        if fold_marks(m) == bare:
            near = near or m
    return None, near


def score_row(entry_id: str, member: str, values: Mapping[str, Fraction | float | None], crit: CriteriaSet) -> dict:
    """The `score` row of one member's sheet: its marks as stored (`marks_json`) and its exact total
    (`dvk.scoring.total_text`), so whole-year reads need not decode the marks."""
    marks = marks_json(values, crit)
    return {"entry_id": entry_id, "member": member, "marks": marks, "total": total_text(marks, values, crit)}


def member_near_message(entry_id: str, typed: str, existing: str) -> str:
    """Why a sheet under `typed` is refused next to `existing` (match_member's second case)."""
    return (f"{entry_id} đã có phiếu của “{existing}”; tên “{typed}” chỉ khác tên đó ở dấu. Nếu là cùng một người, "
            f"hãy ghi đúng tên “{existing}”; nếu là người khác, hãy ghi đúng tên có dấu đầy đủ")


def save_scores(tx: Tx, entry_id: str, member: str, values: Mapping[str, Fraction | None]) -> dict:
    """One member's scores on one entry; scoring again replaces that member's sheet.

    The member is matched as `match_member` says: a folded-equal name replaces that member's sheet
    (kept under the spelling already there, `typed` says how it was written this time); a name
    differing only in diacritics from one who scored is refused.
    """
    entry = get_entry(tx.conn, entry_id)
    ensure_unlocked(tx.conn, entry["year"], f"điểm của {entry['id']}")
    member_c, why = rules.member_name(member)
    if why:
        raise rules.refusal([why], {"member": "--member"}, what="Phiếu chấm điểm")
    from dvk.cycle.council import council_of

    council = council_of(tx.conn, entry["year"])
    typed = member_c
    if council is not None:  # a year's council: members only, no conflict of interest, no abstention
        member_c = council.admit(entry, member_c)
    by_council = member_c != typed
    st = table("score")
    scored = tx.conn.execute(select(st.c.member).where(st.c.entry_id == entry["id"])).scalars().all()
    same, near = match_member(member_c, scored)
    if near is not None:
        raise InvalidInput(f"Mô hình {member_near_message(entry['id'], member_c, near)} (--member).")
    stored = same or member_c
    crit = criteria_for(tx.conn, entry["year"])
    op = tx.upsert("score", score_row(entry["id"], stored, values, crit))
    total = member_total(values, crit)
    return {"entry_id": entry["id"], "member": stored, "typed": typed, "replaced": op == "update",
            "total": None if total is None else round(float(total), 2),
            **({"council_spelling": True} if by_council and stored == member_c else {})}
