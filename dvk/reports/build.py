"""Ledger → view models: a year read in one pass (`ops.judged`) into what every document of the year
needs — grouping "I. Tập thể" (configured unit order, then registration order) and "II. Cá nhân"
(given name, middle names, family name, Vietnamese collation), scores with a decimal comma, the
letterhead of the organisation profile in force — and the streamed records of the workbooks.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from sqlalchemy.engine import Connection

from dvk.cycle.common import check_year
from dvk.cycle.config import profile_for
from dvk.cycle.status import STAGES, missing_items, reached
from dvk.cycle.recognition import revoked_decisions
from dvk.cycle.units import units_of_decision
from dvk.cycle.year import Bundle, YearContext, judged, year_context
from dvk.reports.models import Criterion, DecisionDoc, FieldCountRow, Group, Letterhead, ListRow, NotRecognizedRow, RegistrationListDoc, ReminderDoc, ReminderItem, ReminderUnit, ResultsReportDoc, RevocationDoc, ScoreSheetDoc, ScoreSheetEntry, UnitCountRow
from dvk.reports.spool import Spool, SpooledList, SpooledRows
from dvk.criteria import CriteriaSet
from dvk.text.dates import fmt_date
from dvk.text.normalize import fold, sort_people
from dvk.wording import GRASSROOTS
from dvk.wording import inner_quotes, decision_ref, decision_title, doc_number, fmt_number, fmt_score, issuer_name, issuing_level, members_name, recognition_subject


COLLECTIVES = "Tập thể"


INDIVIDUALS = "Cá nhân"


def _is_as_article(line: str) -> bool:
    return bool(re.match(r"^\s*[-–•]?\s*như\s+điều", line, flags=re.IGNORECASE))


def letterhead_for(profile: Mapping[str, Any], units: Mapping[str, Mapping]) -> Letterhead:
    """The letterhead of an organisation profile (``ops.profile_for``).

    The recipients kept here are those that suit any document ("Như Điều 3" belongs to the
    decision only and is added there).
    """
    org = profile["org"]
    on_behalf = profile.get("on_behalf") or ""
    recipients = tuple(r for r in profile.get("recipients") or () if r and not _is_as_article(r))
    return Letterhead(
        parent_org=profile["parent_org"], org=org, symbol=profile["symbol"], place=profile["place"],
        signer=profile["signer"], signer_title=profile["signer_title"], on_behalf=on_behalf,
        recipients=recipients, issuer_name=issuer_name(org, on_behalf),
        members_name=members_name((u.get("name") or "" for u in units.values()), level_of(profile)),
    )


def level_of(profile: Mapping[str, Any]) -> str:
    """The issuing level of a profile: grassroots when its organisation is a CĐCS or a group in the
    tree, else as its name and symbol say (a ledger made before the tree says "sector" for its one
    organisation, whatever it is)."""
    if profile.get("level") in ("grassroots", "group"):
        return GRASSROOTS
    return issuing_level(profile["org"], profile.get("symbol") or "")


def names_body(line: str, body: str) -> bool:
    """Whether a "Nơi nhận" line names `body`, in full or by its usual initials ("LĐLĐ tỉnh")."""
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


def guidance_of(crit: CriteriaSet) -> str:
    """The guidance of a criteria set as documents cite it ("Công văn số … ngày … của … về việc …");
    "" when the set names none."""
    return crit.guidance.cite()


def _legal_bases(crit: CriteriaSet, lh: Letterhead, meeting: str = "") -> tuple[str, ...]:
    """"Căn cứ …;" for each basis of the set (default: the Trade Union Charter), its guidance, then
    the proposal the decision answers, ending with "." (Decree 30)."""
    bases = [f"Căn cứ {b};" for b in (crit.legal_bases or ("Điều lệ Công đoàn Việt Nam",))]
    cite = guidance_of(crit)
    guide = cite or ("hướng dẫn tiêu chí xây dựng và xét chọn mô hình, điển hình “Dân vận khéo” giai đoạn "
                     f"{crit.phase}")
    bases.append(f"Căn cứ {guide};")
    bases.append(f"Xét đề nghị của Hội đồng Thi đua - Khen thưởng {lh.org}{meeting}.")
    return tuple(bases)


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
class OrderedRows:
    """Rows with what the official order needs (kept small: no entry dicts)."""

    collectives: list[tuple[tuple, ListRow]] = field(default_factory=list)
    individuals: list[tuple[tuple, str, ListRow]] = field(default_factory=list)

    def add(self, e: Mapping, rank: int, row: ListRow) -> None:
        key = (rank, e["year"], e["seq"])
        if e["subject"] == "individual":
            self.individuals.append((key, e.get("person") or "", row))
        else:
            self.collectives.append((key, row))

    def __len__(self) -> int:
        return len(self.collectives) + len(self.individuals)

    def groups(self, *, by_year: bool = False) -> tuple[Group, Group]:
        """"Tập thể" in unit order (then registration order); "Cá nhân" by given name, middle
        names, family name (Vietnamese collation).  With ``by_year`` collectives go year by year."""
        if by_year:
            coll = sorted(self.collectives, key=lambda p: (p[0][1], p[0][0], p[0][2]))
        else:
            coll = sorted(self.collectives, key=lambda p: p[0])
        ind = sort_people(sorted(self.individuals, key=lambda p: p[0]), key=lambda p: p[1])
        return (Group(COLLECTIVES, tuple(r for _, r in coll)),
                Group(INDIVIDUALS, tuple(r for _, _, r in ind)))

    def flat(self) -> list[ListRow]:
        c, i = self.groups()
        return list(c.rows) + list(i.rows)

    def collective_items(self) -> Iterator[tuple[tuple, ListRow]]:
        return iter(self.collectives)

    def individual_items(self) -> Iterator[tuple[tuple, str, ListRow]]:
        return iter(self.individuals)


class YearRows(SpooledRows):
    """`OrderedRows` of a year, on disk (`dvk.reports.spool`)."""

    def groups(self, *, by_year: bool = False) -> tuple[Group, Group]:
        """"Tập thể" in unit order (then registration order); "Cá nhân" by given name, middle
        names, family name (Vietnamese collation).  With ``by_year`` collectives go year by year."""
        coll, ind = self.ordered(by_year=by_year)
        return Group(COLLECTIVES, coll), Group(INDIVIDUALS, ind)


@dataclass
class YearState:
    """One pass over a year: everything the Word documents need (the workbook streams apart)."""

    ctx: YearContext
    profile: dict
    lh: Letterhead
    unit_rank: dict[str, int]
    # The lists are kept on disk as they are read (`dvk.reports.spool`), in one temporary file.
    spool: Spool = field(default_factory=Spool)
    registrations: YearRows = None  # type: ignore[assignment]
    recognized: YearRows = None  # type: ignore[assignment]
    ready: YearRows = None  # type: ignore[assignment]  # each row's extra: the entry's unit code
    not_recognized: SpooledList = None  # type: ignore[assignment]
    missing: dict[str, SpooledList] = field(default_factory=dict)  # unit code -> its ReminderItems
    members: set[str] = field(default_factory=set)
    stage: dict[str, dict[str, int]] = field(default_factory=dict)
    by_field: dict[int, list[int]] = field(default_factory=dict)  # field -> [registered, recognized]
    by_unit_field: dict[str, list[int]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    revoked: list[dict] = field(default_factory=list)  # the year's revoked decisions, oldest first

    def __post_init__(self) -> None:
        self.registrations = YearRows(ListRow, self.spool)
        self.recognized = YearRows(ListRow, self.spool)
        self.ready = YearRows(ListRow, self.spool)
        self.not_recognized = SpooledList(NotRecognizedRow, self.spool)

    def ready_units(self) -> Iterator[tuple[str, str]]:
        """(entry id, unit code) of each entry ready to score, in the order read."""
        for row, unit in self.ready.extras():
            yield row.code, unit

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

    @property
    def closed_without_decision(self) -> bool:
        """The year was closed with nothing recognised (`dvk recognize --none`)."""
        return self.decision is not None and self.decision.get("kind") == "none"

    def decision_ref(self) -> str:
        d = self.decision
        if d is None or self.closed_without_decision:
            return ""
        return decision_ref(d["number"], self.lh.symbol, d["decided_on"])


_NO_MEMBERS = re.compile(r"^Mới có (\d+) thành viên Hội đồng chấm điểm, cần ít nhất (\d+)$")


_MISSING_ASPECTS = re.compile(r"^(Báo cáo thành tích còn thiếu: )(.+)$")


def _clerk(reason: str) -> str:
    """A gate's reason as a clerk writes it in a document: "Chưa được Hội đồng chấm điểm" (not
    "Mới có 0 thành viên …, cần ít nhất 1"), aspect names in lower case mid-sentence."""
    m = _NO_MEMBERS.match(reason)
    if m:
        n, need = int(m[1]), int(m[2])
        return "Chưa được Hội đồng chấm điểm" if n == 0 else \
            f"Mới được {n} thành viên Hội đồng chấm điểm (cần ít nhất {need})"
    m = _MISSING_ASPECTS.match(reason)
    if m:
        return m[1] + ", ".join(a.strip()[:1].lower() + a.strip()[1:] for a in m[2].split(","))
    return reason


def _reasons_text(reasons: Iterable[str]) -> str:
    """The gates' reasons as one sentence: "Chưa có báo cáo thành tích; chưa có xác nhận …"."""
    parts = [_clerk(r.strip().rstrip(".;")) for r in reasons if r and r.strip()]
    if "Chưa được Hội đồng chấm điểm" in parts:  # "no score yet" says nothing more
        parts = [p for p in parts if not p.startswith("Chưa có điểm")]
    parts = parts[:1] + [p[:1].lower() + p[1:] for p in parts[1:]]
    return "; ".join(parts) + "." if parts else ""


def _unit_missing(ctx: YearContext, b: Bundle, ev) -> list[str]:
    """What the unit itself still owes for an entry (report, confirmation), in the letter's words."""
    items = [m for m in missing_items(ctx, b) if not m.startswith("chấm điểm")]
    conf = b.confirmation
    if conf and not conf["rejected"]:
        gate = next((g for g in ev.gates if g.code == "confirmation"), None)
        if gate is not None and not gate.ok:
            items.append(f"xác nhận của cấp ủy cùng cấp (đã có xác nhận của “{conf['committee']}”)")
    return items


def _forwarded_from(conn: Connection, year: int) -> dict[str, str]:
    """Entry id → "Đơn vị đề nghị (QĐ số 02/QĐ-CĐCS)" (the lower organisation's recognition) for the year's
    entries a lower organisation proposed (`dvk forward`, `dvk receive`)."""
    from sqlalchemy import select

    from dvk.cycle.orgs import current
    from dvk.ledger.history import table

    ft, et = table("forward"), table("entry")
    rows = conn.execute(select(ft.c.entry_id, ft.c.from_decision).join(et, et.c.id == ft.c.entry_id)
                        .where(et.c.org_code == current(conn), et.c.year == year))
    out = {}
    for eid, dec in rows:
        m = re.search(r"số (\S+)", dec or "")
        out[eid] = f"Đơn vị đề nghị (QĐ số {m[1]})" if m else "Đơn vị đề nghị"
    return out


class NotRead:
    """What `read_year` did not read (``lists=False``): using it is a mistake in dvk, said as such."""

    def __init__(self, name: str) -> None:
        self.name = name

    def _fail(self, *_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError(f"read_year(lists=False) did not read {self.name}: the document kind that uses it "
                           "must say lists=True (dvk.reports.kinds.DocKind)")

    __len__ = __iter__ = __bool__ = __contains__ = __getitem__ = _fail

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        self._fail()


def read_year(conn: Connection, year: int, *, decision: dict | None = None,
              before_decision: bool = False, lists: bool = True) -> YearState:
    """One pass over the year; ``decision`` replaces the decision in force (to render a revoked
    one); ``before_decision`` reads the year as it stood before any decision (the records a
    decision adds are its outcomes only, so that state is exactly reproducible).

    With ``lists=False`` (the documents planned read no list: the workbook, which reads the year in a
    pass of its own) the year is not judged: only the entries by unit and field are counted, in the
    database, and the lists, verdicts and stages are `NotRead`."""
    ctx = year_context(conn, check_year(year))
    if decision is not None:
        ctx.decision = decision
        ctx.units = units_of_decision(conn, decision)  # a revoked decision's document: its own units
    if before_decision:
        ctx.decision = None
    profile = profile_for(conn, year)
    units = ctx.units
    st = YearState(ctx, profile, letterhead_for(profile, units), {c: i for i, c in enumerate(units)})
    st.stage = {code: {s: 0 for s in STAGES} for code in units}
    nfields = [f.number for f in ctx.crit.fields]
    st.by_field = {n: [0, 0] for n in nfields}
    st.by_unit_field = {code: [0] * len(nfields) for code in units}
    fidx = {n: i for i, n in enumerate(nfields)}
    if not lists:
        _count_only(conn, st, fidx)
        st.revoked = revoked_decisions(conn, year)
        return st
    counts = {"late": 0, "sudden": 0, **{s: 0 for s in STAGES}}  # "registered": every entry
    came = _forwarded_from(conn, year)  # entries a lower organisation proposed: the list says whose
    for b, ev in judged(conn, ctx, full=False):
        e = b.entry
        code = e["unit_code"]
        rank = st.unit_rank.get(code, len(st.unit_rank))
        uname = st.unit_name(code)
        subject = _subject_text(e, uname)
        counts["late"] += bool(e["late"])
        counts["sudden"] += bool(e["sudden"])
        # recognised / not: counted below from the same verdict as the lists, so every table agrees
        stages = reached(b) - {"recognized", "not_recognized"}
        unit_stage = st.stage.setdefault(code, {s: 0 for s in STAGES})
        for s in stages:
            counts[s] += 1
            unit_stage[s] += 1
        f = st.by_field.setdefault(e["field"], [0, 0])
        f[0] += 1
        if e["field"] in fidx:
            st.by_unit_field.setdefault(code, [0] * len(nfields))[fidx[e["field"]]] += 1
        st.members.update(b.scores)
        st.registrations.add(e, rank, ListRow(
            title=e["title"], subject_text=subject, unit=uname, field=str(e["field"]), note=_note(e),
            code=e["id"], date=fmt_date(e["registered_on"]) if e["registered_on"] else ""))
        if b.outcome is not None:
            ok, score, reasons = b.outcome["recognized"], b.outcome["score"], b.outcome["reasons"]
        else:
            ok, score, reasons = ev.eligible, ev.score_float, ev.reasons
        if st.decision is None or b.outcome is not None:
            verdict = "recognized" if ok else "not_recognized"
            counts[verdict] += 1
            unit_stage[verdict] += 1
            if ok:
                f[1] += 1
                st.recognized.add(e, rank, ListRow(
                    title=e["title"], subject_text=subject, unit=uname, field=str(e["field"]),
                    score=fmt_score(score) if score is not None else "",
                    note="; ".join(x for x in ("Đột xuất" if e["sudden"] else "", came.get(e["id"], "")) if x),
                    code=e["id"]))
            else:
                st.not_recognized.append(NotRecognizedRow(code=e["id"], title=e["title"], unit=uname,
                                                             reasons=_reasons_text(reasons)))
        conf = b.confirmation
        if b.report is not None and conf is not None and not conf["rejected"]:
            st.ready.add(e, rank, ListRow(title=e["title"], subject_text=subject, unit=uname,
                                             field=str(e["field"]), code=e["id"]), e["unit_code"])
        if st.decision is None:
            items = _unit_missing(ctx, b, ev)
            if items:
                if code not in st.missing:
                    st.missing[code] = SpooledList(ReminderItem, st.spool)
                st.missing[code].append(ReminderItem(e["id"], inner_quotes(e["title"]), "; ".join(items)))
    st.counts = counts
    st.revoked = revoked_decisions(conn, year)
    return st


def _count_only(conn: Connection, st: YearState, fidx: dict[int, int]) -> None:
    """`read_year` without lists: the year's entries by unit and field (one GROUP BY), units in
    the order a pass over the entries meets them (the year's units first)."""
    from sqlalchemy import func, select

    from dvk.cycle.orgs import current
    from dvk.ledger.history import table

    et = table("entry")
    rows = conn.execute(select(et.c.unit_code, et.c.field, func.count(), func.min(et.c.seq))
                        .where(et.c.year == st.year, et.c.org_code == current(conn))
                        .group_by(et.c.unit_code, et.c.field)).all()
    first: dict[str, int] = {}
    for code, _, _, seq in rows:
        first[code] = min(first.get(code, seq), seq)
    for code in sorted(first, key=first.__getitem__):
        st.by_unit_field.setdefault(code, [0] * len(fidx))
    for code, fld, n, _ in rows:
        if fld in fidx:
            st.by_unit_field[code][fidx[fld]] += n
    st.counts = _Counted(registered=sum(n for _, _, n, _ in rows))
    for name in ("registrations", "recognized", "ready", "not_recognized", "missing", "members", "stage",
                 "by_field"):
        setattr(st, name, NotRead(f"the year's {name}"))


class _Counted(dict):
    """The counts `read_year` made without lists: the registered entries only."""

    def __missing__(self, key: str) -> int:
        return NotRead(f"the count {key!r}")._fail()


def replaced_by(st: YearState, d: Mapping) -> str:
    """The revoked decision that decision ``d`` replaces, as cited: the last one revoked before it
    by a revocation decision of its own (one never sent out is replaced by nothing); "" if none."""
    earlier = [r for r in st.revoked if r["id"] < d["id"] and r.get("revocation_number")]
    if not earlier:
        return ""
    r = earlier[-1]
    return decision_title(r["number"], st.lh.symbol, r["decided_on"])


def revocation_doc(st: YearState, rev: Mapping) -> RevocationDoc:
    """The decision revoking ``rev`` (a revoked decision with its revocation number)."""
    revoked = decision_title(rev["number"], st.lh.symbol, rev["decided_on"])
    bases = [f"Căn cứ {b};" for b in (st.crit.legal_bases or ("Điều lệ Công đoàn Việt Nam",))]
    bases.append(f"Căn cứ {revoked} của {st.lh.issuer_name or st.lh.org} về việc "
                 f"{recognition_subject(st.year)};")
    bases.append(f"Xét đề nghị của Hội đồng Thi đua - Khen thưởng {st.lh.org}.")
    return RevocationDoc(letterhead=st.lh, year=st.year, number=doc_number(rev["revocation_number"]),
                         issued_on=rev["revoked_on"], revoked=revoked, reason=rev["revoked_reason"] or "",
                         recognized=rev["recognized"], legal_bases=tuple(bases),
                         recipients=_decision_recipients(st.profile))


def decision_doc(st: YearState, on: dt.date) -> DecisionDoc:
    from dvk.cycle.council import meeting_phrase  # the council's meeting, when recorded (issue 13)

    d = st.decision
    assert d is not None
    return DecisionDoc(
        letterhead=st.lh, year=st.year, number=doc_number(d["number"]), issued_on=d["decided_on"],
        groups=st.recognized.groups(), legal_bases=_legal_bases(st.crit, st.lh, meeting_phrase(st.ctx.council)),
        recipients=_decision_recipients(st.profile), phase=st.crit.phase, guidance=guidance_of(st.crit),
        field_legend=field_legend(st.crit), replaces=replaced_by(st, d), award=st.profile.get("award") or "")


def registration_doc(st: YearState, on: dt.date) -> RegistrationListDoc:
    return RegistrationListDoc(
        letterhead=st.lh, year=st.year, issued_on=on, groups=st.registrations.groups(),
        late_count=st.counts["late"], sudden_count=st.counts["sudden"],
        guidance=st.crit.guidance.cite(subject=False), field_legend=field_legend(st.crit))


def field_legend(crit: CriteriaSet) -> str:
    """The legend of the "Lĩnh vực" column: "Lĩnh vực: 1. Chăm lo …; 2. …" (the set's short names)."""
    return "Lĩnh vực: " + "; ".join(f"{f.number}. {f.short}" for f in crit.fields) + "."


def _criteria(crit: CriteriaSet, *, notes: bool = False) -> tuple[Criterion, ...]:
    """The criteria as printed; with ``notes`` each that may be "na" says how to write it."""
    return tuple(Criterion(c.code, c.title, fmt_number(c.weight),
                           "không áp dụng thì ghi “KAD”" if notes and c.allow_na else "")
                 for c in crit.criteria)


def _instructions(crit: CriteriaSet) -> str:
    step = fmt_number(10 ** -crit.decimals) if crit.decimals else "1"
    na = [c.code for c in crit.criteria if c.allow_na]
    na_text = f"; tiêu chí có dấu * ({_code_span(na)}) nếu không áp dụng thì ghi “KAD”" if na else ""
    return (f"Ghi chú: mỗi tiêu chí chấm từ {fmt_number(crit.scale_min)} đến {fmt_number(crit.scale_max)} điểm "
            f"(lẻ đến {step}){na_text}. Điểm quy đổi = điểm × điểm tối đa / {fmt_number(crit.scale_max)}; "
            f"cộng điểm quy đổi được điểm của mô hình trên thang 100. Điểm đạt: {fmt_number(crit.pass_mark)}/100.")


def _code_span(codes: Sequence[str]) -> str:
    """"S1, S2, S3, S4" -> "S1–S4" when the codes run without gaps; else listed."""
    m = [re.fullmatch(r"([A-Za-z]*)(\d+)", c) for c in codes]
    if len(codes) > 2 and all(m) and len({x.group(1) for x in m}) == 1:
        nums = [int(x.group(2)) for x in m]
        if nums == list(range(nums[0], nums[0] + len(nums))):
            return f"{codes[0]}–{codes[-1]}"
    return ", ".join(codes)


def score_doc(st: YearState, on: dt.date, members: Sequence[str]) -> ScoreSheetDoc:
    crit = st.crit
    criteria = _criteria(crit, notes=True)
    total = fmt_number(sum(c.weight for c in crit.criteria))
    entries = st.ready.flat().map(lambda r: ScoreSheetEntry(
        code=r.code, title=r.title, unit=r.unit, subject_text=r.subject_text,
        field=f"{r.field}. {crit.field_short(int(r.field))}", criteria=criteria, total_weight=total))
    council = st.ctx.council
    skip: frozenset[tuple[str, str]] = frozenset()
    if council is not None and council.has_members:
        # No paper sheet for a member on an entry they may not score (own unit, declared conflict,
        # abstention): the test the Excel form uses (dvk.intake.forms), Council.problem.
        skip = frozenset((code, m) for code, unit in st.ready_units() for m in members
                         if council.problem({"id": code, "unit_code": unit}, m)[1] is not None)
    return ScoreSheetDoc(letterhead=st.lh, year=st.year, entries=entries, members=tuple(members), skip=skip,
                            instructions=_instructions(crit),
                            scale=f"{fmt_number(crit.scale_min)}–{fmt_number(crit.scale_max)}")


def results_doc(st: YearState, on: dt.date) -> ResultsReportDoc:
    crit = st.crit
    units = tuple(
        UnitCountRow(unit=st.unit_name(code), registered=s["registered"], reported=s["reported"],
                        confirmed=s["confirmed"], scored=s["scored"], recognized=s["recognized"],
                        not_recognized=s["not_recognized"])
        for code, s in st.stage.items())
    fields = tuple(FieldCountRow(field=f"{f.number}. {f.short}", registered=st.by_field.get(f.number, [0, 0])[0],
                                    recognized=st.by_field.get(f.number, [0, 0])[1])
                   for f in crit.fields)
    c = st.counts
    n_rec = len(st.recognized)
    d = st.decision
    sentence = ""
    if st.closed_without_decision:
        sentence = (f"Năm {st.year} không có mô hình, điển hình nào đủ điều kiện công nhận; kết quả xét chọn đã được "
                    f"chốt ngày {fmt_date(d['decided_on'])}, không ban hành quyết định công nhận.")
        d = None
    return ResultsReportDoc(
        letterhead=st.lh, year=st.year, number="", issued_on=on, registered=c["registered"], late=c["late"],
        sudden=c["sudden"], reported=c["reported"], confirmed=c["confirmed"], scored=c["scored"],
        recognized=n_rec, not_recognized=len(st.not_recognized), units=units, fields=fields,
        recognized_groups=st.recognized.groups(), not_recognized_rows=st.not_recognized.rows(),
        decision_ref=decision_title(d["number"], st.lh.symbol, d["decided_on"]) if d is not None else "",
        decision_sentence=sentence, assessment=assessment(st), proposals=proposals(st),
        phase=crit.phase, guidance=guidance_of(crit))


def _pct(part: int, whole: int) -> str:
    return fmt_number(round(100 * part / whole)) + "%" if whole else "0%"


def _main_reason(rows: Sequence[NotRecognizedRow]) -> str:
    """The reason most entries not recognised share (the first clause of each), in lower case."""
    from collections import Counter

    first = Counter(r.reasons.split(";")[0].strip().rstrip(".") for r in rows if r.reasons)
    if not first:
        return ""
    text, _ = first.most_common(1)[0]
    return text[:1].lower() + text[1:]


def assessment(st: YearState) -> tuple[str, ...]:
    """Section III (đánh giá chung), every sentence derived from the year's figures."""
    c, members = st.counts, st.lh.members_name.removesuffix(" trực thuộc")
    n, rec, nrec = c["registered"], c["recognized"], c["not_recognized"]
    out = [f"Năm {st.year}, {members} có {n} mô hình, điển hình tham gia (trong đó {c['late']} đăng ký muộn, "
           f"{c['sudden']} thành tích đột xuất); {c['reported']} mô hình có báo cáo thành tích, {c['confirmed']} được "
           f"cấp ủy cùng cấp xác nhận, {c['scored']} được Hội đồng chấm điểm."]
    if rec:
        scores = [float(r.score.replace(",", ".")) for r in st.recognized.flat() if r.score]
        avg = f"; điểm bình quân của các mô hình được công nhận là {fmt_score(sum(scores) / len(scores))}" if scores else ""
        out.append(f"Có {rec}/{n} mô hình, điển hình được công nhận ({_pct(rec, n)}){avg}.")
    else:
        out.append(f"Không có mô hình, điển hình nào đạt điểm công nhận ({fmt_number(st.crit.pass_mark)}/100).")
    if nrec:
        why = _main_reason(st.not_recognized)
        out.append(f"{nrec} mô hình, điển hình không được công nhận" + (f", nhiều nhất vì {why}." if why else "."))
    return tuple(out)


def proposals(st: YearState) -> tuple[str, ...]:
    """Section IV (đề xuất, kiến nghị), from what the year lacked."""
    c, members = st.counts, st.lh.members_name.removesuffix(" trực thuộc")
    out = []
    if c["recognized"]:
        out.append(f"Đề nghị {members} tiếp tục duy trì, nhân rộng {c['recognized']} mô hình, điển hình đã được "
                   "công nhận.")
    missing = c["registered"] - c["confirmed"]
    if missing > 0:
        out.append(f"Đề nghị các đơn vị còn {missing} mô hình chưa có báo cáo thành tích hoặc chưa được cấp ủy cùng "
                   "cấp xác nhận hoàn thiện hồ sơ đúng thời hạn.")
    if c["late"]:
        out.append(f"Có {c['late']} mô hình đăng ký muộn: đề nghị các đơn vị đăng ký đúng thời gian quy định.")
    return tuple(out) or (f"Đề nghị {members} tiếp tục hưởng ứng phong trào thi đua “Dân vận khéo”.",)


def reminder_deadline(st: YearState, on: dt.date, given: dt.date | None) -> dt.date:
    if given is not None:
        return given
    default = st.crit.recognition_day(st.year) - dt.timedelta(days=15)
    return max(default, on + dt.timedelta(days=7))


def reminder_doc(st: YearState, on: dt.date, deadline: dt.date) -> ReminderDoc:
    units = tuple(ReminderUnit(st.unit_name(code), items.rows())
                  for code, items in sorted(st.missing.items(), key=lambda kv: st.unit_rank.get(kv[0], 1 << 30)))
    return ReminderDoc(letterhead=st.lh, year=st.year, number="", issued_on=on, units=units,
                          deadline=fmt_date(deadline), guidance=guidance_of(st.crit),
                          unregistered=unregistered_units(st))


def unregistered_units(st: YearState) -> tuple[str, ...]:
    """The names of the units (in unit order) that registered nothing in the year (issue 13)."""
    return tuple(st.unit_name(code) for code in st.ctx.units if not st.stage.get(code, {}).get("registered"))
