"""The documents' view models: frozen, already formatted (numbers "05", dates "Đồng Nai, ngày 05 tháng 02
năm 2026", scores "92,50"), built by `dvk.reports.build` from the ledger and rendered by
`dvk.reports.word`. No database, no I/O.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from dvk.reports.spool import Lazy


#: Printed in place of an empty document number, so the records office (văn thư) can write it by hand.
BLANK_NUMBER = "\u00a0" * 6




DOTS = "………………………………………………"


@dataclass(frozen=True)
class RenderResult:
    """What a render wrote.

    Attributes:
        path: the file written.
        sha256: hex digest of its bytes (identical view models give identical digests).
        warnings: Vietnamese notes about the input, e.g. control characters that were dropped.
    """

    path: Path
    sha256: str
    warnings: tuple[str, ...] = ()


def _tuple(value: Any) -> tuple:
    if value is None:
        return ()
    if isinstance(value, (str, bytes)):
        return (value,)
    if isinstance(value, Lazy):  # a year's rows, read from disk as they are used (dvk.reports.spool)
        return value  # type: ignore[return-value]
    return tuple(value)


class _Frozen:
    """Mixin: turn list-valued fields into tuples so view models stay immutable and hashable."""

    _tuple_fields: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        for name in self._tuple_fields:
            object.__setattr__(self, name, _tuple(getattr(self, name)))


@dataclass(frozen=True)
class Letterhead(_Frozen):
    """Who issues and signs (thể thức phần đầu và chữ ký), a per-year setting.

    Attributes:
        parent_org: the parent body, e.g. "LĐLĐ tỉnh Đồng Nai" (printed UPPERCASE, regular).
        org: the issuing body, e.g. "Công đoàn ngành Y tế" (printed UPPERCASE, bold, with a short
            rule under it; used as given in sentences and as the document author).
        symbol: the body's abbreviation in document numbers, e.g. "CĐN" -> "Số: 05/QĐ-CĐN".
        place: the place name of the date line, e.g. "Đồng Nai".
        signer: the signer's full name, e.g. "Đàm Đức Chính".
        signer_title: the signer's title, e.g. "Chủ tịch" (printed UPPERCASE bold).
        on_behalf: the collective the signer signs for, e.g. "TM. Ban Thường vụ" (printed
            UPPERCASE bold above the title); empty when the signer signs in their own name.
        recipients: the usual "Nơi nhận" lines for this body (without "- " and ";"); each document
            adds its own first line ("Như Điều 3", "Như trên") and the archive line "Lưu: VT, <symbol>."
        issuer_name: the issuing authority in a sentence, e.g. "Ban Thường vụ Công đoàn ngành Y tế"
            (the decision prints it UPPERCASE above the legal bases); defaults to ``org``.
        members_name: what the body's member units are called in the decision's Điều 3, e.g.
            "các Công đoàn cơ sở trực thuộc" (a CĐCS would say "các tổ công đoàn").
        office: who executes the decision, e.g. "Văn phòng Công đoàn ngành"; defaults to
            "Văn phòng " + ``org``.
    """

    parent_org: str
    org: str
    symbol: str
    place: str
    signer: str
    signer_title: str = "Chủ tịch"
    on_behalf: str = "TM. Ban Thường vụ"
    recipients: tuple[str, ...] = ()
    issuer_name: str = ""
    members_name: str = "các Công đoàn cơ sở trực thuộc"
    office: str = ""

    _tuple_fields: ClassVar[tuple[str, ...]] = ("recipients",)


@dataclass(frozen=True)
class ListRow:
    """One entry (mô hình / điển hình) in a printed list; every value is already formatted.

    Attributes:
        title: the entry's title (tên mô hình, điển hình).
        subject_text: who it is about: a collective's name, or "Full Name, position"
            (e.g. "Nguyễn Thị Ánh, Điều dưỡng trưởng khoa Nội").
        unit: the member unit (đơn vị / CĐCS).
        field: the field (lĩnh vực), e.g. "1" or a short name.
        score: the aggregate score as printed, e.g. "92,50" (empty when not scored).
        note: remarks (ghi chú), e.g. "Đột xuất", "Đăng ký muộn".
        stt: the running number; empty = numbered 1, 2, … within its group by the renderer.
        code: the entry's ledger id, e.g. "2026-007" (used in warnings and in the registration list).
        date: a date as printed, e.g. the registration date "12/02/2026".
        year: the year the entry was recognised (phase proposal list; "2022, 2024" for a person
            recognised in several years).
        achievement: a short achievement, from the report (phase proposal list).
    """

    title: str
    subject_text: str = ""
    unit: str = ""
    field: str = ""
    score: str = ""
    note: str = ""
    stt: str = ""
    code: str = ""
    date: str = ""
    year: str = ""
    achievement: str = ""


@dataclass(frozen=True)
class Group(_Frozen):
    """A group of rows in a list, in the order given.

    Attributes:
        heading: the group's label without numeral, e.g. "Tập thể", "Cá nhân"; the renderer numbers
            the non-empty groups "I.", "II.", … in order.  A group with no rows is omitted.
        rows: the rows, in print order.
    """

    heading: str
    rows: tuple[ListRow, ...] = ()

    _tuple_fields: ClassVar[tuple[str, ...]] = ("rows",)


@dataclass(frozen=True)
class DecisionDoc(_Frozen):
    """The recognition decision (quyết định công nhận) and its attached list (template
    ``quyet-dinh-cong-nhan.docx``).

    Attributes:
        letterhead: issuing body and signer.
        year: the year of the recognised entries.
        number: the decision number as printed, e.g. "05" (empty: left blank for the records office).
        issued_on: the signing date (also fixes the file's metadata and timestamps).
        groups: the attached list, e.g. (Group("Tập thể", …), Group("Cá nhân", …)).
        date_line: "Đồng Nai, ngày 15 tháng 10 năm 2026"; empty = built from place and ``issued_on``.
        date_text: the date in "(Kèm theo Quyết định số … ngày …)", e.g. "15/10/2026"; empty = dd/mm/yyyy.
        legal_bases: the "Căn cứ …;" lines (italic), in order; empty = a generic default.
        article2: the text after "Điều 2."; empty = a default (entries keep and spread their model;
            in force from signing).
        article3: the text after "Điều 3."; empty = the default execution clause ending "./.".
        authority: the line above the legal bases; empty = ``issuer_name`` in UPPERCASE.
        recipients: "Nơi nhận" lines for this decision (overrides the letterhead's).
        phase: the phase of the year's criteria set, e.g. "2021-2025" (for the default legal basis).
        guidance: the guidance of that set as cited, e.g. "Công văn số 69/CĐN ngày 14/5/2021 của …
            về việc …" (for the default legal basis); empty = a generic basis.
    """

    letterhead: Letterhead
    year: int
    number: str
    issued_on: dt.date
    groups: tuple[Group, ...] = ()
    date_line: str = ""
    date_text: str = ""
    legal_bases: tuple[str, ...] = ()
    article2: str = ""
    article3: str = ""
    authority: str = ""
    recipients: tuple[str, ...] = ()
    phase: str = ""
    guidance: str = ""
    field_legend: str = ""
    replaces: str = ""
    award: str = ""  # what the recognition gives (a grassroots union's "Giấy khen"); empty: the list only

    _tuple_fields: ClassVar[tuple[str, ...]] = ("groups", "legal_bases", "recipients")


@dataclass(frozen=True)
class RevocationDoc(_Frozen):
    """A revocation decision (quyết định thu hồi; template ``quyet-dinh-thu-hoi.docx``): it revokes
    a recognition decision of the year, says why and what follows.

    Attributes:
        letterhead: issuing body and signer.
        year: the year of the revoked decision.
        number: the revocation decision's own number, e.g. "11".
        issued_on: its date.
        revoked: the revoked decision as cited, e.g. "Quyết định số 09/QĐ-CĐN ngày 09/10/2028".
        reason: why it is revoked, as recorded.
        recognized: how many entries the revoked decision had recognised.
        legal_bases: the "Căn cứ …" lines, in order (the last ends with ".").
        recipients: "Nơi nhận" lines (overrides the letterhead's).
    """

    letterhead: Letterhead
    year: int
    number: str
    issued_on: dt.date
    revoked: str
    reason: str
    recognized: int = 0
    legal_bases: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()

    _tuple_fields: ClassVar[tuple[str, ...]] = ("legal_bases", "recipients")


@dataclass(frozen=True)
class RegistrationListDoc(_Frozen):
    """The year's registrations (danh sách đăng ký; template ``danh-sach-dang-ky.docx``).

    Signed by the clerk who compiled it ("NGƯỜI LẬP BIỂU", left) and endorsed by the signer of the
    letterhead (right): the list certifies the ledger's content when it is sent up or published.

    Attributes:
        letterhead: issuing body and signer.
        year: the registration year.
        issued_on: the date of the list.
        groups: the entries grouped (Tập thể, Cá nhân); late and sudden entries say so in ``note``,
            the registration date goes in ``ListRow.date``.
        as_of: "(Tính đến ngày …)", e.g. "28/02/2026"; empty = ``issued_on`` as dd/mm/yyyy.
        number: an optional list number ("Số: …/DS-…" is printed only when given).
        date_line: as in ``DecisionDoc``.
        preparer: the clerk's name under "NGƯỜI LẬP BIỂU" (may be empty).
        late_count: how many registered after the window.
        sudden_count: how many are sudden achievements (not registered).
        guidance: the guidance the year is run under, cited under the title ("Công văn số … của …").
        field_legend: the fields' short names, for the legend under the list ("1. Chăm lo …").
    """

    letterhead: Letterhead
    year: int
    issued_on: dt.date
    groups: tuple[Group, ...] = ()
    as_of: str = ""
    number: str = ""
    date_line: str = ""
    preparer: str = ""
    late_count: int = 0
    sudden_count: int = 0
    guidance: str = ""
    field_legend: str = ""

    _tuple_fields: ClassVar[tuple[str, ...]] = ("groups",)


@dataclass(frozen=True)
class Criterion:
    """One criterion line of a score sheet.

    Attributes:
        code: the criterion's code, e.g. "C1" or "III.2.3".
        content: its wording.
        weight: its weight as printed, e.g. "10" (on the score sheet: its maximum points).
        note: a remark printed after the wording, e.g. "không áp dụng thì ghi “KAD”".
    """

    code: str
    content: str
    weight: str = ""
    note: str = ""


@dataclass(frozen=True)
class ScoreSheetEntry(_Frozen):
    """An entry ready to be scored (one page of the score sheets).

    Attributes:
        code: the ledger id, e.g. "2026-007".
        title: the entry's title.
        unit: the member unit.
        subject_text: collective name or "Full Name, position".
        field: the field as printed.
        criteria: the criteria to score, in order.
        total_weight: the weights' total as printed, e.g. "100" (empty: left blank).
    """

    code: str
    title: str
    unit: str = ""
    subject_text: str = ""
    field: str = ""
    criteria: tuple[Criterion, ...] = ()
    total_weight: str = ""

    _tuple_fields: ClassVar[tuple[str, ...]] = ("criteria",)


@dataclass(frozen=True)
class ScoreSheetDoc(_Frozen):
    """Blank score sheets (phiếu chấm điểm; template ``phieu-cham-diem.docx``): one page per entry,
    the whole set once per council member (or once with a blank name line).

    Attributes:
        letterhead: issuing body (its name heads each page).
        year: the year being scored.
        entries: the entries ready to be scored, in order.
        members: council members' names; empty = one set with a dotted name line.
        council: the council's name, e.g. "Hội đồng Thi đua - Khen thưởng".
        date_line: the line above the signature; empty = "<place>, ngày …… tháng …… năm <year>".
        instructions: the note under the table; empty = the default 0–10 scale note.
        scale: the scale each criterion is scored on, as printed, e.g. "0–10".
    """

    letterhead: Letterhead
    year: int
    entries: tuple[ScoreSheetEntry, ...] = ()
    members: tuple[str, ...] = ()
    skip: frozenset[tuple[str, str]] = frozenset()  # (entry code, member) pairs printed no sheet
    council: str = "Hội đồng Thi đua - Khen thưởng"
    date_line: str = ""
    instructions: str = ""
    scale: str = "0–10"

    _tuple_fields: ClassVar[tuple[str, ...]] = ("entries", "members")


@dataclass(frozen=True)
class UnitCountRow:
    """Counts of one unit by stage (results report, section I).

    Attributes:
        unit: the unit's name.
        registered, reported, confirmed, scored, recognized, not_recognized: entries at each stage.
        stt: running number; empty = 1, 2, … in order.
    """

    unit: str
    registered: int = 0
    reported: int = 0
    confirmed: int = 0
    scored: int = 0
    recognized: int = 0
    not_recognized: int = 0
    stt: str = ""


@dataclass(frozen=True)
class FieldCountRow:
    """Counts of one field (lĩnh vực).

    Attributes:
        field: the field's name as printed.
        registered: entries in that field.
        recognized: recognised entries in that field.
        stt: running number; empty = 1, 2, …
    """

    field: str
    registered: int = 0
    recognized: int = 0
    stt: str = ""


@dataclass(frozen=True)
class NotRecognizedRow:
    """An entry not recognised, with its reasons.

    Attributes:
        code: the ledger id.
        title: the entry's title.
        unit: the unit.
        reasons: why, as printed, e.g. "Thiếu xác nhận của cấp ủy cùng cấp; điểm 72,50 < 80".
        stt: running number; empty = 1, 2, …
    """

    code: str
    title: str
    unit: str = ""
    reasons: str = ""
    stt: str = ""


@dataclass(frozen=True)
class ResultsReportDoc(_Frozen):
    """The yearly results report (báo cáo kết quả, section V; template ``bao-cao-ket-qua.docx``).

    Attributes:
        letterhead: issuing body and signer.
        year: the year reported on.
        number: the report number, e.g. "12" -> "Số: 12/BC-CĐN" (empty: left blank).
        issued_on: the report's date.
        registered: entries in the year's ledger (registered plus sudden achievements).
        late: entries registered after the window.
        sudden: sudden achievements (not registered).
        reported: entries with an achievement report.
        confirmed: reports confirmed by the Party committee at the same level.
        scored: entries scored by the council.
        recognized: entries recognised.
        not_recognized: entries scored or reviewed but not recognised.
        units: counts by unit (the table's rows, in the configured unit order).
        fields: counts by field (five rows).
        recognized_groups: the recognised list, grouped (Tập thể, Cá nhân).
        not_recognized_rows: the entries not recognised, with reasons.
        date_line: as in ``DecisionDoc``.
        intro: the opening paragraph; empty = a default.
        decision_ref: e.g. "Quyết định số 05/QĐ-CĐN ngày 15/10/2026" (used in section II).
        decision_sentence: section II's opening sentence; empty = built from ``decision_ref``.
        assessment: section III paragraphs (đánh giá chung); empty = a default.
        proposals: section IV paragraphs (đề xuất, kiến nghị); empty = a default.
        recipients: "Nơi nhận" lines (overrides the letterhead's).
        phase, guidance: as in ``DecisionDoc`` (for the default intro).
    """

    letterhead: Letterhead
    year: int
    number: str
    issued_on: dt.date
    registered: int = 0
    late: int = 0
    sudden: int = 0
    reported: int = 0
    confirmed: int = 0
    scored: int = 0
    recognized: int = 0
    not_recognized: int = 0
    units: tuple[UnitCountRow, ...] = ()
    fields: tuple[FieldCountRow, ...] = ()
    recognized_groups: tuple[Group, ...] = ()
    not_recognized_rows: tuple[NotRecognizedRow, ...] = ()
    date_line: str = ""
    intro: str = ""
    decision_ref: str = ""
    decision_sentence: str = ""
    assessment: tuple[str, ...] = ()
    proposals: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()
    phase: str = ""
    guidance: str = ""

    _tuple_fields: ClassVar[tuple[str, ...]] = (
        "units", "fields", "recognized_groups", "not_recognized_rows", "assessment", "proposals", "recipients",
    )


@dataclass(frozen=True)
class ReminderItem:
    """What one entry still lacks.

    Attributes:
        code: the ledger id.
        title: the entry's title.
        missing: what is missing, as printed, e.g. "báo cáo thành tích; xác nhận của cấp ủy cùng cấp".
    """

    code: str
    title: str
    missing: str


@dataclass(frozen=True)
class ReminderUnit(_Frozen):
    """A unit that still owes something, with its entries.

    Attributes:
        name: the unit's name, e.g. "CĐCS Bệnh viện Đa khoa Đồng Nai".
        entries: what each of its entries lacks, in order.
        stt: running number; empty = 1, 2, …
    """

    name: str
    entries: tuple[ReminderItem, ...] = ()
    stt: str = ""

    _tuple_fields: ClassVar[tuple[str, ...]] = ("entries",)


@dataclass(frozen=True)
class ReminderDoc(_Frozen):
    """A reminder letter (công văn đôn đốc; template ``cong-van-nhac.docx``): "Số: …/CĐN", a "V/v"
    summary under the number, "Kính gửi", then unit by unit what each entry lacks and the deadline.

    Attributes:
        letterhead: issuing body and signer.
        year: the year concerned.
        number: the letter number, e.g. "15" -> "Số: 15/CĐN" (empty: left blank).
        issued_on: the letter's date.
        units: the units that owe something, in order.
        deadline: the deadline as printed, e.g. "30/9/2026".
        date_line: as in ``DecisionDoc``.
        subject: the "V/v" summary without "V/v"; empty = a default for the year.
        addressees: the "Kính gửi" lines; empty = the units' names (or one collective line when more
            than five units).
        intro: the opening paragraph; empty = a default.
        send_to: where to send the documents; empty = ``Letterhead.office``.
        closing: the last paragraph; empty = a default ending "./.".
        recipients: "Nơi nhận" lines (overrides the letterhead's); "Như trên" is added first.
        guidance: as in ``DecisionDoc`` (for the default intro).
    """

    letterhead: Letterhead
    year: int
    number: str
    issued_on: dt.date
    units: tuple[ReminderUnit, ...] = ()
    deadline: str = ""
    date_line: str = ""
    subject: str = ""
    addressees: tuple[str, ...] = ()
    intro: str = ""
    send_to: str = ""
    closing: str = ""
    recipients: tuple[str, ...] = ()
    unregistered: tuple[str, ...] = ()  # units that registered nothing this year (issue 13)
    guidance: str = ""

    _tuple_fields: ClassVar[tuple[str, ...]] = ("units", "addressees", "recipients", "unregistered")


@dataclass(frozen=True)
class YearSummaryRow:
    """One year of a phase (tờ trình summary table).

    Attributes:
        year: the year as printed.
        registered: entries that year.
        recognized: entries recognised that year.
        proposed: entries proposed for reward from that year.
    """

    year: str
    registered: int = 0
    recognized: int = 0
    proposed: int = 0


@dataclass(frozen=True)
class ProposalDoc(_Frozen):
    """The phase-summary reward proposal to the provincial Labour Federation (tờ trình; template
    ``to-trinh-khen-thuong.docx``), with the list across the years.

    Attributes:
        letterhead: issuing body and signer.
        phase: e.g. "2021-2025".
        number: the proposal number, e.g. "08" -> "Số: 08/TTr-CĐN" (empty: left blank).
        issued_on: its date.
        addressee: "Kính gửi", e.g. "Ban Thường vụ Liên đoàn Lao động tỉnh Đồng Nai".
        groups: the proposed exemplars grouped (Tập thể, Cá nhân); ``ListRow.year`` filled.
        years: the per-year summary table.
        addressee_short: the addressee in the body, e.g. "Ban Thường vụ LĐLĐ tỉnh"; empty = ``addressee``.
        award: the reward asked for, e.g. "Bằng khen".
        intro: opening paragraphs; empty = a default.
        date_line, date_text: as in ``DecisionDoc``.
        recipients: "Nơi nhận" lines (overrides the letterhead's); "Như trên" is added first.
        guidance: the phase's guidance as cited (for the default intro).
    """

    letterhead: Letterhead
    phase: str
    number: str
    issued_on: dt.date
    addressee: str
    groups: tuple[Group, ...] = ()
    years: tuple[YearSummaryRow, ...] = ()
    addressee_short: str = ""
    award: str = "Bằng khen"
    intro: tuple[str, ...] = ()
    date_line: str = ""
    date_text: str = ""
    recipients: tuple[str, ...] = ()
    guidance: str = ""

    _tuple_fields: ClassVar[tuple[str, ...]] = ("groups", "years", "intro", "recipients")
