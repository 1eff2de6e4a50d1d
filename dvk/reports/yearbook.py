"""The year's workbook data (`dvk.reports.excel`): every sheet's rows of each entry, read in one pass
over the year (reports' full text, members' marks), and the "Kết quả" rows a phase's workbook reuses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from pathlib import Path

from sqlalchemy.engine import Connection

from dvk.criteria import CriteriaSet
from dvk.cycle.common import STATUSES, SUBJECTS
from dvk.cycle.year import Bundle, YearContext, iter_year, judged, status_of
from dvk.reports.build import YearState, _criteria, _reasons_text, _subject_text
from dvk.reports.records import (ConfirmationRecord, EntryRecords, RegistrationRecord, ReportRecord, ResultRecord,
                                 ScoreRecord, UnitFieldCount, YearWorkbookData)
from dvk.text.normalize import sort_people


def _field_label(crit: CriteriaSet, n: int) -> str:
    return f"{n}. {crit.field_short(n)}"


def _registration_record(ctx: YearContext, e: Mapping, uname: str) -> RegistrationRecord:
    person = e["subject"] == "individual"
    return RegistrationRecord(
        code=e["id"], unit=uname, title=e["title"], subject_kind=SUBJECTS.get(e["subject"], e["subject"]),
        subject_name=(e.get("person") or "") if person else uname, position=e.get("position") or "",
        field=_field_label(ctx.crit, e["field"]), registered_on=e["registered_on"], late=bool(e["late"]),
        sudden=bool(e["sudden"]), note=e.get("note") or "")


def _report_record(e: Mapping, uname: str, r: Mapping) -> ReportRecord:
    return ReportRecord(
        code=e["id"], unit=uname, title=e["title"], received_on=r.get("reported_on"),
        approach=r.get("approach") or "", experience=r.get("experience") or "", spread=r.get("spread") or "",
        effectiveness=r.get("effectiveness") or "", sustainability=r.get("sustainability") or "",
        note=f"Tệp: {Path(r['file_path']).name}" if r.get("file_path") else "")


def _confirmation_record(ctx: YearContext, e: Mapping, uname: str, c: Mapping) -> ConfirmationRecord:
    from dvk.scoring import _same_committee  # the gate's own test of "the same level"

    unit_committee = (ctx.units.get(e["unit_code"]) or {}).get("committee")
    same = not c["rejected"] and (not unit_committee or _same_committee(c["committee"], unit_committee))
    comment = c.get("comment") or ""
    if c["rejected"]:
        comment = f"Không xác nhận: {c.get('reason') or ''}".strip()
    return ConfirmationRecord(code=e["id"], unit=uname, title=e["title"], committee=c["committee"],
                              same_level=same, confirmed_on=c.get("confirmed_on"), comment=comment)


def _score_records(ctx: YearContext, b: Bundle, ev) -> tuple[ScoreRecord, ...]:
    codes = ctx.crit.codes
    e = b.entry
    out = []
    for member in sort_people(b.scores):
        marks = b.scores[member]
        row = tuple(("KAD" if marks[c] is None else marks[c]) if c in marks else None for c in codes)
        total = ev.member_totals.get(member)
        out.append(ScoreRecord(code=e["id"], title=e["title"], member=member, marks=row,
                               score=None if total is None else round(total, 2)))
    return tuple(out)


def _result_record(ctx: YearContext, b: Bundle, ev, uname: str, decision_ref: str) -> ResultRecord:
    e = b.entry
    if b.outcome is not None:
        score, reasons = b.outcome["score"], b.outcome["reasons"]
    elif ev is not None:
        score, reasons = ev.score_float, ev.reasons
    else:  # registered after the decision: not judged by it
        score, reasons = None, []
    recognized = b.outcome is not None and bool(b.outcome["recognized"])
    return ResultRecord(
        code=e["id"], unit=uname, title=e["title"], subject_text=_subject_text(e, uname),
        field=_field_label(ctx.crit, e["field"]), status=STATUSES[status_of(b)], score=score,
        reasons=_reasons_text(reasons), decision=decision_ref if recognized else "")


def _iter_entries(conn: Connection, ctx: YearContext, decision_ref: str) -> Iterator[EntryRecords]:
    """The year read once (reports' full text, members' marks): every workbook row of each entry."""
    units = ctx.units
    for b, ev in judged(conn, ctx, full=True):
        e = b.entry
        uname = (units.get(e["unit_code"]) or {}).get("name") or e["unit_code"]
        yield EntryRecords(
            registration=_registration_record(ctx, e, uname),
            report=_report_record(e, uname, b.report) if b.report is not None else None,
            confirmation=(_confirmation_record(ctx, e, uname, b.confirmation)
                          if b.confirmation is not None else None),
            scores=_score_records(ctx, b, ev) if b.scores else (),
            result=_result_record(ctx, b, ev if b.outcome is None else None, uname, decision_ref))


def iter_results(conn: Connection, ctx: YearContext, decision_ref: str) -> Iterator[ResultRecord]:
    """The "Kết quả" rows of a year (the decision named on recognised rows only)."""
    units = ctx.units
    # A decided year's outcomes carry score and reasons: no need to judge the entries again.
    pairs = ((b, None) for b in iter_year(conn, ctx, full=False, marks=False)) if ctx.decision is not None \
        else judged(conn, ctx, full=False)
    for b, ev in pairs:
        uname = (units.get(b.entry["unit_code"]) or {}).get("name") or b.entry["unit_code"]
        yield _result_record(ctx, b, ev, uname, decision_ref)


def year_workbook_data(conn: Connection, st: YearState, on: dt.date, identifier: str) -> YearWorkbookData:
    ctx = st.ctx
    crit = st.crit
    unit_counts = [UnitFieldCount(st.unit_name(code), tuple(counts)) for code, counts in st.by_unit_field.items()]
    return YearWorkbookData(
        year=st.year, author=st.lh.org, generated_on=on, entries=_iter_entries(conn, ctx, st.decision_ref()),
        unit_counts=unit_counts, fields=[_field_label(crit, f.number) for f in crit.fields],
        score_criteria=_criteria(crit), identifier=identifier, council=_council_rows(conn, st))


def _council_rows(conn: Connection, st: YearState) -> list[tuple]:
    """The rows of the workbook's "Hội đồng" sheet (issue 13); none without a council."""
    if st.ctx.council is None or not st.ctx.council.has_members:
        return []
    from dvk.reports.council import council_sheet_rows

    return council_sheet_rows(conn, st)

