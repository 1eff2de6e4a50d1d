"""Importing the list of units (đơn vị / CĐCS) from a CSV, XLSX or JSON file.

Headers "Mã đơn vị", "Tên đơn vị", "Cấp ủy" (or code, name, committee), matched regardless of
case, diacritics and spacing. All or nothing: every row is checked first and every problem is
listed; only then are the units added (in file order) or updated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dvk.cycle.units import list_units, upsert_units
from dvk.errors import InvalidInput, Problem, ValidationFailed
from dvk.rules import unit, unit_key

UNIT_COLUMNS = {
    "code": ["Mã đơn vị", "code", "unit", "Mã ĐV", "Mã"],
    "name": ["Tên đơn vị", "name", "Tên"],
    "committee": ["Cấp ủy", "committee", "Cấp uỷ", "Cấp ủy cùng cấp"],
}
_LABELS = {"code": "Mã đơn vị", "name": "Tên đơn vị", "committee": "Cấp ủy"}


def _raw(v: Any) -> str | None:
    """A cell as dvk.rules.unit takes it: a str as typed (the rule cleans it), a number as it reads."""
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v)


def read_units(path: Path) -> list[dict[str, str | None]]:
    """Read and check a units file; raises ValidationFailed listing every problem."""
    from dvk.intake.tables.base import TableError
    from dvk.intake.tables.table import read_table

    path = Path(path)
    name = path.name
    try:
        table = read_table(path, UNIT_COLUMNS)
    except TableError as exc:
        raise InvalidInput(exc.message)
    problems: list[Problem] = []
    rows: list[dict[str, str | None]] = []
    seen: dict[str, tuple[int, dict]] = {}
    with table:
        cols = table.columns
        for key in ("code", "name"):
            if key in table.missing:
                problems.append(Problem(f"thiếu cột “{_LABELS[key]}”", file=name))
        if problems:
            raise ValidationFailed(problems=problems, headline=f"Tệp “{name}” thiếu cột bắt buộc; không ghi gì vào sổ.")
        try:
            for row in table:
                def bad(reason: str, key: str | None = None, value: Any = None) -> None:
                    problems.append(Problem(reason, file=name, row=row.line, column=cols.get(key or "", None)
                                            if key else None, value=value, location_word=row[4]))

                # the same rule as `dvk units add` (dvk.rules.unit)
                values, issues = unit(*(_raw(row.values.get(k)) for k in UNIT_COLUMNS))
                for i in issues:
                    bad(i.reason, i.field, i.value)
                if values is None:
                    continue
                k = unit_key(values["code"] or "")
                if k in seen:
                    line, prev = seen[k]
                    if prev != values:
                        bad(f"mã đơn vị trùng với dòng {line} nhưng khác tên hoặc cấp ủy", "code", values["code"])
                    continue
                seen[k] = (row.line, values)
                rows.append(values)
        except TableError as exc:
            raise InvalidInput(exc.message)
    if problems:
        raise ValidationFailed(problems=problems,
                               headline=f"Tệp “{name}” có {len(problems)} lỗi; không ghi gì vào sổ.")
    if not rows:
        raise InvalidInput(f"Tệp “{name}” không có đơn vị nào (cần các cột “Mã đơn vị”, “Tên đơn vị”, “Cấp ủy”).")
    return rows


def import_units(tx: Any, path: Path, rows: list[dict[str, str | None]] | None = None) -> dict[str, int]:
    """Add or update the units of a file inside the transaction `tx`; returns added/updated/unchanged.

    `rows`: what `read_units(path)` returned, read and checked before the write transaction (so
    that reading the file never holds the write lock); read here when not given.
    A code that differs from an existing one only by case or spacing is that unit (no near-duplicates).
    """
    rows = read_units(path) if rows is None else rows
    existing = {unit_key(u["code"]): u["code"] for u in list_units(tx.conn)}
    for r in rows:
        r["code"] = existing.get(unit_key(r["code"] or ""), r["code"])
    return upsert_units(tx, rows)
