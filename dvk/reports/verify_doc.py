"""`dvk verify-doc`: which document a file is and whether it still matches the ledger (rendered again
from the state it was exported from).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from sqlalchemy import select
from sqlalchemy.engine import Connection

from dvk.cycle.config import profile_for
from dvk.cycle.decisions import active_decision
from dvk.files import sha256_file
from dvk.text.dates import fmt_date
from dvk.ledger.sqlite import Ledger
from dvk.errors import DvkError, NotFound
from dvk.ledger.history import table
from dvk.reports.jobs import DOC_FORMAT, ledger_id, plan_phase, plan_year
from dvk.reports.kinds import KINDS, Options, label
from dvk.wording import decision_title, recognition_subject


CORE_XML_MAX_BYTES = 1 << 20


def read_identifier(path: Path) -> str | None:
    """The "dvk:…" identifier in a .docx/.xlsx file's core properties, or None."""
    try:
        with zipfile.ZipFile(path) as z:
            if z.getinfo("docProps/core.xml").file_size > CORE_XML_MAX_BYTES:
                return None  # not a file dvk wrote (its core properties are a few hundred bytes)
            xml = z.read("docProps/core.xml").decode("utf-8", "replace")
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        return None
    for tag in ("dc:identifier", "cp:keywords"):
        m = re.search(rf"<{tag}\b[^>]*>([^<]*)</{tag}>", xml)
        if m and m.group(1).startswith("dvk:"):
            return m.group(1)
    return None


@dataclass
class DocCheck:
    """What `verify-doc` found about a file."""

    path: Path
    sha256: str
    known: bool = False
    matches: bool = False
    kind: str | None = None
    year: int | None = None
    phase: str | None = None
    description: str = ""
    problems: list[str] = field(default_factory=list)
    identifier: str | None = None

    def as_dict(self) -> dict:
        return {"path": str(self.path), "sha256": self.sha256, "known": self.known, "matches": self.matches,
                "kind": self.kind, "year": self.year, "phase": self.phase, "description": self.description,
                "problems": list(self.problems), "identifier": self.identifier}


def _is_decision(kind: str) -> bool:
    """Whether files of this kind are the decision itself (a kind dvk no longer knows is not)."""
    spec = KINDS.get(kind)
    return spec is not None and spec.is_decision


def _describe(conn: Connection, kind: str, year: int | None, phase: str | None, decision_id: int | None) -> str:
    what = label(kind)
    if _is_decision(kind) and decision_id is not None:
        d = table("decision")
        dec = conn.execute(select(d).where(d.c.id == decision_id)).mappings().first()
        if dec is not None:
            sym = profile_for(conn, dec["year"])["symbol"]
            return f"{decision_title(dec['number'], sym, dec['decided_on'])} {recognition_subject(dec['year'])}"
    if year is not None:
        return f"{what} năm {year}"
    if phase is not None:
        return f"{what} giai đoạn {phase}"
    return what


def _params_options(params: Mapping[str, Any]) -> Options:
    def date(v):
        return dt.date.fromisoformat(v) if v else None

    t = params.get("templates")
    return Options(on=date(params.get("on")), deadline=date(params.get("deadline")),
                   members=tuple(params.get("members") or ()), templates=Path(t) if t else None,
                   reminders=True)


def _rerender(conn: Connection, row: Mapping[str, Any], problems: list[str]) -> str | None:
    """Render the recorded file again from the ledger as it is now; its SHA-256 (None if impossible)."""
    params = json.loads(row["params"] or "{}")
    opts = _params_options(params)
    if opts.templates is not None and not opts.templates.is_dir():
        problems.append(f"Không còn thư mục mẫu văn bản “{opts.templates}” đã dùng khi xuất, nên không dựng lại "
                        "được văn bản để so với sổ.")
        return None
    kind = row["kind"]
    if kind not in KINDS:
        problems.append(f"dvk không còn loại văn bản “{kind}” nên không dựng lại được văn bản để so với sổ.")
        return None
    try:
        if row["year"] is not None:
            decision = None
            if _is_decision(kind):
                d = table("decision")
                decision = conn.execute(select(d).where(d.c.id == row["decision_id"])).mappings().first()
                decision = dict(decision) if decision else None
                if decision is None:
                    problems.append("Quyết định ghi trong sổ cho tệp này không còn.")
                    return None
            jobs, notes = plan_year(conn, row["year"], opts, kinds=(kind,), decision=decision,
                                    before_decision=bool(params.get("before_decision")))
        else:
            jobs, notes = plan_phase(conn, row["phase"], opts, kinds=(kind,))
    except DvkError as exc:
        problems.append(f"Không dựng lại được văn bản từ sổ: {exc.message}")
        return None
    if not jobs:
        problems.append("Theo sổ hiện nay, văn bản này không còn được xuất" + (f": {notes[-1]}" if notes else "."))
        return None
    try:  # the same template checks and sandbox as the export
        return jobs[0].digest(conn, templates=opts.templates)
    except DvkError as exc:
        problems.append(f"Không dựng lại được văn bản từ sổ: {exc.message}")
        return None


def verify_document(led: Ledger, path: Path) -> DocCheck:
    """Identify a file dvk exported and check that it still matches the ledger.

    ``matches`` is true only when the file's SHA-256 is recorded in the ledger, rendering the
    same document again from the ledger as it is now gives the same bytes (for a PDF: its Word
    source does), and — for a decision — the decision has not been revoked.
    """
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"Không tìm thấy tệp “{path}”.")
    check = DocCheck(path, sha256_file(path), identifier=read_identifier(path))
    dt_ = table("document")
    with led.read() as conn:
        ledger = ledger_id(conn)
        row = conn.execute(select(dt_).where(dt_.c.sha256 == check.sha256)).mappings().first()
        if row is not None and row["org_code"] and not conn.info.get("dvk.org"):
            conn.info["dvk.org"] = row["org_code"]  # the document's own organisation
        if row is None:
            _unknown(conn, check, ledger)
            return check
        check.known = True
        row = dict(row)
        check.kind, check.year, check.phase = row["kind"], row["year"], row["phase"]
        params = json.loads(row["params"] or "{}")
        pdf_of = params.get("pdf_of")
        if pdf_of:
            src = conn.execute(select(dt_).where(dt_.c.sha256 == pdf_of)).mappings().first()
            if src is None:
                check.description = f"Bản PDF “{row['name']}”"
                check.problems.append("Không còn bản ghi của tệp Word gốc trong sổ.")
                return check
            row = dict(src)
        desc = _describe(conn, row["kind"], row["year"], row["phase"], row["decision_id"])
        check.description = ("Bản PDF của " + desc[0].lower() + desc[1:]) if pdf_of else desc
        if _is_decision(row["kind"]) and row["decision_id"] is not None:
            d = table("decision")
            dec = conn.execute(select(d).where(d.c.id == row["decision_id"])).mappings().first()
            if dec is not None and dec["revoked"]:
                when = f" ngày {fmt_date(dec['revoked_on'])}" if dec["revoked_on"] else ""
                by = ""
                if dec.get("revocation_number"):
                    sym = profile_for(conn, dec["year"])["symbol"]
                    by = f" bằng {decision_title(dec['revocation_number'], sym, dec['revoked_on'])}"
                    when = ""
                check.problems.append(f"Quyết định này đã bị thu hồi{by}{when} (lý do: {dec['revoked_reason']}).")
        elif row["year"] is not None and row["decision_id"] is not None:
            active = active_decision(conn, row["year"])
            if active is None or active["id"] != row["decision_id"]:
                check.problems.append(f"Quyết định công nhận năm {row['year']} mà văn bản này dựa vào đã bị thu hồi.")
        digest = _rerender(conn, row, check.problems)
        if digest is not None and digest != row["sha256"]:
            if int(json.loads(row["params"] or "{}").get("format") or 1) < DOC_FORMAT:
                check.problems.append(
                    "Tệp do phiên bản dvk trước xuất (mã SHA-256 của tệp có trong sổ), khi mẫu văn bản chưa sửa theo "
                    "Nghị định 30: không dựng lại được từng byte để so với sổ. Hãy xuất lại (dvk export) để có bản "
                    "kiểm tra được.")
            else:
                check.problems.append("Sổ đã thay đổi từ khi xuất tệp này: xuất lại bây giờ sẽ cho văn bản khác.")
        check.matches = digest == row["sha256"] and not check.problems
    return check


def _unknown(conn: Connection, check: DocCheck, ledger: str) -> None:
    ident = check.identifier
    parts = ident.split(":") if ident else []
    if len(parts) >= 4 and parts[0] == "dvk":
        if parts[1] != ledger:
            check.description = "Văn bản do dvk xuất từ một sổ khác"
            check.problems.append(f"Tệp mang mã sổ {parts[1]}, không phải sổ này ({ledger}).")
            return
        kind, key = parts[2], parts[3]
        year = int(key) if key.isdigit() else None
        check.kind, check.year, check.phase = kind, year, None if year else key
        number = parts[4] if len(parts) > 4 else ""
        if _is_decision(kind) and number and year:
            sym = profile_for(conn, year)["symbol"]
            check.description = f"{decision_title(number, sym)} năm {year}"
        else:
            check.description = f"{label(kind)} {'năm' if year else 'giai đoạn'} {key}"
        check.problems.append("Nội dung tệp đã bị sửa sau khi xuất: mã SHA-256 của tệp không có trong sổ. "
                              "Hãy dùng bản do dvk xuất (dvk export).")
        return
    check.description = "Tệp không rõ nguồn gốc"
    check.problems.append("Sổ không ghi nhận tệp này: không phải văn bản dvk đã xuất từ sổ này, "
                          "hoặc đã bị sửa sau khi xuất.")
