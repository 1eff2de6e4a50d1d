"""A phase read for its documents: the yearly counts, the entries proposed for the phase's award
(`dvk propose`) — an individual recognised in several years as one row listing each year's decision,
with a short achievement from the report — the proposal (tờ trình) and the phase workbook's data.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.engine import Connection

from dvk.cycle.config import profile_for
from dvk.cycle.proposals import proposed, proposed_award
from dvk.cycle.units import list_units
from dvk.ledger.history import table
from dvk.reports.yearbook import iter_results
from dvk.reports.build import (COLLECTIVES, INDIVIDUALS, OrderedRows, YearState, guidance_of,
                               letterhead_for, level_of, names_body, read_year)
from dvk.reports.models import Group, ListRow, ProposalDoc, YearSummaryRow
from dvk.reports.records import PhaseWorkbookData, PhaseYear
from dvk.text.dates import fmt_date
from dvk.text.normalize import fold, sort_people
from dvk.wording import decision_note, default_award, standing_committee


@dataclass
class PhaseState:
    """A phase read year by year: the entries proposed for the phase's award (`dvk propose`; an
    individual recognised in several years is one row listing each year), the yearly counts, and
    each year's state."""

    phase: str
    years: list[int]
    proposed: OrderedRows = field(default_factory=OrderedRows)
    summary: list[YearSummaryRow] = field(default_factory=list)
    counts: dict[int, tuple[int, int, int]] = field(default_factory=dict)  # registered, recognised, not
    states: dict[int, YearState] = field(default_factory=dict)
    chosen: int = 0  # entries proposed (before individuals are merged)
    award: str | None = None  # the award set with `dvk propose --award`

    def rows(self) -> tuple[Group, Group]:
        """The proposed rows: "Tập thể" then "Cá nhân", each in year order (then the usual order)."""
        coll = sorted(self.proposed.collectives, key=lambda p: (p[1].year, p[0]))
        ind = sort_people(sorted(self.proposed.individuals, key=lambda p: p[0]), key=lambda p: p[1])
        ind = sorted(ind, key=lambda p: p[2].year.split(",")[0])  # stable: names stay sorted within a year
        return (Group(COLLECTIVES, tuple(r for _, r in coll)), Group(INDIVIDUALS, tuple(r for _, _, r in ind)))


def _achievements(conn: Connection, ids: Sequence[str]) -> dict[str, str]:
    """A short achievement of each entry, from its report (its effectiveness, else its approach):
    the first sentence, at most about 160 characters."""
    t = table("report")
    out: dict[str, str] = {}
    for i in range(0, len(ids), 500):
        for r in conn.execute(select(t.c.entry_id, t.c.effectiveness, t.c.approach)
                              .where(t.c.entry_id.in_(ids[i:i + 500]))).mappings():
            text = " ".join((r["effectiveness"] or r["approach"] or "").split())
            first = re.split(r"(?<=[.;!?])\s", text, maxsplit=1)[0].rstrip(" .;,:")
            out[r["entry_id"]] = first if len(first) <= 160 else first[:157].rsplit(" ", 1)[0] + "…"
    return out


def _in_year(year: str, text: str) -> str:
    """An achievement of one year in a row that lists several: "2023: …" (a text already so marked stays)."""
    if not text or ":" in text[:6] or "," in year:
        return text
    return f"{year}: {text}"


def read_phase(conn: Connection, phase: str, years: Sequence[int], notes: list[str]) -> PhaseState:
    """Read every year of a phase and the entries proposed for it; a year without a decision adds
    a note (none of its entries can be proposed)."""
    ps = PhaseState(phase, list(years))
    chosen = proposed(conn, phase)
    ps.award = proposed_award(chosen)
    wanted = {r["entry_id"] for r in chosen}
    ps.chosen = len(wanted)
    found: set[str] = set()
    achievement = _achievements(conn, sorted(wanted))
    people: dict[tuple[str, str], tuple[tuple, str, ListRow]] = {}
    for y in years:
        st = read_year(conn, y)
        ps.states[y] = st
        dec = st.decision
        registered = st.counts["registered"]
        if dec is None:
            if registered:
                notes.append(f"Năm {y} chưa có quyết định công nhận: không có mô hình nào của năm {y} trong tờ trình.")
            ps.counts[y] = (registered, 0, 0)
            ps.summary.append(YearSummaryRow(str(y), registered, 0, 0))
            continue
        ref = f"{decision_note(dec['number'], st.lh.symbol)} ngày {fmt_date(dec['decided_on'])}"
        n = len(st.recognized)
        k = 0
        for item in st.recognized.collective_items():
            key, row = item
            if row.code in wanted:
                k += 1
                found.add(row.code)
                ps.proposed.collectives.append((key, dataclasses.replace(
                    row, year=str(y), note=ref, score="", achievement=achievement.get(row.code, ""))))
        for key, person, row in st.recognized.individual_items():
            if row.code not in wanted:
                continue
            k += 1
            found.add(row.code)
            who = (fold(person), fold(row.unit))
            ach = achievement.get(row.code, "")
            if who in people:  # the same person of the same unit, recognised again: one row
                k0, p0, r0 = people[who]
                titles = r0.title if row.title == r0.title or row.title in r0.title.split("; ") \
                    else f"{r0.title}; {row.title}"
                people[who] = (k0, p0, dataclasses.replace(
                    r0, title=titles, year=f"{r0.year}, {y}", note=f"{r0.note}; {ref}",
                    code=f"{r0.code}, {row.code}",
                    achievement="; ".join(a for a in (_in_year(r0.year, r0.achievement), _in_year(str(y), ach)) if a)))
            else:
                people[who] = (key, person, dataclasses.replace(row, year=str(y), note=ref, score="",
                                                                 achievement=ach))
        ps.counts[y] = (registered, n, len(st.not_recognized))
        ps.summary.append(YearSummaryRow(str(y), registered, n, k))
    ps.proposed.individuals.extend(people.values())
    lost = sorted(wanted - found)
    if lost:
        notes.append(f"{len(lost)} mô hình đã chọn đề nghị không còn được công nhận theo quyết định đang có hiệu lực "
                     f"(đã bỏ khỏi tờ trình): {', '.join(lost[:10])}" + ("…" if len(lost) > 10 else "") + ".")
    return ps


def proposal_doc(conn: Connection, ps: PhaseState, on: dt.date) -> ProposalDoc:
    """The phase's reward proposal, addressed to the standing committee of the parent body, with
    the letterhead of the profile in force on ``on``; the award set with `dvk propose --award`, or
    the default of the issuing level."""
    profile = profile_for(conn, on.year)
    lh = letterhead_for(profile, {u["code"]: u for u in list_units(conn)})
    addressee = standing_committee(lh.parent_org)
    # "Như trên" already sends it to the addressee: drop lines that name the parent body again.
    lh = dataclasses.replace(lh, recipients=tuple(r for r in lh.recipients if not names_body(r, lh.parent_org)))
    first = ps.states[ps.years[0]].crit if ps.years else None
    award = ps.award or default_award(level_of(profile), lh.parent_org)
    return ProposalDoc(letterhead=lh, phase=ps.phase, number="", issued_on=on, addressee=addressee,
                       groups=ps.rows(), years=tuple(ps.summary), award=award,
                       guidance=guidance_of(first) if first is not None else "")


def phase_workbook_data(conn: Connection, ps: PhaseState, on: dt.date, author: str,
                        identifier: str) -> PhaseWorkbookData:
    """The phase workbook's data: each year's counts and its results, streamed."""
    pys = []
    for y in ps.years:
        st = ps.states[y]
        reg, rec, nrec = ps.counts[y]
        pys.append(PhaseYear(y, registered=reg, recognized=rec, not_recognized=nrec,
                             results=iter_results(conn, st.ctx, st.decision_ref())))
    c, i = ps.rows()
    return PhaseWorkbookData(ps.phase, author, on, pys, identifier=identifier, proposed=c.rows + i.rows)
