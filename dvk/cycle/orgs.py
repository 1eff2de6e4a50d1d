"""The organisations of a ledger as a tree (tổ chức công đoàn các cấp): which one a command works for,
adding one (a child is also a unit of its parent, same code), listing them.

The organisation a run works for rides on the open connection (`choose`, set by
`RunContext.reading`/`writing` from `--org`); every read and write of the cycle scopes itself with
`current(conn)`. With no choice made, the ledger's only organisation is meant; with several, the
clerk is asked to choose, and told the codes.
"""

from __future__ import annotations

import json
from typing import Iterator

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from dvk import rules
from dvk.errors import InvalidInput, NotFound
from dvk.ledger.history import Tx, table
from dvk.text.normalize import clean

ORG_KEY = "dvk.org"  # the connection's info key holding the chosen organisation's code
LEVELS = rules.ORG_LEVELS
# The level a child may have under each level (a sector union's CĐCS, a CĐCS's groups, …).
CHILD_LEVELS = {"federation": ("sector", "grassroots"), "sector": ("grassroots",), "grassroots": ("group",),
                "group": ()}


def list_orgs(conn: Connection) -> list[dict]:
    t = table("org")
    return [dict(r) for r in conn.execute(select(t).order_by(t.c.ordinal, t.c.code)).mappings()]


def get_org(conn: Connection, code: str) -> dict:
    t = table("org")
    row = conn.execute(select(t).where(t.c.code == code)).mappings().first()
    if row is None:
        up = (code or "").strip().upper()
        row = conn.execute(select(t).where(t.c.code == up)).mappings().first()
    if row is None:
        codes = ", ".join(o["code"] for o in list_orgs(conn)) or "(chưa có)"
        raise NotFound(f"Không có tổ chức mã “{code}” trong sổ (các mã có trong sổ: {codes}; xem: dvk org list).")
    return dict(row)


def choose(conn: Connection, code: str | None) -> str | None:
    """Make `code` (checked) the organisation this connection works for; None: leave it to `current`."""
    if code is None:
        conn.info.pop(ORG_KEY, None)
        return None
    org = get_org(conn, code)
    conn.info[ORG_KEY] = org["code"]
    return org["code"]


def current(conn: Connection) -> str:
    """The code of the organisation this connection works for: the one chosen, else the only one."""
    code = conn.info.get(ORG_KEY)
    if code:
        return code
    t = table("org")
    codes = [c for (c,) in conn.execute(select(t.c.code).order_by(t.c.ordinal, t.c.code).limit(50))]
    if not codes:
        raise NotFound("Sổ chưa có tổ chức nào; hãy chạy dvk init.")
    if len(codes) > 1:
        raise InvalidInput(f"Sổ có nhiều tổ chức ({', '.join(codes)}); hãy chọn một bằng --org MÃ "
                           "(xem: dvk org list --tree).")
    conn.info[ORG_KEY] = codes[0]
    return codes[0]


def first_org(conn: Connection) -> str | None:
    """The ledger's first organisation (its entries keep ids without a code: 2024-007)."""
    t = table("org")
    return conn.execute(select(t.c.code).order_by(t.c.ordinal, t.c.code).limit(1)).scalar()


def id_prefix(conn: Connection, code: str) -> str | None:
    """What an entry id of organisation `code` starts with: nothing for the first one, else its code."""
    return None if code == first_org(conn) else code


def children(conn: Connection, code: str) -> list[dict]:
    t = table("org")
    return [dict(r) for r in conn.execute(select(t).where(t.c.parent == code).order_by(t.c.ordinal, t.c.code))
            .mappings()]


def walk(conn: Connection, code: str, depth: int = 0) -> Iterator[tuple[int, dict]]:
    """The organisation `code` and everything below it, depth first in order, with its depth."""
    yield depth, get_org(conn, code)
    for child in children(conn, code):
        yield from walk(conn, child["code"], depth + 1)


def add_org(tx: Tx, code: str, *, name: str, parent: str | None, level: str, committee: str | None = None,
            symbol: str | None = None, signer: str | None = None, place: str | None = None,
            award: str | None = None) -> dict:
    """Add an organisation under `parent` with its own profile and criteria set (copied from the
    parent's in force, to be changed with `dvk org set --org` / `dvk criteria use --org`), and make it
    a unit of its parent with the same code. Every problem is named; nothing is written on one."""
    from dvk.text.safety import MAX_LEN

    code = (code or "").strip()
    problems = []
    why = rules.org_code_issue(code)
    if why:
        problems.append(why)
    if level not in LEVELS:
        problems.append(f"cấp “{level}” không hợp lệ (--level: {', '.join(LEVELS)})")
    name_c = clean(name or "")
    if not name_c:
        problems.append("thiếu tên tổ chức (--name)")
    elif len(name_c) > MAX_LEN["profile"]:
        problems.append(f"tên tổ chức dài quá {MAX_LEN['profile']} ký tự")
    if problems:
        raise InvalidInput("Không thêm được tổ chức: " + "; ".join(problems) + ".")
    t = table("org")
    if tx.conn.execute(select(t.c.code).where(t.c.code == code)).first():
        raise InvalidInput(f"Mã tổ chức “{code}” đã có trong sổ.")
    if parent is None:
        raise InvalidInput("Thiếu tổ chức cấp trên (--parent MÃ); sổ chỉ có một tổ chức cấp cao nhất.")
    up = get_org(tx.conn, parent)
    if level not in CHILD_LEVELS.get(up["level"], ()):
        allowed = ", ".join(CHILD_LEVELS.get(up["level"], ())) or "không có cấp nào"
        raise InvalidInput(f"Tổ chức “{up['code']}” ở cấp {up['level']}; cấp dưới của nó chỉ có thể là: {allowed} "
                           f"(không phải “{level}”).")
    ut = table("unit")
    same = [c for (c,) in tx.conn.execute(select(ut.c.code)) if rules.unit_key(c) == rules.unit_key(code)]
    if same:
        raise InvalidInput(f"Mã “{code}” trùng với đơn vị “{same[0]}” đã có trong sổ; hãy dùng mã khác.")
    committee_c = clean(committee) if committee else None
    ordinal = (tx.conn.execute(select(func.max(t.c.ordinal))).scalar() or 0) + 1
    row = {"code": code, "name": name_c, "parent": up["code"], "level": level, "committee": committee_c,
           "ordinal": ordinal}
    tx.insert("org", row)
    u_ord = (tx.conn.execute(select(func.max(ut.c.ordinal)).where(ut.c.org_code == up["code"])).scalar() or 0) + 1
    tx.insert("unit", {"code": code, "name": name_c, "committee": committee_c, "ordinal": u_ord,
                       "org_code": up["code"]})
    base = _newest(tx.conn, "org_profile", up["code"])
    grassroots = level in ("grassroots", "group")
    profile = {
        "org_code": code, "from_year": 0, "org": name_c, "parent_org": up["name"],
        "place": clean(place) if place else base["place"], "symbol": clean(symbol) if symbol else code,
        "signer": clean(signer) if signer else "(chưa đặt người ký: dvk org set --org " + code + " --signer …)",
        "signer_title": "CHỦ TỊCH", "on_behalf": "TM. BAN CHẤP HÀNH" if grassroots else base["on_behalf"],
        "recipients": json.dumps([f"Ban Thường vụ {up['name']} (b/c)",
                                  *([f"{committee_c} (b/c)"] if committee_c else []), "Như Điều 3"],
                                 ensure_ascii=False),
        "award": clean(award) if award else ("Giấy khen" if grassroots else None),
    }
    tx.insert("org_profile", profile)
    crit = _newest(tx.conn, "criteria_set", up["code"])
    tx.insert("criteria_set", {"org_code": code, "from_year": 0, "phase": crit["phase"],
                               "text": crit["text"], "sha256": crit["sha256"]})
    return row


def _newest(conn: Connection, name: str, org: str) -> dict:
    """The newest row of `org` in a table by year (its profile, its criteria set), to start a child with."""
    t = table(name)
    row = conn.execute(select(t).where(t.c.org_code == org).order_by(t.c.from_year.desc()).limit(1)).mappings().first()
    if row is None:
        raise NotFound(f"Tổ chức “{org}” chưa có {'thông tin đơn vị ban hành' if name == 'org_profile' else 'bộ tiêu chí'}.")
    return dict(row)
