"""What a year is judged and written with: the issuing organisation's profile in force for the year,
the criteria set in force for the year, the ledger's meta settings (reads only).
"""

from __future__ import annotations

import json
from sqlalchemy import select
from sqlalchemy.engine import Connection

from dvk.criteria import load_text
from dvk.criteria import CriteriaSet
from dvk.errors import NotFound
from dvk.ledger.history import table
from dvk.cycle.common import BASE_YEAR
from dvk.cycle.orgs import current


DEFAULT_PROFILE = {
    "org": "Công đoàn ngành Y tế tỉnh Đồng Nai",
    "parent_org": "Liên đoàn Lao động tỉnh Đồng Nai",
    "place": "Đồng Nai",
    "symbol": "CĐN",
    "signer": "Đàm Đức Chính",
    "signer_title": "CHỦ TỊCH",
    "on_behalf": "TM. BAN THƯỜNG VỤ",
}


DEFAULT_RECIPIENTS = [
    "Ban Thường vụ LĐLĐ tỉnh (b/c)",
    "Ban Thường vụ Đảng ủy Sở Y tế (b/c)",
    "Như Điều 3",
]


PROFILE_LABELS = {
    "org": "Đơn vị ban hành",
    "parent_org": "Cơ quan cấp trên",
    "place": "Địa danh",
    "symbol": "Ký hiệu văn bản",
    "signer": "Người ký",
    "signer_title": "Chức vụ người ký",
    "on_behalf": "Thẩm quyền ký",
    "recipients": "Nơi nhận",
    "award": "Hình thức công nhận",
}


def profile_for(conn: Connection, year: int, *, org: str | None = None) -> dict:
    """The organisation profile in force for `year` (the newest from_year ≤ year) of `org` (default: the
    organisation the connection works for)."""
    t = table("org_profile")
    mine = t.c.org_code == (org or current(conn))
    row = conn.execute(
        select(t).where(mine, t.c.from_year <= year).order_by(t.c.from_year.desc()).limit(1)
    ).mappings().first()
    if row is None:
        row = conn.execute(select(t).where(mine).order_by(t.c.from_year).limit(1)).mappings().first()
    if row is None:
        raise NotFound("Sổ chưa có thông tin đơn vị ban hành; hãy chạy dvk init.")
    out = dict(row)
    out["recipients"] = json.loads(out.get("recipients") or "[]")
    ot = table("org")
    out["level"] = conn.execute(select(ot.c.level).where(ot.c.code == out["org_code"])).scalar()
    return out


def profiles(conn: Connection) -> list[dict]:
    t = table("org_profile")
    out = []
    for r in conn.execute(select(t).where(t.c.org_code == current(conn)).order_by(t.c.from_year)).mappings():
        d = dict(r)
        d["recipients"] = json.loads(d.get("recipients") or "[]")
        out.append(d)
    return out


def criteria_for(conn: Connection, year: int, *, org: str | None = None) -> CriteriaSet:
    t = table("criteria_set")
    mine = t.c.org_code == (org or current(conn))
    row = conn.execute(
        select(t.c.from_year, t.c.text).where(mine, t.c.from_year <= year).order_by(t.c.from_year.desc()).limit(1)
    ).first()
    if row is None:
        row = conn.execute(select(t.c.from_year, t.c.text).where(mine).order_by(t.c.from_year).limit(1)).first()
    if row is None:
        raise NotFound("Sổ chưa có bộ tiêu chí; hãy chạy dvk init.")
    since = "từ đầu" if row.from_year == BASE_YEAR else f"từ năm {row.from_year}"
    return load_text(row.text, source=f"Bộ tiêu chí áp dụng {since} lưu trong sổ", stored=True)


def criteria_sets(conn: Connection) -> list[dict]:
    t = table("criteria_set")
    return [dict(r) for r in conn.execute(select(t.c.from_year, t.c.phase, t.c.sha256)
                                          .where(t.c.org_code == current(conn)).order_by(t.c.from_year)).mappings()]


def get_setting(conn: Connection, key: str, default: str | None = None) -> str | None:
    t = table("meta")
    v = conn.execute(select(t.c.value).where(t.c.key == key)).scalar()
    return default if v is None else v
