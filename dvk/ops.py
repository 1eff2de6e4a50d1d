"""Domain operations of the yearly cycle: each takes an open ledger or transaction and raises
typed errors (dvk.errors) with Vietnamese messages. The CLI only parses, calls and prints.

Reads fetch whole sets (a year's entries, reports, confirmations, scores) in a handful of
queries and compute in Python, so a year of 100,000 entries costs the same few queries.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

from sqlalchemy import and_, func, literal, select
from sqlalchemy.engine import Connection

from dvk import criteria as crit_mod
from dvk.criteria import ASPECTS, CriteriaSet, EntryFacts, Evaluation
from dvk.db import Ledger
from dvk.dates import fmt_date
from dvk.errors import InvalidInput, LockedYear, NotFound
from dvk.history import Tx, table
from dvk.textnorm import clean, fold, fold_marks

KINDS = {"model": "Mô hình", "exemplar": "Điển hình"}
SUBJECTS = {"collective": "Tập thể", "individual": "Cá nhân"}
STATUSES = {
    "registered": "Đã đăng ký",
    "reported": "Đã có báo cáo",
    "confirmed": "Đã xác nhận",
    "scored": "Đã chấm điểm",
    "recognized": "Được công nhận",
    "not_recognized": "Không được công nhận",
}
MIN_YEAR, MAX_YEAR = 2000, 2100
BASE_YEAR = 0  # a profile or criteria set "from the beginning"

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
}


# ---------------------------------------------------------------- helpers

def check_year(year: int) -> int:
    if not (MIN_YEAR <= int(year) <= MAX_YEAR):
        raise InvalidInput(f"Năm “{year}” không hợp lệ (phải trong khoảng {MIN_YEAR}–{MAX_YEAR}).")
    return int(year)


def entry_year(entry_id: str) -> int | None:
    head = entry_id.split("-", 1)[0]
    return int(head) if head.isdigit() else None


def today() -> dt.date:
    return dt.date.today()


def _text(value: str | None, label: str, *, required: bool = False, max_len: int = 2000,
          multiline: bool = False) -> str | None:
    if value is None:
        v = None
    elif multiline:
        lines = [clean(line) or "" for line in str(value).replace("\r\n", "\n").replace("\r", "\n").split("\n")]
        v = "\n".join(lines).strip("\n")
    else:
        v = clean(value)
    if required and not v:
        raise InvalidInput(f"Thiếu {label}.")
    if v and len(v) > max_len:
        raise InvalidInput(f"{label} quá dài ({len(v)} ký tự, tối đa {max_len}).")
    return v or None


# ---------------------------------------------------------------- ledger-wide settings

def init_ledger(path: Path, *, user: str, profile: Mapping[str, str | None], criteria_file: Path | None,
                command: str = "dvk init") -> tuple[Ledger, bool]:
    """Create the ledger (or open it unchanged when it already exists). Returns (ledger, created)."""
    crit_text = crit_mod.load_file(criteria_file).text if criteria_file else crit_mod.default_text()
    crit = crit_mod.load_text(crit_text)
    existed = Path(path).exists() and Path(path).stat().st_size > 0
    ledger = Ledger.open(path, create=True)
    with ledger.read() as conn:
        has_meta = conn.execute(select(func.count()).select_from(table("meta"))).scalar()
    if existed and has_meta:
        return ledger, False
    values = {k: (clean(v) if v else None) or DEFAULT_PROFILE[k] for k, v in profile.items() if k in DEFAULT_PROFILE}
    for k, v in DEFAULT_PROFILE.items():
        values.setdefault(k, v)
    with ledger.write(user=user, command=command, summary=f"Tạo sổ cho {values['org']}") as tx:
        tx.insert("meta", {"key": "ledger_id", "value": str(uuid.uuid4())})
        tx.insert("meta", {"key": "created_at", "value": dt.datetime.now(dt.timezone.utc).isoformat()})
        tx.insert("meta", {"key": "backup_keep", "value": "10"})
        tx.insert("org_profile", {"from_year": BASE_YEAR, **values,
                                  "recipients": json.dumps(DEFAULT_RECIPIENTS, ensure_ascii=False)})
        tx.insert("criteria_set", {"from_year": BASE_YEAR, "phase": crit.phase, "text": crit.text,
                                   "sha256": crit.sha256})
    return ledger, True


def profile_for(conn: Connection, year: int) -> dict:
    """The organisation profile in force for `year` (the newest from_year ≤ year)."""
    t = table("org_profile")
    row = conn.execute(
        select(t).where(t.c.from_year <= year).order_by(t.c.from_year.desc()).limit(1)
    ).mappings().first()
    if row is None:
        row = conn.execute(select(t).order_by(t.c.from_year).limit(1)).mappings().first()
    if row is None:
        raise NotFound("Sổ chưa có thông tin đơn vị ban hành; hãy chạy dvk init.")
    out = dict(row)
    out["recipients"] = json.loads(out.get("recipients") or "[]")
    return out


def profiles(conn: Connection) -> list[dict]:
    t = table("org_profile")
    out = []
    for r in conn.execute(select(t).order_by(t.c.from_year)).mappings():
        d = dict(r)
        d["recipients"] = json.loads(d.get("recipients") or "[]")
        out.append(d)
    return out


def set_profile(tx: Tx, from_year: int, changes: Mapping[str, Any]) -> dict:
    """Change the profile from `from_year` on; years before keep theirs. Refused for decided years."""
    check_year(from_year)
    changes = {k: v for k, v in changes.items() if v is not None}
    if not changes:
        raise InvalidInput("Chưa nêu thay đổi nào (ví dụ --org, --signer).")
    decided = first_decision_from(tx.conn, from_year)
    if decided:
        raise LockedYear(
            f"Năm {decided.year} đã có quyết định công nhận số {decided.number:02d}; không thể đổi thông tin "
            f"đơn vị ban hành từ năm {from_year}. Hãy chọn --from-year sau {decided.year} hoặc thu hồi quyết định."
        )
    current = profile_for(tx.conn, from_year)
    new = {k: current[k] for k in ("org", "parent_org", "place", "symbol", "signer", "signer_title", "on_behalf")}
    recipients = current["recipients"]
    for k, v in changes.items():
        if k == "recipients":
            recipients = [clean(x) for x in v if clean(x)]
        else:
            new[k] = _text(v, PROFILE_LABELS.get(k, k), required=True, max_len=300)
    row = {"from_year": from_year, **new, "recipients": json.dumps(recipients, ensure_ascii=False)}
    tx.upsert("org_profile", row)
    row["recipients"] = recipients
    return row


def criteria_for(conn: Connection, year: int) -> CriteriaSet:
    t = table("criteria_set")
    row = conn.execute(
        select(t.c.text).where(t.c.from_year <= year).order_by(t.c.from_year.desc()).limit(1)
    ).first()
    if row is None:
        row = conn.execute(select(t.c.text).order_by(t.c.from_year).limit(1)).first()
    if row is None:
        raise NotFound("Sổ chưa có bộ tiêu chí; hãy chạy dvk init.")
    return crit_mod.load_text(row.text)


def criteria_sets(conn: Connection) -> list[dict]:
    t = table("criteria_set")
    return [dict(r) for r in conn.execute(select(t.c.from_year, t.c.phase, t.c.sha256).order_by(t.c.from_year)).mappings()]


def use_criteria(tx: Tx, path: Path, from_year: int) -> CriteriaSet:
    check_year(from_year)
    crit = crit_mod.load_file(path)
    decided = first_decision_from(tx.conn, from_year)
    if decided:
        raise LockedYear(
            f"Năm {decided.year} đã có quyết định công nhận; không thể đổi bộ tiêu chí từ năm {from_year}."
        )
    tx.upsert("criteria_set", {"from_year": from_year, "phase": crit.phase, "text": crit.text, "sha256": crit.sha256})
    return crit


def get_setting(conn: Connection, key: str, default: str | None = None) -> str | None:
    t = table("meta")
    v = conn.execute(select(t.c.value).where(t.c.key == key)).scalar()
    return default if v is None else v


# ---------------------------------------------------------------- units

def add_unit(tx: Tx, code: str, name: str, committee: str | None = None) -> dict:
    code_c = _text(code, "mã đơn vị", required=True, max_len=40)
    name_c = _text(name, "tên đơn vị", required=True, max_len=300)
    committee_c = _text(committee, "tên cấp ủy", max_len=300)
    t = table("unit")
    if tx.conn.execute(select(t.c.code).where(t.c.code == code_c)).first():
        raise InvalidInput(f"Mã đơn vị “{code_c}” đã có trong sổ.")
    ordinal = (tx.conn.execute(select(func.max(t.c.ordinal))).scalar() or 0) + 1
    row = {"code": code_c, "name": name_c, "committee": committee_c, "ordinal": ordinal}
    tx.insert("unit", row)
    return row


def upsert_units(tx: Tx, rows: Sequence[Mapping[str, str | None]]) -> dict[str, int]:
    """Add or update units from an import (file order = unit order for new ones)."""
    t = table("unit")
    existing = {r.code: dict(r) for r in tx.conn.execute(select(t)).mappings()}
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
            tx.insert("unit", {"code": code, "name": r["name"], "committee": r.get("committee"), "ordinal": ordinal})
            existing[code] = {"code": code, "ordinal": ordinal, **r}
            counts["added"] += 1
    return counts


def list_units(conn: Connection) -> list[dict]:
    t = table("unit")
    return [dict(r) for r in conn.execute(select(t).order_by(t.c.ordinal, t.c.code)).mappings()]


def get_unit(conn: Connection, code: str) -> dict:
    t = table("unit")
    row = conn.execute(select(t).where(t.c.code == code)).mappings().first()
    if row is None:
        # Be forgiving about case and spacing, never about identity.
        cands = [u for u in list_units(conn) if fold(u["code"]) == fold(code)]
        if len(cands) == 1:
            return cands[0]
        raise NotFound(f"Không có đơn vị mã “{code}” trong sổ (xem: dvk units list).")
    return dict(row)


# ---------------------------------------------------------------- locks

def active_decision(conn: Connection, year: int) -> dict | None:
    t = table("decision")
    row = conn.execute(
        select(t).where(and_(t.c.year == year, t.c.revoked == False)).order_by(t.c.id.desc()).limit(1)  # noqa: E712
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
    """"Quyết định công nhận số 05/QĐ-CĐN ngày 15/10/2024", with the symbol of the decision's year."""
    symbol = profile_for(conn, dec["year"])["symbol"]
    return f"Quyết định công nhận số {dec['number']:02d}/QĐ-{symbol} ngày {fmt_date(dec['decided_on'])}"


def first_decision_from(conn: Connection, year: int):
    """The earliest decision in force for `year` or a later year (a row with year, number), or None."""
    t = table("decision")
    return conn.execute(
        select(t.c.year, t.c.number).where(and_(t.c.year >= year, t.c.revoked == False))  # noqa: E712
        .order_by(t.c.year).limit(1)
    ).first()


# ---------------------------------------------------------------- entries

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
        problems.append(exc.message)
    if unit_code not in units:
        problems.append(f"không có đơn vị mã “{unit_code}” trong sổ")
    title_c = clean(title) if title else None
    if not title_c:
        problems.append("thiếu tên mô hình, điển hình")
    elif len(title_c) > 500:
        problems.append(f"tên mô hình quá dài ({len(title_c)} ký tự, tối đa 500)")
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
        problems.append(f"họ và tên “{person_c}” phải có ít nhất họ và tên")
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


_ENTRY_ID = re.compile(r"\s*([0-9]{4})\s*-\s*([0-9]{1,6})\s*")


def entry_id_of(text: str) -> str:
    """An entry id as a clerk types it ("2024-7", " 2024 - 0007 ") in the ledger's one spelling
    ("2024-007"); any other text comes back stripped (it names no entry). Every command and every
    import reads entry ids through this."""
    m = _ENTRY_ID.fullmatch(text)
    return make_id(int(m.group(1)), int(m.group(2))) if m else text.strip()


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


def get_entry(conn: Connection, entry_id: str) -> dict:
    """The entry an id names, as typed ("2024-7" is 2024-007); NotFound if there is none."""
    t = table("entry")
    eid = entry_id_of(entry_id)
    row = conn.execute(select(t).where(t.c.id == eid)).mappings().first()
    if row is None:
        raise NotFound(f"Không có mô hình, điển hình mã “{eid}” trong sổ (dạng mã: 2024-007).")
    return dict(row)


def save_report(tx: Tx, entry_id: str, aspects: Mapping[str, str | None], reported_on: dt.date | None,
                file: Path | None) -> tuple[dict, list[str]]:
    """Record (or complete) an achievement report. Returns the row and the aspects still empty."""
    entry = get_entry(tx.conn, entry_id)
    ensure_unlocked(tx.conn, entry["year"], f"báo cáo của {entry['id']}")
    t = table("report")
    cur = tx.conn.execute(select(t).where(t.c.entry_id == entry["id"])).mappings().first()
    row = dict(cur) if cur else {"entry_id": entry["id"], "approach": None, "experience": None, "spread": None,
                                 "effectiveness": None, "sustainability": None, "reported_on": None,
                                 "file_path": None, "file_sha256": None}
    labels = dict(ASPECTS)
    for key, value in aspects.items():
        if value is not None:
            row[key] = _text(value, labels[key], max_len=20000, multiline=True)
    row["reported_on"] = reported_on or row["reported_on"] or today()
    if file is not None:
        p = Path(file)
        from dvk.files import sha256_file

        try:
            digest = sha256_file(p)
        except FileNotFoundError:
            raise NotFound(f"Không tìm thấy tệp báo cáo “{p}”.")
        except OSError as exc:
            raise InvalidInput(f"Không đọc được tệp báo cáo “{p}”: {exc.strerror}.")
        row["file_path"] = str(p.resolve())
        row["file_sha256"] = digest
    if not any(row[k] for k, _ in ASPECTS) and not row["file_path"]:
        raise InvalidInput("Báo cáo thành tích trống: hãy nêu ít nhất một nội dung (--approach, --experience, "
                           "--spread, --effectiveness, --sustainability).")
    tx.upsert("report", row)
    missing = [label for key, label in ASPECTS if not row[key]]
    return row, missing


def save_confirmation(tx: Tx, entry_id: str, *, committee: str | None, by: str | None, on: dt.date | None,
                      comment: str | None, rejected: bool, reason: str | None) -> dict:
    entry = get_entry(tx.conn, entry_id)
    ensure_unlocked(tx.conn, entry["year"], f"xác nhận của {entry['id']}")
    rt = table("report")
    if not tx.conn.execute(select(rt.c.entry_id).where(rt.c.entry_id == entry["id"])).first():
        raise InvalidInput(f"{entry['id']} chưa có báo cáo thành tích; cấp ủy xác nhận vào bản báo cáo, "
                           "hãy ghi báo cáo trước (dvk report).")
    unit = get_unit(tx.conn, entry["unit_code"])
    committee_c = _text(committee, "tên cấp ủy (--committee)", max_len=300) or unit.get("committee")
    if not committee_c:
        raise InvalidInput("Thiếu tên cấp ủy xác nhận (--committee).")
    by_c = _text(by, "người ký xác nhận (--by)", required=True, max_len=200)
    reason_c = _text(reason, "lý do", max_len=2000)
    if rejected and not reason_c:
        raise InvalidInput("Cấp ủy không xác nhận thì phải nêu lý do (--reason).")
    row = {"entry_id": entry["id"], "committee": committee_c, "confirmed_by": by_c,
           "confirmed_on": on or today(), "comment": _text(comment, "nhận xét", max_len=5000, multiline=True),
           "rejected": bool(rejected), "reason": reason_c if rejected else None}
    tx.upsert("confirmation", row)
    return row


def marks_json(values: Mapping[str, Fraction | float | None], crit: CriteriaSet) -> str:
    """One member's sheet as stored: criteria in the set's order, numbers as plain JSON numbers."""
    out = {}
    for code in crit.codes:
        if code in values:
            v = values[code]
            if v is None:
                out[code] = None
            else:
                f = float(v)
                out[code] = int(f) if f == int(f) else f
    return json.dumps(out, ensure_ascii=False, separators=(",", ":"))


def match_member(name: str, members: Iterable[str]) -> tuple[str | None, str | None]:
    """Which council member `name` is among the `members` who scored one entry.

    (spelling, None): one of them — the same text, or equal after `fold` (case, spacing, old/new
    tone placement: "NGUYỄN VĂN HÙNG", "Nguyễn  Văn Hùng"); the sheet is theirs, under `spelling`.
    (None, other): a new name that differs from `other` in its diacritics alone ("Nguyen Van Hung"
    next to "Nguyễn Văn Hùng"): refused, it may be the same person. (None, None): a new member.
    """
    members = list(members)
    if name in members:
        return name, None
    key, near = fold(name), None
    for m in members:
        if fold(m) == key:
            return m, None
    bare = fold_marks(name)
    for m in members:
        if fold_marks(m) == bare:
            near = near or m
    return None, near


def member_near_message(entry_id: str, typed: str, existing: str) -> str:
    """Why a sheet under `typed` is refused next to `existing` (match_member's second case)."""
    return (f"{entry_id} đã có phiếu của “{existing}”; tên “{typed}” chỉ khác tên đó ở dấu. Nếu là cùng một người, "
            f"hãy ghi đúng tên “{existing}”; nếu là người khác, hãy ghi đúng tên có dấu đầy đủ")


def save_scores(tx: Tx, entry_id: str, member: str, values: Mapping[str, Fraction | None]) -> dict:
    """One member's scores on one entry; scoring again replaces that member's sheet.

    The member is matched as `match_member` says: a folded-equal name replaces that member's sheet
    (kept under the spelling already there, `typed` says how it was written this time); a name
    differing only in diacritics from one who scored is refused.
    """
    entry = get_entry(tx.conn, entry_id)
    ensure_unlocked(tx.conn, entry["year"], f"điểm của {entry['id']}")
    member_c = _text(member, "tên thành viên Hội đồng (--member)", required=True, max_len=200)
    st = table("score")
    scored = tx.conn.execute(select(st.c.member).where(st.c.entry_id == entry["id"])).scalars().all()
    same, near = match_member(member_c, scored)
    if near is not None:
        raise InvalidInput(f"Mô hình {member_near_message(entry['id'], member_c, near)} (--member).")
    stored = same or member_c
    crit = criteria_for(tx.conn, entry["year"])
    op = tx.upsert("score", {"entry_id": entry["id"], "member": stored, "marks": marks_json(values, crit)})
    total = crit_mod.member_total(values, crit)
    return {"entry_id": entry["id"], "member": stored, "typed": member_c, "replaced": op == "update",
            "total": None if total is None else round(float(total), 2)}


# ---------------------------------------------------------------- reading a year in sets

@dataclass
class YearContext:
    """What every entry of a year is judged against: rules, units, the decision in force."""

    year: int
    crit: CriteriaSet
    units: dict[str, dict]
    decision: dict | None


@dataclass(slots=True)
class Bundle:
    """One entry with its report, confirmation, members' sheets and (if decided) its outcome."""

    entry: dict
    report: dict | None = None
    confirmation: dict | None = None
    scores: dict = field(default_factory=dict)  # member → {code: mark | None}
    outcome: dict | None = None


def year_context(conn: Connection, year: int) -> YearContext:
    return YearContext(year, criteria_for(conn, year), {u["code"]: u for u in list_units(conn)},
                       active_decision(conn, year))


def iter_year(conn: Connection, ctx: YearContext, *, full: bool = True,
              entry_ids: Sequence[str] | None = None, marks: bool = True) -> Iterator[Bundle]:
    """Stream a year's entries in registration order, each with everything about it.

    Five ordered queries (entries, reports, confirmations, sheets, outcomes) are merged on
    the entry's sequence number, so memory stays flat whatever the year's size. With
    `full=False` a report carries only whether each aspect is filled in, not its text; with
    `marks=False` a member's sheet is not decoded (its value is None: only who scored counts).
    """
    et, rt, ct, st, ot = (table(n) for n in ("entry", "report", "confirmation", "score", "outcome"))
    cond = et.c.year == ctx.year
    if entry_ids is not None:
        cond = and_(cond, et.c.id.in_(list(entry_ids)))

    def joined(t, key, *cols, extra=None):
        q = select(et.c.seq, *cols).select_from(et.join(t, t.c[key] == et.c.id)).where(cond)
        if extra is not None:
            q = q.where(extra)
        return q.order_by(et.c.seq)

    if full:
        rep_cols = [rt.c[c] for c in rt.c.keys()]
    else:
        rep_cols = [rt.c.entry_id] + [
            (func.length(func.trim(func.coalesce(rt.c[k], ""))) > 0).label(k) for k, _ in ASPECTS
        ] + [rt.c.reported_on]
    entries = conn.execute(select(et).where(cond).order_by(et.c.seq)).mappings()
    reports = conn.execute(joined(rt, "entry_id", *rep_cols))
    confs = conn.execute(joined(ct, "entry_id", *[ct.c[c] for c in ct.c.keys()]))
    sheets = conn.execute(joined(st, "entry_id", st.c.member, st.c.marks if marks else literal(None))
                          .order_by(st.c.member))
    outcomes = None
    if ctx.decision is not None:
        outcomes = conn.execute(joined(ot, "entry_id", ot.c.recognized, ot.c.score, ot.c.reasons,
                                       extra=ot.c.decision_id == ctx.decision["id"]))
    rep_keys = list(reports.keys())[1:]
    conf_keys = list(confs.keys())[1:]
    loads = json.loads
    nxt_r = next(reports, None)
    nxt_c = next(confs, None)
    nxt_s = next(sheets, None)
    nxt_o = next(outcomes, None) if outcomes is not None else None
    for e in entries:
        seq = e["seq"]
        b = Bundle(dict(e))
        while nxt_r is not None and nxt_r[0] < seq:
            nxt_r = next(reports, None)
        if nxt_r is not None and nxt_r[0] == seq:
            b.report = dict(zip(rep_keys, nxt_r[1:]))
            nxt_r = next(reports, None)
        while nxt_c is not None and nxt_c[0] < seq:
            nxt_c = next(confs, None)
        if nxt_c is not None and nxt_c[0] == seq:
            b.confirmation = dict(zip(conf_keys, nxt_c[1:]))
            nxt_c = next(confs, None)
        while nxt_s is not None and nxt_s[0] <= seq:
            if nxt_s[0] == seq:
                b.scores[nxt_s[1]] = loads(nxt_s[2]) if marks else None
            nxt_s = next(sheets, None)
        if outcomes is not None:
            while nxt_o is not None and nxt_o[0] < seq:
                nxt_o = next(outcomes, None)
            if nxt_o is not None and nxt_o[0] == seq:
                b.outcome = {"recognized": bool(nxt_o[1]), "score": nxt_o[2], "reasons": loads(nxt_o[3] or "[]")}
                nxt_o = next(outcomes, None)
        yield b


def facts(ctx: YearContext, b: Bundle) -> EntryFacts:
    e = b.entry
    unit = ctx.units.get(e["unit_code"]) or {}
    return EntryFacts(entry_id=e["id"], year=e["year"], registered_on=e["registered_on"], sudden=e["sudden"],
                      report=b.report, confirmation=b.confirmation, unit_committee=unit.get("committee"),
                      member_scores=b.scores)


def judged(conn: Connection, ctx: YearContext, *, full: bool = False,
           entry_ids: Sequence[str] | None = None) -> Iterator[tuple[Bundle, Evaluation]]:
    """Stream (bundle, evaluation) for every entry of the year."""
    crit = ctx.crit
    evaluate = crit_mod.evaluate
    for b in iter_year(conn, ctx, full=full, entry_ids=entry_ids):
        yield b, evaluate(facts(ctx, b), crit)


def status_of(b: Bundle) -> str:
    if b.outcome is not None:
        return "recognized" if b.outcome["recognized"] else "not_recognized"
    if b.scores:
        return "scored"
    if b.confirmation and not b.confirmation["rejected"]:
        return "confirmed"
    if b.report is not None:
        return "reported"
    return "registered"


def bundle_json(ctx: YearContext, b: Bundle, ev: Evaluation) -> dict:
    """The documented JSON shape of one entry (stable for scripts)."""
    e = b.entry
    out = b.outcome
    return {
        "id": e["id"], "year": e["year"], "unit": e["unit_code"],
        "unit_name": (ctx.units.get(e["unit_code"]) or {}).get("name"), "title": e["title"], "kind": e["kind"],
        "subject": e["subject"], "person": e["person"], "position": e["position"], "field": e["field"],
        "registered_on": e["registered_on"].isoformat() if e["registered_on"] else None, "late": e["late"],
        "sudden": e["sudden"], "note": e["note"], "status": status_of(b),
        "score": out["score"] if out else ev.score_float,
        "eligible": out["recognized"] if out else ev.eligible,
        "reasons": out["reasons"] if out else ev.reasons,
    }


@dataclass
class YearData:
    """A whole year in memory (for documents and small views); big views use `judged()`."""

    year: int
    crit: CriteriaSet
    units: dict[str, dict]
    entries: list[dict]
    reports: dict[str, dict]
    confirmations: dict[str, dict]
    scores: dict[str, dict[str, dict[str, float | None]]]  # entry → member → code → mark (None = na)
    decision: dict | None
    outcomes: dict[str, dict]
    evaluations: dict[str, Evaluation] = field(default_factory=dict)

    def status(self, entry_id: str) -> str:
        return status_of(self.bundle(entry_id))

    def bundle(self, entry_id: str) -> Bundle:
        return Bundle(self._index[entry_id], self.reports.get(entry_id), self.confirmations.get(entry_id),
                      self.scores.get(entry_id, {}), self.outcomes.get(entry_id))

    @property
    def _index(self) -> dict[str, dict]:
        idx = self.__dict__.get("_idx")
        if idx is None or len(idx) != len(self.entries):
            idx = {e["id"]: e for e in self.entries}
            self.__dict__["_idx"] = idx
        return idx

    @property
    def ctx(self) -> YearContext:
        return YearContext(self.year, self.crit, self.units, self.decision)


def load_year(conn: Connection, year: int, *, entry_ids: Sequence[str] | None = None) -> YearData:
    """The whole year in memory, full report texts included (documents, forms, `show`)."""
    ctx = year_context(conn, year)
    yd = YearData(year, ctx.crit, ctx.units, [], {}, {}, {}, ctx.decision, {})
    for b, ev in judged(conn, ctx, full=True, entry_ids=entry_ids):
        eid = b.entry["id"]
        yd.entries.append(b.entry)
        if b.report is not None:
            yd.reports[eid] = b.report
        if b.confirmation is not None:
            yd.confirmations[eid] = b.confirmation
        if b.scores:
            yd.scores[eid] = b.scores
        if b.outcome is not None:
            yd.outcomes[eid] = {"entry_id": eid, **b.outcome}
        yd.evaluations[eid] = ev
    return yd


def entry_json(yd: YearData, e: Mapping) -> dict:
    """The documented JSON shape of one entry of an in-memory year."""
    return bundle_json(yd.ctx, yd.bundle(e["id"]), yd.evaluations[e["id"]])


def years(conn: Connection) -> list[int]:
    t = table("entry")
    return [r[0] for r in conn.execute(select(t.c.year).distinct().order_by(t.c.year))]


# ---------------------------------------------------------------- recognition

@dataclass(slots=True)
class PlanRow:
    """One entry's verdict in a recognition plan (kept small: a year may have 100,000)."""

    id: str
    unit: str
    title: str
    score: float | None
    eligible: bool
    reasons: list[str]


@dataclass
class RecognitionPlan:
    year: int
    number: int
    decided_on: dt.date
    rows: list[PlanRow]

    @property
    def recognized(self) -> list[str]:
        return [r.id for r in self.rows if r.eligible]

    @property
    def not_recognized(self) -> list[tuple[str, list[str]]]:
        return [(r.id, r.reasons) for r in self.rows if not r.eligible]

    @property
    def total(self) -> int:
        return len(self.rows)


def plan_recognition(conn: Connection, year: int, number: int, decided_on: dt.date | None) -> RecognitionPlan:
    """Judge every entry of the year for decision `number` (nothing is written)."""
    check_year(year)
    if number < 1:
        raise InvalidInput(f"Số quyết định phải là số nguyên dương (nhận được {number}).")
    dec = active_decision(conn, year)
    if dec:
        raise LockedYear(
            f"Năm {year} đã có {_decision_title(conn, dec)}. Muốn ra quyết định khác, hãy thu hồi quyết định cũ: "
            f"dvk recognize --revoke --year {year} --reason \"…\""
        )
    t = table("decision")
    used = conn.execute(select(t.c.id).where(and_(t.c.year == year, t.c.number == number))).first()
    if used:
        raise InvalidInput(f"Số quyết định {number:02d} năm {year} đã được dùng (kể cả quyết định đã thu hồi); "
                           "hãy dùng số khác.")
    ctx = year_context(conn, year)
    decided_on = decided_on or ctx.crit.recognition_day(year)
    if decided_on.year not in (year, year + 1):
        raise InvalidInput(f"Ngày quyết định {fmt_date(decided_on)} phải thuộc năm {year} (hoặc đầu năm {year + 1}).")
    rows = [PlanRow(b.entry["id"], b.entry["unit_code"], b.entry["title"], ev.score_float, ev.eligible, ev.reasons)
            for b, ev in judged(conn, ctx)]
    if not rows:
        raise InvalidInput(f"Năm {year} chưa có mô hình, điển hình nào đăng ký.")
    return RecognitionPlan(year, number, decided_on, rows)


def ensure_recognizable(plan: RecognitionPlan) -> None:
    if not any(r.eligible for r in plan.rows):
        raise InvalidInput(f"Không có mô hình, điển hình nào năm {plan.year} đạt đủ tiêu chí; không ra quyết định. "
                           f"Xem lý do: dvk check --year {plan.year}")


def recognize(tx: Tx, plan: RecognitionPlan) -> int:
    """Record the decision and every entry's outcome; the year is locked from then on."""
    ensure_recognizable(plan)
    dec_id = tx.insert("decision", {"year": plan.year, "number": plan.number, "decided_on": plan.decided_on,
                                    "revoked": False, "revoked_reason": None, "revoked_on": None})
    batch: list[dict] = []
    dumps = json.dumps
    for r in plan.rows:
        batch.append({"decision_id": dec_id, "entry_id": r.id, "recognized": r.eligible, "score": r.score,
                      "reasons": dumps(r.reasons, ensure_ascii=False)})
        if len(batch) >= 5000:
            tx.insert_many("outcome", batch)
            batch = []
    tx.insert_many("outcome", batch)
    return dec_id


def revoke(tx: Tx, year: int, reason: str | None, on: dt.date | None = None) -> dict:
    dec = active_decision(tx.conn, year)
    if dec is None:
        raise NotFound(f"Năm {year} không có quyết định công nhận nào đang có hiệu lực để thu hồi.")
    reason_c = _text(reason, "lý do thu hồi (--reason)", required=True, max_len=2000)
    tx.update("decision", {"id": dec["id"]}, {"revoked": True, "revoked_reason": reason_c,
                                              "revoked_on": on or today()})
    dec.update(revoked=True, revoked_reason=reason_c)
    return dec


# ---------------------------------------------------------------- status

STAGES = ("registered", "reported", "confirmed", "scored", "recognized", "not_recognized")


def reached(b: Bundle) -> set[str]:
    """The stages an entry has reached (cumulative)."""
    out = {"registered"}
    if b.report is not None:
        out.add("reported")
    if b.confirmation and not b.confirmation["rejected"]:
        out.add("confirmed")
    if b.scores:
        out.add("scored")
    st = status_of(b)
    if st in ("recognized", "not_recognized"):
        out.add(st)
    return out


def missing_items(ctx: YearContext, b: Bundle) -> list[str]:
    """What an entry still lacks before it can be judged, in the clerk's words."""
    out: list[str] = []
    rep = b.report
    if rep is None:
        out.append("báo cáo thành tích")
    else:
        empty = [label for key, label in ASPECTS if not crit_mod._filled(rep.get(key))]
        if empty:
            out.append("nội dung báo cáo: " + ", ".join(empty))
    conf = b.confirmation
    if conf is None:
        out.append("xác nhận của cấp ủy")
    elif conf["rejected"]:
        out.append(f"xác nhận của cấp ủy (bị từ chối: {conf['reason']})")
    n = len(b.scores)
    if n < ctx.crit.min_members:
        out.append(f"chấm điểm ({n}/{ctx.crit.min_members} thành viên)")
    return out


def status_summary(ctx: YearContext, bundles: Iterable[Bundle]) -> dict:
    """Counts at each stage, by unit and by field, and what each entry still lacks (streamed)."""
    counts = {s: 0 for s in STAGES}
    by_unit: dict[str, dict[str, int]] = {}
    by_field: dict[int, dict[str, int]] = {f.number: {s: 0 for s in STAGES} for f in ctx.crit.fields}
    missing: dict[str, list[dict]] = {}
    total = late = sudden = 0
    for b in bundles:
        e = b.entry
        total += 1
        late += bool(e["late"])
        sudden += bool(e["sudden"])
        r = reached(b)
        u = by_unit.setdefault(e["unit_code"], {s: 0 for s in STAGES})
        f = by_field.setdefault(e["field"], {s: 0 for s in STAGES})
        for s_ in r:
            counts[s_] += 1
            u[s_] += 1
            f[s_] += 1
        if ctx.decision is None:
            m = missing_items(ctx, b)
            if m:
                missing.setdefault(e["unit_code"], []).append({"id": e["id"], "title": e["title"], "missing": m})
    order = list(ctx.units)  # configured unit order
    return {
        "year": ctx.year,
        "total": total,
        "late": late,
        "sudden": sudden,
        "decision": _decision_json(ctx.decision),
        "counts": counts,
        "by_unit": {k: by_unit[k] for k in order if k in by_unit},
        "by_field": {str(k): v for k, v in sorted(by_field.items())},
        "missing": {k: missing[k] for k in order if k in missing},
    }


def _decision_json(dec: Mapping | None) -> dict | None:
    if not dec:
        return None
    return {"id": dec["id"], "number": dec["number"], "decided_on": dec["decided_on"].isoformat()}


def ledger_info(conn: Connection) -> dict:
    counts = {}
    for name in ("unit", "entry", "report", "confirmation", "score", "decision", "history"):
        counts[name] = conn.execute(select(func.count()).select_from(table(name))).scalar()
    from dvk.db import _current_revision

    return {"schema": _current_revision(conn), "counts": counts, "years": years(conn),
            "ledger_id": get_setting(conn, "ledger_id")}
