"""Domain operations of the yearly cycle: each takes an open ledger or transaction and raises
typed errors (dvk.errors) with Vietnamese messages. The CLI only parses, calls and prints.

Reads fetch whole sets (a year's entries, reports, confirmations, scores) in a handful of
queries and compute in Python, so a year of 100,000 entries costs the same few queries.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

from sqlalchemy import and_, func, literal, select
from sqlalchemy.engine import Connection

from dvk import criteria as crit_mod
from dvk.criteria import ASPECTS, CriteriaSet, EntryFacts, Evaluation
from dvk.ledger.sqlite import Ledger
from dvk.text.dates import fmt_date
from dvk.errors import InvalidInput, LedgerError, LockedYear, NotFound, clause
from dvk.ledger.history import Tx, table
from dvk.text.normalize import clean, clean_lines, fold
from dvk.text.safety import MAX_LEN, MAX_RECIPIENTS, shorten, text_problem

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
    """A text field cleaned for storage; InvalidInput naming `label` when it is missing (`required`),
    holds a control character or is longer than `max_len` (dvk.text.safety.text_problem)."""
    v = None
    if value is not None:
        raw = str(value)
        v = clean_lines(raw) if multiline else clean(raw)
        why = text_problem(raw, v, max_len)
        if why:
            raise InvalidInput(f"{label[:1].upper()}{label[1:]} {why}.")
    if required and not v:
        raise InvalidInput(f"Thiếu {label}.")
    return v or None


def _problem(value: str | None, label: str, max_len: int) -> str | None:
    """`_text`'s check as a clause for a list of problems (None when the text may be stored)."""
    if value is None:
        return None
    why = text_problem(value, clean(value), max_len)
    return f"{label} {why}" if why else None


# ---------------------------------------------------------------- ledger-wide settings

def init_ledger(path: Path, *, user: str, profile: Mapping[str, str | None], criteria_file: Path | None,
                command: str = "dvk init") -> tuple[Ledger, bool]:
    """Create the ledger (or open it unchanged when it already exists). Returns (ledger, created)."""
    crit_text = crit_mod.load_file(criteria_file).text if criteria_file else crit_mod.default_text()
    crit = crit_mod.load_text(crit_text)
    for k, v in profile.items():
        if k in DEFAULT_PROFILE:
            _text(v, PROFILE_LABELS[k], max_len=MAX_LEN["profile"])
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
            recipients = [x for x in (_text(x, "dòng nơi nhận", max_len=MAX_LEN["recipient"]) for x in v) if x]
            if len(recipients) > MAX_RECIPIENTS:
                raise InvalidInput(f"Quá nhiều dòng nơi nhận ({len(recipients)}, tối đa {MAX_RECIPIENTS}).")
        else:
            new[k] = _text(v, PROFILE_LABELS.get(k, k), required=True, max_len=MAX_LEN["profile"])
    row = {"from_year": from_year, **new, "recipients": json.dumps(recipients, ensure_ascii=False)}
    tx.upsert("org_profile", row)
    row["recipients"] = recipients
    return row


def criteria_for(conn: Connection, year: int) -> CriteriaSet:
    t = table("criteria_set")
    row = conn.execute(
        select(t.c.from_year, t.c.text).where(t.c.from_year <= year).order_by(t.c.from_year.desc()).limit(1)
    ).first()
    if row is None:
        row = conn.execute(select(t.c.from_year, t.c.text).order_by(t.c.from_year).limit(1)).first()
    if row is None:
        raise NotFound("Sổ chưa có bộ tiêu chí; hãy chạy dvk init.")
    since = "từ đầu" if row.from_year == BASE_YEAR else f"từ năm {row.from_year}"
    return crit_mod.load_text(row.text, source=f"Bộ tiêu chí áp dụng {since} lưu trong sổ", stored=True)


def criteria_sets(conn: Connection) -> list[dict]:
    t = table("criteria_set")
    return [dict(r) for r in conn.execute(select(t.c.from_year, t.c.phase, t.c.sha256).order_by(t.c.from_year)).mappings()]


def use_criteria(tx: Tx, crit: CriteriaSet | Path, from_year: int) -> CriteriaSet:
    """Store a criteria set from `from_year` on. Pass a set already read and checked
    (`criteria.load_file`), so no file is read while the write lock is held."""
    check_year(from_year)
    if not isinstance(crit, CriteriaSet):
        crit = crit_mod.load_file(crit)
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
    code_c = _text(code, "mã đơn vị", required=True, max_len=MAX_LEN["unit_code"])
    name_c = _text(name, "tên đơn vị", required=True, max_len=MAX_LEN["unit_name"])
    committee_c = _text(committee, "tên cấp ủy", max_len=MAX_LEN["committee"])
    t = table("unit")
    if tx.conn.execute(select(t.c.code).where(t.c.code == code_c)).first():
        raise InvalidInput(f"Mã đơn vị “{code_c}” đã có trong sổ.")
    # Codes are unique folded (case, spacing): "bvdk" next to "BVDK" would be two names for one unit.
    key = fold(code_c or "")
    same = [c for (c,) in tx.conn.execute(select(t.c.code)) if fold(c) == key]
    if same:
        raise InvalidInput(f"Mã đơn vị “{code_c}” trùng với đơn vị “{same[0]}” đã có trong sổ (mã đơn vị không "
                           "phân biệt chữ hoa, chữ thường và khoảng trắng); hãy dùng mã khác.")
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
        problems.append(clause(exc.message))
    if unit_code not in units:
        problems.append(f"không có đơn vị mã “{shorten(unit_code)}” trong sổ")
    title_c = clean(title) if title else None
    why = _problem(title, "tên mô hình", MAX_LEN["title"])
    if why:
        problems.append(why)
    elif not title_c:
        problems.append("thiếu tên mô hình, điển hình")
    for value, label, key in ((person, "họ và tên", "person"), (position, "chức vụ", "position"),
                              (note, "ghi chú", "note")):
        why = _problem(value, label, MAX_LEN[key])
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


def get_entry(conn: Connection, entry_id: str) -> dict:
    t = table("entry")
    row = conn.execute(select(t).where(t.c.id == entry_id.strip())).mappings().first()
    if row is None:
        raise NotFound(f"Không có mô hình, điển hình mã “{entry_id}” trong sổ (dạng mã: 2024-007).")
    return dict(row)


MAX_REPORT_FILE_BYTES = 100 * 1024 * 1024  # a report file kept by its SHA-256 (a scan, a .docx, a PDF)
REPORT_CONTENT = tuple(k for k, _ in ASPECTS) + ("reported_on", "file_sha256")  # what a confirmation vouches for


@dataclass(frozen=True)
class ReportFile:
    """A report file read and hashed before any write lock is taken: its full path and SHA-256."""

    path: str
    sha256: str


def read_report_file(path: Path) -> ReportFile:
    """Hash a report file (`dvk report --file/--from-docx`): only a regular file of at most
    MAX_REPORT_FILE_BYTES. A FIFO or a device is opened without blocking and refused, so nothing can
    make dvk wait or read without end; call it before opening the write transaction."""
    import hashlib
    import os
    import stat

    p = Path(path)
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise NotFound(f"Không tìm thấy tệp báo cáo “{p}”.")
    except IsADirectoryError:
        raise InvalidInput(f"“{p}” là một thư mục, không phải tệp báo cáo.")
    except OSError as exc:
        raise InvalidInput(f"Không đọc được tệp báo cáo “{p}”: {exc.strerror or exc}.")
    limit = f"{MAX_REPORT_FILE_BYTES // (1024 * 1024)} MiB"
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise InvalidInput(f"“{p}” là một thư mục, không phải tệp báo cáo.")
        if not stat.S_ISREG(st.st_mode):
            raise InvalidInput(f"“{p}” không phải là tệp thông thường (là thiết bị, FIFO hoặc socket); "
                               "hãy chỉ định tệp báo cáo (PDF, Word, ảnh chụp…).")
        if st.st_size > MAX_REPORT_FILE_BYTES:
            raise InvalidInput(f"Tệp báo cáo “{p}” quá lớn ({st.st_size / (1024 * 1024):.0f} MiB, tối đa {limit}).")
        h = hashlib.sha256()
        n = 0
        with os.fdopen(fd, "rb", closefd=False) as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                n += len(chunk)
                if n > MAX_REPORT_FILE_BYTES:  # it grew while being read
                    raise InvalidInput(f"Tệp báo cáo “{p}” quá lớn (tối đa {limit}).")
                h.update(chunk)
    except OSError as exc:
        raise InvalidInput(f"Không đọc được tệp báo cáo “{p}”: {exc.strerror or exc}.")
    finally:
        os.close(fd)
    return ReportFile(str(p.resolve()), h.hexdigest())


@dataclass
class SavedReport:
    """What `save_report` did: the row as stored, the aspects still empty (labels), the aspects given
    blank and left aside (keys; a blank never erases), the confirmation a change cleared (or None),
    whether anything changed."""

    row: dict
    missing: list[str]
    ignored: list[str]
    cleared: dict | None
    changed: bool


def save_report(tx: Tx, entry_id: str, aspects: Mapping[str, str | None], reported_on: dt.date | None,
                file: ReportFile | Path | None, *, force: bool = False) -> SavedReport:
    """Record (or complete) an achievement report.

    A blank aspect never erases what is stored (it is listed in `ignored`). A report the Party
    committee has confirmed (or refused) is what the committee vouched for: changing its content
    needs `force`, and then the confirmation is deleted in the same transaction and the report
    marked `confirmation_cleared_on`, so the entry needs confirming again.
    """
    entry = get_entry(tx.conn, entry_id)
    eid = entry["id"]
    ensure_unlocked(tx.conn, entry["year"], f"báo cáo của {eid}")
    t = table("report")
    cur = tx.conn.execute(select(t).where(t.c.entry_id == eid)).mappings().first()
    cur = dict(cur) if cur else None
    row = dict(cur) if cur else {"entry_id": eid, "approach": None, "experience": None, "spread": None,
                                 "effectiveness": None, "sustainability": None, "reported_on": None,
                                 "file_path": None, "file_sha256": None, "confirmation_cleared_on": None}
    labels = dict(ASPECTS)
    ignored: list[str] = []
    for key, value in aspects.items():
        if value is None:
            continue
        text = _text(value, labels[key], max_len=MAX_LEN["aspect"], multiline=True)
        if text is None:
            ignored.append(key)
            continue
        row[key] = text
    row["reported_on"] = reported_on or row["reported_on"] or today()
    if file is not None:
        rf = file if isinstance(file, ReportFile) else read_report_file(file)
        row["file_path"], row["file_sha256"] = rf.path, rf.sha256
    if not any(row[k] for k, _ in ASPECTS) and not row["file_path"]:
        raise InvalidInput("Báo cáo thành tích trống: hãy nêu ít nhất một nội dung (--approach, --experience, "
                           "--spread, --effectiveness, --sustainability).")
    cleared = None
    if cur is not None:
        differs = [k for k in REPORT_CONTENT if row[k] != cur[k]]
        if differs:
            ct = table("confirmation")
            conf = tx.conn.execute(select(ct).where(ct.c.entry_id == eid)).mappings().first()
            if conf is not None:
                if not force:
                    raise InvalidInput(confirmed_report_message(eid, dict(conf), differs))
                cleared = dict(conf)
                tx.delete("confirmation", {"entry_id": eid})
                row["confirmation_cleared_on"] = today()
    changed = cur is None or row != cur
    if changed:
        tx.upsert("report", row)
    missing = [label for key, label in ASPECTS if not row[key]]
    return SavedReport(row, missing, ignored, cleared, changed)


_CONTENT_LABELS = {**dict(ASPECTS), "reported_on": "ngày báo cáo", "file_sha256": "tệp báo cáo"}


def confirmed_report_message(entry_id: str, conf: Mapping, differs: Sequence[str], *, hint: str = "--force") -> str:
    """Why a change to a report the Party committee has confirmed (or refused) is refused."""
    when = f" ngày {fmt_date(conf['confirmed_on'])}" if conf.get("confirmed_on") else ""
    if conf.get("rejected"):
        said = f"cấp ủy “{conf['committee']}” đã không xác nhận{when}"
        what = "ý kiến đó"
    else:
        said = f"đã được cấp ủy “{conf['committee']}” xác nhận{when}"
        what = "xác nhận đó"
    parts = ", ".join(_CONTENT_LABELS.get(k, k).lower() for k in differs)
    return (f"Báo cáo thành tích của {entry_id} {said}; sửa báo cáo ({parts}) thì {what} không còn giá trị. "
            f"Nếu chắc chắn, chạy lại với {hint}: {what} bị xóa (ghi vào lịch sử) và cần cấp ủy xác nhận lại "
            f"(dvk confirm {entry_id} --by …).")


def save_confirmation(tx: Tx, entry_id: str, *, committee: str | None, by: str | None, on: dt.date | None,
                      comment: str | None, rejected: bool, reason: str | None) -> dict:
    entry = get_entry(tx.conn, entry_id)
    ensure_unlocked(tx.conn, entry["year"], f"xác nhận của {entry['id']}")
    rt = table("report")
    if not tx.conn.execute(select(rt.c.entry_id).where(rt.c.entry_id == entry["id"])).first():
        raise InvalidInput(f"{entry['id']} chưa có báo cáo thành tích; cấp ủy xác nhận vào bản báo cáo, "
                           "hãy ghi báo cáo trước (dvk report).")
    unit = get_unit(tx.conn, entry["unit_code"])
    committee_c = _text(committee, "tên cấp ủy (--committee)", max_len=MAX_LEN["committee"]) or unit.get("committee")
    if not committee_c:
        raise InvalidInput("Thiếu tên cấp ủy xác nhận (--committee).")
    by_c = _text(by, "người ký xác nhận (--by)", required=True, max_len=MAX_LEN["confirmed_by"])
    reason_c = _text(reason, "lý do (--reason)", max_len=MAX_LEN["reason"])
    if rejected and not reason_c:
        raise InvalidInput("Cấp ủy không xác nhận thì phải nêu lý do (--reason).")
    row = {"entry_id": entry["id"], "committee": committee_c, "confirmed_by": by_c,
           "confirmed_on": on or today(),
           "comment": _text(comment, "nhận xét (--comment)", max_len=MAX_LEN["comment"], multiline=True),
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


def save_scores(tx: Tx, entry_id: str, member: str, values: Mapping[str, Fraction | None]) -> dict:
    """One member's scores on one entry; scoring again replaces that member's sheet."""
    entry = get_entry(tx.conn, entry_id)
    ensure_unlocked(tx.conn, entry["year"], f"điểm của {entry['id']}")
    member_c = _text(member, "tên thành viên Hội đồng (--member)", required=True, max_len=MAX_LEN["member"])
    crit = criteria_for(tx.conn, entry["year"])
    op = tx.upsert("score", {"entry_id": entry["id"], "member": member_c, "marks": marks_json(values, crit)})
    total = crit_mod.member_total(values, crit)
    return {"entry_id": entry["id"], "member": member_c, "replaced": op == "update",
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
    """The rules, units and decision of a year. A decided year has the units its decision in force
    was taken with (names, committees, order); an undecided year has the units as they are now."""
    dec = active_decision(conn, year)
    return YearContext(year, criteria_for(conn, year), units_of_decision(conn, dec), dec)


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
    return [r[0] for r in conn.execute(select(t.c.year).where(t.c.revoked == False)  # noqa: E712
                                       .distinct().order_by(t.c.year))]


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
        ] + [rt.c.reported_on, rt.c.confirmation_cleared_on]
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
                b.scores[nxt_s[1]] = _sheet(nxt_s[2], e["id"], nxt_s[1]) if marks else None
            nxt_s = next(sheets, None)
        if outcomes is not None:
            while nxt_o is not None and nxt_o[0] < seq:
                nxt_o = next(outcomes, None)
            if nxt_o is not None and nxt_o[0] == seq:
                b.outcome = {"recognized": bool(nxt_o[1]), "score": nxt_o[2],
                             "reasons": _reasons(nxt_o[3], e["id"], ctx.decision)}
                nxt_o = next(outcomes, None)
        yield b


_MARK_TYPES = frozenset({int, float, type(None)})
MAX_MARK = 1e9  # far beyond any scale (at most 1000): a value past it can only come from outside dvk


def _no_constant(name: str) -> None:
    raise ValueError(name)  # NaN, Infinity: never written by dvk


def _damaged(what: str, value: Any) -> LedgerError:
    shown = str(value)
    shown = "".join(c if c.isprintable() else "�" for c in (shown[:80] + "…" if len(shown) > 80 else shown))
    return LedgerError(f"{what} trong sổ bị hỏng (giá trị “{shown}” không phải do dvk ghi). Có thể sổ đã bị sửa "
                       "ngoài dvk: hãy chạy dvk verify để xem chỗ sai (và khôi phục từ bản sao lưu nếu cần: "
                       "dvk restore).")


_DECODE = json.JSONDecoder(parse_constant=_no_constant).decode


def _sheet(text: Any, entry_id: str, member: str) -> dict:
    """A member's stored sheet decoded: {code: number | None}; a damaged one names its row (LedgerError)."""
    try:
        v = _DECODE(text) if type(text) is str else None
    except (ValueError, RecursionError):
        v = None
    if type(v) is dict and _MARK_TYPES.issuperset(map(type, v.values())):
        if len(text) <= 300 and "e" not in text and "E" not in text:
            return v  # no number written in under 300 characters without an exponent can overflow a float
        nums = list(filter(None, v.values()))  # the numbers (None and 0 need no range check)
        if not nums or (max(nums) <= MAX_MARK and min(nums) >= -MAX_MARK):
            return v
    raise _damaged(f"Phiếu chấm điểm của thành viên “{member}” cho {entry_id}", text)


def _reasons(text: Any, entry_id: str, decision: Mapping | None) -> list:
    try:
        v = json.loads(text or "[]")
    except (TypeError, ValueError, RecursionError):
        v = None
    if type(v) is list and all(type(x) is str for x in v):
        return v
    number = f" số {decision['number']:02d}" if decision else ""
    raise _damaged(f"Lý do trong kết quả của {entry_id} theo quyết định{number} năm {entry_year(entry_id)}", text)


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
    """Record the decision, the units it was taken with and every entry's outcome; the year is
    locked from then on."""
    ensure_recognizable(plan)
    dec_id = tx.insert("decision", {"year": plan.year, "number": plan.number, "decided_on": plan.decided_on,
                                    "revoked": False, "revoked_reason": None, "revoked_on": None})
    # The units as they are now, kept with the decision: the decided year prints them from now on.
    tx.insert_many("decision_unit", [{"decision_id": dec_id, "code": u["code"], "name": u["name"],
                                      "committee": u["committee"], "ordinal": u["ordinal"]}
                                     for u in list_units(tx.conn)])
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
    reason_c = _text(reason, "lý do thu hồi (--reason)", required=True, max_len=MAX_LEN["reason"])
    dec = active_decision(tx.conn, year)
    if dec is None:
        raise NotFound(f"Năm {year} không có quyết định công nhận nào đang có hiệu lực để thu hồi.")
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
    if conf is None and rep is not None and rep.get("confirmation_cleared_on"):
        out.append("xác nhận lại của cấp ủy (báo cáo đã sửa sau khi cấp ủy xác nhận)")
    elif conf is None:
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
    from dvk.ledger.sqlite import _current_revision

    return {"schema": _current_revision(conn), "counts": counts, "years": years(conn),
            "ledger_id": get_setting(conn, "ledger_id")}
