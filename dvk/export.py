"""Ledger → view models → files: what `dvk export` writes, how each file is recorded, and
`dvk verify-doc`'s check of a file against the ledger.

The document layer (`dvk.reports`) is pure: it renders frozen view models.  This module reads a
year (or a phase) from the ledger inside one read snapshot, builds those view models — grouping
"I. Tập thể" (configured unit order, then registration order) and "II. Cá nhân" (given name,
middle names, family name, Vietnamese collation), scores with a decimal comma, the letterhead of
the organisation profile in force — writes the files, and records every file (name, kind, year or
phase, decision, SHA-256, and the few settings it was rendered with) in the `document` table in
one history record.

Decisions a clerk should know (also in `dvk export --help`):

* The recognition decision is written only when the year has a decision in force (after
  `dvk recognize`).  Without one, every other file is still written and a note says why the
  decision is missing; the command succeeds.
* The date printed on a document is `--date`; by default the decision's date when the year has
  one, otherwise today.  It is recorded with the file, so the same ledger state always renders
  the same bytes and `verify-doc` can render the file again.
* `--pdf` without LibreOffice: the Word files are written and recorded, a note says how to install
  LibreOffice, and the command still succeeds (exit 0).
* Existing files are never replaced without `--force`; with it the ledger and the files about to
  be replaced are first copied by `db.backup_before_overwrite`.

Workbooks are streamed: each sheet is fed by its own ordered pass over the year
(`ops.iter_year`), so a 100,000-entry year is never held in memory as rows of dicts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import tempfile
import tomllib
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from dvk import ops
from dvk import reports as rp
from dvk.criteria import CriteriaSet, fmt_score
from dvk.dates import doc_number, fmt_date
from dvk.db import Ledger
from dvk.errors import DvkError, InvalidInput, NotFound, OutputError
from dvk.history import table
from dvk.textnorm import clean, fold, sort_people

__all__ = [
    "FILE_KINDS",
    "Options",
    "Written",
    "ExportResult",
    "DocCheck",
    "DocumentMismatch",
    "export_year",
    "export_phase",
    "verify_document",
    "demo_documents",
    "letterhead_for",
    "file_name",
    "read_identifier",
]

#: kind -> (file name pattern, what it is in Vietnamese).  ``{}`` is the year or the phase.
FILE_KINDS: dict[str, tuple[str, str]] = {
    "decision": ("quyet-dinh-cong-nhan-{}.docx", "Quyết định công nhận"),
    "registrations": ("danh-sach-dang-ky-{}.docx", "Danh sách đăng ký"),
    "score-sheets": ("phieu-cham-diem-{}.docx", "Phiếu chấm điểm"),
    "results": ("bao-cao-ket-qua-{}.docx", "Báo cáo kết quả"),
    "workbook": ("tong-hop-{}.xlsx", "Bảng tổng hợp năm (Excel)"),
    "reminder": ("cong-van-nhac-{}.docx", "Công văn đôn đốc"),
    "proposal": ("to-trinh-khen-thuong-{}.docx", "Tờ trình khen thưởng"),
    "phase-workbook": ("tong-hop-{}.xlsx", "Bảng tổng hợp giai đoạn (Excel)"),
}
YEAR_KINDS = ("decision", "registrations", "score-sheets", "results", "workbook", "reminder")
DECISION_KINDS = ("decision", "results", "workbook")  # files whose content depends on the decision
PHASE_KINDS = ("proposal", "phase-workbook")

#: Word documents are for print: a list longer than this is left to the Excel workbook (docxtpl
#: builds a document in memory, about 30 MB per 1,000 rows; 100,000 rows take minutes and GBs).
WORD_MAX_ROWS = 20_000
#: Score sheets (one page each, per member) beyond this are printed once with a blank name line.
SCORE_MAX_SHEETS = 5_000

COLLECTIVES = "Tập thể"
INDIVIDUALS = "Cá nhân"
INSTALL_LIBREOFFICE = ("sudo apt-get install libreoffice-writer-nogui fonts-liberation "
                       "(Windows/macOS: cài LibreOffice từ https://www.libreoffice.org)")
_PHASE_RE = re.compile(r"^\s*(\d{4})\s*[-–]\s*(\d{4})\s*$")


def _n(n: int) -> str:
    """100000 -> "100.000" (Vietnamese thousands separator)."""
    return f"{n:,}".replace(",", ".")


def file_name(kind: str, key: int | str) -> str:
    """The file name of a document: ``file_name("decision", 2025)`` -> "quyet-dinh-cong-nhan-2025.docx"."""
    return FILE_KINDS[kind][0].format(key)


# --------------------------------------------------------------------------- options and results


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


@dataclass(frozen=True)
class Written:
    """One file written by an export."""

    path: Path
    kind: str
    sha256: str
    warnings: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        label = FILE_KINDS[self.kind][1]
        return f"{label} (PDF)" if self.path.suffix.lower() == ".pdf" else label


@dataclass
class ExportResult:
    """What an export did: the files written (in order), notes for the clerk, and the folder of
    Word templates used instead of the packaged ones (``templates_dir``) with the templates that
    came from it (``templates_used``)."""

    files: list[Written] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    templates_dir: Path | None = None
    templates_used: list[str] = field(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        return [f"{f.path.name}: {w}" for f in self.files for w in f.warnings]

    def as_dict(self) -> dict:
        return {"files": [{"path": str(f.path), "kind": f.kind, "sha256": f.sha256, "warnings": list(f.warnings)}
                          for f in self.files],
                "notes": list(self.notes),
                "templates": {"folder": str(self.templates_dir) if self.templates_dir else None,
                              "files": list(self.templates_used)}}


class DocumentMismatch(DvkError):
    """`verify-doc`: the file is unknown, was modified, or no longer matches the ledger."""


# --------------------------------------------------------------------------- letterhead


def _collective_of(on_behalf: str) -> str:
    """"TM. BAN THƯỜNG VỤ" -> "Ban Thường vụ" (the body the signer signs for); "" otherwise."""
    m = re.match(r"^\s*(?:TM|T/M)\s*\.?\s*(.+)$", on_behalf or "", flags=re.IGNORECASE)
    if not m:
        return ""
    words = m.group(1).split()
    return " ".join([w.capitalize() for w in words[:2]] + [w.lower() for w in words[2:]])


def _members_name(units: Mapping[str, Mapping]) -> str:
    """How Điều 3 names the member units, from what they are called in the ledger."""
    names = [fold(u.get("name") or "") for u in units.values()]
    if not names:
        return "các đơn vị trực thuộc"
    groups = sum(n.startswith("to cong doan") for n in names)
    unions = sum(n.startswith(("cong doan", "cdcs")) for n in names)
    if groups * 2 > len(names):
        return "các tổ công đoàn trực thuộc"
    if unions * 2 > len(names):
        return "các Công đoàn cơ sở trực thuộc"
    return "các đơn vị trực thuộc"


def _is_as_article(line: str) -> bool:
    return bool(re.match(r"^\s*[-–•]?\s*như\s+điều", line, flags=re.IGNORECASE))


def letterhead_for(profile: Mapping[str, Any], units: Mapping[str, Mapping]) -> rp.Letterhead:
    """The letterhead of an organisation profile (``ops.profile_for``).

    The recipients kept here are those that suit any document ("Như Điều 3" belongs to the
    decision only and is added there).
    """
    org = profile["org"]
    collective = _collective_of(profile.get("on_behalf") or "")
    recipients = tuple(r for r in profile.get("recipients") or () if r and not _is_as_article(r))
    return rp.Letterhead(
        parent_org=profile["parent_org"], org=org, symbol=profile["symbol"], place=profile["place"],
        signer=profile["signer"], signer_title=profile["signer_title"], on_behalf=profile.get("on_behalf") or "",
        recipients=recipients, issuer_name=f"{collective} {org}" if collective else org,
        members_name=_members_name(units),
    )


def _names_body(line: str, body: str) -> bool:
    """Whether a "Nơi nhận" line names `body`, in full or by its usual initials ("LĐLĐ tỉnh")."""
    from dvk.textnorm import fold

    if fold(body) in fold(line):
        return True
    words = body.split()
    cut = next((i for i, w in enumerate(words) if w.lower() in ("tỉnh", "thành", "huyện", "quận", "thị")), len(words))
    initials = "".join(w[0] for w in words[:cut]).upper()
    return len(initials) >= 2 and re.search(rf"\b{re.escape(initials)}\b", line) is not None


def _decision_recipients(profile: Mapping[str, Any]) -> tuple[str, ...]:
    items = [r for r in profile.get("recipients") or () if r]
    first = [r for r in items if _is_as_article(r)] or ["Như Điều 3"]
    return tuple(first + [r for r in items if not _is_as_article(r)])


def _criteria_source(crit: CriteriaSet) -> str:
    """The guidance the criteria come from (``source`` in the criteria file), e.g. "Công văn số
    69/CĐN ngày 14/5/2021 của Ban Thường vụ Công đoàn ngành Y tế tỉnh Đồng Nai"; "" if none."""
    try:
        return clean(str(tomllib.loads(crit.text).get("source") or "")) or ""
    except (tomllib.TOMLDecodeError, TypeError):
        return ""


def _legal_bases(crit: CriteriaSet, lh: rp.Letterhead) -> tuple[str, ...]:
    source = _criteria_source(crit)
    guide = (f"hướng dẫn tiêu chí xây dựng và xét chọn mô hình, điển hình “Dân vận khéo” giai đoạn "
             f"{crit.phase}")
    second = f"Căn cứ {source} về việc {guide};" if source else f"Căn cứ {guide};"
    return ("Căn cứ Điều lệ Công đoàn Việt Nam;", second,
            f"Xét đề nghị của Hội đồng Thi đua - Khen thưởng {lh.org},")


# --------------------------------------------------------------------------- rows and groups


def _subject_text(e: Mapping, unit_name: str) -> str:
    """"Họ tên, chức vụ" for a person; "Tập thể" for a collective.

    The ledger knows a collective only through its unit, which has its own column: repeating the
    unit's long name in the "Tập thể/Cá nhân" column doubled every row of the printed lists.
    """
    if e["subject"] == "individual":
        person = e.get("person") or ""
        return f"{person}, {e['position']}" if e.get("position") else person
    return COLLECTIVES


def _note(e: Mapping) -> str:
    if e.get("sudden"):
        return "Đột xuất"
    if e.get("late"):
        return "Đăng ký muộn"
    return ""


@dataclass
class _Sorted:
    """Rows with what the official order needs (kept small: no entry dicts)."""

    collectives: list[tuple[tuple, rp.ListRow]] = field(default_factory=list)
    individuals: list[tuple[tuple, str, rp.ListRow]] = field(default_factory=list)

    def add(self, e: Mapping, rank: int, row: rp.ListRow) -> None:
        key = (rank, e["year"], e["seq"])
        if e["subject"] == "individual":
            self.individuals.append((key, e.get("person") or "", row))
        else:
            self.collectives.append((key, row))

    def __len__(self) -> int:
        return len(self.collectives) + len(self.individuals)

    def groups(self, *, by_year: bool = False) -> tuple[rp.Group, rp.Group]:
        """"Tập thể" in unit order (then registration order); "Cá nhân" by given name, middle
        names, family name (Vietnamese collation).  With ``by_year`` collectives go year by year."""
        if by_year:
            coll = sorted(self.collectives, key=lambda p: (p[0][1], p[0][0], p[0][2]))
        else:
            coll = sorted(self.collectives, key=lambda p: p[0])
        ind = sort_people(sorted(self.individuals, key=lambda p: p[0]), key=lambda p: p[1])
        return (rp.Group(COLLECTIVES, tuple(r for _, r in coll)),
                rp.Group(INDIVIDUALS, tuple(r for _, _, r in ind)))

    def flat(self) -> list[rp.ListRow]:
        c, i = self.groups()
        return list(c.rows) + list(i.rows)


# --------------------------------------------------------------------------- reading a year


@dataclass
class _YearState:
    """One pass over a year: everything the Word documents need (the workbook streams apart)."""

    ctx: ops.YearContext
    profile: dict
    lh: rp.Letterhead
    unit_rank: dict[str, int]
    registrations: _Sorted = field(default_factory=_Sorted)
    recognized: _Sorted = field(default_factory=_Sorted)
    ready: _Sorted = field(default_factory=_Sorted)
    not_recognized: list[rp.NotRecognizedRow] = field(default_factory=list)
    missing: dict[str, list[rp.ReminderItem]] = field(default_factory=dict)
    members: set[str] = field(default_factory=set)
    stage: dict[str, dict[str, int]] = field(default_factory=dict)
    by_field: dict[int, list[int]] = field(default_factory=dict)  # field -> [registered, recognized]
    by_unit_field: dict[str, list[int]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def year(self) -> int:
        return self.ctx.year

    @property
    def crit(self) -> CriteriaSet:
        return self.ctx.crit

    @property
    def decision(self) -> dict | None:
        return self.ctx.decision

    def unit_name(self, code: str) -> str:
        return (self.ctx.units.get(code) or {}).get("name") or code

    def decision_ref(self) -> str:
        d = self.decision
        return "" if d is None else f"{doc_number(d['number'])}/QĐ-{self.lh.symbol} ngày {fmt_date(d['decided_on'])}"


def _reasons_text(reasons: Iterable[str]) -> str:
    """The gates' reasons as one sentence: "Chưa có báo cáo thành tích; chưa có xác nhận …"."""
    parts = [r.strip().rstrip(".;") for r in reasons if r and r.strip()]
    parts = parts[:1] + [p[:1].lower() + p[1:] for p in parts[1:]]
    return "; ".join(parts) + "." if parts else ""


def _unit_missing(ctx: ops.YearContext, b: ops.Bundle, ev) -> list[str]:
    """What the unit itself still owes for an entry (report, confirmation), in the letter's words."""
    items = [m for m in ops.missing_items(ctx, b) if not m.startswith("chấm điểm")]
    conf = b.confirmation
    if conf and not conf["rejected"]:
        gate = next((g for g in ev.gates if g.code == "confirmation"), None)
        if gate is not None and not gate.ok:
            items.append(f"xác nhận của cấp ủy cùng cấp (đã có xác nhận của “{conf['committee']}”)")
    return items


def _read_year(conn: Connection, year: int, *, decision: dict | None = None,
               before_decision: bool = False) -> _YearState:
    """One pass over the year; ``decision`` replaces the decision in force (to render a revoked
    one); ``before_decision`` reads the year as it stood before any decision (the records a
    decision adds are its outcomes only, so that state is exactly reproducible)."""
    ctx = ops.year_context(conn, ops.check_year(year))
    if decision is not None:
        ctx.decision = decision
        ctx.units = ops.units_of_decision(conn, decision)  # a revoked decision's document: its own units
    if before_decision:
        ctx.decision = None
    profile = ops.profile_for(conn, year)
    units = ctx.units
    st = _YearState(ctx, profile, letterhead_for(profile, units), {c: i for i, c in enumerate(units)})
    st.stage = {code: {s: 0 for s in ops.STAGES} for code in units}
    nfields = [f.number for f in ctx.crit.fields]
    st.by_field = {n: [0, 0] for n in nfields}
    st.by_unit_field = {code: [0] * len(nfields) for code in units}
    fidx = {n: i for i, n in enumerate(nfields)}
    counts = {"late": 0, "sudden": 0, **{s: 0 for s in ops.STAGES}}  # "registered": every entry
    for b, ev in ops.judged(conn, ctx, full=False):
        e = b.entry
        code = e["unit_code"]
        rank = st.unit_rank.get(code, len(st.unit_rank))
        uname = st.unit_name(code)
        subject = _subject_text(e, uname)
        counts["late"] += bool(e["late"])
        counts["sudden"] += bool(e["sudden"])
        reached = ops.reached(b)
        unit_stage = st.stage.setdefault(code, {s: 0 for s in ops.STAGES})
        for s in reached:
            counts[s] += 1
            unit_stage[s] += 1
        f = st.by_field.setdefault(e["field"], [0, 0])
        f[0] += 1
        if e["field"] in fidx:
            st.by_unit_field.setdefault(code, [0] * len(nfields))[fidx[e["field"]]] += 1
        st.members.update(b.scores)
        st.registrations.add(e, rank, rp.ListRow(
            title=e["title"], subject_text=subject, unit=uname, field=str(e["field"]), note=_note(e),
            code=e["id"], date=fmt_date(e["registered_on"]) if e["registered_on"] else ""))
        if b.outcome is not None:
            ok, score, reasons = b.outcome["recognized"], b.outcome["score"], b.outcome["reasons"]
        else:
            ok, score, reasons = ev.eligible, ev.score_float, ev.reasons
        if st.decision is None or b.outcome is not None:
            if ok:
                f[1] += 1
                st.recognized.add(e, rank, rp.ListRow(
                    title=e["title"], subject_text=subject, unit=uname, field=str(e["field"]),
                    score=fmt_score(score) if score is not None else "", note="Đột xuất" if e["sudden"] else "",
                    code=e["id"]))
            else:
                st.not_recognized.append(rp.NotRecognizedRow(code=e["id"], title=e["title"], unit=uname,
                                                             reasons=_reasons_text(reasons)))
        conf = b.confirmation
        if b.report is not None and conf is not None and not conf["rejected"]:
            st.ready.add(e, rank, rp.ListRow(title=e["title"], subject_text=subject, unit=uname,
                                             field=str(e["field"]), code=e["id"]))
        if st.decision is None:
            items = _unit_missing(ctx, b, ev)
            if items:
                st.missing.setdefault(code, []).append(rp.ReminderItem(e["id"], e["title"], "; ".join(items)))
    st.counts = counts
    return st


# --------------------------------------------------------------------------- view models of a year


def _decision_doc(st: _YearState, on: dt.date) -> rp.DecisionDoc:
    d = st.decision
    assert d is not None
    return rp.DecisionDoc(
        letterhead=st.lh, year=st.year, number=doc_number(d["number"]), issued_on=d["decided_on"],
        groups=st.recognized.groups(), legal_bases=_legal_bases(st.crit, st.lh),
        recipients=_decision_recipients(st.profile), phase=st.crit.phase)


def _registration_doc(st: _YearState, on: dt.date) -> rp.RegistrationListDoc:
    return rp.RegistrationListDoc(
        letterhead=st.lh, year=st.year, issued_on=on, groups=st.registrations.groups(),
        late_count=st.counts["late"], sudden_count=st.counts["sudden"])


def _num(x) -> str:
    f = float(x)
    return str(int(f)) if f == int(f) else f"{f:g}".replace(".", ",")


def _criteria(crit: CriteriaSet) -> tuple[rp.Criterion, ...]:
    return tuple(rp.Criterion(c.code, c.title, _num(c.weight)) for c in crit.criteria)


def _instructions(crit: CriteriaSet) -> str:
    step = _num(10 ** -crit.decimals) if crit.decimals else "1"
    na = [c.code for c in crit.criteria if c.allow_na]
    na_text = f"; tiêu chí {_code_span(na)} nếu không áp dụng thì ghi “KAD”" if na else ""
    return (f"Ghi chú: mỗi tiêu chí chấm từ {_num(crit.scale_min)} đến {_num(crit.scale_max)} điểm "
            f"(lẻ đến {step}){na_text}. Điểm đạt: {_num(crit.pass_mark)}/100 (quy đổi theo trọng số).")


def _code_span(codes: Sequence[str]) -> str:
    """"S1, S2, S3, S4" -> "S1–S4" when the codes run without gaps; else listed."""
    m = [re.fullmatch(r"([A-Za-z]*)(\d+)", c) for c in codes]
    if len(codes) > 2 and all(m) and len({x.group(1) for x in m}) == 1:
        nums = [int(x.group(2)) for x in m]
        if nums == list(range(nums[0], nums[0] + len(nums))):
            return f"{codes[0]}–{codes[-1]}"
    return ", ".join(codes)


def _score_doc(st: _YearState, on: dt.date, members: Sequence[str]) -> rp.ScoreSheetDoc:
    crit = st.crit
    criteria = _criteria(crit)
    total = _num(sum(c.weight for c in crit.criteria))
    entries = tuple(
        rp.ScoreSheetEntry(code=r.code, title=r.title, unit=r.unit, subject_text=r.subject_text,
                           field=f"{r.field}. {crit.field_short(int(r.field))}", criteria=criteria,
                           total_weight=total)
        for r in st.ready.flat())
    return rp.ScoreSheetDoc(letterhead=st.lh, year=st.year, entries=entries, members=tuple(members),
                            instructions=_instructions(crit))


def _results_doc(st: _YearState, on: dt.date) -> rp.ResultsReportDoc:
    crit = st.crit
    units = tuple(
        rp.UnitCountRow(unit=st.unit_name(code), registered=s["registered"], reported=s["reported"],
                        confirmed=s["confirmed"], scored=s["scored"], recognized=s["recognized"],
                        not_recognized=s["not_recognized"])
        for code, s in st.stage.items())
    fields = tuple(rp.FieldCountRow(field=f"{f.number}. {f.short}", registered=st.by_field.get(f.number, [0, 0])[0],
                                    recognized=st.by_field.get(f.number, [0, 0])[1])
                   for f in crit.fields)
    c = st.counts
    n_rec = len(st.recognized)
    ref = st.decision_ref()
    return rp.ResultsReportDoc(
        letterhead=st.lh, year=st.year, number="", issued_on=on, registered=c["registered"], late=c["late"],
        sudden=c["sudden"], reported=c["reported"], confirmed=c["confirmed"], scored=c["scored"],
        recognized=n_rec, not_recognized=len(st.not_recognized), units=units, fields=fields,
        recognized_groups=st.recognized.groups(), not_recognized_rows=tuple(st.not_recognized),
        decision_ref=f"Quyết định số {ref}" if ref else "")


def _deadline(st: _YearState, on: dt.date, given: dt.date | None) -> dt.date:
    if given is not None:
        return given
    default = st.crit.recognition_day(st.year) - dt.timedelta(days=15)
    return max(default, on + dt.timedelta(days=7))


def _reminder_doc(st: _YearState, on: dt.date, deadline: dt.date) -> rp.ReminderDoc:
    units = tuple(rp.ReminderUnit(st.unit_name(code), tuple(items))
                  for code, items in sorted(st.missing.items(), key=lambda kv: st.unit_rank.get(kv[0], 1 << 30)))
    return rp.ReminderDoc(letterhead=st.lh, year=st.year, number="", issued_on=on, units=units,
                          deadline=fmt_date(deadline))


# --------------------------------------------------------------------------- the year's workbook (streamed)


def _field_label(crit: CriteriaSet, n: int) -> str:
    return f"{n}. {crit.field_short(n)}"


def _iter_registrations(conn: Connection, ctx: ops.YearContext) -> Iterator[rp.RegistrationRecord]:
    units = ctx.units
    for b in ops.iter_year(conn, ctx, full=False, marks=False):
        e = b.entry
        uname = (units.get(e["unit_code"]) or {}).get("name") or e["unit_code"]
        person = e["subject"] == "individual"
        yield rp.RegistrationRecord(
            code=e["id"], unit=uname, title=e["title"], subject_kind=ops.SUBJECTS.get(e["subject"], e["subject"]),
            subject_name=(e.get("person") or "") if person else uname, position=e.get("position") or "",
            field=_field_label(ctx.crit, e["field"]), registered_on=e["registered_on"], late=bool(e["late"]),
            sudden=bool(e["sudden"]), note=e.get("note") or "")


def _iter_reports(conn: Connection, ctx: ops.YearContext) -> Iterator[rp.ReportRecord]:
    units = ctx.units
    for b in ops.iter_year(conn, ctx, full=True, marks=False):
        r = b.report
        if r is None:
            continue
        e = b.entry
        yield rp.ReportRecord(
            code=e["id"], unit=(units.get(e["unit_code"]) or {}).get("name") or e["unit_code"], title=e["title"],
            received_on=r.get("reported_on"), approach=r.get("approach") or "", experience=r.get("experience") or "",
            spread=r.get("spread") or "", effectiveness=r.get("effectiveness") or "",
            sustainability=r.get("sustainability") or "",
            note=f"Tệp: {Path(r['file_path']).name}" if r.get("file_path") else "")


def _iter_confirmations(conn: Connection, ctx: ops.YearContext) -> Iterator[rp.ConfirmationRecord]:
    from dvk.criteria import _same_committee  # the gate's own test of "the same level"

    units = ctx.units
    for b in ops.iter_year(conn, ctx, full=False, marks=False):
        c = b.confirmation
        if c is None:
            continue
        e = b.entry
        unit_committee = (units.get(e["unit_code"]) or {}).get("committee")
        same = not c["rejected"] and (not unit_committee or _same_committee(c["committee"], unit_committee))
        comment = c.get("comment") or ""
        if c["rejected"]:
            comment = f"Không xác nhận: {c.get('reason') or ''}".strip()
        yield rp.ConfirmationRecord(
            code=e["id"], unit=(units.get(e["unit_code"]) or {}).get("name") or e["unit_code"], title=e["title"],
            committee=c["committee"], same_level=same, confirmed_on=c.get("confirmed_on"), comment=comment)


def _iter_scores(conn: Connection, ctx: ops.YearContext) -> Iterator[rp.ScoreRecord]:
    codes = ctx.crit.codes
    for b, ev in ops.judged(conn, ctx, full=False):
        if not b.scores:
            continue
        e = b.entry
        for member in sort_people(b.scores):
            marks = b.scores[member]
            row = tuple(("KAD" if marks[c] is None else marks[c]) if c in marks else None for c in codes)
            total = ev.member_totals.get(member)
            yield rp.ScoreRecord(code=e["id"], title=e["title"], member=member, marks=row,
                                 score=None if total is None else round(total, 2))
        score = b.outcome["score"] if b.outcome is not None else ev.score_float
        yield rp.ScoreRecord(code=e["id"], title=e["title"], score=score, aggregate=True)


def _iter_results(conn: Connection, ctx: ops.YearContext, decision_ref: str) -> Iterator[rp.ResultRecord]:
    units = ctx.units
    # A decided year's outcomes carry score and reasons: no need to judge the entries again.
    pairs = ((b, None) for b in ops.iter_year(conn, ctx, full=False, marks=False)) if ctx.decision is not None \
        else ops.judged(conn, ctx, full=False)
    for b, ev in pairs:
        e = b.entry
        uname = (units.get(e["unit_code"]) or {}).get("name") or e["unit_code"]
        if b.outcome is not None:
            score, reasons = b.outcome["score"], b.outcome["reasons"]
        elif ev is not None:
            score, reasons = ev.score_float, ev.reasons
        else:  # registered after the decision: not judged by it
            score, reasons = None, []
        yield rp.ResultRecord(
            code=e["id"], unit=uname, title=e["title"], subject_text=_subject_text(e, uname),
            field=_field_label(ctx.crit, e["field"]), status=ops.STATUSES[ops.status_of(b)], score=score,
            reasons=_reasons_text(reasons), decision=decision_ref if b.outcome is not None else "")


def _workbook_data(conn: Connection, st: _YearState, on: dt.date, identifier: str) -> rp.YearWorkbookData:
    ctx = st.ctx
    crit = st.crit
    unit_counts = [rp.UnitFieldCount(st.unit_name(code), tuple(counts)) for code, counts in st.by_unit_field.items()]
    ref = st.decision_ref()
    return rp.YearWorkbookData(
        year=st.year, author=st.lh.org, generated_on=on,
        registrations=_iter_registrations(conn, ctx), reports=_iter_reports(conn, ctx),
        confirmations=_iter_confirmations(conn, ctx), scores=_iter_scores(conn, ctx),
        results=_iter_results(conn, ctx, f"{ref}" if ref else ""),
        unit_counts=unit_counts, fields=[_field_label(crit, f.number) for f in crit.fields],
        score_criteria=_criteria(crit), identifier=identifier)


# --------------------------------------------------------------------------- jobs


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

    def write(self, conn: Connection, path: Path, *, templates: Path | None, force: bool) -> rp.RenderResult:
        if self.template is not None:
            return rp.render_docx(self.template, self.vm, path, templates_dir=templates, force=force,
                                  identifier=self.identifier)
        which, data = self.workbook(conn)
        writer = rp.write_year_workbook if which == "year" else rp.write_phase_workbook
        return writer(path, data, force=force)

    def digest(self, conn: Connection, *, templates: Path | None) -> str:
        """The SHA-256 of the file this job renders now (in memory for Word; a temporary file for Excel)."""
        if self.template is not None:
            data, _ = rp.render_docx_bytes(self.template, self.vm, templates_dir=templates,
                                           identifier=self.identifier)
            return hashlib.sha256(data).hexdigest()
        with tempfile.TemporaryDirectory(prefix="dvk-verify-") as tmp:
            return self.write(conn, Path(tmp) / self.name, templates=templates, force=False).sha256


def _identifier(ledger_id: str, kind: str, key: int | str, number: str = "") -> str:
    return f"dvk:{ledger_id}:{kind}:{key}:{number}"


def _ledger_id(conn: Connection) -> str:
    return ops.get_setting(conn, "ledger_id") or "?"


def _doc_date(st: _YearState, opts: Options) -> dt.date:
    if opts.on is not None:
        return opts.on
    if st.decision is not None:
        return st.decision["decided_on"]
    return ops.today()


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
        known = ", ".join(str(y) for y in ops.years(conn)) or "chưa có năm nào"
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
            job("decision", {"on": dec["decided_on"].isoformat()}, template=rp.DecisionDoc.template_name,
                vm=_decision_doc(st, on))
    if "registrations" in kinds and fits("registrations", len(st.registrations)):
        job("registrations", template=rp.RegistrationListDoc.template_name, vm=_registration_doc(st, on))
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
            job("score-sheets", {"members": list(members)}, template=rp.ScoreSheetDoc.template_name,
                vm=_score_doc(st, on, members))
    if "results" in kinds and fits("results", len(st.recognized) + len(st.not_recognized)):
        if dec is None:
            notes.append(f"Năm {year} chưa có quyết định: báo cáo kết quả nêu kết quả dự kiến theo điểm hiện có.")
        job("results", template=rp.ResultsReportDoc.template_name, vm=_results_doc(st, on))
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
            job("reminder", {"deadline": deadline.isoformat()}, template=rp.ReminderDoc.template_name,
                vm=_reminder_doc(st, on, deadline))
    return jobs, notes


# --------------------------------------------------------------------------- the phase


def parse_phase(phase: str) -> tuple[str, list[int]]:
    """"2021-2025" -> ("2021-2025", [2021, …, 2025]); InvalidInput otherwise."""
    m = _PHASE_RE.match(phase or "")
    if not m or not (int(m.group(1)) <= int(m.group(2)) <= int(m.group(1)) + 10):
        raise InvalidInput(f"Giai đoạn “{phase}” không hợp lệ; ghi dạng NĂM-NĂM, ví dụ 2021-2025.")
    a, b = int(m.group(1)), int(m.group(2))
    ops.check_year(a)
    ops.check_year(b)
    return f"{a}-{b}", list(range(a, b + 1))


def _phase_jobs(conn: Connection, phase: str, opts: Options, *,
                kinds: Sequence[str] = PHASE_KINDS) -> tuple[list[_Job], list[str]]:
    phase, years = parse_phase(phase)
    ledger_id = _ledger_id(conn)
    on = opts.on or ops.today()
    notes: list[str] = []
    proposed = _Sorted()
    summary: list[rp.YearSummaryRow] = []
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
            summary.append(rp.YearSummaryRow(str(y), registered, 0, 0))
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
        summary.append(rp.YearSummaryRow(str(y), registered, n, n))
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
            profile = ops.profile_for(conn, on.year)
            lh = letterhead_for(profile, {u["code"]: u for u in ops.list_units(conn)})
            addressee = f"Ban Thường vụ {lh.parent_org}"
            # "Như trên" already sends it to the addressee: drop lines that name the parent body again.
            lh = dataclasses.replace(lh, recipients=tuple(
                r for r in lh.recipients if not _names_body(r, lh.parent_org)))
            vm = rp.ProposalDoc(letterhead=lh, phase=phase, number="", issued_on=on, addressee=addressee,
                                groups=proposed.groups(by_year=True), years=tuple(summary))
            jobs.append(_Job("proposal", phase, _identifier(ledger_id, "proposal", phase), params, None,
                             template=rp.ProposalDoc.template_name, vm=vm))
    if "phase-workbook" in kinds:
        author = ops.profile_for(conn, on.year)["org"]
        identifier = _identifier(ledger_id, "phase-workbook", phase)

        def data(c: Connection) -> tuple[str, Any]:
            pys = []
            for y in years:
                st = states[y]
                reg, rec, nrec = counts[y]
                ref = st.decision_ref()
                pys.append(rp.PhaseYear(y, registered=reg, recognized=rec, not_recognized=nrec,
                                        results=_iter_results(c, st.ctx, ref)))
            return "phase", rp.PhaseWorkbookData(phase, author, on, pys, identifier=identifier)

        jobs.append(_Job("phase-workbook", phase, identifier, params, None, workbook=data))
    return jobs, notes


# --------------------------------------------------------------------------- running an export
#
# The invariant: no file appears under its final name unless the ledger records it.  Everything
# that can be checked is checked before the first byte is written (the templates, the out folder,
# that the ledger can be written); every file is then written under a hidden staging folder inside
# the out folder, the files are recorded in one write transaction, and only after it commits are
# they renamed to their final names.  A failure before the commit removes the staging folder; a
# staging folder left by a killed export is removed by the next export into that folder.

NOTHING_WRITTEN = "Chưa ghi văn bản nào; sổ không thay đổi."
_STAGING_PREFIX = ".dvk-export-"
_STAGING_SUFFIX = ".tmp"
_STAGING_UNLOCKED_STALE = 3600.0  # seconds, where no file lock can tell a live export from a dead one


def _shown(path: Path | str) -> str:
    """A path as it can be printed: bytes that are not UTF-8 appear as “�”."""
    return os.fsencode(path).decode("utf-8", "replace")


def _check_utf8_name(path: Path, what: str) -> None:
    """A folder name the ledger can record (and a terminal can print): valid UTF-8."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(
            f"Tên {what} “{_shown(path)}” có ký tự không phải chữ Unicode (UTF-8) nên không ghi được vào sổ; "
            f"hãy dùng thư mục có tên bằng chữ Unicode. {NOTHING_WRITTEN}") from None


def _templates_dir(led: Ledger, given: Path | None) -> Path | None:
    """--templates, else a "templates" folder beside the ledger, else None (packaged templates)."""
    if given is not None:
        p = Path(given).expanduser()
        _check_utf8_name(p, "thư mục mẫu văn bản")
        if not p.is_dir():
            raise InvalidInput(f"Không tìm thấy thư mục mẫu văn bản “{given}”.")
        return p.resolve()
    beside = Path(led.path).resolve().parent / "templates"
    if not beside.is_dir():
        return None
    _check_utf8_name(beside, "thư mục mẫu văn bản")
    return beside


def _check_templates(jobs: Sequence[_Job], folder: Path | None) -> tuple[list[str], bool]:
    """Check every Word template the jobs use (the sandbox rules and placeholders) before anything
    is written.  Returns the templates taken from ``folder`` and whether a packaged one is used."""
    custom: list[str] = []
    packaged = False
    for j in jobs:
        if j.template is None:
            continue
        path = rp.check_view_model_template(j.template, j.vm, folder)
        if folder is not None and path.parent == folder:
            if j.template not in custom:
                custom.append(j.template)
        else:
            packaged = True
    return custom, packaged


def _templates_note(folder: Path, given: bool, custom: Sequence[str], packaged: bool) -> str:
    source = "--templates" if given else "thư mục templates cạnh sổ"
    if not custom:
        return (f"Thư mục mẫu văn bản “{folder}” ({source}) không có mẫu nào trùng tên mẫu của dvk: "
                "dùng mẫu có sẵn của dvk.")
    rest = "; các văn bản khác dùng mẫu có sẵn của dvk" if packaged else ""
    return f"Dùng mẫu văn bản riêng trong thư mục “{folder}” ({source}): {', '.join(custom)}{rest}."


class _Probe(Exception):
    """Rolls back the probe transaction of `_check_ledger_writable`."""


def _check_ledger_writable(led: Ledger, *, user: str, command: str, summary: str) -> None:
    """Open and roll back a write transaction (it records nothing): a read-only ledger, a full disk
    or a command line the history cannot store is refused before any file is written."""
    try:
        with led.write(user=user, command=command, summary=summary):
            raise _Probe
    except _Probe:
        pass
    except DvkError as exc:
        exc.message = f"{exc.message} Chưa ghi văn bản nào."
        raise


def _make_out(out: Path) -> list[Path]:
    """Create the out folder (and its missing parents); returns the folders created, deepest first."""
    from dvk.db import os_reason

    created: list[Path] = []
    p = out
    while not p.exists() and p != p.parent:
        created.append(p)
        p = p.parent
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"Không tạo được thư mục “{out}”: {os_reason(exc)}. {NOTHING_WRITTEN}") from None
    return created


def _remove_created(created: Sequence[Path]) -> None:
    for folder in created:
        try:
            folder.rmdir()
        except OSError:
            return


def _lock(path: Path) -> int | None:
    """Open ``path`` and hold an exclusive lock on it; None if another live process holds it.
    (Without fcntl, e.g. on Windows, the file is only opened: staleness is then judged by age.)"""
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        import fcntl
    except ImportError:
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _has_flock() -> bool:
    try:
        import fcntl  # noqa: F401
    except ImportError:
        return False
    return True


class _Staging:
    """The hidden folder inside the out folder where an export writes its files before the ledger
    records them; held by a file lock while the export runs."""

    def __init__(self, out: Path) -> None:
        from dvk.db import os_reason

        self.out = out
        try:
            self.path = Path(tempfile.mkdtemp(prefix=_STAGING_PREFIX, suffix=_STAGING_SUFFIX, dir=out))
            self._fd = _lock(self.path / ".lock")
        except OSError as exc:
            raise OutputError(f"Không ghi được vào thư mục “{out}”: {os_reason(exc)}. {NOTHING_WRITTEN}") from None

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    @staticmethod
    def clean_stale(out: Path) -> None:
        """Remove staging folders of exports that were killed (their lock is free)."""
        import time

        try:
            candidates = [p for p in out.glob(f"{_STAGING_PREFIX}*{_STAGING_SUFFIX}")
                          if p.is_dir() and not p.is_symlink()]
        except OSError:
            return
        for p in candidates:
            try:
                age = time.time() - p.stat().st_mtime
                lock = p / ".lock"
                if not lock.exists():
                    if age > 60:  # killed between creating the folder and its lock
                        shutil.rmtree(p, ignore_errors=True)
                    continue
                fd = _lock(lock)
                if fd is None:
                    continue  # a live export
                try:
                    if _has_flock() or age > _STAGING_UNLOCKED_STALE:
                        shutil.rmtree(p, ignore_errors=True)
                finally:
                    os.close(fd)
            except OSError:
                continue


def _find_soffice() -> str | None:
    return rp._find_soffice()


def _state_mark(conn: Connection) -> int:
    ht = table("history")
    return conn.execute(select(func.max(ht.c.id))).scalar() or 0


def _write_staged(j: _Job, conn: Connection, staging: Path, out: Path, templates: Path | None) -> rp.RenderResult:
    """Render one job into the staging folder; a write error names the file and says why."""
    from dvk.db import os_reason

    try:
        return j.write(conn, staging / j.name, templates=templates, force=False)
    except OSError as exc:
        raise OutputError(f"Không ghi được tệp “{out / j.name}”: {os_reason(exc)}. {NOTHING_WRITTEN}") from None


def _publish_all(files: Sequence[tuple[Path, Path]], out: Path, *, force: bool) -> None:
    """Rename the staged files to their final names (after the ledger recorded them)."""
    from dvk.db import _fsync_dir, os_reason

    for src, dst in files:
        try:
            rp._publish(src, dst, force=force)
        except (OSError, rp.OutputExistsError) as exc:
            why = os_reason(exc) if isinstance(exc, OSError) else "tệp vừa xuất hiện ở đó trong lúc xuất"
            raise OutputError(f"Sổ đã ghi nhận các văn bản nhưng không đặt được tệp “{dst}” vào thư mục: {why}. "
                              "Chạy lại lệnh (thêm --force nếu tệp đã có) để ghi lại.") from None
    _fsync_dir(out)


def _run(led: Ledger, plan: Callable[[Connection, Options], tuple[list[_Job], list[str]]], out: Path,
         opts: Options, *, user: str, command: str, force: bool, pdf: bool, summary: str) -> ExportResult:
    out = Path(out).expanduser()
    _check_utf8_name(out, "thư mục ghi văn bản")
    if out.exists() and not out.is_dir():
        raise OutputError(f"“{out}” không phải là thư mục.")
    given = opts.templates is not None
    opts = dataclasses.replace(opts, templates=_templates_dir(led, opts.templates))
    soffice = _find_soffice() if pdf else None
    with led.read() as conn:
        jobs, notes = plan(conn, opts)
        mark = _state_mark(conn)
    result = ExportResult(notes=list(notes))
    try:
        custom, packaged = _check_templates(jobs, opts.templates)
    except DvkError as exc:
        exc.message = f"{exc.message} {NOTHING_WRITTEN}"
        raise
    if opts.templates is not None:
        result.templates_dir = opts.templates
        result.templates_used = custom
        if custom or packaged:  # some Word document is written
            result.notes.append(_templates_note(opts.templates, given, custom, packaged))
    if pdf and soffice is None:
        result.notes.append("Không tìm thấy LibreOffice (soffice) nên chưa xuất PDF; các tệp Word vẫn được ghi. "
                            f"Cài đặt: {INSTALL_LIBREOFFICE}")
    targets = [out / j.name for j in jobs]
    if soffice:
        targets += [out / (Path(j.name).stem + ".pdf") for j in jobs if j.template is not None]
    existing = [t for t in targets if t.exists()]
    if existing and not force:
        raise OutputError(f"Đã có {len(existing)} tệp trong “{out}”; không ghi đè văn bản đã có. "
                          "Chọn thư mục khác, hoặc dùng --force để ghi đè (sổ và các tệp cũ được sao lưu trước).",
                          details=[str(p) for p in existing])
    if not jobs:
        return result
    _check_ledger_writable(led, user=user, command=command, summary=summary)
    created = _make_out(out)
    try:
        _Staging.clean_stale(out)
        staging = _Staging(out)
    except BaseException:
        _remove_created(created)
        raise
    written: list[tuple[_Job, rp.RenderResult]] = []
    pdfs: list[tuple[_Job, Path, str]] = []
    try:
        if existing:
            from dvk.db import backup_before_overwrite

            kept = backup_before_overwrite(led, existing)
            result.notes.append(f"Đã sao lưu sổ và {len(existing)} tệp sắp bị ghi đè vào “{kept.parent}”.")
        try:
            with led.read() as conn:
                if _state_mark(conn) != mark:
                    raise OutputError("Sổ vừa có thay đổi trong lúc chuẩn bị văn bản; hãy chạy lại lệnh.")
                for j in jobs:
                    written.append((j, _write_staged(j, conn, staging.path, out, opts.templates)))
            if soffice:
                pdfs = _convert_all([(j, r) for j, r in written if j.template is not None], staging.path, out,
                                    result)
            _record(led, written, pdfs, user=user, command=command, summary=summary)
        except DvkError as exc:
            if NOTHING_WRITTEN not in exc.message:
                exc.message = f"{exc.message} {NOTHING_WRITTEN}"
            raise
        _publish_all([(r.path, out / j.name) for j, r in written]
                     + [(p, out / p.name) for _, p, _ in pdfs], out, force=force)
    except BaseException:
        staging.remove()
        if not any(t.exists() for t in targets):
            _remove_created(created)
        raise
    finally:
        staging.remove()
    for j, r in written:
        result.files.append(Written(out / j.name, j.kind, r.sha256, tuple(r.warnings)))
    for j, path, digest in pdfs:
        result.files.append(Written(out / path.name, j.kind, digest))
    return result


def _convert_all(items: list[tuple[_Job, rp.RenderResult]], staging: Path, out: Path,
                 result: ExportResult) -> list[tuple[_Job, Path, str]]:
    """Convert the staged Word files to PDF in the staging folder, a few LibreOffice processes at a
    time (each has its own profile).  A conversion LibreOffice cannot do is a note; a write error
    (a full disk) stops the export."""
    from concurrent.futures import ThreadPoolExecutor

    from dvk.db import os_reason

    def one(item):
        j, r = item
        try:
            return j, rp.docx_to_pdf(r.path, staging, force=False), r.sha256
        except rp.PdfConversionError as exc:
            return j, exc, r.sha256
        except OSError as exc:
            name = Path(j.name).stem + ".pdf"
            return j, OutputError(f"Không ghi được tệp “{out / name}”: {os_reason(exc)}."), r.sha256

    workers = max(1, min(4, os.cpu_count() or 1, len(items)))
    done: list[tuple[_Job, Path, str]] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = list(pool.map(one, items))
    for j, res, src in outcomes:
        if isinstance(res, OutputError) and not isinstance(res, rp.PdfConversionError):
            raise res
        if isinstance(res, Exception):
            result.notes.append(res.message if isinstance(res, DvkError) else str(res))
            continue
        done.append((j, res, src))
    return [(j, p, _sha256_file(p)) for j, p, _ in done] if done else []


def _sha256_file(path: Path) -> str:
    from dvk.files import sha256_file

    return sha256_file(path)


def _record(led: Ledger, written, pdfs, *, user: str, command: str, summary: str) -> None:
    """One history record listing every file written, with its SHA-256."""
    sources = {j.name: r.sha256 for j, r in written}
    with led.write(user=user, command=command, summary=summary) as tx:
        for j, r in written:
            tx.upsert("document", {"sha256": r.sha256, "name": j.name, "kind": j.kind,
                                   "year": j.key if isinstance(j.key, int) else None,
                                   "phase": j.key if isinstance(j.key, str) else None,
                                   "decision_id": j.decision_id,
                                   "params": json.dumps(j.params, ensure_ascii=False, sort_keys=True)})
        for j, path, digest in pdfs:
            tx.upsert("document", {"sha256": digest, "name": path.name, "kind": j.kind,
                                   "year": j.key if isinstance(j.key, int) else None,
                                   "phase": j.key if isinstance(j.key, str) else None,
                                   "decision_id": j.decision_id,
                                   "params": json.dumps({"pdf_of": sources[j.name]}, sort_keys=True)})


def export_year(led: Ledger, year: int, out: Path, opts: Options = Options(), *, user: str, command: str,
                force: bool = False, pdf: bool = False) -> ExportResult:
    """Write a year's documents into ``out`` and record them (see the module docstring)."""
    ops.check_year(year)
    return _run(led, lambda conn, o: _year_jobs(conn, year, o), out, opts, user=user, command=command,
                force=force, pdf=pdf, summary=f"Xuất văn bản năm {year}")


def export_phase(led: Ledger, phase: str, out: Path, opts: Options = Options(), *, user: str, command: str,
                 force: bool = False, pdf: bool = False) -> ExportResult:
    """Write the phase summary (reward proposal and workbook) into ``out`` and record them."""
    phase, _ = parse_phase(phase)
    return _run(led, lambda conn, o: _phase_jobs(conn, phase, o), out, opts, user=user, command=command,
                force=force, pdf=pdf, summary=f"Xuất văn bản tổng kết giai đoạn {phase}")


# --------------------------------------------------------------------------- verify-doc


def read_identifier(path: Path) -> str | None:
    """The "dvk:…" identifier in a .docx/.xlsx file's core properties, or None."""
    try:
        with zipfile.ZipFile(path) as z:
            xml = z.read("docProps/core.xml").decode("utf-8", "replace")
    except (zipfile.BadZipFile, KeyError, OSError):
        return None
    for tag in ("dc:identifier", "cp:keywords"):
        m = re.search(rf"<{tag}\b[^>]*>([^<]*)</{tag}>", xml)
        if m and m.group(1).startswith("dvk:"):
            return m.group(1)
    return None


@dataclass
class DocCheck:
    """What `verify-doc` found about a file."""

    path: Path
    sha256: str
    known: bool = False
    matches: bool = False
    kind: str | None = None
    year: int | None = None
    phase: str | None = None
    description: str = ""
    problems: list[str] = field(default_factory=list)
    identifier: str | None = None

    def as_dict(self) -> dict:
        return {"path": str(self.path), "sha256": self.sha256, "known": self.known, "matches": self.matches,
                "kind": self.kind, "year": self.year, "phase": self.phase, "description": self.description,
                "problems": list(self.problems), "identifier": self.identifier}


def _describe(conn: Connection, kind: str, year: int | None, phase: str | None, decision_id: int | None) -> str:
    label = FILE_KINDS.get(kind, ("", kind))[1]
    if kind == "decision" and decision_id is not None:
        d = table("decision")
        dec = conn.execute(select(d).where(d.c.id == decision_id)).mappings().first()
        if dec is not None:
            sym = ops.profile_for(conn, dec["year"])["symbol"]
            return (f"Quyết định số {doc_number(dec['number'])}/QĐ-{sym} ngày {fmt_date(dec['decided_on'])} "
                    f"công nhận mô hình, điển hình “Dân vận khéo” năm {dec['year']}")
    if year is not None:
        return f"{label} năm {year}"
    if phase is not None:
        return f"{label} giai đoạn {phase}"
    return label


def _params_options(params: Mapping[str, Any]) -> Options:
    def date(v):
        return dt.date.fromisoformat(v) if v else None

    t = params.get("templates")
    return Options(on=date(params.get("on")), deadline=date(params.get("deadline")),
                   members=tuple(params.get("members") or ()), templates=Path(t) if t else None,
                   reminders=True)


def _rerender(conn: Connection, row: Mapping[str, Any], problems: list[str]) -> str | None:
    """Render the recorded file again from the ledger as it is now; its SHA-256 (None if impossible)."""
    params = json.loads(row["params"] or "{}")
    opts = _params_options(params)
    if opts.templates is not None and not opts.templates.is_dir():
        problems.append(f"Không còn thư mục mẫu văn bản “{opts.templates}” đã dùng khi xuất, nên không dựng lại "
                        "được văn bản để so với sổ.")
        return None
    kind = row["kind"]
    try:
        if row["year"] is not None:
            decision = None
            if kind == "decision":
                d = table("decision")
                decision = conn.execute(select(d).where(d.c.id == row["decision_id"])).mappings().first()
                decision = dict(decision) if decision else None
                if decision is None:
                    problems.append("Quyết định ghi trong sổ cho tệp này không còn.")
                    return None
            jobs, notes = _year_jobs(conn, row["year"], opts, kinds=(kind,), decision=decision,
                                     before_decision=bool(params.get("before_decision")))
        else:
            jobs, notes = _phase_jobs(conn, row["phase"], opts, kinds=(kind,))
    except DvkError as exc:
        problems.append(f"Không dựng lại được văn bản từ sổ: {exc.message}")
        return None
    if not jobs:
        problems.append("Theo sổ hiện nay, văn bản này không còn được xuất" + (f": {notes[-1]}" if notes else "."))
        return None
    try:  # the same template checks and sandbox as the export
        return jobs[0].digest(conn, templates=opts.templates)
    except DvkError as exc:
        problems.append(f"Không dựng lại được văn bản từ sổ: {exc.message}")
        return None


def verify_document(led: Ledger, path: Path) -> DocCheck:
    """Identify a file dvk exported and check that it still matches the ledger.

    ``matches`` is true only when the file's SHA-256 is recorded in the ledger, rendering the
    same document again from the ledger as it is now gives the same bytes (for a PDF: its Word
    source does), and — for a decision — the decision has not been revoked.
    """
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"Không tìm thấy tệp “{path}”.")
    check = DocCheck(path, _sha256_file(path), identifier=read_identifier(path))
    dt_ = table("document")
    with led.read() as conn:
        ledger_id = _ledger_id(conn)
        row = conn.execute(select(dt_).where(dt_.c.sha256 == check.sha256)).mappings().first()
        if row is None:
            _unknown(conn, check, ledger_id)
            return check
        check.known = True
        row = dict(row)
        check.kind, check.year, check.phase = row["kind"], row["year"], row["phase"]
        params = json.loads(row["params"] or "{}")
        pdf_of = params.get("pdf_of")
        if pdf_of:
            src = conn.execute(select(dt_).where(dt_.c.sha256 == pdf_of)).mappings().first()
            if src is None:
                check.description = f"Bản PDF “{row['name']}”"
                check.problems.append("Không còn bản ghi của tệp Word gốc trong sổ.")
                return check
            row = dict(src)
        desc = _describe(conn, row["kind"], row["year"], row["phase"], row["decision_id"])
        check.description = ("Bản PDF của " + desc[0].lower() + desc[1:]) if pdf_of else desc
        if row["kind"] == "decision" and row["decision_id"] is not None:
            d = table("decision")
            dec = conn.execute(select(d).where(d.c.id == row["decision_id"])).mappings().first()
            if dec is not None and dec["revoked"]:
                when = f" ngày {fmt_date(dec['revoked_on'])}" if dec["revoked_on"] else ""
                check.problems.append(f"Quyết định này đã bị thu hồi{when} (lý do: {dec['revoked_reason']}).")
        elif row["year"] is not None and row["decision_id"] is not None:
            active = ops.active_decision(conn, row["year"])
            if active is None or active["id"] != row["decision_id"]:
                check.problems.append(f"Quyết định công nhận năm {row['year']} mà văn bản này dựa vào đã bị thu hồi.")
        digest = _rerender(conn, row, check.problems)
        if digest is not None and digest != row["sha256"]:
            check.problems.append("Sổ đã thay đổi từ khi xuất tệp này: xuất lại bây giờ sẽ cho văn bản khác.")
        check.matches = digest == row["sha256"] and not check.problems
    return check


def _unknown(conn: Connection, check: DocCheck, ledger_id: str) -> None:
    ident = check.identifier
    parts = ident.split(":") if ident else []
    if len(parts) >= 4 and parts[0] == "dvk":
        if parts[1] != ledger_id:
            check.description = "Văn bản do dvk xuất từ một sổ khác"
            check.problems.append(f"Tệp mang mã sổ {parts[1]}, không phải sổ này ({ledger_id}).")
            return
        kind, key = parts[2], parts[3]
        year = int(key) if key.isdigit() else None
        check.kind, check.year, check.phase = kind, year, None if year else key
        label = FILE_KINDS.get(kind, ("", kind))[1]
        number = parts[4] if len(parts) > 4 else ""
        if kind == "decision" and number and year:
            sym = ops.profile_for(conn, year)["symbol"]
            check.description = f"Quyết định số {number}/QĐ-{sym} năm {year}"
        else:
            check.description = f"{label} {'năm' if year else 'giai đoạn'} {key}"
        check.problems.append("Nội dung tệp đã bị sửa sau khi xuất: mã SHA-256 của tệp không có trong sổ. "
                              "Hãy dùng bản do dvk xuất (dvk export).")
        return
    check.description = "Tệp không rõ nguồn gốc"
    check.problems.append("Sổ không ghi nhận tệp này: không phải văn bản dvk đã xuất từ sổ này, "
                          "hoặc đã bị sửa sau khi xuất.")


# --------------------------------------------------------------------------- the demo


def demo_documents(path: Path, out: Path, *, years: Sequence[int], phase: str | None, force: bool = False,
                   echo: Callable[[str], None] = print, user: str | None = None) -> list[Path]:
    """`dvk demo`: write every document of the demo ledger at ``path`` into ``out``.  Returns the
    files written.

    The demo's years are all recognised, so the reminder letter of each year is written as it
    stood a month before the recognition day (before the decision), listing what the units then
    still owed; `verify-doc` checks it the same way.
    """
    from dvk.db import current_user

    who = current_user(user)
    written: list[Path] = []
    with Ledger.open(Path(path)) as led:
        for y in years:
            res = export_year(led, y, out, Options(), user=who, command="dvk demo", force=force)
            _echo_result(res, echo)
            written += [f.path for f in res.files]
            with led.read() as conn:
                day = ops.criteria_for(conn, y).recognition_day(y) - dt.timedelta(days=30)
            res = _run(led, lambda conn, o, y=y: _year_jobs(conn, y, o, kinds=("reminder",), before_decision=True),
                       out, Options(on=day, reminders=True), user=who, command="dvk demo", force=force, pdf=False,
                       summary=f"Xuất công văn đôn đốc năm {y} (trước quyết định)")
            _echo_result(res, echo)
            written += [f.path for f in res.files]
        if phase:
            res = export_phase(led, phase, out, Options(), user=who, command="dvk demo", force=force)
            _echo_result(res, echo)
            written += [f.path for f in res.files]
    return written


def _echo_result(res: ExportResult, echo: Callable[[str], None]) -> None:
    for f in res.files:
        echo(f"  {f.path.name}  {f.sha256[:12]}  {f.label}")
    for n in res.notes:
        echo(f"  Lưu ý: {n}")
    for w in res.warnings:
        echo(f"  Cảnh báo: {w}")
