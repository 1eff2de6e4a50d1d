"""The council of a year (Hội đồng Thi đua - Khen thưởng) as data: its members with their position,
unit and role; the conflicts of interest they declared; their abstentions.

One rule decides whether a member's sheet may be written (`Council.admit`, for `dvk score` and
`dvk score --from` alike) and one whether a sheet already recorded counts (`Council.uncounted`,
for every reader of a year: `check`, `recognize`, the documents). A year without a council keeps
the behaviour before the council existed: any name scores, and every sheet counts.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

from sqlalchemy import exists, func, select
from sqlalchemy.engine import Connection

from dvk.errors import InvalidInput, NotFound
from dvk.ledger.history import Tx, table
from dvk.text.dates import fmt_date
from dvk.text.normalize import fold, fold_marks
from dvk.text.safety import MAX_LEN
from dvk.cycle.common import check_year, text_field, today
from dvk.cycle.decisions import ensure_unlocked
from dvk.cycle.entries import get_entry
from dvk.cycle.units import get_unit
from dvk.cycle.orgs import current


_key = functools.lru_cache(maxsize=4096)(fold)  # a member's name folded, once per spelling (hot in every reader)


ROLES = {"chair": "Chủ tịch Hội đồng", "secretary": "Thư ký Hội đồng", "member": "Ủy viên"}
"""A member's role in the council, in the words of the minutes."""


@dataclass
class Council:
    """A year's council as read in one go: members in their order, declared conflicts and abstentions
    keyed by (entry id, folded member name)."""

    year: int
    members: list[dict] = field(default_factory=list)
    conflicts: dict[tuple[str, str], dict] = field(default_factory=dict)
    abstentions: dict[tuple[str, str], dict] = field(default_factory=dict)
    meeting: dict | None = None  # held_on, place, absent (list of names)

    def __post_init__(self) -> None:
        self._by_key = {_key(m["member"]): m for m in self.members}
        self.abstained_on: dict[str, list[dict]] = {}  # entry id → its abstentions
        for (eid, _k), a in self.abstentions.items():
            self.abstained_on.setdefault(eid, []).append(a)

    @property
    def has_members(self) -> bool:
        return bool(self.members)

    def member_of(self, name: str) -> dict | None:
        """The council member `name` is (the same name folded: case, spacing, tone placement), or None."""
        return self._by_key.get(_key(name))

    def near(self, name: str) -> dict | None:
        """A member whose name differs from `name` only in its diacritics (to say so in a refusal)."""
        bare = fold_marks(name)
        return next((m for m in self.members if fold_marks(m["member"]) == bare), None)

    def chair(self) -> dict | None:
        return next((m for m in self.members if m["role"] == "chair"), None)

    def secretary(self) -> dict | None:
        return next((m for m in self.members if m["role"] == "secretary"), None)

    def names(self) -> str:
        return ", ".join(m["member"] for m in self.members)

    def conflict_of(self, entry_id: str, unit_code: str, name: str) -> str | None:
        """Why `name` is in conflict on an entry of `unit_code` (own unit, or declared), or None."""
        m = self.member_of(name)
        if m is not None and m.get("unit_code") and _key(m["unit_code"]) == _key(unit_code):
            return f"thành viên thuộc đơn vị {m['unit_code']} của mô hình (xung đột lợi ích)"
        c = self.conflicts.get((entry_id, _key(name)))
        if c is not None:
            why = f": {c['reason']}" if c.get("reason") else ""
            return f"đã khai báo xung đột lợi ích ngày {fmt_date(c['declared_on'])}{why}"
        return None

    def uncounted(self, entry_id: str, unit_code: str, name: str) -> str | None:
        """Why a recorded sheet of `name` on the entry does not count, or None when it counts."""
        if self.members and self.member_of(name) is None:
            return f"không phải thành viên Hội đồng năm {self.year}"
        conflict = self.conflict_of(entry_id, unit_code, name)
        if conflict:
            return conflict
        a = self.abstentions.get((entry_id, _key(name)))
        if a is not None:
            return abstention_text(a)
        return None

    def admit(self, entry: Mapping, name: str) -> str:
        """The name a new sheet of `name` on `entry` is stored under (the council's spelling), or
        InvalidInput saying why the sheet is refused: not a member, in conflict, abstained."""
        return _raise_or(self.problem(entry, name), name, self)

    def problem(self, entry: Mapping, name: str) -> tuple[str | None, str | None]:
        """(stored name, None) when the sheet is admitted, (None, why) when it is refused."""
        eid = entry["id"]
        stored = name
        if self.members:
            m = self.member_of(name)
            if m is None:
                near = self.near(name)
                hint = f" (tên gần giống: “{near['member']}”, hãy ghi đúng tên có dấu)" if near else ""
                return None, (f"“{name}” không phải thành viên Hội đồng năm {self.year}{hint}; Hội đồng gồm: "
                              f"{self.names()} (thêm thành viên: dvk council add --year {self.year} TÊN)")
            stored = m["member"]
        conflict = self.conflict_of(eid, entry["unit_code"], stored)
        if conflict:
            return None, (f"“{stored}” không chấm {eid}: {conflict}; phiếu của thành viên có xung đột lợi ích "
                          "không được ghi")
        a = self.abstentions.get((eid, _key(stored)))
        if a is not None:
            return None, (f"“{stored}” đã ghi không tham gia chấm {eid} ngày {fmt_date(a['abstained_on'])}; muốn chấm, "
                          f"hãy bỏ ghi đó trước: dvk council abstain --year {self.year} \"{stored}\" {eid} --withdraw")
        return stored, None


def _raise_or(res: tuple[str | None, str | None], name: str, council: Council) -> str:
    stored, why = res
    if why is not None:
        raise InvalidInput(why[0].upper() + why[1:] + ".")
    return stored or name


def abstention_text(a: Mapping) -> str:
    why = f": {a['reason']}" if a.get("reason") else ""
    return f"không tham gia chấm (ghi ngày {fmt_date(a['abstained_on'])}){why}"


def council_of(conn: Connection, year: int) -> Council | None:
    """A year's council, conflicts and abstentions (three small queries), or None when the year has
    none of them — the fast path of every reader."""
    mt, ct, at, et = (table(n) for n in ("council_member", "council_conflict", "council_abstention", "entry"))
    org = current(conn)
    members = [dict(r) for r in conn.execute(select(mt).where(mt.c.org_code == org, mt.c.year == year)
                                             .order_by(mt.c.ordinal, mt.c.member)).mappings()]
    # Driven from the (small) declarations, each looking its entry up by id: a join let SQLite walk the
    # whole year's entries instead (0.35 s at 1,000,000 entries, for every single command of the year).
    conflicts = {(r["entry_id"], fold(r["member"])): dict(r) for r in conn.execute(
        select(ct).where(exists().where(et.c.id == ct.c.entry_id, et.c.org_code == org, et.c.year == year))
    ).mappings()}
    abstentions = {(r["entry_id"], fold(r["member"])): dict(r) for r in conn.execute(
        select(at).where(exists().where(et.c.id == at.c.entry_id, et.c.org_code == org, et.c.year == year))
    ).mappings()}
    mtg = table("council_meeting")
    meeting = conn.execute(select(mtg).where(mtg.c.org_code == org, mtg.c.year == year)).mappings().first()
    meeting = {**meeting, "absent": _names(meeting["absent"])} if meeting else None
    if not (members or conflicts or abstentions or meeting):
        return None
    return Council(year, members, conflicts, abstentions, meeting)


def _names(text: str) -> list[str]:
    import json

    try:
        v = json.loads(text or "[]")
    except ValueError:
        v = None
    return [x for x in v if isinstance(x, str)] if isinstance(v, list) else []


def list_members(conn: Connection, year: int) -> list[dict]:
    c = council_of(conn, check_year(year))
    return list(c.members) if c else []


# ---------------------------------------------------------------- writes


def add_member(tx: Tx, year: int, name: str, *, position: str | None = None, unit: str | None = None,
               role: str = "member") -> dict:
    """Add a member to a year's council (the year must not be decided). One chair, one secretary."""
    year = check_year(year)
    ensure_unlocked(tx.conn, year, "Hội đồng của năm")
    name_c = text_field(name, "tên thành viên Hội đồng", required=True, max_len=MAX_LEN["member"])
    position_c = text_field(position, "chức vụ (--position)", max_len=MAX_LEN["position"])
    if role not in ROLES:
        raise InvalidInput(f"Vai trò “{role}” không hợp lệ (--role): chọn chair (Chủ tịch), secretary (Thư ký) "
                           "hoặc member (Ủy viên).")
    unit_code = get_unit(tx.conn, unit)["code"] if unit else None
    council = council_of(tx.conn, year) or Council(year)
    same = council.member_of(name_c)
    if same is not None:
        raise InvalidInput(f"“{same['member']}” đã là thành viên Hội đồng năm {year}.")
    near = council.near(name_c)
    if near is not None:
        raise InvalidInput(f"Tên “{name_c}” chỉ khác ở dấu với thành viên “{near['member']}” đã có trong Hội đồng "
                           f"năm {year}; nếu là cùng một người thì không cần thêm, nếu là người khác hãy ghi đúng "
                           "tên có dấu đầy đủ.")
    if role in ("chair", "secretary"):
        holder = council.chair() if role == "chair" else council.secretary()
        if holder is not None:
            raise InvalidInput(f"Hội đồng năm {year} đã có {ROLES[role]}: {holder['member']}; mỗi Hội đồng một "
                               f"{ROLES[role]} (bỏ người đó trước: dvk council remove --year {year} TÊN).")
    mt = table("council_member")
    org = current(tx.conn)
    ordinal = (tx.conn.execute(select(func.max(mt.c.ordinal)).where(mt.c.org_code == org, mt.c.year == year))
               .scalar() or 0) + 1
    row = {"org_code": org, "year": year, "member": name_c, "position": position_c, "unit_code": unit_code, "role": role,
           "ordinal": ordinal}
    tx.insert("council_member", row)
    return row


def record_meeting(tx: Tx, year: int, held_on: dt.date, *, place: str | None = None,
                   absent: Sequence[str] = ()) -> dict:
    """Record (or replace) the council's meeting of the year: date, place, the members absent."""
    import json

    year = check_year(year)
    ensure_unlocked(tx.conn, year, "cuộc họp Hội đồng của năm")
    council = _council_or_refuse(tx.conn, year)
    place_c = text_field(place, "địa điểm (--place)", max_len=MAX_LEN["profile"])
    names: list[str] = []
    for n in absent:
        m = _member_or_refuse(council, text_field(n, "thành viên vắng mặt (--absent)", required=True,
                                                  max_len=MAX_LEN["member"]) or "")
        if m["member"] not in names:
            names.append(m["member"])
    row = {"org_code": current(tx.conn), "year": year, "held_on": held_on, "place": place_c,
           "absent": json.dumps(names, ensure_ascii=False, separators=(",", ":"))}
    tx.upsert("council_meeting", row)
    return {**row, "absent": names}


def meeting_phrase(council: Council | None) -> str:
    """" tại cuộc họp ngày 10/10/2026" for the decision's "Xét đề nghị …" line; "" without a meeting."""
    if council is None or council.meeting is None:
        return ""
    return f" tại cuộc họp ngày {fmt_date(council.meeting['held_on'])}"


def remove_member(tx: Tx, year: int, name: str) -> dict:
    """Remove a member from a year's council, with their declared conflicts and abstentions of the year.
    Their sheets stay recorded and no longer count (the year has a council and they are not on it)."""
    year = check_year(year)
    ensure_unlocked(tx.conn, year, "Hội đồng của năm")
    council = _council_or_refuse(tx.conn, year)
    m = _member_or_refuse(council, name)
    key = fold(m["member"])
    for (eid, k), c in list(council.conflicts.items()):
        if k == key:
            tx.delete("council_conflict", {"entry_id": eid, "member": c["member"]})
    for (eid, k), a in list(council.abstentions.items()):
        if k == key:
            tx.delete("council_abstention", {"entry_id": eid, "member": a["member"]})
    tx.delete("council_member", {"org_code": current(tx.conn), "year": year, "member": m["member"]})
    st, et = table("score"), table("entry")
    sheets = [r[0] for r in tx.conn.execute(select(st.c.member).join(et, et.c.id == st.c.entry_id)
                                            .where(et.c.org_code == current(tx.conn), et.c.year == year))]
    n = sum(1 for s in sheets if fold(s) == key)
    return {**m, "sheets": n}


def declare_conflicts(tx: Tx, year: int, name: str, entry_ids: Sequence[str], *, reason: str | None = None,
                      withdraw: bool = False, on: dt.date | None = None) -> list[dict]:
    """Declare (or withdraw) a member's conflict of interest on entries of the year. A sheet the member
    already recorded for such an entry stays in the ledger and stops counting."""
    year = check_year(year)
    ensure_unlocked(tx.conn, year, "xung đột lợi ích của Hội đồng")
    council = _council_or_refuse(tx.conn, year)
    m = _member_or_refuse(council, name)
    reason_c = text_field(reason, "lý do (--reason)", max_len=MAX_LEN["reason"])
    out = []
    for entry in _entries_of(tx.conn, year, entry_ids):
        eid = entry["id"]
        cur = council.conflicts.get((eid, fold(m["member"])))
        if withdraw:
            if cur is None:
                own = council.conflict_of(eid, entry["unit_code"], m["member"])
                extra = f" ({own}: không thể rút)" if own else ""
                raise InvalidInput(f"“{m['member']}” chưa khai báo xung đột lợi ích với {eid}{extra}.")
            tx.delete("council_conflict", {"entry_id": eid, "member": cur["member"]})
            out.append({"entry_id": eid, "member": cur["member"], "withdrawn": True})
            continue
        row = {"entry_id": eid, "member": m["member"], "reason": reason_c,
               "declared_on": cur["declared_on"] if cur else (on or today())}
        tx.upsert("council_conflict", row)
        out.append({**row, "declared_on": row["declared_on"].isoformat(), "withdrawn": False,
                    "sheet": _has_sheet(tx.conn, eid, m["member"])})
    return out


def abstain(tx: Tx, entry_id: str, name: str, *, reason: str | None = None, withdraw: bool = False,
            on: dt.date | None = None) -> dict:
    """Record that a member does not score an entry (not a missing sheet; it does not count), or
    withdraw that record. A sheet the member had recorded for the entry is deleted (in the history)."""
    entry = get_entry(tx.conn, entry_id)
    eid, year = entry["id"], entry["year"]
    ensure_unlocked(tx.conn, year, f"việc không tham gia chấm {eid}")
    name_c = text_field(name, "tên thành viên Hội đồng (--member)", required=True, max_len=MAX_LEN["member"])
    reason_c = text_field(reason, "lý do (--reason)", max_len=MAX_LEN["reason"])
    council = council_of(tx.conn, year) or Council(year)
    stored = name_c
    if council.has_members:
        stored = _member_or_refuse(council, name_c)["member"]
    cur = council.abstentions.get((eid, fold(stored)))
    if withdraw:
        if cur is None:
            raise InvalidInput(f"“{stored}” chưa ghi không tham gia chấm {eid}.")
        tx.delete("council_abstention", {"entry_id": eid, "member": cur["member"]})
        return {"entry_id": eid, "member": cur["member"], "withdrawn": True, "deleted_sheet": None}
    if cur is not None:
        stored = cur["member"]
    deleted = None
    st = table("score")
    for (m,) in tx.conn.execute(select(st.c.member).where(st.c.entry_id == eid)):
        if fold(m) == fold(stored):
            tx.delete("score", {"entry_id": eid, "member": m})
            deleted = m
    row = {"entry_id": eid, "member": stored, "reason": reason_c,
           "abstained_on": cur["abstained_on"] if cur else (on or today())}
    tx.upsert("council_abstention", row)
    return {**row, "abstained_on": row["abstained_on"].isoformat(), "withdrawn": False, "deleted_sheet": deleted}


def _council_or_refuse(conn: Connection, year: int) -> Council:
    council = council_of(conn, year)
    if council is None or not council.has_members:
        raise NotFound(f"Năm {year} chưa có Hội đồng (thêm thành viên: dvk council add --year {year} TÊN).")
    return council


def _member_or_refuse(council: Council, name: str) -> dict:
    m = council.member_of(name)
    if m is None:
        near = council.near(name)
        hint = f" (tên gần giống: “{near['member']}”)" if near else ""
        raise NotFound(f"“{name}” không phải thành viên Hội đồng năm {council.year}{hint}; Hội đồng gồm: "
                       f"{council.names()}.")
    return m


def _entries_of(conn: Connection, year: int, entry_ids: Iterable[str]) -> list[dict]:
    out, seen = [], set()
    ids = list(entry_ids)
    if not ids:
        raise InvalidInput("Hãy nêu ít nhất một mã mô hình, điển hình (ID…).")
    for raw in ids:
        e = get_entry(conn, raw)
        if e["year"] != year:
            raise InvalidInput(f"{e['id']} là mô hình của năm {e['year']}, không phải năm {year} (--year).")
        if e["id"] not in seen:
            seen.add(e["id"])
            out.append(e)
    return out


def _has_sheet(conn: Connection, entry_id: str, member: str) -> bool:
    st = table("score")
    return any(fold(m) == fold(member) for (m,) in conn.execute(select(st.c.member).where(st.c.entry_id == entry_id)))


def uncounted_sheets(council: Council | None, entry: Mapping, members: Iterable[str]) -> dict[str, str]:
    """member → why their sheet on `entry` does not count, for the sheets recorded (`members`) and the
    abstentions on it (which are not missing sheets)."""
    if council is None:
        return {}
    out: dict[str, str] = {}
    for m in members:
        why = council.uncounted(entry["id"], entry["unit_code"], m)
        if why:
            out[m] = why
    for a in council.abstained_on.get(entry["id"], ()):
        if a["member"] not in out:
            out[a["member"]] = abstention_text(a)
    return out
