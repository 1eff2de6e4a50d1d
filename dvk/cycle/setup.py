"""Setting a ledger up and changing its yearly settings: `dvk init`, `dvk org set` (the profile from a
year on) and `dvk criteria use` (a criteria set from a year on). A decided year keeps what it was
decided with: a change that would reach it is refused.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping
from sqlalchemy import func, select

from dvk.criteria import GUIDANCE_KEYS, PHASE_RE, Guidance, default_text, load_file, load_text
from dvk.criteria import CriteriaSet
from dvk.ledger.sqlite import Ledger
from dvk.errors import InvalidInput, LockedYear
from dvk.ledger.history import Tx, table
from dvk.rules import ORG_LEVELS, late_changes, org_code_issue, org_code_of
from dvk.text.normalize import clean
from dvk.text.safety import MAX_LEN, MAX_RECIPIENTS
from dvk.cycle.common import BASE_YEAR, text_field, check_year
from dvk.cycle.config import DEFAULT_PROFILE, DEFAULT_RECIPIENTS, PROFILE_LABELS, criteria_for, profile_for
from dvk.cycle.decisions import first_decision_from
from dvk.cycle.orgs import current as org_of
from dvk.wording import decision_number


def init_ledger(path: "Path | str", *, user: str, profile: Mapping[str, str | None], criteria_file: Path | None,
                command: str = "dvk init", code: str | None = None,
                level: str = "sector", recipients: list[str] | None = None) -> tuple[Ledger, bool]:
    """Create the ledger (or open it unchanged when it already exists) with its first organisation
    (`code`, default derived from the symbol: CĐN → CDN). Returns (ledger, created)."""
    crit_text = load_file(criteria_file).text if criteria_file else default_text()
    crit = load_text(crit_text)
    for k, v in profile.items():
        if k in DEFAULT_PROFILE:
            text_field(v, PROFILE_LABELS[k], max_len=MAX_LEN["profile"])
    if code is not None and org_code_issue(code.strip()):
        raise InvalidInput(f"--code: {org_code_issue(code.strip())}.")
    if level not in ORG_LEVELS:
        raise InvalidInput(f"--level: cấp “{level}” không hợp lệ ({', '.join(ORG_LEVELS)}).")
    from dvk.ledger.stores import is_server, open_ledger

    existed = is_server(path) or (Path(path).exists() and Path(path).stat().st_size > 0)
    ledger = open_ledger(path, create=True)
    with ledger.read() as conn:
        has_meta = conn.execute(select(func.count()).select_from(table("meta"))).scalar()
    if existed and has_meta:
        return ledger, False
    values = {k: (clean(v) if v else None) or DEFAULT_PROFILE[k] for k, v in profile.items() if k in DEFAULT_PROFILE}
    for k, v in DEFAULT_PROFILE.items():
        values.setdefault(k, v)
    code = code.strip() if code else org_code_of(values["symbol"])
    grassroots = level in ("grassroots", "group")
    if recipients is None:  # a CĐCS reports to its parent body; the sector union's defaults otherwise
        recipients = ([f"Ban Thường vụ {values['parent_org']} (b/c)", "Như Điều 3"] if grassroots
                      else DEFAULT_RECIPIENTS)
    with ledger.write(user=user, command=command, summary=f"Tạo sổ cho {values['org']}") as tx:
        tx.insert("meta", {"key": "ledger_id", "value": str(uuid.uuid4())})
        tx.insert("meta", {"key": "created_at", "value": dt.datetime.now(dt.timezone.utc).isoformat()})
        tx.insert("meta", {"key": "backup_keep", "value": "10"})
        tx.insert("org", {"code": code, "name": values["org"], "parent": None, "level": level, "committee": None,
                          "ordinal": 0})
        tx.insert("org_profile", {"org_code": code, "from_year": BASE_YEAR, **values,
                                  "recipients": json.dumps(recipients, ensure_ascii=False),
                                  "award": "Giấy khen" if grassroots else None})
        tx.insert("criteria_set", {"org_code": code, "from_year": BASE_YEAR, "phase": crit.phase, "text": crit.text,
                                   "sha256": crit.sha256})
    return ledger, True


def set_profile(tx: Tx, from_year: int, changes: Mapping[str, Any]) -> dict:
    """Change the profile from `from_year` on; years before keep theirs. Refused for decided years."""
    check_year(from_year)
    changes = {k: v for k, v in changes.items() if v is not None}
    if not changes:
        raise InvalidInput("Chưa nêu thay đổi nào (ví dụ --name, --signer).")
    decided = first_decision_from(tx.conn, from_year)
    if decided:
        raise LockedYear(
            f"Năm {decided.year} đã có quyết định công nhận số {decision_number(decided.number)}; không thể đổi thông tin "
            f"đơn vị ban hành từ năm {from_year}. Hãy chọn --from-year sau {decided.year} hoặc thu hồi quyết định."
        )
    current = profile_for(tx.conn, from_year)
    new = {k: current[k] for k in ("org", "parent_org", "place", "symbol", "signer", "signer_title", "on_behalf")}
    recipients = current["recipients"]
    current_award = current.get("award")
    for k, v in changes.items():
        if k == "award":
            current_award = text_field(v, "Hình thức công nhận", max_len=MAX_LEN["profile"]) or None
        elif k == "recipients":
            recipients = [x for x in (text_field(x, "dòng nơi nhận", max_len=MAX_LEN["recipient"]) for x in v) if x]
            if len(recipients) > MAX_RECIPIENTS:
                raise InvalidInput(f"Quá nhiều dòng nơi nhận ({len(recipients)}, tối đa {MAX_RECIPIENTS}).")
        else:
            new[k] = text_field(v, PROFILE_LABELS.get(k, k), required=True, max_len=MAX_LEN["profile"])
    row = {"org_code": org_of(tx.conn), "from_year": from_year, **new,
           "recipients": json.dumps(recipients, ensure_ascii=False), "award": current_award}
    tx.upsert("org_profile", row)
    row["recipients"] = recipients
    return row


@dataclass(frozen=True)
class CriteriaUsed:
    """What `use_criteria` did: the set stored, and the entries whose registration flag changed with
    its registration window (ids now on time, ids now late)."""

    crit: CriteriaSet
    on_time: tuple[str, ...] = ()
    late: tuple[str, ...] = ()

    @property
    def changed(self) -> int:
        return len(self.on_time) + len(self.late)


def use_criteria(tx: Tx, crit: CriteriaSet | Path, from_year: int) -> CriteriaUsed:
    """Store a criteria set from `from_year` on. Pass a set already read and checked
    (`criteria.load_file`), so no file is read while the write lock is held.

    Every year it reaches is undecided (a decided year is refused), so every stored `late` flag of
    those years is brought in line with the window each year now has (dvk.rules.late_changes, the
    one definition of lateness), in this transaction and recorded in the history."""
    check_year(from_year)
    if not isinstance(crit, CriteriaSet):
        crit = load_file(crit)
    decided = first_decision_from(tx.conn, from_year)
    if decided:
        raise LockedYear(
            f"Năm {decided.year} đã có quyết định công nhận; không thể đổi bộ tiêu chí từ năm {from_year}."
        )
    org = org_of(tx.conn)
    tx.upsert("criteria_set", {"org_code": org, "from_year": from_year, "phase": crit.phase, "text": crit.text, "sha256": crit.sha256})
    t = table("entry")
    windows: dict[int, tuple[dt.date, dt.date]] = {}

    def window_of(year: int) -> tuple[dt.date, dt.date]:
        if year not in windows:
            windows[year] = criteria_for(tx.conn, year).window(year)
        return windows[year]

    entries = tx.conn.execute(select(t).where(t.c.org_code == org, t.c.year >= from_year)
                              .order_by(t.c.year, t.c.seq)).mappings().all()
    changed = late_changes(entries, window_of)
    tx.update_many("entry", changed)
    return CriteriaUsed(crit, on_time=tuple(e["id"] for e in changed if not e["late"]),
                        late=tuple(e["id"] for e in changed if e["late"]))


def set_setting(tx: Tx, key: str, value: str) -> str:
    """`dvk settings set`: check a ledger setting's value (`dvk.ledger.settings.check_setting`) and store
    it; returns the value stored."""
    from dvk.ledger.settings import check_setting

    stored = check_setting(key, value)
    tx.upsert("meta", {"key": key, "value": stored})
    return stored


# ---------------------------------------------------------------- phases and their guidance

def guidance_problems(crit: CriteriaSet) -> list[str]:
    """What a set loaded for a phase lacks in its ``[guidance]`` table, one line per key (empty:
    complete). A set stored before the table existed is read from its ``source``; a file a clerk
    loads must give the table itself."""
    if not crit.guidance_given:
        return ["“guidance”: thiếu bảng [guidance] (văn bản hướng dẫn của giai đoạn: "
                + ", ".join(GUIDANCE_KEYS) + ")"]
    return [f"“guidance.{k}”: thiếu hoặc để trống ({_GUIDANCE_LABELS[k]})" for k in crit.guidance.missing]


_GUIDANCE_LABELS = {
    "number": "số, ký hiệu văn bản hướng dẫn, ví dụ \"12/HD-CĐN\"",
    "date": "ngày ban hành, dạng dd/mm/yyyy",
    "issuer": "cơ quan ban hành",
    "subject": "trích yếu, ví dụ \"hướng dẫn tiêu chí … giai đoạn …\"",
}


def phase_for(crit: CriteriaSet, year: int) -> str:
    """The phase of the same length as the set's that holds ``year`` (2026 after "2021-2025" ->
    "2026-2030"); the set's own phase when it holds the year or is not written as two years."""
    span = crit.phase_years
    if span is None or crit.covers(year):
        return crit.phase
    length = span[1] - span[0] + 1
    start = span[0] + ((year - span[0]) // length) * length
    return f"{start}-{start + length - 1}"


def outside_phase(crit: CriteriaSet, year: int) -> str | None:
    """The warning for a year outside the phase of the set in force (None inside it): which set,
    and how to load one for the year's phase."""
    if crit.covers(year):
        return None
    new = phase_for(crit, year)
    return (f"Năm {year} nằm ngoài giai đoạn {crit.phase} của bộ tiêu chí đang áp dụng; các văn bản sẽ trích "
            f"văn bản hướng dẫn của giai đoạn {crit.phase}. Hãy nạp bộ tiêu chí giai đoạn {new}: "
            f"dvk criteria new --phase {new} --out tieu-chi-{new}.toml, điền bảng [guidance], rồi "
            f"dvk criteria use tieu-chi-{new}.toml --from-year {year}.")


def new_phase_text(crit: CriteriaSet, phase: str, guidance: Mapping[str, str]) -> str:
    """A starting file for a new phase: ``crit``'s criteria, fields, scoring and calendar with the
    phase changed and a ``[guidance]`` table filled from ``guidance`` (keys left "" to fill in).
    The result is checked (`load_text`) before it is returned."""
    if not PHASE_RE.fullmatch(phase.strip()):
        raise InvalidInput(f"Giai đoạn “{phase}” không hợp lệ; ghi dạng NĂM-NĂM, ví dụ 2026-2030.")
    phase = "-".join(PHASE_RE.fullmatch(phase.strip()).groups())
    lines = crit.text.replace("\r\n", "\n").split("\n")
    body: list[str] = []
    in_guidance = False
    started = False
    for line in lines:
        stripped = line.strip()
        if not started and (stripped.startswith("#") or not stripped):
            continue  # the old phase's heading comments
        started = True
        if stripped.startswith("["):
            in_guidance = stripped == "[guidance]"
            if in_guidance:
                continue
        if in_guidance:
            continue
        if re.match(r"^(phase|name|source)\s*=", stripped):
            continue
        body.append(line)
    g = Guidance(**{k: (guidance.get(k) or "").strip() for k in GUIDANCE_KEYS},
                 kind=(guidance.get("kind") or crit.guidance.kind or "Văn bản").strip())
    head = [
        f"# Bộ tiêu chí “Dân vận khéo” giai đoạn {phase}, tạo bằng `dvk criteria new` từ bộ giai đoạn {crit.phase}.",
        "# Điền đủ bảng [guidance] (văn bản hướng dẫn của giai đoạn), xem lại tiêu chí, trọng số và lịch, rồi chạy",
        "#   dvk criteria use TỆP.toml --from-year NĂM",
        "",
        f"phase = {_toml_str(phase)}",
        f"name = {_toml_str(f'Tiêu chí “Dân vận khéo” giai đoạn {phase}')}",
    ]
    if g.cite():
        head.append(f"source = {_toml_str(g.cite().split(' về việc ')[0])}")
    first_table = next((i for i, line in enumerate(body) if line.strip().startswith("[")), len(body))
    table = ["", "[guidance]"] + [f"{k} = {_toml_str(getattr(g, k))}" for k in ("kind", *GUIDANCE_KEYS)] + [""]
    text = "\n".join(head + body[:first_table] + table + body[first_table:]).rstrip("\n") + "\n"
    text = re.sub(r"\n{3,}", "\n\n", text)
    load_text(text, source="Tệp tiêu chí mới")
    return text


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
