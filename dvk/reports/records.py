"""The workbooks' data: one record per row of each sheet, streamed by `dvk.reports.build` and written by
`dvk.reports.excel`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dvk.reports.models import Criterion, ListRow


@dataclass(frozen=True)
class RegistrationRecord:
    """A row of the "Đăng ký" sheet.

    Attributes:
        code: ledger id; unit: the unit; title: the entry's title;
        subject_kind: "Tập thể" or "Cá nhân"; subject_name: collective's name or person's full name;
        position: the person's position (empty for a collective); field: field as printed;
        registered_on: registration date (None for a sudden achievement);
        late: registered after the window; sudden: sudden achievement (no registration needed);
        note: remarks.
    """

    code: str
    unit: str
    title: str
    subject_kind: str = ""
    subject_name: str = ""
    position: str = ""
    field: str = ""
    registered_on: dt.date | None = None
    late: bool = False
    sudden: bool = False
    note: str = ""


@dataclass(frozen=True)
class ReportRecord:
    """A row of the "Báo cáo" sheet (achievement report received).

    Attributes:
        code, unit, title: the entry; received_on: date the report arrived;
        approach, experience, spread, effectiveness, sustainability: what the report states
        (cách làm, kinh nghiệm, tính lan tỏa, hiệu quả, sự bền vững), short text or empty;
        note: remarks.
    """

    code: str
    unit: str
    title: str
    received_on: dt.date | None = None
    approach: str = ""
    experience: str = ""
    spread: str = ""
    effectiveness: str = ""
    sustainability: str = ""
    note: str = ""


@dataclass(frozen=True)
class ConfirmationRecord:
    """A row of the "Xác nhận" sheet (Party committee's confirmation).

    Attributes:
        code, unit, title: the entry; committee: the confirming committee;
        same_level: whether it is at the same level as the recognising unit;
        confirmed_on: date; comment: the committee's comment.
    """

    code: str
    unit: str
    title: str
    committee: str = ""
    same_level: bool = True
    confirmed_on: dt.date | None = None
    comment: str = ""


@dataclass(frozen=True)
class ScoreRecord:
    """A row of the "Chấm điểm" sheet: one member's score on one criterion, or (``aggregate``) the
    entry's aggregate score on the 100 scale (not printed in "Chấm điểm", whose filtered table
    holds members' rows only: the aggregate is the "Điểm" of "Kết quả").

    When ``YearWorkbookData.score_criteria`` is given the sheet is wide instead — one row per
    member's sheet with a column per criterion (a 100,000-entry year with 3 members and 11
    criteria would otherwise need 3.4 million rows, beyond Excel's 1,048,576): ``marks`` then
    holds the member's marks in ``score_criteria`` order (a number, a text such as "KAD" for
    not applicable, or None when not scored) and ``score`` the member's total on the 100 scale.

    Attributes:
        code, title: the entry; member: the council member (ignored for an aggregate row);
        criterion_code, criterion: the criterion (empty for an aggregate row);
        weight: the criterion's weight; score: 0–10 (None = not applicable / not scored);
        note: remarks; aggregate: this row is the entry's aggregate (printed bold);
        marks: the member's marks, wide layout only.
    """

    code: str
    title: str
    member: str = ""
    criterion_code: str = ""
    criterion: str = ""
    weight: float | None = None
    score: float | None = None
    note: str = ""
    aggregate: bool = False
    marks: tuple[float | str | None, ...] = ()


@dataclass(frozen=True)
class ResultRecord:
    """A row of the "Kết quả" sheet and of the per-year sheets of the phase workbook.

    Attributes:
        code, unit, title: the entry; subject_text: collective or "Full Name, position";
        field: as printed; status: e.g. "Công nhận", "Không công nhận"; score: aggregate (None = none);
        reasons: why not recognised (or remarks); decision: e.g. "05/QĐ-CĐN ngày 15/10/2026".
    """

    code: str
    unit: str
    title: str
    subject_text: str = ""
    field: str = ""
    status: str = ""
    score: float | None = None
    reasons: str = ""
    decision: str = ""


@dataclass(frozen=True)
class UnitFieldCount:
    """Entries of one unit by field, for the "Thống kê" sheet.

    Attributes:
        unit: the unit's name; counts: one count per field, in field order.
    """

    unit: str
    counts: tuple[int, ...]


@dataclass(frozen=True)
class EntryRecords:
    """Everything the year workbook prints of one entry, read in one pass over the year.

    Attributes:
        registration: its "Đăng ký" row; report, confirmation: its "Báo cáo" and "Xác nhận" rows
        (None when it has none); scores: its members' rows of "Chấm điểm"; result: its "Kết quả" row.
    """

    registration: RegistrationRecord
    result: ResultRecord
    report: ReportRecord | None = None
    confirmation: ConfirmationRecord | None = None
    scores: tuple[ScoreRecord, ...] = ()


@dataclass(frozen=True)
class YearWorkbookData:
    """Everything in ``tong-hop-<year>.xlsx``.  The row sources are iterables consumed once, in
    order (generators are fine: 100,000 rows are streamed, never held in memory).

    Attributes:
        year: the year; author: the issuing body (workbook author); generated_on: fixes the file's
        metadata and timestamps (use the data's date, not "now", for reproducible files);
        registrations, reports, confirmations, scores, results: the rows of each sheet;
        unit_counts: units × fields counts for "Thống kê" (a sequence, read twice);
        fields: the field labels for "Thống kê" columns and charts;
        score_criteria: the criteria, in order: when given, "Chấm điểm" has one row per member's
        sheet and a column per criterion (see ``ScoreRecord``) and a "Tiêu chí" sheet lists them;
        identifier: stored in the workbook's properties (identifier, keywords) to trace the file;
        entries: the year read once, one `EntryRecords` per entry (every sheet is filled in the same
        pass); written before the separate row sources above.
    """

    year: int
    author: str
    generated_on: dt.date
    registrations: Iterable[RegistrationRecord] = ()
    reports: Iterable[ReportRecord] = ()
    confirmations: Iterable[ConfirmationRecord] = ()
    scores: Iterable[ScoreRecord] = ()
    results: Iterable[ResultRecord] = ()
    unit_counts: Sequence[UnitFieldCount] = ()
    fields: Sequence[str] = ()  # the year's fields, labelled from its criteria set
    score_criteria: Sequence[Criterion] = ()
    identifier: str = ""
    # The council's sheet "Hội đồng" (issue 13): rows of (item, member, position and role, entry,
    # spread, standard deviation, note); empty for a year without a council (no sheet).
    council: Sequence[tuple] = ()
    entries: Iterable[EntryRecords] = ()


@dataclass(frozen=True)
class PhaseYear:
    """One year of ``tong-hop-<phase>.xlsx``.

    Attributes:
        year: the year; registered, recognized, not_recognized: its counts (summary sheet);
        results: its result rows (streamed into the year's sheet).
    """

    year: int
    registered: int = 0
    recognized: int = 0
    not_recognized: int = 0
    results: Iterable[ResultRecord] = ()


@dataclass(frozen=True)
class PhaseWorkbookData:
    """Everything in ``tong-hop-2021-2025.xlsx``: a summary sheet and a sheet per year.

    Attributes:
        phase: e.g. "2021-2025"; author: workbook author; generated_on: fixes metadata/timestamps;
        years: the years, in order; identifier: as in ``YearWorkbookData``;
        proposed: the entries proposed for the phase's award (`dvk propose`), as the proposal lists
            them: collectives then individuals, in year order; ``ListRow.year`` the year(s),
            ``note`` the decision(s), ``achievement`` a short achievement.
    """

    phase: str
    author: str
    generated_on: dt.date
    years: Sequence[PhaseYear] = ()
    identifier: str = ""
    proposed: Sequence[ListRow] = ()
