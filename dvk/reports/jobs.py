"""What an export will write: one job per document (its kind, name, view model or workbook data, the
settings it is rendered with), planned inside one read snapshot of the ledger by going through the
registry of document kinds (`dvk.reports.kinds`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from sqlalchemy.engine import Connection

from dvk.cycle.common import check_year, today
from dvk.cycle.config import get_setting
from dvk.cycle.year import years as ledger_years
from dvk.cycle.setup import outside_phase
from dvk.errors import InvalidInput
from dvk.text.dates import fmt_date
from dvk.reports.build import YearState, read_year
from dvk.reports.phase import read_phase
from dvk.reports.kinds import PHASE, YEAR, DocKind, Draft, Options, PhaseSource, YearSource, kinds_of
from dvk.reports.models import RenderResult
from dvk.reports.word import render_docx, render_docx_bytes
from dvk.wording import doc_number


_PHASE_RE = re.compile(r"^\s*(\d{4})\s*[-–]\s*(\d{4})\s*$")


@dataclass
class Job:
    """One file to write: its kind, the year or phase (``key``), how to render it (``draft``), and
    what the ledger records about it (identifier, settings, the decision it was written under)."""

    doc: DocKind
    key: int | str
    identifier: str
    params: dict
    decision_id: int | None
    draft: Draft

    @property
    def kind(self) -> str:
        return self.doc.key

    @property
    def template(self) -> str | None:
        """The Word template; None for a workbook."""
        return self.doc.template

    @property
    def vm(self) -> Any:
        return self.draft.vm

    @property
    def name(self) -> str:
        return self.doc.file(self.key)

    def write(self, conn: Connection, path: Path, *, templates: Path | None, force: bool) -> RenderResult:
        if self.template is not None:
            return render_docx(self.template, self.vm, path, templates_dir=templates, force=force,
                               identifier=self.identifier)
        return self.doc.writer(path, self.draft.workbook(conn, self.identifier), force=force)

    def digest(self, conn: Connection, *, templates: Path | None) -> str:
        """The SHA-256 of the file this job renders now (in memory for Word; a temporary file for Excel)."""
        if self.template is not None:
            data, _ = render_docx_bytes(self.template, self.vm, templates_dir=templates,
                                        identifier=self.identifier)
            return hashlib.sha256(data).hexdigest()
        with tempfile.TemporaryDirectory(prefix="dvk-verify-") as tmp:
            return self.write(conn, Path(tmp) / self.name, templates=templates, force=False).sha256


#: The generation of dvk's document layout, recorded with every file (``params["format"]``): `verify-doc`
#: tells a file an earlier generation wrote (its layout changed since: issue 12, Decree 30) from one
#: whose ledger changed. Raise it whenever the packaged templates or the documents' wording change.
DOC_FORMAT = 2


def _identifier(ledger: str, kind: str, key: int | str, number: str = "") -> str:
    return f"dvk:{ledger}:{kind}:{key}:{number}"


def ledger_id(conn: Connection) -> str:
    """The ledger's own id, written into every file it exports ("?" for a ledger without one)."""
    return get_setting(conn, "ledger_id") or "?"


def _doc_date(st: YearState, opts: Options) -> dt.date:
    """The date printed on a year's documents: the one asked for (in the year, or early the next
    year for what follows a decision); the decision's; today within the year; else the year's
    recognition day from its calendar."""
    year = st.year
    if opts.on is not None:
        if opts.on.year != year and not (opts.on.year == year + 1 and st.decision is not None):
            raise InvalidInput(f"Ngày văn bản {fmt_date(opts.on)} không thuộc năm {year}: văn bản của năm {year} "
                               f"mang ngày trong năm {year}" + (" (hoặc đầu năm sau, khi năm đã có quyết định)."
                                                               if st.decision is not None else "."))
        return opts.on
    if st.decision is not None:
        return st.decision["decided_on"]
    now = today()
    return now if now.year == year else st.crit.recognition_day(year)


def _selected(scope: str, kinds: Sequence[str] | None) -> list[DocKind]:
    """The kinds of a scope to plan, in the registry's order: all of them, or those named."""
    return [k for k in kinds_of(scope) if kinds is None or k.key in kinds]


def _asked(kind: DocKind, opts: Options, kinds: Sequence[str] | None) -> bool:
    """Whether a kind written only on request was asked for (by the option, or alone)."""
    return (not kind.on_request or (opts.reminders and kind.key not in _BY_NAME_ONLY)
            or list(kinds or ()) == [kind.key] or kind.key in opts.extra)


_BY_NAME_ONLY = ("certificates", "launch")  # on request by their own option (--certificates), not --reminders


def plan_year(conn: Connection, year: int, opts: Options, *, kinds: Sequence[str] | None = None,
              decision: dict | None = None, before_decision: bool = False) -> tuple[list[Job], list[str]]:
    """Plan a year's files (every year kind, or those named in ``kinds``).  Returns the jobs and
    notes (files not written and why).  ``decision`` and ``before_decision``: see `build.read_year`."""
    planned = [k for k in _selected(YEAR, kinds) if _asked(k, opts, kinds)]
    st = read_year(conn, year, decision=decision, before_decision=before_decision,
                   lists=any(k.lists for k in planned))
    ledger = ledger_id(conn)
    on = _doc_date(st, opts)
    tdir = str(opts.templates) if opts.templates else None
    base = {"on": on.isoformat(), "templates": tdir, "format": DOC_FORMAT}
    if before_decision:
        base["before_decision"] = True
    dec = st.decision
    jobs: list[Job] = []
    notes: list[str] = []
    outside = outside_phase(st.crit, year)
    if outside and dec is None:  # a decided year stays as it was decided
        notes.append(outside)
    if st.counts["registered"] == 0 and dec is None and kinds is None:
        known = ", ".join(str(y) for y in ledger_years(conn)) or "chưa có năm nào"
        raise InvalidInput(f"Năm {year} chưa có mô hình, điển hình nào trong sổ (các năm có trong sổ: {known}); "
                           "không có gì để xuất.")
    for kind in planned:
        if kind.needs_decision and dec is None:
            notes.append(f"Năm {year} chưa có quyết định công nhận (chạy: dvk recognize --year {year} --number SỐ): "
                         f"chưa xuất {kind.file(year)}; các văn bản khác vẫn được ghi.")
            continue
        draft = kind.build(YearSource(kind, conn, st, on, opts, notes))
        if draft is None:
            continue
        # Only these files say what the decision decided; the others do not depend on it.
        decided = dec is not None and kind.decision_dependent
        number = doc_number(dec["number"]) if decided and dec["number"] else ""
        jobs.append(Job(kind, year, _identifier(ledger, kind.key, year, number), {**base, **draft.params},
                        dec["id"] if decided else None, draft))
    return jobs, notes


def parse_phase(phase: str) -> tuple[str, list[int]]:
    """"2021-2025" -> ("2021-2025", [2021, …, 2025]); InvalidInput otherwise."""
    m = _PHASE_RE.match(phase or "")
    if not m or not (int(m.group(1)) <= int(m.group(2)) <= int(m.group(1)) + 10):
        raise InvalidInput(f"Giai đoạn “{phase}” không hợp lệ; ghi dạng NĂM-NĂM, ví dụ 2021-2025.")
    a, b = int(m.group(1)), int(m.group(2))
    check_year(a)
    check_year(b)
    return f"{a}-{b}", list(range(a, b + 1))


def plan_phase(conn: Connection, phase: str, opts: Options, *,
               kinds: Sequence[str] | None = None) -> tuple[list[Job], list[str]]:
    """Plan a phase's files (every phase kind, or those named in ``kinds``), as `plan_year` does."""
    phase, years = parse_phase(phase)
    ledger = ledger_id(conn)
    on = opts.on or today()
    notes: list[str] = []
    ps = read_phase(conn, phase, years, notes)
    tdir = str(opts.templates) if opts.templates else None
    params = {"on": on.isoformat(), "templates": tdir, "format": DOC_FORMAT}
    jobs: list[Job] = []
    for kind in _selected(PHASE, kinds):
        if not _asked(kind, opts, kinds):
            continue
        draft = kind.build(PhaseSource(kind, conn, ps, on, opts, notes))
        if draft is not None:
            jobs.append(Job(kind, phase, _identifier(ledger, kind.key, phase), {**params, **draft.params}, None,
                            draft))
    return jobs, notes

