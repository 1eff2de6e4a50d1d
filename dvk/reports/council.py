"""The council's papers (issue 13): the minutes of its meeting (biên bản họp Hội đồng), the score
summary it signs (bảng tổng hợp kết quả chấm điểm) and the recognition certificates (giấy công
nhận) — view models, their template contexts and what each makes of a year read from the ledger.

The kinds themselves are registered at the end of `dvk.reports.kinds`; the builders here return
``(view model, params)`` or None after a note, and `kinds` wraps them in a `Draft`.

The meeting is the one recorded with `dvk council meeting` (date, place, members absent). Without
one it is derived: the date is the document date (``--date``, by default the decision's date), the
place the issuing body and its place name, and a member is present when they chair, keep the
minutes, or recorded a sheet or an abstention in the year.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable

from dvk.cycle.council import ROLES, Council
from dvk.cycle.year import judged, uncounted
from dvk.reports.context import _head
from dvk.reports.models import Letterhead
from dvk.text.dates import fmt_date
from dvk.text.normalize import fold, sort_people
from dvk.text.numbers import fmt_number, fmt_score
from dvk.wording import doc_number

COUNCIL_NAME = "Hội đồng Thi đua - Khen thưởng"


@dataclass(frozen=True)
class MemberLine:
    """A council member as the minutes name them: "Ông/Bà …, chức vụ — vai trò"."""

    name: str
    position: str
    role: str
    unit: str


@dataclass(frozen=True)
class SummaryRow:
    """One entry of the score summary: each member's total, the sheets that do not count, the
    aggregate and whether it reaches the pass mark."""

    stt: str
    code: str
    title: str
    unit: str
    marks: tuple[str, ...]
    not_counted: tuple[str, ...]
    score: str
    result: str


@dataclass(frozen=True)
class CouncilMinutesDoc:
    """The minutes of the council meeting (template ``bien-ban-hop-hoi-dong.docx``)."""

    letterhead: Letterhead
    year: int
    issued_on: dt.date
    chair: str
    secretary: str
    present: tuple[MemberLine, ...]
    absent: tuple[MemberLine, ...]
    considered: int
    conflicts: tuple[str, ...]
    abstentions: tuple[str, ...]
    rows: tuple[SummaryRow, ...]
    proposed: int
    pass_mark: str
    place: str = ""


@dataclass(frozen=True)
class ScoreSummaryDoc:
    """The score summary the council signs (template ``bang-tong-hop-diem.docx``), A4 landscape."""

    letterhead: Letterhead
    year: int
    issued_on: dt.date
    chair: str
    secretary: str
    members: tuple[str, ...]
    rows: tuple[SummaryRow, ...]
    proposed: int
    pass_mark: str
    aggregation: str


@dataclass(frozen=True)
class Certificate:
    """One recognition certificate: the name printed large (the person, or the collective's unit),
    the line under it (position and unit of a person), model or exemplar, the entry's title."""

    code: str
    name: str
    subject_text: str
    unit: str
    kind_text: str
    title: str


@dataclass(frozen=True)
class CertificatesDoc:
    """The recognition certificates of a year (template ``giay-cong-nhan.docx``), one A4
    landscape page each, citing the decision."""

    letterhead: Letterhead
    year: int
    issued_on: dt.date
    number: str
    decision_date: str
    certificates: tuple[Certificate, ...]


# ---------------------------------------------------------------- reading the year

def _line(m: dict, st: Any) -> MemberLine:
    unit = st.unit_name(m["unit_code"]) if m.get("unit_code") else ""
    return MemberLine(m["member"], m.get("position") or "", ROLES.get(m.get("role") or "member", ""), unit)


def _rows(conn: Any, st: Any) -> tuple[list[SummaryRow], set[str], int]:
    """The summary rows of a year, the (folded) names of members who recorded a sheet or an
    abstention, and how many entries are proposed (recognised)."""
    ctx = st.ctx
    council = ctx.council
    rank = {fold(m["member"]): (i, "") for i, m in enumerate(council.members)} if council is not None else {}
    rows: list[SummaryRow] = []
    active: set[str] = set()
    proposed = 0
    for b, ev in judged(conn, ctx):
        e = b.entry
        void = uncounted(ctx, b)
        active.update(fold(m) for m in (*b.scores, *void))
        if b.outcome is not None:
            ok, score = b.outcome["recognized"], b.outcome["score"]
        else:
            ok, score = ev.eligible, ev.score_float
        proposed += bool(ok)
        order = sorted(ev.member_totals, key=lambda m: rank.get(fold(m), (len(rank), m)))
        marks = tuple(f"{m}: {fmt_score(ev.member_totals[m])}" for m in order)
        rows.append(SummaryRow(str(len(rows) + 1), e["id"], e["title"], st.unit_name(e["unit_code"]), marks,
                               tuple(f"{m}: {why}" for m, why in void.items()),
                               fmt_score(score) if score is not None else "—", "Đạt" if ok else "Không đạt"))
    return rows, active, proposed


def _members(council: Council | None, active: set[str], st: Any) -> tuple[list[dict], str, str]:
    if council is not None and council.has_members:
        members = list(council.members)
    else:  # no council recorded: those who scored, by name
        members = [{"member": m, "position": "", "unit_code": None, "role": "member"}
                   for m in sort_people(st.members)]
    chair = next((m["member"] for m in members if m["role"] == "chair"), "")
    secretary = next((m["member"] for m in members if m["role"] == "secretary"), "")
    return members, chair, secretary


def minutes_doc(conn: Any, st: Any, on: dt.date) -> CouncilMinutesDoc:
    council = st.ctx.council
    rows, active, proposed = _rows(conn, st)
    members, chair, secretary = _members(council, active, st)
    meeting = council.meeting if council is not None else None
    if meeting is not None:  # recorded with `dvk council meeting`
        gone = {fold(n) for n in meeting["absent"]}
        here = [fold(m["member"]) not in gone for m in members]
    else:  # derived: who chairs, keeps the minutes, or recorded a sheet or an abstention
        here = [fold(m["member"]) in active or m["role"] in ("chair", "secretary") for m in members]
    present = tuple(_line(m, st) for m, h in zip(members, here) if h)
    absent = tuple(_line(m, st) for m, h in zip(members, here) if not h)
    conflicts: list[str] = []
    abstentions: list[str] = []
    if council is not None:
        for m in council.members:
            if m.get("unit_code"):
                conflicts.append(f"{m['member']} không chấm các mô hình, điển hình của đơn vị mình "
                                 f"({st.unit_name(m['unit_code'])}).")
        for c in sorted(council.conflicts.values(), key=lambda r: (r["entry_id"], r["member"])):
            why = f" ({c['reason']})" if c.get("reason") else ""
            conflicts.append(f"{c['member']} khai báo xung đột lợi ích với {c['entry_id']}{why}, không chấm hồ sơ này.")
        for a in sorted(council.abstentions.values(), key=lambda r: (r["entry_id"], r["member"])):
            why = f" ({a['reason']})" if a.get("reason") else ""
            abstentions.append(f"{a['member']} không tham gia chấm {a['entry_id']}{why}.")
    held_on = meeting["held_on"] if meeting is not None else on
    place = (meeting or {}).get("place") or f"{st.lh.org}, {st.lh.place}"
    return CouncilMinutesDoc(st.lh, st.year, held_on, chair, secretary, present, absent, len(rows),
                             tuple(conflicts), tuple(abstentions), tuple(rows), proposed,
                             fmt_number(st.crit.pass_mark), place)


def summary_doc(conn: Any, st: Any, on: dt.date) -> ScoreSummaryDoc:
    rows, active, proposed = _rows(conn, st)
    members, chair, secretary = _members(st.ctx.council, active, st)
    meeting = st.ctx.council.meeting if st.ctx.council is not None else None
    on = meeting["held_on"] if meeting is not None else on
    agg = "trung vị" if st.crit.aggregation == "median" else "trung bình cộng"
    return ScoreSummaryDoc(st.lh, st.year, on, chair, secretary, tuple(m["member"] for m in members), tuple(rows),
                           proposed, fmt_number(st.crit.pass_mark), agg)


def certificates_doc(conn: Any, st: Any, on: dt.date) -> CertificatesDoc:
    from sqlalchemy import select

    from dvk.ledger.history import table

    d = st.decision
    et = table("entry")
    entries = {r.id: r for r in conn.execute(select(et.c.id, et.c.kind, et.c.subject, et.c.person, et.c.position)
                                             .where(et.c.year == st.year))}
    certs = []
    for r in st.recognized.flat():
        e = entries[r.code]
        kind = "Điển hình" if e.kind == "exemplar" else "Mô hình"
        if e.subject == "individual":
            under = ", ".join(x for x in (e.position, r.unit) if x)
            certs.append(Certificate(r.code, e.person or "", under, r.unit, kind, r.title))
        else:
            certs.append(Certificate(r.code, r.unit, "", r.unit, kind, r.title))
    return CertificatesDoc(st.lh, st.year, on, doc_number(d["number"]), fmt_date(d["decided_on"]), tuple(certs))


# ---------------------------------------------------------------- contexts

def _row(r: SummaryRow) -> dict:
    return {"stt": r.stt, "code": r.code, "title": r.title, "unit": r.unit, "marks": list(r.marks) or ["—"],
            "not_counted": list(r.not_counted), "score": r.score, "result": r.result}


def _member(m: MemberLine) -> dict:
    return {"name": m.name, "position": m.position, "role": m.role, "unit": m.unit}


def _council_head(doc: Any) -> dict:
    ctx = _head(doc.letterhead, number="", issued_on=doc.issued_on, date_line="", year=doc.year)
    ctx.update(council=COUNCIL_NAME, date_text=fmt_date(doc.issued_on), chair=doc.chair or "",
               secretary=doc.secretary or "")
    return ctx


def minutes_context(doc: CouncilMinutesDoc) -> dict:
    ctx = _council_head(doc)
    ctx.update(
        meeting_date=fmt_date(doc.issued_on), meeting_place=doc.place or f"{ctx['org_name']}, {ctx['place']}",
        present=[_member(m) for m in doc.present], absent=[_member(m) for m in doc.absent],
        present_count=str(len(doc.present)), absent_count=str(len(doc.absent)),
        considered=str(doc.considered), conflicts=list(doc.conflicts) or ["Không có."],
        abstentions=list(doc.abstentions) or ["Không có."], rows=[_row(r) for r in doc.rows],
        proposed=str(doc.proposed), pass_mark=doc.pass_mark,
    )
    return ctx


def summary_context(doc: ScoreSummaryDoc) -> dict:
    ctx = _council_head(doc)
    ctx.update(members=", ".join(doc.members), rows=[_row(r) for r in doc.rows], proposed=str(doc.proposed),
               pass_mark=doc.pass_mark, aggregation=doc.aggregation, count=str(len(doc.rows)))
    return ctx


def certificates_context(doc: CertificatesDoc) -> dict:
    ctx = _head(doc.letterhead, number=doc.number, issued_on=doc.issued_on, date_line="", year=doc.year)
    ctx.update(decision_date=doc.decision_date, issuer_upper=ctx["issuer_name"].upper(),
               certificates=[{"code": c.code, "name": c.name, "subject_text": c.subject_text, "unit": c.unit,
                              "kind_text": c.kind_text, "title": c.title} for c in doc.certificates])
    return ctx


MEMBER_SHAPE = [{"name": None, "position": None, "role": None, "unit": None}]
ROW_SHAPE = [{"stt": None, "code": None, "title": None, "unit": None, "marks": [None], "not_counted": [None],
              "score": None, "result": None}]
CERT_SHAPE = [{"code": None, "name": None, "subject_text": None, "unit": None, "kind_text": None, "title": None}]


# ---------------------------------------------------------------- builders (kinds wraps them in a Draft)

def _has_council(st: Any) -> bool:
    """The minutes and the score summary are the papers of a council recorded for the year
    (`dvk council add`); a year without one has none (and its exports are as before)."""
    return st.ctx.council is not None and st.ctx.council.has_members


def _council_paper(src: Any, make: Callable[..., Any]) -> tuple[Any, dict] | None:
    """A paper of the year's council (its minutes, its score summary): none without a council, a note
    when nothing was registered."""
    st = src.state
    if not _has_council(st):
        return None
    if not st.counts.get("registered"):
        src.note(f"Năm {src.year} chưa có mô hình nào: chưa xuất {src.kind.file(src.year)}.")
        return None
    return make(src.conn, st, src.on), {}


def build_minutes(src: Any) -> tuple[Any, dict] | None:
    return _council_paper(src, minutes_doc)


def build_summary(src: Any) -> tuple[Any, dict] | None:
    return _council_paper(src, summary_doc)


def build_certificates(src: Any) -> tuple[Any, dict] | None:
    st = src.state
    if not len(st.recognized):
        src.note(f"Năm {src.year} không có mô hình, điển hình nào được công nhận: chưa xuất {src.kind.file(src.year)}.")
        return None
    return certificates_doc(src.conn, st, src.on), {}


def drafted(make: Callable[[Any], tuple[Any, dict] | None], draft: Callable[..., Any]) -> Callable[[Any], Any]:
    """A kind's builder from one of the above and `kinds.Draft`."""
    def build(src: Any) -> Any:
        out = make(src)
        return None if out is None else draft(vm=out[0], params=out[1])
    return build


def council_sheet_rows(conn: Any, st: Any) -> list[tuple]:
    """The workbook's "Hội đồng" sheet: the members, the conflicts (own unit and declared), the
    abstentions, then each entry's spread of the members' totals (flagged above the threshold)."""
    import statistics

    council = st.ctx.council
    out: list[tuple] = []
    for m in council.members:
        role = ROLES.get(m["role"], "")
        out.append(("Thành viên", m["member"], ", ".join(x for x in (m.get("position"), role) if x), "", None, None,
                    st.unit_name(m["unit_code"]) if m.get("unit_code") else ""))
    for m in council.members:
        if m.get("unit_code"):
            out.append(("Xung đột lợi ích", m["member"], "", "", None, None,
                        f"Không chấm hồ sơ của đơn vị mình ({st.unit_name(m['unit_code'])})"))
    for c in sorted(council.conflicts.values(), key=lambda r: (r["entry_id"], r["member"])):
        out.append(("Xung đột lợi ích", c["member"], "", c["entry_id"], None, None,
                    f"Khai báo ngày {fmt_date(c['declared_on'])}" + (f": {c['reason']}" if c.get("reason") else "")))
    for a in sorted(council.abstentions.values(), key=lambda r: (r["entry_id"], r["member"])):
        out.append(("Không tham gia chấm", a["member"], "", a["entry_id"], None, None,
                    f"Ghi ngày {fmt_date(a['abstained_on'])}" + (f": {a['reason']}" if a.get("reason") else "")))
    threshold = float(st.crit.disagreement)
    for b, ev in judged(conn, st.ctx):
        values = [t for t in ev.member_totals.values() if t is not None]
        if len(values) < 2:
            continue
        spread = max(values) - min(values)
        note = f"Chênh lệch lớn (quá {fmt_number(st.crit.disagreement)} điểm)" if spread > threshold else ""
        out.append(("Độ chênh điểm", "", "", b.entry["id"], round(spread, 2), round(statistics.pstdev(values), 2),
                    note))
    return out
