"""The ledger's tables (SQLModel).

Each table has a natural key (see `ROW_KEYS`) that the history uses to name the row a
change touched, so `dvk verify` can replay the history and compare it with the tables.
The schema itself is created and upgraded only by the Alembic migrations in
`dvk/migrations/versions/`; `SQLModel.metadata.create_all` is never used on a ledger.
"""

from __future__ import annotations

from datetime import date
from typing import Optional

from sqlalchemy import Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel


class Meta(SQLModel, table=True):
    """Ledger-wide settings and facts (khóa/giá trị): ledger id, creation time, backup count."""

    __tablename__ = "meta"
    key: str = Field(primary_key=True)
    value: str


class Org(SQLModel, table=True):
    """An organisation of the union's tree (tổ chức công đoàn): the federation, a sector union, a
    grassroots union (CĐCS) or a trade-union group (tổ công đoàn). Each one has its own profiles,
    criteria sets, units, entries, council, decisions and numbering; a child is also a unit of its
    parent (same code)."""

    __tablename__ = "org"
    code: str = Field(primary_key=True)
    name: str
    parent: Optional[str] = None  # the parent organisation's code; NULL for the top of the tree
    level: str  # federation | sector | grassroots | group
    committee: Optional[str] = None  # its Party committee at the same level
    ordinal: int = 0


class OrgProfile(SQLModel, table=True):
    """The issuing organisation (đơn vị phát động) in force from a given year on."""

    __tablename__ = "org_profile"
    org_code: str = Field(primary_key=True)
    from_year: int = Field(primary_key=True)
    org: str
    parent_org: str
    place: str
    symbol: str
    signer: str
    signer_title: str
    on_behalf: str
    recipients: str = "[]"  # JSON list of "Nơi nhận" lines
    award: Optional[str] = None  # what its recognition gives (a grassroots union: "Giấy khen"); NULL: a decision's list only


class CriteriaSetRow(SQLModel, table=True):
    """A criteria file (bộ tiêu chí) in force from a given year on, stored whole."""

    __tablename__ = "criteria_set"
    org_code: str = Field(primary_key=True)
    from_year: int = Field(primary_key=True)
    phase: str
    text: str
    sha256: str


class Unit(SQLModel, table=True):
    """A member organisation (đơn vị / CĐCS) that registers entries, with its Party committee."""

    __tablename__ = "unit"
    code: str = Field(primary_key=True)
    name: str
    committee: Optional[str] = None
    ordinal: int = 0
    org_code: Optional[str] = None  # the organisation it belongs to (always set; NULL only in no ledger)


class Entry(SQLModel, table=True):
    """A registered model or exemplar (mô hình / điển hình) of one year."""

    __tablename__ = "entry"
    __table_args__ = (
        UniqueConstraint("org_code", "year", "seq", name="uq_entry_org_year_seq"),  # numbered per organisation
        Index("ix_entry_year_unit", "year", "unit_code"),
        Index("ix_entry_year_match", "year", "match_key"),
    )
    id: str = Field(primary_key=True)  # YYYY-NNN
    year: int
    seq: int
    unit_code: str = Field(foreign_key="unit.code")
    title: str
    kind: str  # model | exemplar
    subject: str  # collective | individual
    person: Optional[str] = None
    position: Optional[str] = None
    field: int
    registered_on: Optional[date] = None
    late: bool = False
    sudden: bool = False
    note: Optional[str] = None
    match_key: str  # folded unit|title|person, for duplicate detection on import
    # The organisation whose entry it is (always set). The ledger's first organisation numbers its
    # entries YYYY-NNN, another one CODE-YYYY-NNN; `seq` stays unique within a year across the ledger.
    org_code: Optional[str] = None


class Report(SQLModel, table=True):
    """The achievement report (báo cáo thành tích) with the five aspects of section IV."""

    __tablename__ = "report"
    entry_id: str = Field(primary_key=True, foreign_key="entry.id")
    approach: Optional[str] = None
    experience: Optional[str] = None
    spread: Optional[str] = None
    effectiveness: Optional[str] = None
    sustainability: Optional[str] = None
    reported_on: Optional[date] = None
    file_path: Optional[str] = None
    file_sha256: Optional[str] = None
    # The day a change to the report cleared the Party committee's confirmation (it must confirm
    # again); it only matters while the entry has no confirmation.
    confirmation_cleared_on: Optional[date] = None


class Confirmation(SQLModel, table=True):
    """The Party committee's confirmation (xác nhận của cấp ủy), or its refusal."""

    __tablename__ = "confirmation"
    entry_id: str = Field(primary_key=True, foreign_key="entry.id")
    committee: str
    confirmed_by: str
    confirmed_on: Optional[date] = None
    comment: Optional[str] = None
    rejected: bool = False
    reason: Optional[str] = None


class Score(SQLModel, table=True):
    """One council member's score sheet (phiếu chấm điểm) for one entry.

    `marks` is a JSON object from criterion code to the score given (a number on the criteria
    set's scale) or null for "not applicable" (na), e.g. {"G1": 8, "G2": 7.5, …, "S5": null}; `total` is
    the sheet's exact total (migration 0004).
    A member's sheet is entered and replaced as a whole, so it is one row (and one history change).
    """

    __tablename__ = "score"
    entry_id: str = Field(primary_key=True, foreign_key="entry.id")
    member: str = Field(primary_key=True)
    marks: str
    # The sheet's exact total as written ("p/q TAG" or "na TAG", see dvk.scoring.total_text): a whole-year
    # read judges from it without decoding the marks; NULL or a tag that does not match: the marks decide.
    total: Optional[str] = None


class Decision(SQLModel, table=True):
    """A recognition decision (quyết định công nhận) of a year; revoked ones are kept."""

    __tablename__ = "decision"
    __table_args__ = (Index("ix_decision_year", "year"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    year: int
    number: int
    decided_on: date
    revoked: bool = False
    revoked_reason: Optional[str] = None
    revoked_on: Optional[date] = None
    revocation_number: Optional[int] = None  # the revoking decision's number (None: revoked without one)
    kind: str = Field(default="recognition", sa_column_kwargs={"server_default": "recognition"})  # | "none"
    org_code: Optional[str] = None  # the deciding organisation (always set); numbering is per organisation


class Outcome(SQLModel, table=True):
    """What a decision said of one entry: recognised or not, its score and the reasons."""

    __tablename__ = "outcome"
    decision_id: int = Field(primary_key=True, foreign_key="decision.id")
    entry_id: str = Field(primary_key=True, foreign_key="entry.id")
    recognized: bool
    score: Optional[float] = None
    reasons: str = "[]"  # JSON list of Vietnamese reasons


class Proposal(SQLModel, table=True):
    """An entry the union proposes for the phase's award (đề nghị khen thưởng giai đoạn)."""

    __tablename__ = "proposal"
    phase: str = Field(primary_key=True)
    entry_id: str = Field(primary_key=True, foreign_key="entry.id")
    award: Optional[str] = None
    org_code: Optional[str] = None  # the proposing organisation (always set)


class DecisionUnit(SQLModel, table=True):
    """A unit as a decision was taken with it (đơn vị theo quyết định): its name, Party committee
    and place in the unit order then. A decided year keeps these; later changes to `unit` apply to
    the years not yet decided."""

    __tablename__ = "decision_unit"
    decision_id: int = Field(primary_key=True, foreign_key="decision.id")
    code: str = Field(primary_key=True)
    name: str
    committee: Optional[str] = None
    ordinal: int = 0


class Document(SQLModel, table=True):
    """A file dvk exported (văn bản đã xuất): name, kind, year or phase, decision and SHA-256.

    `params` is JSON of what else the file was rendered from (document date, deadline, council
    members, templates folder, source .docx of a PDF), so `dvk verify-doc` can render it again.
    """

    __tablename__ = "document"
    __table_args__ = (Index("ix_document_kind_year", "kind", "year"),)
    sha256: str = Field(primary_key=True)
    name: str
    kind: str  # decision | registrations | score-sheets | results | reminder | workbook | proposal | phase-workbook
    year: Optional[int] = None
    phase: Optional[str] = None
    decision_id: Optional[int] = Field(default=None, foreign_key="decision.id")
    params: str = "{}"
    org_code: Optional[str] = None  # the organisation whose document it is (always set)


class History(SQLModel, table=True):
    """One command's record in the history (lịch sử): who, when, what; hash-chained."""

    __tablename__ = "history"
    id: Optional[int] = Field(default=None, primary_key=True)
    at: str  # ISO 8601 UTC timestamp
    user: str
    command: str
    summary: str
    n_changes: int = 0
    prev_hash: str
    hash: str


class Change(SQLModel, table=True):
    """One row a history record changed, with the row's full state after the change."""

    __tablename__ = "change"
    __table_args__ = (
        Index("ix_change_row", "table_name", "row_key"),
        # The key after its first "|": a one-column key whole, the second part of a two-column one
        # (`dvk history ID`: the outcomes of an entry, the decisions' rows of a unit). Spelled exactly
        # as the queries spell it (dvk.ledger.history.KEY_TAIL), or SQLite does not use it.
        Index("ix_change_key_tail", text("substr(row_key, instr(row_key, '|') + 1)")),
    )
    history_id: int = Field(primary_key=True, foreign_key="history.id")
    seq: int = Field(primary_key=True)
    table_name: str
    row_key: str
    op: str  # insert | update | delete
    data: Optional[str] = None  # JSON of the row after the change; NULL for delete


class CouncilMember(SQLModel, table=True):
    """A member of a year's council (thành viên Hội đồng Thi đua - Khen thưởng): name as written,
    position, the unit they come from (a member does not score that unit's entries), role."""

    __tablename__ = "council_member"
    org_code: str = Field(primary_key=True)
    year: int = Field(primary_key=True)
    member: str = Field(primary_key=True)
    position: Optional[str] = None
    unit_code: Optional[str] = Field(default=None, foreign_key="unit.code")
    role: str = "member"  # chair | secretary | member
    ordinal: int = 0


class CouncilConflict(SQLModel, table=True):
    """A conflict of interest a council member declared on one entry (xung đột lợi ích): their
    sheet for it is refused, and one recorded before stops counting."""

    __tablename__ = "council_conflict"
    entry_id: str = Field(primary_key=True, foreign_key="entry.id")
    member: str = Field(primary_key=True)
    reason: Optional[str] = None
    declared_on: date


class CouncilAbstention(SQLModel, table=True):
    """A council member's abstention on one entry (không tham gia chấm): not a missing sheet, not counted."""

    __tablename__ = "council_abstention"
    entry_id: str = Field(primary_key=True, foreign_key="entry.id")
    member: str = Field(primary_key=True)
    reason: Optional[str] = None
    abstained_on: date


class CouncilMeeting(SQLModel, table=True):
    """The council's meeting of a year (cuộc họp Hội đồng): its date and place, the members absent
    (a JSON list of names); the minutes and the decision's "Xét đề nghị …" line cite it."""

    __tablename__ = "council_meeting"
    org_code: str = Field(primary_key=True)
    year: int = Field(primary_key=True)
    held_on: date
    place: Optional[str] = None
    absent: str = "[]"


class Forward(SQLModel, table=True):
    """An entry proposed upward (đề nghị lên cấp trên): the parent's entry `entry_id` rests on the
    lower organisation's recognised entry — in this ledger (`from_ledger` NULL) or in the sender's
    ledger of a received package (`package` its SHA-256)."""

    __tablename__ = "forward"
    entry_id: str = Field(primary_key=True, foreign_key="entry.id")
    from_org: str
    from_entry: str  # the original entry's id (in this ledger, or in the sender's)
    from_ledger: Optional[str] = None  # the sender ledger's id; NULL: this ledger
    from_decision: str  # "Quyết định số 03/QĐ-CĐCS ngày 15/10/2026"
    from_score: Optional[float] = None
    package: Optional[str] = None  # SHA-256 of the package it came in
    data_sha256: Optional[str] = None  # SHA-256 of what the package said of it (a changed re-send conflicts)


class Package(SQLModel, table=True):
    """A package received from a lower ledger (gói hồ sơ): its hash, who sent it, the sender's last history hash."""

    __tablename__ = "package"
    sha256: str = Field(primary_key=True)
    org_code: str  # the receiving organisation
    from_org: str
    from_ledger: str
    year: int
    sender_last_hash: str
    received_on: date
    entries: int = 0


# Natural key columns of each table, used by the history and `dvk verify`.
ROW_KEYS: dict[str, tuple[str, ...]] = {
    "meta": ("key",),
    "org": ("code",),
    "org_profile": ("org_code", "from_year"),
    "criteria_set": ("org_code", "from_year"),
    "unit": ("code",),
    "entry": ("id",),
    "report": ("entry_id",),
    "confirmation": ("entry_id",),
    "score": ("entry_id", "member"),
    "decision": ("id",),
    "outcome": ("decision_id", "entry_id"),
    "decision_unit": ("decision_id", "code"),
    "proposal": ("phase", "entry_id"),
    "document": ("sha256",),
    "council_member": ("org_code", "year", "member"),
    "council_conflict": ("entry_id", "member"),
    "council_abstention": ("entry_id", "member"),
    "council_meeting": ("org_code", "year"),
    "forward": ("entry_id",),
    "package": ("sha256",),
}
