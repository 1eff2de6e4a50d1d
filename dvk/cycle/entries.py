"""Registrations (đăng ký): one entry's rules, its id and its insertion."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Mapping
from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection

from dvk.criteria import CriteriaSet
from dvk.errors import InvalidInput, NotFound, clause
from dvk.ledger.history import Tx, table
from dvk.text.normalize import clean, fold
from dvk.text.safety import MAX_LEN, shorten
from dvk.cycle.common import KINDS, SUBJECTS, text_field_problem, check_year, today
from dvk.cycle.decisions import ensure_unlocked


def match_key(unit_code: str, title: str, person: str | None) -> str:
    return "|".join([fold(unit_code), fold(title), fold(person or "")])


@dataclass
class NewEntry:
    """A validated registration, ready to insert (id assigned on insert)."""

    year: int
    unit_code: str
    title: str
    kind: str = "model"
    subject: str = "collective"
    person: str | None = None
    position: str | None = None
    field: int = 1
    registered_on: dt.date | None = None
    sudden: bool = False
    note: str | None = None
    late: bool = False

    @property
    def key(self) -> str:
        return match_key(self.unit_code, self.title, self.person)


def validate_entry(
    *, year: int, unit_code: str, title: str | None, field: int | None, kind: str = "model",
    subject: str | None = None, person: str | None = None, position: str | None = None,
    registered_on: dt.date | None = None, sudden: bool = False, note: str | None = None,
    crit: CriteriaSet, units: Mapping[str, Mapping], today_: dt.date | None = None,
) -> NewEntry:
    """Check one registration against the rules; raises InvalidInput (details list every problem)."""
    problems: list[str] = []
    try:
        check_year(year)
    except InvalidInput as exc:
        problems.append(clause(exc.message))
    if unit_code not in units:
        problems.append(f"không có đơn vị mã “{shorten(unit_code)}” trong sổ")
    title_c = clean(title) if title else None
    why = text_field_problem(title, "tên mô hình", MAX_LEN["title"])
    if why:
        problems.append(why)
    elif not title_c:
        problems.append("thiếu tên mô hình, điển hình")
    for value, label, key in ((person, "họ và tên", "person"), (position, "chức vụ", "position"),
                              (note, "ghi chú", "note")):
        why = text_field_problem(value, label, MAX_LEN[key])
        if why:
            problems.append(why)
    numbers = [f.number for f in crit.fields]
    if field is None:
        problems.append("thiếu lĩnh vực (1–5)")
    elif field not in numbers:
        problems.append(f"lĩnh vực “{field}” không hợp lệ (chỉ có {', '.join(map(str, numbers))})")
    if kind not in KINDS:
        problems.append(f"loại “{kind}” không hợp lệ (mô hình hoặc điển hình)")
    person_c = clean(person) if person else None
    position_c = clean(position) if position else None
    if subject is None:
        subject = "individual" if person_c else "collective"
    if subject not in SUBJECTS:
        problems.append(f"đối tượng “{subject}” không hợp lệ (tập thể hoặc cá nhân)")
    if subject == "individual" and not person_c:
        problems.append("điển hình cá nhân phải có họ và tên")
    if subject == "individual" and person_c and len(person_c.split()) < 2:
        problems.append(f"họ và tên “{shorten(person_c)}” phải có ít nhất họ và tên")
    if subject == "collective" and (person_c or position_c):
        problems.append("tập thể không có họ tên, chức vụ (dùng --individual cho cá nhân)")
    if registered_on is None:
        registered_on = today_ or today()
    if problems:
        raise InvalidInput("Đăng ký không hợp lệ: " + "; ".join(problems) + ".", details=[])
    start, end = crit.window(year)
    late = (not sudden) and not (start <= registered_on <= end)
    return NewEntry(
        year=year, unit_code=unit_code, title=title_c or "", kind=kind, subject=subject, person=person_c,
        position=position_c or None, field=int(field or 0), registered_on=registered_on, sudden=bool(sudden),
        note=(clean(note) or None) if note else None, late=late,
    )


def next_seq(conn: Connection, year: int) -> int:
    t = table("entry")
    return (conn.execute(select(func.max(t.c.seq)).where(t.c.year == year)).scalar() or 0) + 1


def make_id(year: int, seq: int) -> str:
    return f"{year}-{seq:03d}"


def entry_row(e: NewEntry, seq: int) -> dict:
    return {
        "id": make_id(e.year, seq), "year": e.year, "seq": seq, "unit_code": e.unit_code, "title": e.title,
        "kind": e.kind, "subject": e.subject, "person": e.person, "position": e.position, "field": e.field,
        "registered_on": e.registered_on, "late": e.late, "sudden": e.sudden, "note": e.note,
        "match_key": e.key,
    }


def register(tx: Tx, e: NewEntry) -> dict:
    """Insert one registration; a duplicate of the same year is refused."""
    ensure_unlocked(tx.conn, e.year, f"danh sách đăng ký năm {e.year}")
    t = table("entry")
    dup = tx.conn.execute(
        select(t.c.id).where(and_(t.c.year == e.year, t.c.match_key == e.key))
    ).first()
    if dup:
        raise InvalidInput(
            f"Mô hình “{e.title}” của đơn vị {e.unit_code} đã đăng ký năm {e.year} (mã {dup.id})."
        )
    row = entry_row(e, next_seq(tx.conn, e.year))
    tx.insert("entry", row)
    return row


_ENTRY_ID = re.compile(r"\s*([0-9]{4})\s*-\s*([0-9]{1,6})\s*")


def entry_id_of(text: str) -> str:
    """An entry id as a clerk types it ("2024-7", " 2024 - 0007 ") in the ledger's one spelling
    ("2024-007"); any other text comes back stripped (it names no entry). Every command and every
    import reads entry ids through this."""
    m = _ENTRY_ID.fullmatch(text)
    return make_id(int(m.group(1)), int(m.group(2))) if m else text.strip()


def get_entry(conn: Connection, entry_id: str) -> dict:
    """The entry an id names, as typed ("2024-7" is 2024-007); NotFound if there is none."""
    t = table("entry")
    eid = entry_id_of(entry_id)
    row = conn.execute(select(t).where(t.c.id == eid)).mappings().first()
    if row is None:
        raise NotFound(f"Không có mô hình, điển hình mã “{eid}” trong sổ (dạng mã: 2024-007).")
    return dict(row)
