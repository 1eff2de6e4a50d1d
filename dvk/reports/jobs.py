"""What an export will write: one job per document (kind, name, view model or workbook data, the
settings it is rendered with), planned inside one read snapshot of the ledger.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from sqlalchemy.engine import Connection

from dvk.cycle.common import check_year, today
from dvk.cycle.config import get_setting, profile_for
from dvk.cycle.units import list_units
from dvk.cycle.year import years as ledger_years
from dvk.reports.excel import write_phase_workbook, write_year_workbook
from dvk.reports.models import DecisionDoc, ProposalDoc, RegistrationListDoc, ReminderDoc, RenderResult, ResultsReportDoc, ScoreSheetDoc, YearSummaryRow
from dvk.reports.records import PhaseWorkbookData, PhaseYear
from dvk.reports.word import render_docx, render_docx_bytes
from dvk.text.dates import doc_number
from dvk.errors import InvalidInput
from dvk.text.normalize import clean, fold, sort_people
from dvk.reports.build import SCORE_MAX_SHEETS, WORD_MAX_ROWS, _Sorted, _YearState, _deadline, _decision_doc, _iter_results, _n, _names_body, _read_year, _registration_doc, _reminder_doc, _results_doc, _score_doc, _workbook_data, letterhead_for
from dvk.reports.kinds import DECISION_KINDS, FILE_KINDS, PHASE_KINDS, YEAR_KINDS, file_name


_PHASE_RE = re.compile(r"^\s*(\d{4})\s*[-–]\s*(\d{4})\s*$")


@dataclass(frozen=True)
class Options:
    """What a year's or phase's documents are rendered with besides the ledger.

    Attributes:
        on: the date printed on the documents (None: the decision's date, else today).
        deadline: the reminder letter's deadline (None: 15 days before the recognition day, at
            least a week after ``on``).
        members: council members for the score sheets (empty: those who have scored this year,
            or one set with a blank name line).
        templates: a folder of Word templates overriding the packaged ones.
        reminders: also write the reminder letter.
    """

    on: dt.date | None = None
    deadline: dt.date | None = None
    members: tuple[str, ...] = ()
    templates: Path | None = None
    reminders: bool = False


@dataclass
class _Job:
    """One file to write: how to render it, and what the ledger records about it."""

    kind: str
    key: int | str
    identifier: str
    params: dict
    decision_id: int | None
    template: str | None = None  # Word template; None for a workbook
    vm: Any = None
    workbook: Callable[[Connection], tuple[str, Any]] | None = None  # conn -> ("year"|"phase", data)

    @property
    def name(self) -> str:
        return file_name(self.kind, self.key)

    def write(self, conn: Connection, path: Path, *, templates: Path | None, force: bool) -> RenderResult:
        if self.template is not None:
            return render_docx(self.template, self.vm, path, templates_dir=templates, force=force,
                                  identifier=self.identifier)
        which, data = self.workbook(conn)
        writer = write_year_workbook if which == "year" else write_phase_workbook
        return writer(path, data, force=force)

    def digest(self, conn: Connection, *, templates: Path | None) -> str:
        """The SHA-256 of the file this job renders now (in memory for Word; a temporary file for Excel)."""
        if self.template is not None:
            data, _ = render_docx_bytes(self.template, self.vm, templates_dir=templates,
                                           identifier=self.identifier)
            return hashlib.sha256(data).hexdigest()
        with tempfile.TemporaryDirectory(prefix="dvk-verify-") as tmp:
            return self.write(conn, Path(tmp) / self.name, templates=templates, force=False).sha256


def _identifier(ledger_id: str, kind: str, key: int | str, number: str = "") -> str:
    return f"dvk:{ledger_id}:{kind}:{key}:{number}"


def _ledger_id(conn: Connection) -> str:
    return get_setting(conn, "ledger_id") or "?"


def _doc_date(st: _YearState, opts: Options) -> dt.date:
    if opts.on is not None:
        return opts.on
    if st.decision is not None:
        return st.decision["decided_on"]
    return today()


def _clean_members(members: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    seen: set[str] = set()
    for m in members:
        c = clean(m)
        if c and fold(c) not in seen:
            seen.add(fold(c))
            out.append(c)
    return tuple(out)


def _year_jobs(conn: Connection, year: int, opts: Options, *, kinds: Sequence[str] = YEAR_KINDS,
               decision: dict | None = None, before_decision: bool = False) -> tuple[list[_Job], list[str]]:
    """Plan a year's files.  Returns the jobs and notes (files not written and why)."""
    st = _read_year(conn, year, decision=decision, before_decision=before_decision)
    ledger_id = _ledger_id(conn)
    on = _doc_date(st, opts)
    tdir = str(opts.templates) if opts.templates else None
    base = {"on": on.isoformat(), "templates": tdir}
    if before_decision:
        base["before_decision"] = True
    dec = st.decision
    jobs: list[_Job] = []
    notes: list[str] = []

    def job(kind: str, params: dict | None = None, **kw) -> None:
        # Only these files say what the decision decided; the others do not depend on it.
        decided = dec is not None and kind in DECISION_KINDS
        number = doc_number(dec["number"]) if decided else ""
        jobs.append(_Job(kind, year, _identifier(ledger_id, kind, year, number), {**base, **(params or {})},
                         dec["id"] if decided else None, **kw))

    if st.counts["registered"] == 0 and dec is None and list(kinds) == list(YEAR_KINDS):
        known = ", ".join(str(y) for y in ledger_years(conn)) or "chưa có năm nào"
        raise InvalidInput(f"Năm {year} chưa có mô hình, điển hình nào trong sổ (các năm có trong sổ: {known}); "
                           "không có gì để xuất.")
    def fits(kind: str, rows: int) -> bool:
        if rows <= WORD_MAX_ROWS:
            return True
        notes.append(f"{FILE_KINDS[kind][1]} năm {year} có {rows:,} dòng, vượt giới hạn {_n(WORD_MAX_ROWS)} dòng của "
                     f"một văn bản Word: chưa xuất {file_name(kind, year)}; danh sách đầy đủ có trong "
                     f"{file_name('workbook', year)}.")
        return False

    if "decision" in kinds:
        if dec is None:
            notes.append(f"Năm {year} chưa có quyết định công nhận (chạy: dvk recognize --year {year} --number SỐ): "
                         f"chưa xuất {file_name('decision', year)}; các văn bản khác vẫn được ghi.")
        elif fits("decision", len(st.recognized)):
            job("decision", {"on": dec["decided_on"].isoformat()}, template=DecisionDoc.template_name,
                vm=_decision_doc(st, on))
    if "registrations" in kinds and fits("registrations", len(st.registrations)):
        job("registrations", template=RegistrationListDoc.template_name, vm=_registration_doc(st, on))
    if "score-sheets" in kinds:
        members = _clean_members(opts.members) or tuple(sort_people(st.members))
        if not len(st.ready):
            notes.append(f"Năm {year} chưa có mô hình, điển hình nào đủ báo cáo và xác nhận để chấm điểm: "
                         f"chưa xuất {file_name('score-sheets', year)}.")
        elif len(st.ready) > SCORE_MAX_SHEETS:
            notes.append(f"Năm {year} có {_n(len(st.ready))} mô hình, điển hình chờ chấm, vượt giới hạn "
                         f"{_n(SCORE_MAX_SHEETS)} phiếu của một văn bản Word: chưa xuất "
                         f"{file_name('score-sheets', year)}.")
        else:
            if len(st.ready) * max(1, len(members)) > SCORE_MAX_SHEETS:
                notes.append(f"Phiếu chấm điểm năm {year} được in một bộ, để trống tên thành viên (in "
                             f"{len(members)} bộ sẽ vượt {_n(SCORE_MAX_SHEETS)} trang).")
                members = ()
            job("score-sheets", {"members": list(members)}, template=ScoreSheetDoc.template_name,
                vm=_score_doc(st, on, members))
    if "results" in kinds and fits("results", len(st.recognized) + len(st.not_recognized)):
        if dec is None:
            notes.append(f"Năm {year} chưa có quyết định: báo cáo kết quả nêu kết quả dự kiến theo điểm hiện có.")
        job("results", template=ResultsReportDoc.template_name, vm=_results_doc(st, on))
    if "workbook" in kinds:
        identifier = _identifier(ledger_id, "workbook", year, doc_number(dec["number"]) if dec else "")
        job("workbook", workbook=lambda c, st=st, on=on, identifier=identifier: (
            "year", _workbook_data(c, st, on, identifier)))
    if "reminder" in kinds and (opts.reminders or list(kinds) == ["reminder"]):
        if dec is not None:
            notes.append(f"Năm {year} đã có quyết định công nhận: không cần công văn đôn đốc.")
        elif not st.missing:
            notes.append(f"Năm {year} không còn đơn vị nào thiếu báo cáo hay xác nhận: không cần công văn đôn đốc.")
        elif fits("reminder", sum(len(v) for v in st.missing.values())):
            deadline = _deadline(st, on, opts.deadline)
            job("reminder", {"deadline": deadline.isoformat()}, template=ReminderDoc.template_name,
                vm=_reminder_doc(st, on, deadline))
    return jobs, notes


def parse_phase(phase: str) -> tuple[str, list[int]]:
    """"2021-2025" -> ("2021-2025", [2021, …, 2025]); InvalidInput otherwise."""
    m = _PHASE_RE.match(phase or "")
    if not m or not (int(m.group(1)) <= int(m.group(2)) <= int(m.group(1)) + 10):
        raise InvalidInput(f"Giai đoạn “{phase}” không hợp lệ; ghi dạng NĂM-NĂM, ví dụ 2021-2025.")
    a, b = int(m.group(1)), int(m.group(2))
    check_year(a)
    check_year(b)
    return f"{a}-{b}", list(range(a, b + 1))


def _phase_jobs(conn: Connection, phase: str, opts: Options, *,
                kinds: Sequence[str] = PHASE_KINDS) -> tuple[list[_Job], list[str]]:
    phase, years = parse_phase(phase)
    ledger_id = _ledger_id(conn)
    on = opts.on or today()
    notes: list[str] = []
    proposed = _Sorted()
    summary: list[YearSummaryRow] = []
    counts: dict[int, tuple[int, int, int]] = {}
    states: dict[int, _YearState] = {}
    for y in years:
        st = _read_year(conn, y)
        states[y] = st
        dec = st.decision
        registered = st.counts["registered"]
        if dec is None:
            if registered:
                notes.append(f"Năm {y} chưa có quyết định công nhận: không có mô hình nào của năm {y} trong tờ trình.")
            counts[y] = (registered, 0, 0)
            summary.append(YearSummaryRow(str(y), registered, 0, 0))
            continue
        ref = f"QĐ số {doc_number(dec['number'])}/QĐ-{st.lh.symbol}"
        n = 0
        for group in (st.recognized.collectives, st.recognized.individuals):
            for item in group:
                row = item[-1]
                # the year's rows, with the year and the decision that recognised them
                new = dataclasses.replace(row, year=str(y), note=ref, score=row.score)
                key = item[0]
                if len(item) == 2:
                    proposed.collectives.append((key, new))
                else:
                    proposed.individuals.append((key, item[1], new))
                n += 1
        counts[y] = (registered, n, len(st.not_recognized))
        summary.append(YearSummaryRow(str(y), registered, n, n))
    tdir = str(opts.templates) if opts.templates else None
    params = {"on": on.isoformat(), "templates": tdir}
    jobs: list[_Job] = []
    if "proposal" in kinds:
        if len(proposed) > WORD_MAX_ROWS:
            notes.append(f"Tờ trình giai đoạn {phase} có {_n(len(proposed))} dòng, vượt giới hạn {_n(WORD_MAX_ROWS)} dòng "
                         f"của một văn bản Word: chưa xuất {file_name('proposal', phase)}; danh sách đầy đủ có trong "
                         f"{file_name('phase-workbook', phase)}.")
        elif not len(proposed):
            notes.append(f"Giai đoạn {phase} chưa có mô hình, điển hình nào được công nhận: chưa xuất "
                         f"{file_name('proposal', phase)}.")
        else:
            profile = profile_for(conn, on.year)
            lh = letterhead_for(profile, {u["code"]: u for u in list_units(conn)})
            addressee = f"Ban Thường vụ {lh.parent_org}"
            # "Như trên" already sends it to the addressee: drop lines that name the parent body again.
            lh = dataclasses.replace(lh, recipients=tuple(
                r for r in lh.recipients if not _names_body(r, lh.parent_org)))
            vm = ProposalDoc(letterhead=lh, phase=phase, number="", issued_on=on, addressee=addressee,
                                groups=proposed.groups(by_year=True), years=tuple(summary))
            jobs.append(_Job("proposal", phase, _identifier(ledger_id, "proposal", phase), params, None,
                             template=ProposalDoc.template_name, vm=vm))
    if "phase-workbook" in kinds:
        author = profile_for(conn, on.year)["org"]
        identifier = _identifier(ledger_id, "phase-workbook", phase)

        def data(c: Connection) -> tuple[str, Any]:
            pys = []
            for y in years:
                st = states[y]
                reg, rec, nrec = counts[y]
                ref = st.decision_ref()
                pys.append(PhaseYear(y, registered=reg, recognized=rec, not_recognized=nrec,
                                        results=_iter_results(c, st.ctx, ref)))
            return "phase", PhaseWorkbookData(phase, author, on, pys, identifier=identifier)

        jobs.append(_Job("phase-workbook", phase, identifier, params, None, workbook=data))
    return jobs, notes
