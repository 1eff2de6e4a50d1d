"""The decision in force for a year and what it locks."""

from __future__ import annotations

from typing import Mapping
from sqlalchemy import and_, select
from sqlalchemy.engine import Connection

from dvk.errors import LockedYear
from dvk.ledger.history import table
from dvk.cycle.config import profile_for
from dvk.cycle.orgs import current
from dvk.text.dates import fmt_date
from dvk.wording import recognition_title


def active_decision(conn: Connection, year: int) -> dict | None:
    t = table("decision")
    row = conn.execute(
        select(t).where(and_(t.c.org_code == current(conn), t.c.year == year, t.c.revoked == False)).order_by(t.c.id.desc()).limit(1)  # noqa: E712
    ).mappings().first()
    return dict(row) if row else None


def ensure_unlocked(conn: Connection, year: int, what: str) -> None:
    dec = active_decision(conn, year)
    if dec:
        raise LockedYear(
            f"Năm {year} đã có {_decision_title(conn, dec)}; không thể thay đổi {what}. Muốn sửa, phải thu hồi "
            f"quyết định: dvk recognize --revoke --year {year} --reason \"…\""
        )


def _decision_title(conn: Connection, dec: Mapping) -> str:
    """"Quyết định công nhận số 05/QĐ-CĐN ngày 15/10/2024", with the symbol of the decision's year;
    a year closed without a decision: "kết quả xét chọn đã chốt ngày 15/10/2024 (không có mô hình
    nào được công nhận)"."""
    if dec.get("kind") == "none":
        return (f"kết quả xét chọn đã chốt ngày {fmt_date(dec['decided_on'])} (không có mô hình, điển hình nào "
                "được công nhận)")
    return recognition_title(dec["number"], profile_for(conn, dec["year"])["symbol"], dec["decided_on"])


def first_decision_from(conn: Connection, year: int):
    """The earliest decision in force for `year` or a later year (a row with year, number), or None."""
    t = table("decision")
    return conn.execute(
        select(t.c.year, t.c.number).where(and_(t.c.org_code == current(conn), t.c.year >= year,
                                                t.c.revoked == False))  # noqa: E712
        .order_by(t.c.year).limit(1)
    ).first()
