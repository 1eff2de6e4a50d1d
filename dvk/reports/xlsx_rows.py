"""Data rows of a constant-memory XlsxWriter sheet, written as XML straight into the sheet's row file.

Most of a big workbook's time went into XlsxWriter's handling of each cell: the cell-argument wrapper,
the dimension check, a cell tuple in the row's table, an attribute list, then the XML of the cell one
row later.  A data row here is one string built from the row's values, in the bytes XlsxWriter writes
for the same cells (tests/reports/test_xlsx_rows.py writes rows both ways and compares the files byte
for byte).  Text that starts with "<r>" and ends with "</r>" is escaped like any other text; in dvk's
sheets XlsxWriter's own rows do the same (`dvk.reports.excel._Sheet`), where XlsxWriter alone would write
it unescaped, as rich text.

What it relies on in XlsxWriter 3 (a constant-memory worksheet): ``fh`` is the file the rows go to;
``previous_row`` is the row still held in ``table``; ``_write_single_row(row)`` writes that row and moves
on to ``row``; ``_check_dimensions`` keeps the sheet's used range; ``_convert_date_time`` turns a date into
its serial number.  A row is written one row late, as XlsxWriter does, so formats get their style numbers
in the same order; the last row is handed to XlsxWriter itself (`RowWriter.pending`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

#: Text that needs more than copying: XML's specials, control characters (written as _xHHHH_), a
#: literal "_xHHHH_" (its underscore escaped), non-characters, or leading or trailing white space.
_NEEDS_WORK = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_|^\s|\s$")
_ESCAPED_ALREADY = re.compile("(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"([\x00-\x08\x0b-\x1f])")
_LEADING = re.compile(r"^\s")
_TRAILING = re.compile(r"\s$")

#: Excel's limit for a cell's text, in UTF-16 units.
_STRMAX = 32767

#: A cell of a row: its column, what it holds ("s" text, "b" a yes written "Có", "n" number, "d" date) and
#: the value.
Cell = tuple[int, str, Any]


def _utf16_truncate(text: str, limit: int) -> str:
    length = 0
    for i, ch in enumerate(text):
        length += 2 if ord(ch) > 0xFFFF else 1
        if length > limit:
            return text[:i]
    return text


def inline_text(text: str) -> tuple[str, bool]:
    """A cell's text as XlsxWriter writes an inline string: (the escaped text, whether white space
    at either end is to be kept)."""
    if len(text) > _STRMAX // 2 and len(text.encode("utf-16-le", "surrogatepass")) // 2 > _STRMAX:
        text = _utf16_truncate(text, _STRMAX)
    if not _NEEDS_WORK.search(text):
        return text, False
    text = _ESCAPED_ALREADY.sub(r"_x005F\1", text)
    text = _CONTROL.sub(lambda m: f"_x{ord(m.group(1)):04X}_", text)
    text = text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    preserve = bool(_LEADING.search(text) or _TRAILING.search(text))
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"), preserve


class RowWriter:
    """Writes a sheet's data rows (values already cleaned and typed) through ``ws``'s row file.
    ``formats`` are the columns' formats, whose style number each cell carries."""

    def __init__(self, ws: Any, formats: Sequence[Any]) -> None:
        from xlsxwriter.utility import xl_col_to_name

        self.ws = ws
        self.formats = list(formats)
        self.letters = [xl_col_to_name(i) for i in range(len(self.formats))]
        self.pending: tuple[int, list[Cell], float | None] | None = None

    @staticmethod
    def usable(ws: Any) -> bool:
        """Whether rows can be written this way (XlsxWriter's 2007 rows, constant memory)."""
        return bool(getattr(ws, "constant_memory", False)) and getattr(ws, "excel_version", 2007) == 2007 \
            and hasattr(ws, "_write_single_row")

    def add(self, r: int, cells: list[Cell], height: float | None) -> None:
        """Row ``r`` (0-based), its cells in column order and its height in points (None: default)."""
        self.flush(r)
        if cells:
            self.ws._check_dimensions(r, cells[0][0])
            self.ws._check_dimensions(r, cells[-1][0])
            self.pending = (r, cells, height)

    def flush(self, r: int) -> None:
        """Before anything is written at row ``r``: write the row held back, and let XlsxWriter write
        one of its own (the header, a total) that it still holds."""
        if self.pending is not None:
            self.ws.fh.write(self._xml(*self.pending))
            self.pending = None
        if r > self.ws.previous_row:
            self.ws._write_single_row(r)

    def take_pending(self) -> tuple[int, list[Cell], float | None] | None:
        """The row held back, for XlsxWriter to write itself at the end (as it writes its last row)."""
        p, self.pending = self.pending, None
        return p

    def _xml(self, r: int, cells: list[Cell], height: float | None) -> str:
        ws, n = self.ws, r + 1
        if height is None:
            parts = [f'<row r="{n}">']
        else:
            pixels = int(height * 4.0 / 3.0 + 0.5)
            if pixels != ws.original_row_height or pixels != ws.default_row_height:
                parts = [f'<row r="{n}" ht="{pixels * 0.75:.16g}" customHeight="1">']
            else:
                parts = [f'<row r="{n}">']
        formats, letters = self.formats, self.letters
        for col, kind, v in cells:
            s = formats[col]._get_xf_index()
            if kind == "s" or kind == "b":
                text, preserve = inline_text(v)
                space = ' xml:space="preserve"' if preserve else ""
                parts.append(f'<c r="{letters[col]}{n}" s="{s}" t="inlineStr"><is><t{space}>{text}</t></is></c>')
            else:
                number = ws._convert_date_time(dt.datetime(v.year, v.month, v.day)) if kind == "d" else v
                parts.append(f'<c r="{letters[col]}{n}" s="{s}"><v>{number:.16G}</v></c>')
        parts.append("</row>")
        return "".join(parts)
