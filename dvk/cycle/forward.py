"""Proposals upward (đề nghị lên cấp trên): an entry a lower organisation recognised becomes an entry
of its parent's year, under the parent's unit whose code is the lower organisation's, linked to the
original (id, decision, score) and carrying its report and confirmation. The parent then scores and
recognises it in its own cycle.
"""

from __future__ import annotations

import contextlib
from typing import Iterator, Mapping, Sequence

from sqlalchemy import and_, select
from sqlalchemy.engine import Connection

from dvk.errors import InvalidInput
from dvk.ledger.history import Tx, table
from dvk.rules import entry_id_of, make_id, match_key
from dvk.cycle.common import check_year
from dvk.cycle.decisions import active_decision, ensure_unlocked
from dvk.cycle.entries import next_seq
from dvk.cycle.orgs import ORG_KEY, get_org, id_prefix


@contextlib.contextmanager
def acting_for(conn: Connection, code: str) -> Iterator[str]:
    """Work for organisation `code` inside the block, then for the one chosen before."""
    before = conn.info.get(ORG_KEY)
    conn.info[ORG_KEY] = code
    try:
        yield code
    finally:
        if before is None:
            conn.info.pop(ORG_KEY, None)
        else:
            conn.info[ORG_KEY] = before


def recognised_by(conn: Connection, entry: Mapping) -> tuple[dict, float | None] | str:
    """(the decision in force that recognised `entry`, its score) — or why not, in the clerk's words.
    Read for the entry's own organisation."""
    with acting_for(conn, entry["org_code"]):
        dec = active_decision(conn, entry["year"])
    if dec is None or dec.get("kind") == "none":
        return f"năm {entry['year']} của {entry['org_code']} chưa có quyết định công nhận đang có hiệu lực"
    o = table("outcome")
    row = conn.execute(select(o.c.recognized, o.c.score).where(
        and_(o.c.decision_id == dec["id"], o.c.entry_id == entry["id"]))).first()
    if row is None or not row.recognized:
        return "không được công nhận theo quyết định đang có hiệu lực"
    return dec, row.score


def decision_text(conn: Connection, org: str, dec: Mapping) -> str:
    from dvk.cycle.config import profile_for
    from dvk.wording import recognition_title

    return recognition_title(dec["number"], profile_for(conn, dec["year"], org=org)["symbol"], dec["decided_on"])


def forward(tx: Tx, year: int, lower: str, ids: Sequence[str]) -> list[dict]:
    """Propose `ids` (entries `lower` recognised) to `lower`'s parent as entries of its `year`. Every id
    is checked first; one problem refuses them all, each named with its reason."""
    year = check_year(year)
    conn = tx.conn
    low = get_org(conn, lower)
    if not low["parent"]:
        raise InvalidInput(f"Tổ chức “{low['code']}” là cấp cao nhất của sổ; không có cấp trên để đề nghị.")
    parent = get_org(conn, low["parent"])
    if not ids:
        raise InvalidInput("Hãy nêu mã mô hình, điển hình cần đề nghị (hoặc --from TỆP).")
    et, ft, ut = table("entry"), table("forward"), table("unit")
    unit = conn.execute(select(ut).where(ut.c.code == low["code"], ut.c.org_code == parent["code"])).mappings().first()
    if unit is None:
        raise InvalidInput(f"Tổ chức “{parent['code']}” không có đơn vị mã “{low['code']}” để nhận đề nghị.")
    problems: list[str] = []
    chosen: list[tuple[dict, dict, float | None]] = []
    for raw in ids:
        eid = entry_id_of(raw)
        e = conn.execute(select(et).where(et.c.id == eid)).mappings().first()
        if e is None:
            problems.append(f"{raw}: không có mô hình, điển hình nào mang mã này.")
            continue
        if e["org_code"] != low["code"]:
            problems.append(f"{eid}: thuộc tổ chức “{e['org_code']}”, không phải “{low['code']}”.")
            continue
        found = recognised_by(conn, e)
        if isinstance(found, str):
            problems.append(f"{eid}: {found}; chỉ đề nghị được mô hình, điển hình đã được công nhận.")
            continue
        done = conn.execute(select(ft.c.entry_id).where(ft.c.from_entry == eid, ft.c.from_ledger.is_(None))).first()
        if done is not None or any(c[0]["id"] == eid for c in chosen):
            problems.append(f"{eid}: đã đề nghị lên {parent['code']} (mã {done.entry_id if done else 'trùng trong danh sách'}); "
                            "không đề nghị hai lần.")
            continue
        chosen.append((dict(e), *found))
    if problems:
        raise InvalidInput(f"Chưa đề nghị lên {parent['code']} ({len(problems)} lỗi); sổ không thay đổi.",
                           details=problems)
    out = []
    with acting_for(conn, parent["code"]):
        ensure_unlocked(conn, year, f"danh sách đăng ký năm {year} của {parent['code']}")
        for e, dec, score in chosen:
            row = add_forwarded(tx, year, parent["code"], low["code"], e,
                                report=_row(conn, "report", e["id"]), confirmation=_row(conn, "confirmation", e["id"]),
                                from_decision=decision_text(conn, low["code"], dec), from_score=score)
            out.append(row)
    return out


def _row(conn: Connection, name: str, entry_id: str) -> dict | None:
    t = table(name)
    r = conn.execute(select(t).where(t.c.entry_id == entry_id)).mappings().first()
    return dict(r) if r else None


def add_forwarded(tx: Tx, year: int, parent: str, lower: str, e: Mapping, *, report: Mapping | None,
                  confirmation: Mapping | None, from_decision: str, from_score: float | None,
                  from_ledger: str | None = None, package: str | None = None, data_sha256: str | None = None) -> dict:
    """Insert the parent's entry for `e` (a lower organisation's recognised entry), its report and
    confirmation, and the link. Returns the new entry row."""
    return add_forwarded_many(tx, year, parent, lower, [dict(
        e=e, report=report, confirmation=confirmation, from_decision=from_decision, from_score=from_score,
        from_ledger=from_ledger, package=package, data_sha256=data_sha256)])[0]


def add_forwarded_many(tx: Tx, year: int, parent: str, lower: str, items: Sequence[Mapping]) -> list[dict]:
    """`add_forwarded` for many entries at once (a received package): the parent's year's match keys read
    in one query, the rows written table by table (`Tx.insert_many`, each recorded in the history)."""
    conn = tx.conn
    et = table("entry")
    taken = {k: i for k, i in conn.execute(select(et.c.match_key, et.c.id).where(et.c.org_code == parent,
                                                                               et.c.year == year))}
    seq = next_seq(conn, year, parent)
    prefix = id_prefix(conn, parent)
    entries, reports, confs, links_ = [], [], [], []
    for it in items:
        e = it["e"]
        key = match_key(lower, e["title"], e.get("person"))
        if key in taken:
            raise InvalidInput(f"Mô hình “{e['title']}” của đơn vị {lower} đã có trong năm {year} của {parent} "
                               f"(mã {taken[key]}).")
        new_id = make_id(year, seq, prefix)
        taken[key] = new_id
        note = f"Đề nghị từ {lower}: mã {e['id']}, {it['from_decision']}"
        entries.append({"id": new_id, "year": year, "seq": seq, "unit_code": lower, "title": e["title"],
                        "kind": e["kind"], "subject": e["subject"], "person": e.get("person"),
                        "position": e.get("position"), "field": e["field"], "registered_on": e.get("registered_on"),
                        "late": False, "sudden": bool(e.get("sudden")), "note": note[:1000], "match_key": key,
                        "org_code": parent})
        seq += 1
        if it.get("report") is not None:
            reports.append({**it["report"], "entry_id": new_id})
        if it.get("confirmation") is not None:
            confs.append({**it["confirmation"], "entry_id": new_id})
        links_.append({"entry_id": new_id, "from_org": lower, "from_entry": e["id"],
                       "from_ledger": it.get("from_ledger"), "from_decision": it["from_decision"],
                       "from_score": it.get("from_score"), "package": it.get("package"),
                       "data_sha256": it.get("data_sha256")})
    for name, rows in (("entry", entries), ("report", reports), ("confirmation", confs), ("forward", links_)):
        tx.insert_many(name, rows)
    return entries


def links(conn: Connection, entry_id: str) -> dict:
    """Where an entry came from (`from`: the link, or None) and where it went (`to`: the parent's entries)."""
    ft, et = table("forward"), table("entry")
    came = conn.execute(select(ft).where(ft.c.entry_id == entry_id)).mappings().first()
    went = conn.execute(select(ft.c.entry_id, et.c.org_code, et.c.year).join(et, et.c.id == ft.c.entry_id)
                        .where(ft.c.from_entry == entry_id, ft.c.from_ledger.is_(None))
                        .order_by(ft.c.entry_id)).mappings().all()
    return {"from": dict(came) if came else None,
            "to": [{"entry": r["entry_id"], "org": r["org_code"], "year": r["year"]} for r in went]}
