"""The member units (đơn vị / CĐCS) with their Party committees, and the units a decision was made with."""

from __future__ import annotations

from typing import Mapping, Sequence
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from dvk import rules
from dvk.errors import InvalidInput, NotFound
from dvk.ledger.history import Tx, table
from dvk.cycle.orgs import current


def add_unit(tx: Tx, code: str, name: str, committee: str | None = None) -> dict:
    """Add one unit checked by dvk.rules.unit (every problem at once); a code equal to one in the ledger
    once folded (case, spacing: dvk.rules.unit_key) is refused."""
    row, issues = rules.unit(code, name, committee)
    if issues or row is None:
        raise rules.refusal(issues, what="Đơn vị")
    code_c, name_c, committee_c = row["code"], row["name"], row["committee"]
    t = table("unit")
    if tx.conn.execute(select(t.c.code).where(t.c.code == code_c)).first():
        raise InvalidInput(f"Mã đơn vị “{code_c}” đã có trong sổ.")
    # Codes are unique folded (case, spacing): "bvdk" next to "BVDK" would be two names for one unit.
    key = rules.unit_key(code_c or "")
    same = [c for (c,) in tx.conn.execute(select(t.c.code)) if rules.unit_key(c) == key]
    if same:
        raise InvalidInput(f"Mã đơn vị “{code_c}” trùng với đơn vị “{same[0]}” đã có trong sổ (mã đơn vị không "
                           "phân biệt chữ hoa, chữ thường và khoảng trắng); hãy dùng mã khác.")
    org = current(tx.conn)
    ordinal = (tx.conn.execute(select(func.max(t.c.ordinal)).where(t.c.org_code == org)).scalar() or 0) + 1
    row = {"code": code_c, "name": name_c, "committee": committee_c, "ordinal": ordinal, "org_code": org}
    tx.insert("unit", row)
    return row


def upsert_units(tx: Tx, rows: Sequence[Mapping[str, str | None]]) -> dict[str, int]:
    """Add or update units from an import (file order = unit order for new ones)."""
    t = table("unit")
    org = current(tx.conn)
    everywhere = {r.code: r.org_code for r in tx.conn.execute(select(t.c.code, t.c.org_code))}
    others = [r["code"] for r in rows if r["code"] in everywhere and everywhere[r["code"]] != org]
    if others:
        raise InvalidInput(f"Mã đơn vị “{others[0]}” đã là đơn vị của tổ chức “{everywhere[others[0]]}” trong sổ; "
                           "một đơn vị thuộc một tổ chức.")
    existing = {r.code: dict(r) for r in tx.conn.execute(select(t).where(t.c.org_code == org)).mappings()}
    ordinal = max([u["ordinal"] for u in existing.values()], default=0)
    counts = {"added": 0, "updated": 0, "unchanged": 0}
    for r in rows:
        code = r["code"]
        if code in existing:
            cur = existing[code]
            new = {"name": r["name"], "committee": r.get("committee")}
            if cur["name"] == new["name"] and cur["committee"] == new["committee"]:
                counts["unchanged"] += 1
            else:
                tx.update("unit", {"code": code}, new)
                counts["updated"] += 1
        else:
            ordinal += 1
            tx.insert("unit", {"code": code, "name": r["name"], "committee": r.get("committee"), "ordinal": ordinal,
                               "org_code": org})
            existing[code] = {"code": code, "ordinal": ordinal, **r}
            counts["added"] += 1
    return counts


def list_units(conn: Connection) -> list[dict]:
    t = table("unit")
    return [dict(r) for r in conn.execute(select(t).where(t.c.org_code == current(conn))
                                          .order_by(t.c.ordinal, t.c.code)).mappings()]


def get_unit(conn: Connection, code: str) -> dict:
    t = table("unit")
    row = conn.execute(select(t).where(t.c.org_code == current(conn), t.c.code == code)).mappings().first()
    if row is None:
        # Be forgiving about case and spacing, never about identity.
        cands = [u for u in list_units(conn) if rules.unit_key(u["code"]) == rules.unit_key(code)]
        if len(cands) == 1:
            return cands[0]
        raise NotFound(f"Không có đơn vị mã “{code}” trong sổ (xem: dvk units list).")
    return dict(row)


def units_of_decision(conn: Connection, decision: Mapping | None) -> dict[str, dict]:
    """The units (code → row, in unit order) as `decision` was taken with them; the current units
    when `decision` is None (or, for a decision recorded without them, as a last resort)."""
    if decision is not None:
        t = table("decision_unit")
        rows = conn.execute(select(t.c.code, t.c.name, t.c.committee, t.c.ordinal)
                            .where(t.c.decision_id == decision["id"]).order_by(t.c.ordinal, t.c.code)).mappings()
        units = {r["code"]: dict(r) for r in rows}
        if units:
            return units
    return {u["code"]: u for u in list_units(conn)}


def decided_years(conn: Connection) -> list[int]:
    """The years that have a recognition decision in force (they keep the units they were decided with)."""
    t = table("decision")
    return [r[0] for r in conn.execute(select(t.c.year).where(t.c.org_code == current(conn),
                                                              t.c.revoked == False)  # noqa: E712
                                       .distinct().order_by(t.c.year))]
