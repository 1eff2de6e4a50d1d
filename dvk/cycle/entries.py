"""Registrations (đăng ký): registering one entry (the rules are dvk.rules's), its id, finding it again."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any, Iterable, Mapping
from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection

from dvk import rules
from dvk.criteria import CriteriaSet
from dvk.errors import InvalidInput, NotFound
from dvk.ledger.history import Tx, table
from dvk.rules import Issue, entry_id_of, make_id, match_key
from dvk.cycle.common import today
from dvk.cycle.config import criteria_for
from dvk.cycle.decisions import ensure_unlocked
from dvk.cycle.orgs import ORG_KEY, current, id_prefix

__all__ = ["NewEntry", "validate_entry", "register", "next_seq", "make_id", "entry_id_of", "match_key", "get_entry",
           "REGISTRATION_VALUES"]


# What `register` takes: the values of one registration, as dvk.rules.registration reads them.
REGISTRATION_VALUES = ("year", "unit", "title", "kind", "subject", "person", "position", "field", "registered_on",
                       "sudden", "note")


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


def _checked(values: Mapping[str, Any], *, crit_of, units: rules.Units, found: Iterable[Issue] = (),
             names: Mapping[str | None, str | None] | None = None) -> dict:
    """The row dvk.rules.registration makes of `values`, or the refusal listing every problem
    (`found`: problems the caller met reading the values, listed with the rules')."""
    unknown = set(values) - set(REGISTRATION_VALUES)
    if unknown:
        raise TypeError(f"unknown registration values: {sorted(unknown)}")
    row, issues = rules.registration(**values, units=units, crit_of=crit_of, today=today())
    issues = rules.in_field_order([*found, *issues])
    if issues:
        raise rules.refusal(issues, names, what="Đăng ký", headline=True)
    assert row is not None
    return row


def validate_entry(
    *, year: int, unit_code: str, title: str | None, field: int | None, kind: str = "model",
    subject: str | None = None, person: str | None = None, position: str | None = None,
    registered_on: dt.date | None = None, sudden: bool = False, note: str | None = None,
    crit: CriteriaSet, units: Mapping[str, Mapping], today_: dt.date | None = None,
) -> NewEntry:
    """Check one registration against the rules (dvk.rules.registration) without a ledger: the entry,
    or InvalidInput listing every problem. `register` does this itself; this is for a caller that
    wants the checked values first."""
    values = dict(year=year, unit=unit_code, title=title, kind=kind, subject=subject, person=person,
                  position=position, field=field, registered_on=registered_on or today_, sudden=sudden, note=note)
    row = _checked(values, crit_of=lambda _y: crit, units=rules.Units(units))
    return NewEntry(**{f.name: row[f.name] for f in dataclasses.fields(NewEntry)})


def next_seq(conn: Connection, year: int, org: str | None = None) -> int:
    """The next number of an entry of `year` in organisation `org` (default: the one the run works for):
    each organisation numbers its own entries."""
    t = table("entry")
    org = org or current(conn)
    return (conn.execute(select(func.max(t.c.seq)).where(t.c.year == year, t.c.org_code == org)).scalar() or 0) + 1


def register(tx: Tx, values: Mapping[str, Any] | NewEntry, *, names: Mapping[str | None, str | None] | None = None,
             found: Iterable[Issue] = (), units: rules.Units | None = None,
             crit: CriteriaSet | None = None) -> dict:
    """Register one entry: check `values` (REGISTRATION_VALUES) against every rule of
    dvk.rules.registration (a NewEntry made by `validate_entry` is checked already), refuse a decided year or a duplicate of the same year, give it the year's
    next id, insert it (recorded in the history). Returns the row stored.

    Refused with every problem at once: `names` says how each field is named to the caller (dvk
    register: its options), `found` adds the problems the caller met reading the values. `units` /
    `crit`: the ledger's units and the year's criteria set when the caller has them (many at once).
    """
    if isinstance(values, NewEntry):  # checked already (validate_entry): stored as it stands
        row = {"id": None, "seq": 0, **dataclasses.asdict(values), "match_key": values.key}
    else:
        if units is None:
            ut = table("unit")
            units = rules.Units(c for (c,) in tx.conn.execute(select(ut.c.code).where(ut.c.org_code == current(tx.conn))))
        row = _checked(values, crit_of=(lambda _y: crit) if crit is not None else (lambda y: criteria_for(tx.conn, y)),
                       units=units, found=found, names=names)
    year = row["year"]
    ensure_unlocked(tx.conn, year, f"danh sách đăng ký năm {year}")
    t = table("entry")
    org = current(tx.conn)
    dup = tx.conn.execute(
        select(t.c.id).where(and_(t.c.year == year, t.c.match_key == row["match_key"], t.c.org_code == org))
    ).first()
    if dup:
        raise InvalidInput(
            f"Mô hình “{row['title']}” của đơn vị {row['unit_code']} đã đăng ký năm {year} (mã {dup.id})."
        )
    row["seq"] = seq = next_seq(tx.conn, year, org)
    row["id"] = make_id(year, seq, id_prefix(tx.conn, org))
    row["org_code"] = org
    tx.insert("entry", row)
    return row


def get_entry(conn: Connection, entry_id: str) -> dict:
    """The entry an id names, as typed ("2024-7" is 2024-007); NotFound if there is none."""
    t = table("entry")
    eid = entry_id_of(entry_id)
    row = conn.execute(select(t).where(t.c.id == eid)).mappings().first()
    if row is None:
        raise NotFound(f"Không có mô hình, điển hình mã “{eid}” trong sổ (dạng mã: 2024-007).")
    chosen = conn.info.get(ORG_KEY)
    if chosen is None and row.org_code:
        conn.info[ORG_KEY] = row.org_code  # no --org: the entry's own organisation
    elif chosen is not None and row.org_code != chosen:
        raise NotFound(f"Mô hình, điển hình mã “{eid}” thuộc tổ chức “{row.org_code}”, không phải “{chosen}” "
                       f"(bỏ --org hoặc dùng --org {row.org_code}).")
    return dict(row)
