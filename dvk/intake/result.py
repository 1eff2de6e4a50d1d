"""What an import was asked for (ImportOptions) and what it did (ImportResult): counts, the problems,
conflicts and new ids (each capped), notes for the clerk, and the JSON shape scripts read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dvk.errors import Problem
from dvk.intake.columns import KIND_LABELS


MAX_PROBLEMS = 500  # problems kept for the report (all are counted)


MAX_CONFLICTS = 200


MAX_NEW_IDS = 1000


MAX_NOTES = 200


@dataclass
class ImportOptions:
    """What the command line asked for."""

    dry_run: bool = False
    skip_invalid: bool = False
    rejects: Path | None = None
    update: bool = False
    year: int | None = None  # registrations: the year of rows without one (and a check of the others)
    member: str | None = None  # scores: the member of a file without a member column
    # --force: the rejects file may replace an existing one (never the ledger, a backup, the input);
    # reports, with --update: a report the Party committee has confirmed may change (it is cleared).
    force: bool = False
    progress: Any = None  # label -> a progress display with update(rows) and close(); None: none


@dataclass
class Conflict:
    """A row that matches something in the ledger but differs from it."""

    where: str
    target: str  # entry id (and member for scores)
    diffs: list[tuple[str, str, str]]  # (column, in the ledger, in the file)
    note: str = ""  # why --update alone does not settle it (a report the Party committee confirmed)

    def text(self) -> str:
        parts = "; ".join(f"{c}: sổ ghi “{a}”, tệp ghi “{b}”" for c, a, b in self.diffs)
        return (f"{self.where}: trùng với {self.target} đã có trong sổ nhưng khác ({parts})"
                + (f"; {self.note}" if self.note else "") + ".")

    def as_dict(self) -> dict:
        out = {"where": self.where, "target": self.target,
               "diffs": [{"column": c, "ledger": a, "file": b} for c, a, b in self.diffs]}
        if self.note:
            out["note"] = self.note
        return out


@dataclass
class ImportResult:
    """What an import did (or, for a dry run, would do)."""

    kind: str
    file: str
    dry_run: bool = False
    rows: int = 0
    added: int = 0
    already: int = 0
    updated: int = 0
    conflicts: int = 0
    rejected: int = 0
    blank: int = 0
    examples: int = 0
    new_ids: list[str] = field(default_factory=list)
    new_ids_more: int = 0
    conflict_list: list[Conflict] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    legacy: dict[str, int] = field(default_factory=dict)  # encoding -> cells converted
    legacy_where: list[str] = field(default_factory=list)
    unknown_headers: list[str] = field(default_factory=list)
    skipped_sheets: list[str] = field(default_factory=list)
    rejects_file: str | None = None
    changes: int = 0  # rows recorded in the history
    confirmations_cleared: int = 0  # reports: confirmations deleted because the report changed (--update --force)
    notes: list[str] = field(default_factory=list)  # what the reader should know (a member's spelling)
    notes_more: int = 0

    def add_note(self, text: str) -> None:
        if len(self.notes) < MAX_NOTES:
            self.notes.append(text)
        else:
            self.notes_more += 1

    def add_problem(self, p: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(p)

    def add_new_id(self, entry_id: str) -> None:
        if len(self.new_ids) < MAX_NEW_IDS:
            self.new_ids.append(entry_id)
        else:
            self.new_ids_more += 1

    def add_conflict(self, c: Conflict) -> None:
        self.conflicts += 1
        if len(self.conflict_list) < MAX_CONFLICTS:
            self.conflict_list.append(c)

    def as_json(self) -> dict:
        return {
            "kind": self.kind, "file": self.file, "dry_run": self.dry_run, "rows": self.rows,
            "added": self.added, "already": self.already, "updated": self.updated,
            "conflicts": self.conflicts, "rejected": self.rejected, "blank": self.blank,
            "examples": self.examples, "new_ids": self.new_ids, "new_ids_truncated": self.new_ids_more > 0,
            "conflict_details": [c.as_dict() for c in self.conflict_list],
            "problems": [_problem_json(p) for p in self.problems], "problem_count": self.problem_count,
            "legacy_converted": self.legacy, "unknown_headers": self.unknown_headers,
            "rejects_file": self.rejects_file, "confirmations_cleared": self.confirmations_cleared,
            "notes": self.notes,
        }

    def summary_line(self) -> str:
        return (f"Nhập {KIND_LABELS[self.kind]} từ “{Path(self.file).name}”: thêm {self.added}, "
                f"cập nhật {self.updated}, đã có {self.already}, xung đột {self.conflicts}, "
                f"bị loại {self.rejected}"
                + (f"; xóa {self.confirmations_cleared} xác nhận của cấp ủy vì báo cáo thay đổi (--force)"
                   if self.confirmations_cleared else ""))


def _problem_json(p: Problem) -> dict:
    value = p.value
    if isinstance(value, (dt.date, dt.datetime)):
        value = value.isoformat()
    return {"file": p.file, "row": p.row, "column": p.column, "value": value, "reason": p.reason,
            "text": p.text()}
