"""Reading a year in sets: every entry with its report, confirmation, members' sheets and outcome,
streamed in registration order (five ordered queries merged), judged one entry at a time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping, Sequence
from sqlalchemy import and_, func, literal, select
from sqlalchemy.engine import Connection

from dvk.scoring import NOT_STORED, evaluate, member_total, stored_total
from dvk.criteria import ASPECTS, CriteriaSet
from dvk.scoring import EntryFacts, Evaluation
from dvk.errors import LedgerError
from dvk.ledger.history import table
from dvk.cycle.common import entry_year
from dvk.cycle.config import criteria_for
from dvk.cycle.decisions import active_decision
from dvk.cycle.orgs import current
from dvk.cycle.units import units_of_decision
from dvk.wording import decision_number


@dataclass
class YearContext:
    """What every entry of a year is judged against: rules, units, the decision in force."""

    year: int
    crit: CriteriaSet
    units: dict[str, dict]
    decision: dict | None
    council: Any = None  # dvk.cycle.council.Council, or None: every sheet counts


@dataclass(slots=True)
class Bundle:
    """One entry with its report, confirmation, members' sheets and (if decided) its outcome."""

    entry: dict
    report: dict | None = None
    confirmation: dict | None = None
    scores: dict = field(default_factory=dict)  # member → {code: mark | None} (None: not decoded)
    outcome: dict | None = None
    totals: dict | None = None  # member → exact total (Fraction | None), when the marks were not decoded


def year_context(conn: Connection, year: int) -> YearContext:
    """The rules, units and decision of a year. A decided year has the units its decision in force
    was taken with (names, committees, order); an undecided year has the units as they are now."""
    from dvk.cycle.council import council_of

    dec = active_decision(conn, year)
    return YearContext(year, criteria_for(conn, year), units_of_decision(conn, dec), dec, council_of(conn, year))


def iter_year(conn: Connection, ctx: YearContext, *, full: bool = True,
              entry_ids: Sequence[str] | None = None, marks: bool = True, totals: bool = False) -> Iterator[Bundle]:
    """Stream a year's entries in registration order, each with everything about it.

    Five ordered queries (entries, reports, confirmations, sheets, outcomes) are merged on
    the entry's sequence number, so memory stays flat whatever the year's size. With
    `full=False` a report carries only whether each aspect is filled in, not its text; with
    `marks=False` a member's sheet is not decoded (its value is None); with `totals` too, `Bundle.totals` holds each
    member's exact total: the one stored beside the sheet (`score.total`), or — a sheet without a usable
    one (NULL, written under other criteria, marks changed behind it) — computed from the marks.
    """
    et, rt, ct, st, ot = (table(n) for n in ("entry", "report", "confirmation", "score", "outcome"))
    cond = and_(et.c.year == ctx.year, et.c.org_code == current(conn))
    if entry_ids is not None:
        cond = and_(cond, et.c.id.in_(list(entry_ids)))

    def joined(t, key, *cols, extra=None):
        q = select(et.c.seq, *cols).select_from(et.join(t, t.c[key] == et.c.id)).where(cond)
        if extra is not None:
            q = q.where(extra)
        return q.order_by(et.c.seq)

    if full:
        rep_cols = [rt.c[c] for c in rt.c.keys()]
    else:
        rep_cols = [rt.c.entry_id] + [
            (func.length(func.trim(func.coalesce(rt.c[k], ""))) > 0).label(k) for k, _ in ASPECTS
        ] + [rt.c.reported_on, rt.c.confirmation_cleared_on]
    entries = conn.execute(select(et).where(cond).order_by(et.c.seq)).mappings()
    reports = conn.execute(joined(rt, "entry_id", *rep_cols))
    confs = conn.execute(joined(ct, "entry_id", *[ct.c[c] for c in ct.c.keys()]))
    sheets = conn.execute(joined(st, "entry_id", st.c.member, st.c.marks,
                                 st.c.total if totals and not marks else literal(None)).order_by(st.c.member))
    crit = ctx.crit
    outcomes = None
    if ctx.decision is not None:
        outcomes = conn.execute(joined(ot, "entry_id", ot.c.recognized, ot.c.score, ot.c.reasons,
                                       extra=ot.c.decision_id == ctx.decision["id"]))
    rep_keys = list(reports.keys())[1:]
    conf_keys = list(confs.keys())[1:]
    # Fetched by the thousand (one driver call per block, not per row).
    entries, reports, confs, sheets = (_blocks(r) for r in (entries, reports, confs, sheets))
    if outcomes is not None:
        outcomes = _blocks(outcomes)
    nxt_r = next(reports, None)
    nxt_c = next(confs, None)
    nxt_s = next(sheets, None)
    nxt_o = next(outcomes, None) if outcomes is not None else None
    for e in entries:
        seq = e["seq"]
        b = Bundle(dict(e))
        while nxt_r is not None and nxt_r[0] < seq:
            nxt_r = next(reports, None)
        if nxt_r is not None and nxt_r[0] == seq:
            b.report = dict(zip(rep_keys, nxt_r[1:]))
            nxt_r = next(reports, None)
        while nxt_c is not None and nxt_c[0] < seq:
            nxt_c = next(confs, None)
        if nxt_c is not None and nxt_c[0] == seq:
            b.confirmation = dict(zip(conf_keys, nxt_c[1:]))
            nxt_c = next(confs, None)
        while nxt_s is not None and nxt_s[0] <= seq:
            if nxt_s[0] == seq:
                if marks:
                    b.scores[nxt_s[1]] = _sheet(nxt_s[2], e["id"], nxt_s[1])
                elif not totals:
                    b.scores[nxt_s[1]] = None
                else:
                    b.scores[nxt_s[1]] = None
                    t = stored_total(nxt_s[3], nxt_s[2], crit)
                    if t is NOT_STORED:
                        t = member_total(_sheet(nxt_s[2], e["id"], nxt_s[1]), crit)
                    if b.totals is None:
                        b.totals = {}
                    b.totals[nxt_s[1]] = t
            nxt_s = next(sheets, None)
        if outcomes is not None:
            while nxt_o is not None and nxt_o[0] < seq:
                nxt_o = next(outcomes, None)
            if nxt_o is not None and nxt_o[0] == seq:
                b.outcome = {"recognized": bool(nxt_o[1]), "score": nxt_o[2],
                             "reasons": _reasons(nxt_o[3], e["id"], ctx.decision)}
                nxt_o = next(outcomes, None)
        yield b


def _blocks(result, size: int = 1000) -> Iterator:
    """The rows of a result, fetched `size` at a time."""
    while part := result.fetchmany(size):
        yield from part


_MARK_TYPES = frozenset({int, float, type(None)})


MAX_MARK = 1e9  # far beyond any scale (at most 1000): a value past it can only come from outside dvk


def _no_constant(name: str) -> None:
    raise ValueError(name)  # NaN, Infinity: never written by dvk


def _damaged(what: str, value: Any) -> LedgerError:
    shown = str(value)
    shown = "".join(c if c.isprintable() else "�" for c in (shown[:80] + "…" if len(shown) > 80 else shown))
    return LedgerError(f"{what} trong sổ bị hỏng (giá trị “{shown}” không phải do dvk ghi). Có thể sổ đã bị sửa "
                       "ngoài dvk: hãy chạy dvk verify để xem chỗ sai (và khôi phục từ bản sao lưu nếu cần: "
                       "dvk restore).")


_DECODE = json.JSONDecoder(parse_constant=_no_constant).decode


def _sheet(text: Any, entry_id: str, member: str) -> dict:
    """A member's stored sheet decoded: {code: number | None}; a damaged one names its row (LedgerError)."""
    try:
        v = _DECODE(text) if type(text) is str else None
    except (ValueError, RecursionError):
        v = None
    if type(v) is dict and _MARK_TYPES.issuperset(map(type, v.values())):
        if len(text) <= 300 and "e" not in text and "E" not in text:
            return v  # no number written in under 300 characters without an exponent can overflow a float
        nums = list(filter(None, v.values()))  # the numbers (None and 0 need no range check)
        if not nums or (max(nums) <= MAX_MARK and min(nums) >= -MAX_MARK):
            return v
    raise _damaged(f"Phiếu chấm điểm của thành viên “{member}” cho {entry_id}", text)


def _reasons(text: Any, entry_id: str, decision: Mapping | None) -> list:
    try:
        v = json.loads(text or "[]")
    except (TypeError, ValueError, RecursionError):
        v = None
    if type(v) is list and all(type(x) is str for x in v):
        return v
    number = f" số {decision_number(decision['number'])}" if decision else ""
    raise _damaged(f"Lý do trong kết quả của {entry_id} theo quyết định{number} năm {entry_year(entry_id)}", text)


def uncounted(ctx: YearContext, b: Bundle) -> dict[str, str]:
    """member → why their sheet on the entry does not count (council: not a member, conflict of
    interest, abstention); empty for a year without a council."""
    if ctx.council is None:
        return {}
    from dvk.cycle.council import uncounted_sheets

    return uncounted_sheets(ctx.council, b.entry, b.scores)


def counted_scores(ctx: YearContext, b: Bundle) -> dict:
    """The sheets of the entry that count (`min_members`, the score): all, without a council."""
    out = uncounted(ctx, b)
    return {m: s for m, s in b.scores.items() if m not in out} if out else b.scores


def facts(ctx: YearContext, b: Bundle) -> EntryFacts:
    e = b.entry
    unit = ctx.units.get(e["unit_code"]) or {}
    void = uncounted(ctx, b)
    scores = {m: s for m, s in b.scores.items() if m not in void} if void else b.scores
    totals = b.totals if b.scores and b.totals is not None else None
    if void and totals is not None:  # an uncounted sheet's stored total does not count either
        totals = {m: t for m, t in totals.items() if m not in void}
    return EntryFacts(entry_id=e["id"], year=e["year"], registered_on=e["registered_on"], sudden=e["sudden"],
                      report=b.report, confirmation=b.confirmation, unit_committee=unit.get("committee"),
                      member_scores=scores, member_totals=totals, uncounted=void)


def judged(conn: Connection, ctx: YearContext, *, full: bool = False,
           entry_ids: Sequence[str] | None = None, marks: bool = True) -> Iterator[tuple[Bundle, Evaluation]]:
    """Stream (bundle, evaluation) for every entry of the year. With `marks=False` the sheets are judged
    from their stored totals (`score.total`) and not decoded (`Bundle.scores` values are None)."""
    crit = ctx.crit
    for b in iter_year(conn, ctx, full=full, entry_ids=entry_ids, marks=marks, totals=not marks):
        yield b, evaluate(facts(ctx, b), crit)


def status_of(b: Bundle) -> str:
    if b.outcome is not None:
        return "recognized" if b.outcome["recognized"] else "not_recognized"
    if b.scores:
        return "scored"
    if b.confirmation and not b.confirmation["rejected"]:
        return "confirmed"
    if b.report is not None:
        return "reported"
    return "registered"


def bundle_json(ctx: YearContext, b: Bundle, ev: Evaluation) -> dict:
    """The documented JSON shape of one entry (stable for scripts)."""
    e = b.entry
    out = b.outcome
    return {
        "id": e["id"], "year": e["year"], "unit": e["unit_code"],
        "unit_name": (ctx.units.get(e["unit_code"]) or {}).get("name"), "title": e["title"], "kind": e["kind"],
        "subject": e["subject"], "person": e["person"], "position": e["position"], "field": e["field"],
        "registered_on": e["registered_on"].isoformat() if e["registered_on"] else None, "late": e["late"],
        "sudden": e["sudden"], "note": e["note"], "status": status_of(b),
        "score": out["score"] if out else ev.score_float,
        "eligible": out["recognized"] if out else ev.eligible,
        "reasons": out["reasons"] if out else ev.reasons,
    }


@dataclass
class YearData:
    """A whole year in memory (for documents and small views); big views use `judged()`."""

    year: int
    crit: CriteriaSet
    units: dict[str, dict]
    entries: list[dict]
    reports: dict[str, dict]
    confirmations: dict[str, dict]
    scores: dict[str, dict[str, dict[str, float | None]]]  # entry → member → code → mark (None = na)
    decision: dict | None
    outcomes: dict[str, dict]
    evaluations: dict[str, Evaluation] = field(default_factory=dict)

    def status(self, entry_id: str) -> str:
        return status_of(self.bundle(entry_id))

    def bundle(self, entry_id: str) -> Bundle:
        return Bundle(self._index[entry_id], self.reports.get(entry_id), self.confirmations.get(entry_id),
                      self.scores.get(entry_id, {}), self.outcomes.get(entry_id))

    @property
    def _index(self) -> dict[str, dict]:
        idx = self.__dict__.get("_idx")
        if idx is None or len(idx) != len(self.entries):
            idx = {e["id"]: e for e in self.entries}
            self.__dict__["_idx"] = idx
        return idx

    @property
    def ctx(self) -> YearContext:
        return YearContext(self.year, self.crit, self.units, self.decision)


def load_year(conn: Connection, year: int, *, entry_ids: Sequence[str] | None = None) -> YearData:
    """The whole year in memory, full report texts included (documents, forms, `show`)."""
    ctx = year_context(conn, year)
    yd = YearData(year, ctx.crit, ctx.units, [], {}, {}, {}, ctx.decision, {})
    for b, ev in judged(conn, ctx, full=True, entry_ids=entry_ids):
        eid = b.entry["id"]
        yd.entries.append(b.entry)
        if b.report is not None:
            yd.reports[eid] = b.report
        if b.confirmation is not None:
            yd.confirmations[eid] = b.confirmation
        if b.scores:
            yd.scores[eid] = b.scores
        if b.outcome is not None:
            yd.outcomes[eid] = {"entry_id": eid, **b.outcome}
        yd.evaluations[eid] = ev
    return yd


def entry_json(yd: YearData, e: Mapping) -> dict:
    """The documented JSON shape of one entry of an in-memory year."""
    return bundle_json(yd.ctx, yd.bundle(e["id"]), yd.evaluations[e["id"]])


def years(conn: Connection) -> list[int]:
    t = table("entry")
    return [r[0] for r in conn.execute(select(t.c.year).where(t.c.org_code == current(conn)).distinct()
                                       .order_by(t.c.year))]
