"""What the council sees before it votes (`dvk council review`): for each entry the members' totals
and their spread, a flag where they disagree; for each member how far their totals sit from the
others' on the same entries (a harsh or lenient scorer); the entries near the pass mark.

Nothing here changes a score: it reads the year as every reader does (`dvk.cycle.year.judged`),
with only the sheets that count.
"""

from __future__ import annotations

import statistics
from sqlalchemy.engine import Connection

from dvk.text.normalize import fold
from dvk.cycle.common import check_year
from dvk.cycle.council import ROLES
from dvk.cycle.year import judged, uncounted, year_context


NEAR_PASS = 5.0
"""Points either side of the pass mark within which an entry is "near the pass mark"."""


def leaning_margin(disagreement: float) -> float:
    """How far (on 100) a member's mean distance from the other members' totals on the same entries
    must go before they are called lenient or harsh: half the disagreement threshold."""
    return disagreement / 2


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


def review(conn: Connection, year: int) -> dict:
    """The council's review of a year (JSON-ready; see the module docstring)."""
    ctx = year_context(conn, check_year(year))
    council = ctx.council
    threshold = float(ctx.crit.disagreement)
    lean = leaning_margin(threshold)
    pass_mark = float(ctx.crit.pass_mark)
    members: dict[str, dict] = {}
    if council is not None:
        for m in council.members:
            members[m["member"]] = {"member": m["member"], "role": m["role"], "position": m["position"],
                                    "unit": m["unit_code"], "sheets": 0, "compared": 0, "deviations": [],
                                    "conflicts": 0, "abstentions": 0}
        for c in council.conflicts.values():
            if c["member"] in members:
                members[c["member"]]["conflicts"] += 1
        for a in council.abstentions.values():
            if a["member"] in members:
                members[a["member"]]["abstentions"] += 1
    entries: list[dict] = []
    for b, ev in judged(conn, ctx):
        e = b.entry
        void = uncounted(ctx, b)
        totals = {m: t for m, t in ev.member_totals.items()}
        values = [t for t in totals.values() if t is not None]
        spread = max(values) - min(values) if len(values) >= 2 else None
        stdev = statistics.pstdev(values) if len(values) >= 2 else None
        for m, t in totals.items():
            row = members.setdefault(m, {"member": m, "role": None, "position": None, "unit": None, "sheets": 0,
                                         "compared": 0, "deviations": [], "conflicts": 0, "abstentions": 0})
            row["sheets"] += 1
            others = [v for mm, v in totals.items() if mm != m and v is not None]
            if t is not None and others:
                row["compared"] += 1
                row["deviations"].append(t - sum(others) / len(others))
        missing = []
        if council is not None and council.has_members:
            seen = {fold(s) for s in (*b.scores, *void)}  # a sheet, counted or not, or an abstention
            missing = [m["member"] for m in council.members if fold(m["member"]) not in seen
                       and not council.conflict_of(e["id"], e["unit_code"], m["member"])]
        score = ev.score_float
        entries.append({
            "id": e["id"], "unit": e["unit_code"], "title": e["title"], "person": e["person"], "score": score,
            "eligible": ev.eligible, "totals": {m: _r(t) for m, t in totals.items()}, "uncounted": void,
            "missing": missing, "spread": _r(spread), "stdev": _r(stdev),
            "disagreement": spread is not None and spread > threshold,
            "near_pass": score is not None and abs(score - pass_mark) <= NEAR_PASS,
        })
    out_members = []
    for row in members.values():
        devs = row.pop("deviations")
        mean = sum(devs) / len(devs) if devs else None
        leaning = None
        if mean is not None:
            leaning = "lenient" if mean > lean else "harsh" if mean < -lean else "even"
        out_members.append({**row, "role_label": ROLES.get(row["role"] or "", None), "mean_deviation": _r(mean),
                            "leaning": leaning})
    return {
        "year": ctx.year, "has_council": bool(council and council.has_members),
        "disagreement_threshold": threshold, "pass_mark": pass_mark, "near_margin": NEAR_PASS,
        "leaning_margin": lean, "entries": entries, "members": out_members,
        "flagged": [x["id"] for x in entries if x["disagreement"]],
        "near_pass": [x["id"] for x in entries if x["near_pass"]],
    }
