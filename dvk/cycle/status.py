"""Domain operations of the yearly cycle: each takes an open ledger or transaction and raises
typed errors (dvk.errors) with Vietnamese messages. The CLI only parses, calls and prints.

Reads fetch whole sets (a year's entries, reports, confirmations, scores) in a handful of
queries and compute in Python, so a year of 100,000 entries costs the same few queries.
"""

from __future__ import annotations

from typing import Iterable, Mapping
from sqlalchemy import and_, case, exists, func, literal, not_, select
from sqlalchemy.engine import Connection

from dvk.scoring import _filled
from dvk.criteria import ASPECTS
from dvk.ledger.history import table
from dvk.cycle.config import get_setting
from dvk.cycle.year import Bundle, YearContext, counted_scores, status_of


STAGES = ("registered", "reported", "confirmed", "scored", "recognized", "not_recognized")


def reached(b: Bundle) -> set[str]:
    """The stages an entry has reached (cumulative)."""
    out = {"registered"}
    if b.report is not None:
        out.add("reported")
    if b.confirmation and not b.confirmation["rejected"]:
        out.add("confirmed")
    if b.scores:
        out.add("scored")
    st = status_of(b)
    if st in ("recognized", "not_recognized"):
        out.add(st)
    return out


def missing_items(ctx: YearContext, b: Bundle) -> list[str]:
    """What an entry still lacks before it can be judged, in the clerk's words."""
    out: list[str] = []
    rep = b.report
    if rep is None:
        out.append("báo cáo thành tích")
    else:
        empty = [label for key, label in ASPECTS if not _filled(rep.get(key))]
        if empty:
            out.append("nội dung báo cáo: " + ", ".join(empty))
    conf = b.confirmation
    if conf is None and rep is not None and rep.get("confirmation_cleared_on"):
        out.append("xác nhận lại của cấp ủy (báo cáo đã sửa sau khi cấp ủy xác nhận)")
    elif conf is None:
        out.append("xác nhận của cấp ủy")
    elif conf["rejected"]:
        out.append(f"xác nhận của cấp ủy (bị từ chối: {conf['reason']})")
    n = len(counted_scores(ctx, b))
    if n < ctx.crit.min_members:
        out.append(f"chấm điểm ({n}/{ctx.crit.min_members} thành viên)")
    return out


def status_summary(ctx: YearContext, bundles: Iterable[Bundle]) -> dict:
    """Counts at each stage, by unit and by field, and what each entry still lacks (streamed)."""
    missing: dict[str, list[dict]] = {}

    def rows():
        for b in bundles:
            e = b.entry
            r = reached(b)
            if ctx.decision is None:
                m = missing_items(ctx, b)
                if m:
                    missing.setdefault(e["unit_code"], []).append({"id": e["id"], "title": e["title"], "missing": m})
            yield (e["unit_code"], e["field"], 1, bool(e["late"]), bool(e["sudden"]), *(s_ in r for s_ in STAGES[1:]))

    out = _tally(ctx, rows())
    out["missing"] = {k: missing[k] for k in ctx.units if k in missing}  # configured unit order
    return out


def stage_counts(conn: Connection, ctx: YearContext) -> list[tuple]:
    """The year's entries counted in the ledger, by (unit, field): (unit_code, field, entries, late, sudden,
    then one count per stage of STAGES after "registered"). The stages are `reached`'s, decided by the
    database in one GROUP BY instead of streaming every entry (tests hold both to the same numbers)."""
    from dvk.cycle.orgs import current

    et, rt, ct, st, ot = (table(n) for n in ("entry", "report", "confirmation", "score", "outcome"))

    def count(cond):
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    has = {
        "reported": exists().where(rt.c.entry_id == et.c.id),
        "confirmed": exists().where(ct.c.entry_id == et.c.id, not_(ct.c.rejected)),
        "scored": exists().where(st.c.entry_id == et.c.id),
    }
    if ctx.decision is not None:
        decided = and_(ot.c.entry_id == et.c.id, ot.c.decision_id == ctx.decision["id"])
        has["recognized"] = exists().where(decided, ot.c.recognized)
        has["not_recognized"] = exists().where(decided, not_(ot.c.recognized))
    cols = [count(has[s_]) if s_ in has else literal(0) for s_ in STAGES[1:]]
    q = (select(et.c.unit_code, et.c.field, func.count(), count(et.c.late), count(et.c.sudden), *cols)
         .where(et.c.year == ctx.year, et.c.org_code == current(conn))
         .group_by(et.c.unit_code, et.c.field))
    return [tuple(r) for r in conn.execute(q)]


def status_counts(conn: Connection, ctx: YearContext) -> dict:
    """`status_summary` without what each entry lacks: the same counts, from `stage_counts`."""
    return _tally(ctx, stage_counts(conn, ctx))


def _tally(ctx: YearContext, rows: Iterable[tuple]) -> dict:
    """The year's counts from rows (unit, field, entries, late, sudden, one count per stage after
    "registered"): of the database's GROUP BY, or one row per entry streamed."""
    counts = {s: 0 for s in STAGES}
    by_unit: dict[str, dict[str, int]] = {}
    by_field: dict[int, dict[str, int]] = {f.number: {s: 0 for s in STAGES} for f in ctx.crit.fields}
    total = late = sudden = 0
    for unit, fnum, n, n_late, n_sudden, *stages in rows:
        total, late, sudden = total + int(n), late + int(n_late), sudden + int(n_sudden)
        u = by_unit.setdefault(unit, {s: 0 for s in STAGES})
        f = by_field.setdefault(fnum, {s: 0 for s in STAGES})
        for s_, k in zip(STAGES, (n, *stages)):
            counts[s_] += int(k)
            u[s_] += int(k)
            f[s_] += int(k)
    order = list(ctx.units)  # configured unit order
    return {
        "year": ctx.year,
        "total": total,
        "late": late,
        "sudden": sudden,
        "decision": _decision_json(ctx.decision),
        "counts": counts,
        "by_unit": {k: by_unit[k] for k in order if k in by_unit},
        "by_field": {str(k): v for k, v in sorted(by_field.items())},
    }


def _decision_json(dec: Mapping | None) -> dict | None:
    if not dec:
        return None
    return {"id": dec["id"], "number": dec["number"], "decided_on": dec["decided_on"].isoformat()}


def ledger_info(conn: Connection) -> dict:
    counts = {}
    for name in ("org", "unit", "entry", "report", "confirmation", "score", "decision", "history"):
        counts[name] = conn.execute(select(func.count()).select_from(table(name))).scalar()
    from dvk.ledger.sqlite import _current_revision

    et = table("entry")
    every_year = [r[0] for r in conn.execute(select(et.c.year).distinct().order_by(et.c.year))]  # every organisation's
    return {"schema": _current_revision(conn), "counts": counts, "years": every_year,
            "ledger_id": get_setting(conn, "ledger_id")}


def tree_status(conn: Connection, year: int) -> list[dict]:
    """The year's counts at each stage for the organisation the connection works for and every one
    below it, depth first: each row its own `counts` and `below` (itself and everything under it)."""
    from dvk.cycle.forward import acting_for
    from dvk.cycle.orgs import ORG_KEY, current, first_org, walk
    from dvk.cycle.year import year_context

    top = conn.info.get(ORG_KEY) or first_org(conn) or current(conn)  # no --org: the whole tree
    rows: list[dict] = []
    for depth, org in list(walk(conn, top)):
        with acting_for(conn, org["code"]):
            ctx = year_context(conn, year)
            counts = _tally(ctx, stage_counts(conn, ctx))["counts"]
            ft, et = table("forward"), table("entry")
            forwarded = conn.execute(select(func.count()).select_from(ft).join(et, et.c.id == ft.c.from_entry)
                                     .where(et.c.org_code == org["code"], et.c.year == year)).scalar()
            rows.append({"org": org["code"], "name": org["name"], "level": org["level"], "parent": org["parent"],
                         "depth": depth, "decision": None if ctx.decision is None else ctx.decision["number"],
                         "counts": counts, "forwarded": forwarded})
    for i, r in enumerate(rows):
        below = dict(r["counts"])
        for s in rows[i + 1:]:
            if s["depth"] <= r["depth"]:
                break
            for k in STAGES:
                below[k] += s["counts"][k]
        r["below"] = below
    return rows
