"""The phase proposal (đề nghị khen thưởng giai đoạn): which recognised entries a union proposes for
the award of a phase, as `dvk propose` records them. The proposal (tờ trình) of `dvk export --phase`
lists exactly these.

An entry may be proposed only when its year lies in the phase and the decision in force of its year
recognised it; every change is one transaction in the history.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from sqlalchemy import and_, select
from sqlalchemy.engine import Connection

from dvk.cycle.orgs import current as org_of
from dvk.cycle.common import check_year, text_field
from dvk.cycle.decisions import active_decision
from dvk.cycle.entries import entry_id_of
from dvk.errors import InvalidInput, NotFound
from dvk.files import read_regular
from dvk.ledger.history import Tx, table

MAX_FILE_BYTES = 1 << 20

_PHASE = re.compile(r"(\d{4})\s*[-–]\s*(\d{4})")

_ID = re.compile(r"\b((?:[A-Za-z][A-Za-z0-9_]*-)?\d{4}\s*-\s*\d{1,6})\b")


def phase_years(phase: str) -> tuple[str, list[int]]:
    """"2021-2025" -> ("2021-2025", [2021, …, 2025]); InvalidInput otherwise."""
    m = _PHASE.fullmatch((phase or "").strip())
    if not m or not (int(m[1]) <= int(m[2]) <= int(m[1]) + 10):
        raise InvalidInput(f"Giai đoạn “{phase}” không hợp lệ; ghi dạng NĂM-NĂM, ví dụ 2021-2025.")
    a, b = check_year(int(m[1])), check_year(int(m[2]))
    return f"{a}-{b}", list(range(a, b + 1))


def ids_from_file(path: Path) -> list[str]:
    """The entry ids of a list file: every "2024-007" it holds, in order (a plain list, a CSV or a
    text the clerk pasted); InvalidInput when it holds none."""
    data = read_regular(path, max_bytes=MAX_FILE_BYTES, what="tệp danh sách đề nghị",
                        hint="hãy chỉ định một tệp văn bản, mỗi dòng một mã mô hình (ví dụ 2024-007)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"Tệp “{path}” không phải văn bản UTF-8 (byte lạ ở vị trí {exc.start}).") from None
    ids = [entry_id_of(m) for m in _ID.findall(text)]
    if not ids:
        raise InvalidInput(f"Tệp “{path}” không có mã mô hình nào (dạng 2024-007).")
    return ids


def _recognized_in_force(conn: Connection, entry_id: str) -> tuple[dict, dict] | None:
    et = table("entry")
    e = conn.execute(select(et).where(et.c.id == entry_id, et.c.org_code == org_of(conn))).mappings().first()
    if e is None:
        return None
    dec = active_decision(conn, e["year"])
    return dict(e), dec


def propose(tx: Tx, phase: str, ids: Sequence[str], *, award: str | None = None,
            remove: Sequence[str] = ()) -> dict:
    """Add ``ids`` to the phase's proposal and take ``remove`` out of it; ``award`` sets the award
    asked for (every row of the phase). Every id is checked first (InvalidInput listing each
    problem): it exists, its year is in the phase, the decision in force of its year recognised it.
    Returns {"added": […], "removed": […], "total": n}."""
    phase, years = phase_years(phase)
    award_c = text_field(award, "hình thức khen thưởng (--award)", required=False, max_len=300) if award else None
    t, o = table("proposal"), table("outcome")
    problems: list[str] = []
    add: list[str] = []
    for raw in ids:
        eid = entry_id_of(raw)
        found = _recognized_in_force(tx.conn, eid)
        if found is None:
            problems.append(f"{raw}: không có mô hình, điển hình nào mang mã này.")
            continue
        e, dec = found
        if e["year"] not in years:
            problems.append(f"{eid}: năm {e['year']} không thuộc giai đoạn {phase}.")
            continue
        if dec is None:
            problems.append(f"{eid}: năm {e['year']} chưa có quyết định công nhận đang có hiệu lực.")
            continue
        ok = tx.conn.execute(select(o.c.recognized).where(
            and_(o.c.decision_id == dec["id"], o.c.entry_id == eid))).scalar()
        if not ok:
            problems.append(f"{eid}: không được công nhận theo quyết định đang có hiệu lực của năm {e['year']}.")
            continue
        if eid not in add:
            add.append(eid)
    org = org_of(tx.conn)
    current = {r for (r,) in tx.conn.execute(select(t.c.entry_id).where(t.c.org_code == org, t.c.phase == phase))}
    drop = []
    for raw in remove:
        eid = entry_id_of(raw)
        if eid not in current and eid not in add:
            problems.append(f"{raw}: không có trong danh sách đề nghị giai đoạn {phase}.")
        elif eid not in drop:
            drop.append(eid)
    if problems:
        raise InvalidInput(f"Chưa ghi đề nghị khen thưởng giai đoạn {phase} ({len(problems)} lỗi).", details=problems)
    if not ids and not remove and award_c is None:
        raise InvalidInput("Hãy nêu mã mô hình (hoặc --from TỆP), --remove MÃ hoặc --award; xem danh sách: "
                           f"dvk propose --phase {phase} --list")
    added = []
    for eid in add:
        if eid in drop:
            continue
        if eid not in current:
            tx.insert("proposal", {"phase": phase, "entry_id": eid, "award": award_c, "org_code": org})
            current.add(eid)
            added.append(eid)
    for eid in drop:
        if eid in current:
            tx.delete("proposal", {"phase": phase, "entry_id": eid})
            current.discard(eid)
    if award_c is not None:
        for eid in sorted(current):
            tx.update("proposal", {"phase": phase, "entry_id": eid}, {"award": award_c})
    return {"phase": phase, "added": added, "removed": drop, "total": len(current)}


def proposed(conn: Connection, phase: str) -> list[dict]:
    """The phase's proposed entries (entry id, award), in id order (year, then number)."""
    t = table("proposal")
    rows = conn.execute(select(t).where(t.c.org_code == org_of(conn), t.c.phase == phase)
                        .order_by(t.c.entry_id)).mappings().all()
    return [dict(r) for r in rows]


def proposed_award(rows: Iterable[dict]) -> str | None:
    """The award the rows ask for (the one set with --award), or None for the default."""
    awards = [r["award"] for r in rows if r.get("award")]
    return awards[-1] if awards else None


def require_proposal(conn: Connection, phase: str) -> list[dict]:
    rows = proposed(conn, phase)
    if not rows:
        raise NotFound(f"Giai đoạn {phase} chưa có mô hình, điển hình nào được chọn đề nghị khen thưởng; "
                       f"chọn bằng: dvk propose --phase {phase} MÃ… (hoặc --from TỆP).")
    return rows
