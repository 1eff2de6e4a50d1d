"""The kinds of document dvk writes (loại văn bản), each described once by a `DocKind`, and their
registry `KINDS`.

A kind says everything the document layer needs to know about it: its file name and Vietnamese
label; its Word template, its view model, how that view model becomes the template's context, the
placeholders the template must use and the lists and records of that context (what the template
sandbox allows) — or, for a workbook, how the workbook is written; and its builder: what it makes of
a year (or a phase) read from the ledger.  Everything else is derived from the registry: `jobs`
plans an export by going through it, `word` and `sandbox` look a template's kind up, `export` and
`verify_doc` take labels and the decision facts from it.

Adding a kind is one ``register(DocKind(...))`` and its template; nothing else changes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection

from dvk.cycle.config import profile_for
from dvk.reports.context import (decision_context, proposal_context, registration_context, reminder_context,
                                 report_context, revocation_context, score_context)
from dvk.reports.build import (YearState, decision_doc, registration_doc, reminder_deadline, reminder_doc, results_doc,
                               revocation_doc, score_doc, unregistered_units)
from dvk.reports.yearbook import year_workbook_data
from dvk.reports.phase import PhaseState, phase_workbook_data, proposal_doc
from dvk.reports.excel import write_phase_workbook, write_year_workbook
from dvk.reports.models import (Criterion, DecisionDoc, FieldCountRow, ListRow, NotRecognizedRow, ProposalDoc,
                                RegistrationListDoc, ReminderDoc, ReminderItem, ResultsReportDoc, RevocationDoc, ScoreSheetDoc,
                                ScoreSheetEntry, UnitCountRow, YearSummaryRow)
from dvk.reports.records import PhaseWorkbookData, YearWorkbookData
from dvk.text.normalize import clean, fold, sort_people
from dvk.errors import InvalidInput
from dvk.text.dates import fmt_date
from dvk.wording import decision_title, doc_number


YEAR = "year"


PHASE = "phase"


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
        reminders: also write the kinds written only on request (the reminder letter).
    """

    on: dt.date | None = None
    deadline: dt.date | None = None
    members: tuple[str, ...] = ()
    templates: Path | None = None
    reminders: bool = False
    extra: tuple[str, ...] = ()  # kinds written only on request asked for by name (--certificates)


@dataclass(frozen=True)
class Draft:
    """What a kind's builder makes of the ledger.

    Attributes:
        vm: the view model of a Word document.
        workbook: for a workbook, ``(conn, identifier) -> data`` for the kind's writer, called when
            the file is written (inside the export's read snapshot) so that its rows stream.
        params: settings of this file beyond the plan's (the date, the members, the deadline…),
            recorded with it so that `verify-doc` renders it again the same way.
    """

    vm: Any = None
    workbook: Callable[[Connection, str], Any] | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class YearSource:
    """What a year kind's builder reads: the year read in one pass (`build.read_year`), the date
    printed on the documents, the export's options, and the notes the export prints."""

    kind: DocKind
    conn: Connection
    state: YearState
    on: dt.date
    options: Options
    notes: list[str]

    @property
    def year(self) -> int:
        return self.state.year

    def note(self, text: str) -> None:
        """Say why something is not written, or how it is written."""
        self.notes.append(text)


@dataclass
class PhaseSource:
    """What a phase kind's builder reads: the phase read year by year (`build.read_phase`), the
    date printed, the export's options and its notes."""

    kind: DocKind
    conn: Connection
    state: PhaseState
    on: dt.date
    options: Options
    notes: list[str]

    @property
    def phase(self) -> str:
        return self.state.phase

    def note(self, text: str) -> None:
        self.notes.append(text)


@dataclass(frozen=True, eq=False)
class DocKind:
    """One kind of document, described once.

    Attributes:
        key: its name in the ledger's document records and in file identifiers ("decision").
        file_name: the file name, ``{}`` standing for the year or the phase ("quyet-dinh-cong-nhan-{}.docx").
        label: what it is, in Vietnamese ("Quyết định công nhận").
        scope: `YEAR` (written by ``dvk export --year``) or `PHASE` (``--phase``).
        build: what it makes of the ledger (a `YearSource` or a `PhaseSource`): a `Draft`, or None
            after a note saying why the file is not written.
        template: the Word template's file name, looked up in the user's folder, then among the
            packaged templates; None for a workbook.
        view_model: the class of the view model the template is rendered from (one per template).
        context: view model -> the template's context (placeholder name -> value).
        required: placeholders the template must use (checked for a user's template too).
        shapes: the lists and records of the context; every other placeholder is a value (see
            `LINES`, `GROUPS`, `fields_of`).  The sandbox lets a template use exactly these.
        writer: how a workbook is written, ``writer(path, data, force=…) -> RenderResult``.
        needs_decision: written only when the year has a decision in force (else a note says why).
        decision_dependent: its content changes with the decision: the file's identifier carries
            the decision's number, and the ledger records the decision it was written under
            (`verify-doc` then checks that the decision is still in force).
        is_decision: the document is the decision itself: `verify-doc` names it by the decision's
            number and date and renders it again with that decision, even a revoked one.
        on_request: written only when asked for (``dvk export --reminders``, or the kind alone).
        lists: a year kind reads the lists `read_year` keeps (the rows of the Word lists, the members,
            each stage's counts); False for one that reads the year in its own pass (the workbook), so
            an export of it alone does not hold the year's rows.
    """

    key: str
    file_name: str
    label: str
    scope: str
    build: Callable[[Any], Draft | None]
    template: str | None = None
    view_model: type | None = None
    context: Callable[[Any], dict] | None = None
    required: frozenset[str] = frozenset()
    shapes: Mapping[str, Any] = field(default_factory=dict)
    writer: Callable[..., Any] | None = None
    needs_decision: bool = False
    decision_dependent: bool = False
    is_decision: bool = False
    on_request: bool = False
    lists: bool = True

    def __post_init__(self) -> None:
        problems = []
        if not self.key or ":" in self.key:
            problems.append("key must be a non-empty name without ':' (it is part of file identifiers)")
        if self.file_name.count("{}") != 1:
            problems.append("file_name must hold one '{}' (the year or the phase)")
        if self.scope not in (YEAR, PHASE):
            problems.append(f"scope must be {YEAR!r} or {PHASE!r}")
        if (self.template is None) == (self.writer is None):
            problems.append("give a Word template or a workbook writer (one of them)")
        if self.template is not None and (self.view_model is None or self.context is None):
            problems.append("a Word kind needs its view model class and its context builder")
        if self.scope == PHASE and (self.needs_decision or self.decision_dependent or self.is_decision):
            problems.append("a phase kind does not depend on one decision")
        if problems:
            raise ValueError(f"document kind {self.key!r}: " + "; ".join(problems))
        object.__setattr__(self, "required", frozenset(self.required))

    def file(self, key: int | str) -> str:
        """The file name for a year or a phase: ``file(2025)`` -> "quyet-dinh-cong-nhan-2025.docx"."""
        return self.file_name.format(key)


#: The registered kinds, in the order an export writes them.
KINDS: dict[str, DocKind] = {}


def register(kind: DocKind) -> DocKind:
    """Add a kind to the registry (after the others); returns it.  A key, a template or a view
    model class already registered is refused (ValueError)."""
    if kind.key in KINDS:
        raise ValueError(f"document kind {kind.key!r} is already registered")
    for other in KINDS.values():
        if kind.template is not None and other.template == kind.template:
            raise ValueError(f"template {kind.template!r} already belongs to the kind {other.key!r}")
        if kind.template is not None and other.template is not None and other.view_model is kind.view_model:
            raise ValueError(f"view model {kind.view_model.__name__} already belongs to the kind {other.key!r}")
    KINDS[kind.key] = kind
    return kind


def unregister(key: str) -> None:
    """Remove a kind from the registry (for tests and plugins); files already recorded keep their kind."""
    KINDS.pop(key, None)


def kinds_of(scope: str) -> tuple[DocKind, ...]:
    """The kinds written for a year (`YEAR`) or a phase (`PHASE`), in order."""
    return tuple(k for k in KINDS.values() if k.scope == scope)


def file_name(key: str, of: int | str) -> str:
    """The file name of a document: ``file_name("decision", 2025)`` -> "quyet-dinh-cong-nhan-2025.docx"."""
    return KINDS[key].file(of)


def label(key: str) -> str:
    """What a kind is in Vietnamese ("Quyết định công nhận"); the key itself for a kind dvk no longer knows."""
    kind = KINDS.get(key)
    return kind.label if kind is not None else key


def for_template(template: str) -> DocKind | None:
    """The kind a Word template belongs to (None for a file name no kind uses)."""
    return next((k for k in KINDS.values() if k.template == template), None)


def for_view_model(view_model: Any) -> DocKind:
    """The kind a view model is rendered as (TypeError for anything else)."""
    kind = next((k for k in KINDS.values() if k.template is not None and type(view_model) is k.view_model), None)
    if kind is None:
        raise TypeError(f"not a document view model: {type(view_model).__name__}")
    return kind


def context_of(view_model: Any) -> dict:
    """The template context (placeholder name -> value) of a view model, after defaults.

    Strings are used as given: call ``render_docx`` to get them cleaned and escaped.
    """
    return for_view_model(view_model).context(view_model)


class _ByTemplate(Mapping):
    """A live table of the Word kinds, by template name: one attribute of each kind."""

    def __init__(self, attr: str) -> None:
        self._attr = attr

    def _table(self) -> dict[str, Any]:
        return {k.template: getattr(k, self._attr) for k in KINDS.values() if k.template is not None}

    def __getitem__(self, template: str) -> Any:
        return self._table()[template]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())


#: Placeholders each template must use, by template name (derived from the registry).
REQUIRED_PLACEHOLDERS: Mapping[str, frozenset[str]] = _ByTemplate("required")


#: The lists and records of each template's context, by template name (derived from the registry).
TEMPLATE_SHAPES: Mapping[str, Mapping[str, Any]] = _ByTemplate("shapes")


#: The templates of the registered kinds (the packaged ones, and any a registered kind adds).
TEMPLATE_NAMES = REQUIRED_PLACEHOLDERS.keys()


# ---------------------------------------------------------------- shapes
# The shape of a placeholder: None = a value printed as text; a dict = a record with these fields
# (``g.heading``); a one-item list = a list of items of that shape (``{% for r in g.rows %}``).

def fields_of(cls: type, **nested: Any) -> dict[str, Any]:
    """The shape of a record made from a dataclass: each field a value, unless given in ``nested``."""
    shape: dict[str, Any] = {f.name: None for f in dataclasses.fields(cls)}
    shape.update(nested)
    return shape


#: A list of lines (``{%p for t in assessment %}``).
LINES = [None]


#: The letterhead's names, line by line (``{%p for t in org_lines %}``).
HEADER = {"parent_org_lines": LINES, "org_lines": LINES}


#: The numbered groups of a list ("I. Tập thể", "II. Cá nhân") and their rows.
GROUPS = [{"heading": None, "label": None, "rows": [fields_of(ListRow)]}]


_STAGES = ("registered", "reported", "confirmed", "scored", "recognized", "not_recognized")


# ---------------------------------------------------------------- what each kind makes of the ledger

def _decision(src: YearSource) -> Draft | None:
    st = src.state
    if st.closed_without_decision:
        src.note(f"Năm {src.year} được chốt ngày {fmt_date(st.decision['decided_on'])} không có mô hình, điển hình "
                 f"nào được công nhận: không có quyết định công nhận, chưa xuất {src.kind.file(src.year)}.")
        return None
    return Draft(vm=decision_doc(st, src.on), params={"on": st.decision["decided_on"].isoformat()})


def _revocation(src: YearSource) -> Draft | None:
    st, year = src.state, src.year
    for rev in st.revoked:
        if not rev.get("revocation_number") and rev.get("kind") != "none":
            src.note(f"{decision_title(rev['number'], st.lh.symbol, rev['decided_on'])} đã bị thu hồi ngày "
                     f"{fmt_date(rev['revoked_on'])} mà không có quyết định thu hồi (không có số): việc thu hồi "
                     "chỉ được ghi trong sổ, không xuất văn bản.")
    issued = [r for r in st.revoked if r.get("revocation_number")]
    if not issued:
        return None
    rev = issued[-1]
    if len(issued) > 1:
        src.note(f"Năm {year} có {len(issued)} quyết định thu hồi; {src.kind.file(year)} là quyết định thu hồi mới "
                 f"nhất (số {doc_number(rev['revocation_number'])}).")
    return Draft(vm=revocation_doc(st, rev), params={"on": rev["revoked_on"].isoformat()})


def _registrations(src: YearSource) -> Draft | None:
    return Draft(vm=registration_doc(src.state, src.on))


def _clean_members(members: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    seen: set[str] = set()
    for m in members:
        c = clean(m)
        if c and fold(c) not in seen:
            seen.add(fold(c))
            out.append(c)
    return tuple(out)


def _score_sheets(src: YearSource) -> Draft | None:
    st, year, name = src.state, src.year, src.kind.file(src.year)
    council = st.ctx.council  # the year's council (issue 13): one set per member, in its order
    members = (_clean_members(src.options.members)
               or (tuple(m["member"] for m in council.members) if council is not None else ())
               or tuple(sort_people(st.members)))
    if not len(st.ready):
        src.note(f"Năm {year} chưa có mô hình, điển hình nào đủ báo cáo và xác nhận để chấm điểm: chưa xuất {name}.")
        return None
    return Draft(vm=score_doc(st, src.on, members), params={"members": list(members)})


def _results(src: YearSource) -> Draft | None:
    st = src.state
    if st.decision is None:
        src.note(f"Năm {src.year} chưa có quyết định: báo cáo kết quả nêu kết quả dự kiến theo điểm hiện có.")
    return Draft(vm=results_doc(st, src.on))


def _year_workbook(src: YearSource) -> Draft:
    st, on = src.state, src.on
    return Draft(workbook=lambda conn, identifier: year_workbook_data(conn, st, on, identifier))


def _reminder(src: YearSource) -> Draft | None:
    st, year = src.state, src.year
    if st.decision is not None:
        src.note(f"Năm {year} đã có quyết định công nhận: không cần công văn đôn đốc.")
        return None
    if not st.missing and not unregistered_units(st):
        src.note(f"Năm {year} không còn đơn vị nào thiếu báo cáo hay xác nhận: không cần công văn đôn đốc.")
        return None
    on = src.on
    if src.options.on is None and on >= st.crit.recognition_day(year) - dt.timedelta(days=15):
        on = st.crit.recognition_day(year) - dt.timedelta(days=30)  # a reminder comes before the deadline
    deadline = reminder_deadline(st, on, src.options.deadline)
    return Draft(vm=reminder_doc(st, on, deadline), params={"on": on.isoformat(), "deadline": deadline.isoformat()})


def _proposal(src: PhaseSource) -> Draft | None:
    ps, phase = src.state, src.phase
    if not ps.chosen:
        raise InvalidInput(f"Giai đoạn {phase} chưa có mô hình, điển hình nào được chọn đề nghị khen thưởng: chưa "
                           f"xuất tờ trình. Chọn bằng: dvk propose --phase {phase} MÃ… (hoặc --from TỆP), xem "
                           f"danh sách: dvk propose --phase {phase} --list.")
    if not len(ps.proposed):
        src.note(f"Giai đoạn {phase}: không mô hình nào đã chọn còn được công nhận: chưa xuất {src.kind.file(phase)}.")
        return None
    return Draft(vm=proposal_doc(src.conn, ps, src.on))


def _phase_workbook(src: PhaseSource) -> Draft:
    ps, on = src.state, src.on
    author = profile_for(src.conn, on.year)["org"]
    return Draft(workbook=lambda conn, identifier: phase_workbook_data(conn, ps, on, author, identifier))


# ---------------------------------------------------------------- the kinds dvk ships

register(DocKind(
    "decision", "quyet-dinh-cong-nhan-{}.docx", "Quyết định công nhận", YEAR, _decision,
    template="quyet-dinh-cong-nhan.docx", view_model=DecisionDoc, context=decision_context,
    required={"org_lines", "number", "symbol", "date_line", "year", "count", "groups", "signer", "signer_title"},
    shapes={**HEADER, "groups": GROUPS, "legal_bases": LINES, "recipients": LINES},
    needs_decision=True, decision_dependent=True, is_decision=True))

register(DocKind(
    "revocation", "quyet-dinh-thu-hoi-{}.docx", "Quyết định thu hồi", YEAR, _revocation,
    template="quyet-dinh-thu-hoi.docx", view_model=RevocationDoc, context=revocation_context,
    required={"org_lines", "number", "symbol", "date_line", "revoked", "signer", "signer_title"},
    shapes={**HEADER, "legal_bases": LINES, "recipients": LINES}))

register(DocKind(
    "registrations", "danh-sach-dang-ky-{}.docx", "Danh sách đăng ký", YEAR, _registrations,
    template="danh-sach-dang-ky.docx", view_model=RegistrationListDoc, context=registration_context,
    required={"org_lines", "year", "groups", "signer"}, shapes={**HEADER, "groups": GROUPS}))

register(DocKind(
    "score-sheets", "phieu-cham-diem-{}.docx", "Phiếu chấm điểm", YEAR, _score_sheets,
    template="phieu-cham-diem.docx", view_model=ScoreSheetDoc, context=score_context,
    required={"year", "sheets"},
    shapes={"sheets": [fields_of(ScoreSheetEntry, criteria=[fields_of(Criterion)], member=None)]}))

register(DocKind(
    "results", "bao-cao-ket-qua-{}.docx", "Báo cáo kết quả", YEAR, _results,
    template="bao-cao-ket-qua.docx", view_model=ResultsReportDoc, context=report_context,
    required={"org_lines", "number", "symbol", "date_line", "year", "units", "groups", "signer"},
    shapes={**HEADER, "units": [fields_of(UnitCountRow)], "totals": dict.fromkeys(_STAGES), "fields": [fields_of(FieldCountRow)],
            "field_totals": dict.fromkeys(("registered", "recognized")), "recognized_groups": GROUPS,
            "groups": GROUPS, "not_recognized_rows": [fields_of(NotRecognizedRow)], "assessment": LINES,
            "proposals": LINES, "recipients": LINES},
    decision_dependent=True))

register(DocKind(
    "workbook", "tong-hop-{}.xlsx", "Bảng tổng hợp năm (Excel)", YEAR, _year_workbook,
    view_model=YearWorkbookData, writer=write_year_workbook, decision_dependent=True, lists=False))

register(DocKind(
    "reminder", "cong-van-nhac-{}.docx", "Công văn đôn đốc", YEAR, _reminder,
    template="cong-van-nhac.docx", view_model=ReminderDoc, context=reminder_context,
    required={"org_lines", "number", "symbol", "date_line", "subject", "addressees", "units", "deadline", "signer"},
    shapes={**HEADER, "addressees": LINES, "units": [{"stt": None, "name": None, "entries": [fields_of(ReminderItem)]}],
            "recipients": LINES, "unregistered": LINES},
    on_request=True))

register(DocKind(
    "proposal", "to-trinh-khen-thuong-{}.docx", "Tờ trình khen thưởng", PHASE, _proposal,
    template="to-trinh-khen-thuong.docx", view_model=ProposalDoc, context=proposal_context,
    required={"org_lines", "number", "symbol", "date_line", "phase", "addressee", "groups", "signer"},
    shapes={**HEADER, "intro": LINES, "years": [fields_of(YearSummaryRow)],
            "year_totals": dict.fromkeys(("registered", "recognized", "proposed")), "groups": GROUPS,
            "recipients": LINES}))

register(DocKind(
    "phase-workbook", "tong-hop-{}.xlsx", "Bảng tổng hợp giai đoạn (Excel)", PHASE, _phase_workbook,
    view_model=PhaseWorkbookData, writer=write_phase_workbook))


# ---------------------------------------------------------------- the council's papers (issue 13)

from dvk.reports import council as _council  # noqa: E402 (the papers' view models and builders)

register(DocKind(
    "council-minutes", "bien-ban-hop-hoi-dong-{}.docx", "Biên bản họp Hội đồng", YEAR,
    _council.drafted(_council.build_minutes, Draft),
    template="bien-ban-hop-hoi-dong.docx", view_model=_council.CouncilMinutesDoc, context=_council.minutes_context,
    required={"org_lines", "year", "present", "rows", "proposed", "chair", "secretary"},
    shapes={**HEADER, "present": _council.MEMBER_SHAPE, "absent": _council.MEMBER_SHAPE, "conflicts": LINES,
            "abstentions": LINES, "rows": _council.ROW_SHAPE},
    decision_dependent=True))

register(DocKind(
    "score-summary", "bang-tong-hop-diem-{}.docx", "Bảng tổng hợp kết quả chấm điểm", YEAR,
    _council.drafted(_council.build_summary, Draft),
    template="bang-tong-hop-diem.docx", view_model=_council.ScoreSummaryDoc, context=_council.summary_context,
    required={"org_lines", "year", "rows", "chair", "secretary"}, shapes={**HEADER, "rows": _council.ROW_SHAPE},
    decision_dependent=True))

register(DocKind(
    "certificates", "giay-cong-nhan-{}.docx", "Giấy công nhận", YEAR,
    _council.drafted(_council.build_certificates, Draft),
    template="giay-cong-nhan.docx", view_model=_council.CertificatesDoc, context=_council.certificates_context,
    required={"org", "number", "symbol", "certificates", "signer"}, shapes={**HEADER, "certificates": _council.CERT_SHAPE},
    needs_decision=True, decision_dependent=True, on_request=True))

from dvk.reports import letters as _letters  # noqa: E402 (the February launch letter)

register(DocKind(
    "launch", "cong-van-phat-dong-{}.docx", "Công văn phát động", YEAR, _council.drafted(_letters.build_launch, Draft),
    template="cong-van-phat-dong.docx", view_model=_letters.LaunchDoc, context=_letters.launch_context,
    required={"org_lines", "number", "symbol", "date_line", "subject", "fields", "start", "end", "signer"},
    shapes={**HEADER, "fields": LINES, "general": LINES, "specific": LINES, "recipients": LINES},
    on_request=True))
