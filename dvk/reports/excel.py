"""Workbooks (Excel): the year's and the phase's summary, written by XlsxWriter in constant-memory
mode — each sheet's rows go to its own temporary file as they come, so a year is read once (every
sheet is filled in the same pass) and memory stays flat whatever its size.

Why XlsxWriter (see the README's design section): its files pass the OOXML validator (openpyxl
writes font children out of schema order), it has column formats (one style per column instead of
one styled cell object per value), print settings, charts and data validation, and it is faster
than openpyxl's write-only mode.  Made for print: each sheet is A4 landscape at a fixed scale
chosen from its column widths so text prints at 9 pt or more (never shrunk to fit one page wide),
long text columns wrap, the title row repeats on every page, the footer reads "Trang 1/5".
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dvk.files import sha256_file
from dvk.reports.models import Criterion, RenderResult
from dvk.reports.ooxml import exists_error, fixed_when, publish, rewrite_ooxml, temp_beside
from dvk.reports.xlsx_rows import Cell, RowWriter
from dvk.reports.records import (PhaseWorkbookData, ResultRecord, ScoreRecord, UnitFieldCount,
                                 YearWorkbookData)


_XL_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


_MAX_WARNINGS = 200


#: The sheets' font and its size: printed at ``MIN_PRINT_SCALE`` % it is still 9 pt or more.
FONT = "Times New Roman"
FONT_SIZE = 11
MIN_PRINT_SCALE = 82


#: A4 landscape, 1.5 cm margins left and right: the printable width in Excel's pixels (96 dpi),
#: less a tenth (LibreOffice lays a column out a few per cent wider than Excel's pixel formula).
_PAGE_WIDTH_PX = int((29.7 - 2 * 1.5) / 2.54 * 96 * 0.9)
_MARGIN_IN = 1.5 / 2.54


#: Text columns at least this wide wrap their text (titles, names, fields, statuses, reasons).
_WRAP_WIDTH = 10


def column_pixels(width: float) -> int:
    """A column's width in pixels as Excel lays it out (characters of the default font)."""
    return int(width * 7 + 0.5) + 5 if width >= 1 else int(width * 12 + 0.5)


def _lines(text: str, width: float) -> int:
    """Lines a text takes in a wrapped column of ``width`` characters (a little more than needed)."""
    per_line = max(1, int(width * 1.25))
    if len(text) <= per_line:
        return 1
    words, lines, used = text.split(), 1, 0
    for word in words:
        n = len(word)
        if used and used + 1 + n > per_line:
            lines, used = lines + 1, 0
        used += n if not used else n + 1
        while used > per_line:
            lines, used = lines + 1, used - per_line
    return lines


def _row_height(lines: int) -> float:
    """A row's height (points) for ``lines`` lines of 11 pt text."""
    return 15.0 if lines <= 1 else round(13.8 * lines + 2, 1)


def print_scale(widths: Iterable[float]) -> int:
    """The print scale (%) at which columns of these widths fill one page's width, at most 100."""
    total = sum(column_pixels(w) for w in widths) or 1
    return max(10, min(100, _PAGE_WIDTH_PX * 100 // total))


@dataclass(frozen=True)
class Formula:
    """A formula cell and the value it computes (stored too, for readers that do not calculate)."""

    text: str
    value: Any


class _Book:
    """An XlsxWriter workbook in constant-memory mode with dvk's formats and properties."""

    def __init__(self, raw: Path, author: str, when: dt.datetime, title: str, warnings: list[str]) -> None:
        import xlsxwriter

        # zip64 allowed in the raw file (a sheet may pass zip's 2 GB member limit); the file written is
        # its rewrite, where a member is zip64 only when its size asks for it.
        self.wb = xlsxwriter.Workbook(str(raw), {
            "constant_memory": True, "tmpdir": str(raw.parent), "use_zip64": True,
            "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False})
        self.wb.set_properties({"title": title, "author": author, "created": when, "comments": ""})
        self.wb.set_calc_mode("auto")
        self.warnings = warnings
        self.sheets: list[_Sheet] = []
        base = {"font_name": FONT, "font_size": FONT_SIZE, "valign": "top"}
        self.wb.formats[0].set_font_name(FONT)
        self.wb.formats[0].set_font_size(FONT_SIZE)
        f = self.wb.add_format
        self.fmt = {
            "header": f({**base, "bold": True, "bg_color": "#D9E1F2", "align": "center", "valign": "vcenter",
                         "text_wrap": True, "border": 1, "border_color": "#808080"}),
            "text": f(base), "wrap": f({**base, "text_wrap": True}),
            "date": f({**base, "num_format": "dd/mm/yyyy", "align": "center"}),
            "score": f({**base, "num_format": "0.00"}), "int": f({**base, "num_format": "0"}),
            "num": f({**base, "num_format": "General"}), "bool": f({**base, "align": "center"}),
            "bold": f({**base, "bold": True}), "bold_int": f({**base, "bold": True, "num_format": "0"}),
            "bold_score": f({**base, "bold": True, "num_format": "0.00"}),
        }

    def sheet(self, title: str, columns: Sequence[tuple[str, float, str]], *, table: bool = True,
              charts: bool = False) -> "_Sheet":
        return _Sheet(self, title, columns, table=table, charts=charts)

    def save(self, when: dt.datetime, identifier: str, raw: Path, path: Path, force: bool) -> str:
        self.wb.set_properties({**self.wb.doc_properties, "keywords": identifier})
        for sheet in self.sheets:
            sheet.finish()
        self.wb.close()
        fd, tmp = temp_beside(path, ".tmp")
        try:
            with zipfile.ZipFile(raw) as zin, os.fdopen(fd, "wb") as fh:
                rewrite_ooxml(zin, fh, fixed_when(when), core_extra={"dc:identifier": identifier} if identifier else None)
                fh.flush()
                os.fsync(fh.fileno())
            digest = sha256_file(tmp)
            publish(tmp, path, force=force)
        finally:
            tmp.unlink(missing_ok=True)
        return digest


class _Sheet:
    """A sheet with a header row (frozen, repeated on every printed page, filtered), a format per
    column and print settings that keep text readable."""

    def __init__(self, book: _Book, title: str, columns: Sequence[tuple[str, float, str]], *, table: bool,
                 charts: bool = False) -> None:
        self.book = book
        self.ws = ws = book.wb.add_worksheet(title)
        # XlsxWriter (constant memory) writes a text that starts "<r>" and ends "</r>" unescaped, as rich text:
        # a title or a unit's name typed that way would put its own XML into the sheet.  dvk writes no rich
        # text, so such a text is written as the text it is.
        ws._xml_rich_inline_string = lambda text, attributes=(): ws._xml_inline_string(text, False, attributes)
        self.title = title
        self.labels = [h for h, _, _ in columns]
        self.kinds = [k for _, _, k in columns]
        self.widths = [w for _, w, _ in columns]
        self.wraps = [k == "text" and w >= _WRAP_WIDTH for _, w, k in columns]
        self.row = 0
        self.table = table
        fmt = book.fmt
        formats = []
        for i, (_, width, kind) in enumerate(columns):
            formats.append(fmt[{"text": "wrap" if width >= _WRAP_WIDTH else "text"}.get(kind, kind)])
            self.ws.set_column(i, i, width, formats[-1])
        ws = self.ws
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.set_margins(left=_MARGIN_IN, right=_MARGIN_IN, top=0.75, bottom=0.75)
        ws.set_print_scale(max(MIN_PRINT_SCALE, print_scale(w for _, w, _ in columns)))
        ws.set_footer("&CTrang &P/&N")
        ws.repeat_rows(0)
        ws.freeze_panes(1, 0)
        ws.set_row(0, _row_height(max(_lines(h, w) for h, w in zip(self.labels, self.widths))))
        for i, h in enumerate(self.labels):
            ws.write_string(0, i, h, fmt["header"])
        self.row = 1
        self.data_rows = 0
        # A sheet with charts places them by its rows' heights, which XlsxWriter keeps (set_row): its rows
        # go through XlsxWriter cell by cell.  Every other sheet's data rows are written as XML (xlsx_rows).
        self.rows = None if charts or not RowWriter.usable(self.ws) else RowWriter(self.ws, formats)
        book.sheets.append(self)

    def _text(self, value: str, col: int, owner: str) -> str:
        if value.isprintable() and unicodedata.is_normalized("NFC", value):  # the ledger's text, mostly
            return value
        if _XL_ILLEGAL.search(value):
            for ch in sorted(set(_XL_ILLEGAL.findall(value))):
                if len(self.book.warnings) < _MAX_WARNINGS:
                    where = f"“{self.labels[col]}” (trang “{self.title}”)" + (f" của {owner}" if owner else "")
                    self.book.warnings.append(f"Đã bỏ ký tự điều khiển U+{ord(ch):04X} trong {where}")
            value = _XL_ILLEGAL.sub("", value)
        return unicodedata.normalize("NFC", value)

    def append(self, values: Sequence[Any], *, owner: str = "", bold: bool = False) -> None:
        """One row; text stays text (``=SUM(…)`` typed by a clerk is never a formula), dates are dates,
        a `Formula` is a formula with its computed value.  Bold rows are totals, not data."""
        r = self.row
        self.row += 1
        lines = max([_lines(v, w) for v, w, wrap in zip(values, self.widths, self.wraps)
                     if wrap and isinstance(v, str) and v] or [1])
        height = _row_height(lines) if lines > 1 else None  # LibreOffice does not fit rows itself
        cells: list[Cell] = []
        for i, (kind, v) in enumerate(zip(self.kinds, values)):
            if v is None or v == "":
                continue
            if isinstance(v, Formula):
                cells.append((i, "f", v))
            elif kind == "text" or isinstance(v, str):
                cells.append((i, "s", self._text(str(v), i, owner)))
            elif kind == "date":
                cells.append((i, "d", v))
            elif kind == "bool":
                if v:
                    cells.append((i, "b", "Có"))
            elif type(v) in (int, float) and math.isfinite(v):
                cells.append((i, "n", float(v) if kind == "score" else v))
            else:  # anything else as XlsxWriter takes (or refuses) it
                cells.append((i, "x", float(v) if kind == "score" else v))
        if self.rows is not None and not bold and all(k not in "fx" for _, k, _ in cells):
            self.rows.add(r, cells, height)
            return
        if self.rows is not None:
            self.rows.flush(r)
        self._write(r, cells, height, bold)

    def _write(self, r: int, cells: list[Cell], height: float | None, bold: bool = False) -> None:
        """A row through XlsxWriter, cell by cell (a total: ``bold``, formulas)."""
        ws, fmt = self.ws, self.book.fmt
        if height is not None:
            ws.set_row(r, height)
        for i, kind, v in cells:
            number = "bold_score" if self.kinds[i] == "score" else "bold_int"
            if kind == "f":
                ws.write_formula(r, i, v.text, fmt[number] if bold else None, v.value)
            elif kind == "s":
                ws.write_string(r, i, v, fmt["bold"] if bold else None)
            elif kind == "b":
                ws.write_string(r, i, v)
            elif kind == "d":
                ws.write_datetime(r, i, dt.datetime(v.year, v.month, v.day))
            else:  # "n", "x": a number
                ws.write_number(r, i, v, fmt[number] if bold else None)

    def finish(self) -> None:
        """The row held back goes to XlsxWriter, which writes it with its own last row when the book closes."""
        last = self.rows.take_pending() if self.rows is not None else None
        if last is not None:
            self._write(*last)

    def skip(self, rows: int = 1) -> None:
        self.row += rows

    def close(self) -> None:
        """End the filtered table (the rows so far); rows appended after it are outside the filter."""
        if self.table:
            self.ws.autofilter(0, 0, max(0, self.row - 1), len(self.labels) - 1)


# Column widths chosen so each sheet prints at 82 % or more on A4 landscape (see `print_scale`).
_REG_COLUMNS = [("Mã hồ sơ", 11, "text"), ("Đơn vị", 18, "text"), ("Tên mô hình, điển hình", 28, "text"),
                ("Tập thể/Cá nhân", 10, "text"), ("Họ và tên / Tên tập thể", 18, "text"),
                ("Chức vụ", 13, "text"), ("Lĩnh vực", 13, "text"), ("Ngày đăng ký", 11, "date"),
                ("Đăng ký muộn", 8, "bool"), ("Đột xuất", 8, "bool"), ("Ghi chú", 12, "text")]


_REPORT_COLUMNS = [("Mã hồ sơ", 11, "text"), ("Đơn vị", 16, "text"), ("Tên mô hình, điển hình", 26, "text"),
                   ("Ngày nhận báo cáo", 11, "date"), ("Cách làm", 15, "text"), ("Kinh nghiệm", 15, "text"),
                   ("Tính lan tỏa", 15, "text"), ("Hiệu quả", 15, "text"), ("Sự bền vững", 15, "text"),
                   ("Ghi chú", 11, "text")]


_CONFIRM_COLUMNS = [("Mã hồ sơ", 11, "text"), ("Đơn vị", 22, "text"), ("Tên mô hình, điển hình", 36, "text"),
                    ("Cấp ủy xác nhận", 26, "text"), ("Cùng cấp", 8, "bool"), ("Ngày xác nhận", 11, "date"),
                    ("Nhận xét", 30, "text")]


_SCORE_COLUMNS = [("Mã hồ sơ", 11, "text"), ("Tên mô hình, điển hình", 34, "text"),
                  ("Thành viên Hội đồng", 20, "text"), ("Mã tiêu chí", 8, "text"), ("Tiêu chí", 40, "text"),
                  ("Trọng số", 8, "score"), ("Điểm", 8, "score"), ("Ghi chú", 16, "text")]


_RESULT_COLUMNS = [("Mã hồ sơ", 11, "text"), ("Đơn vị", 18, "text"), ("Tên mô hình, điển hình", 28, "text"),
                   ("Tập thể/Cá nhân", 18, "text"), ("Lĩnh vực", 13, "text"), ("Điểm", 8, "score"),
                   ("Trạng thái", 11, "text"), ("Lý do", 26, "text"), ("Quyết định", 17, "text")]


_PROPOSED_COLUMNS = [("STT", 6, "int"), ("Mã hồ sơ", 11, "text"), ("Năm công nhận", 11, "text"),
                     ("Tên mô hình, điển hình", 30, "text"), ("Tập thể/Cá nhân", 20, "text"), ("Đơn vị", 20, "text"),
                     ("Lĩnh vực", 8, "text"), ("Thành tích", 24, "text"), ("Quyết định công nhận", 20, "text")]


_COUNCIL_COLUMNS = [("Mục", 16, "text"), ("Thành viên", 22, "text"), ("Chức vụ, vai trò", 26, "text"),
                    ("Mã hồ sơ", 11, "text"), ("Độ chênh", 9, "score"), ("Độ lệch chuẩn", 11, "score"),
                    ("Ghi chú", 45, "text")]


def _number(text: str) -> float | int | str:
    """A weight as printed ("8", "7,5") back to a number for a cell (the text if it is none)."""
    try:
        f = float(str(text).replace(",", "."))
    except ValueError:
        return text
    return int(f) if f == int(f) else f


def _result_values(r: ResultRecord) -> tuple:
    return (r.code, r.unit, r.title, r.subject_text, r.field, r.score, r.status, r.reasons, r.decision)


def _registration_values(r: Any) -> tuple:
    return (r.code, r.unit, r.title, r.subject_kind, r.subject_name, r.position, r.field, r.registered_on, r.late,
            r.sudden, r.note)


def _report_values(r: Any) -> tuple:
    return (r.code, r.unit, r.title, r.received_on, r.approach, r.experience, r.spread, r.effectiveness,
            r.sustainability, r.note)


def _confirmation_values(r: Any) -> tuple:
    return (r.code, r.unit, r.title, r.committee, r.same_level, r.confirmed_on, r.comment)


class _Scores:
    """"Chấm điểm": one row per member's sheet (wide: a column per criterion) or per mark.  An
    entry's aggregate score is in "Kết quả" ("Điểm"): the filtered table holds members' rows only,
    so a filter or a SUM over it counts each mark once."""

    def __init__(self, book: _Book, crits: Sequence[Criterion]) -> None:
        self.n = len(crits)
        if crits:
            cols = ([("Mã hồ sơ", 11, "text"), ("Tên mô hình, điển hình", 30, "text"),
                     ("Thành viên Hội đồng", 20, "text")] + [(c.code, 5.5, "num") for c in crits]
                    + [("Tổng (thang 100)", 9, "score"), ("Ghi chú", 14, "text")])
        else:
            cols = _SCORE_COLUMNS
        self.sheet = book.sheet("Chấm điểm", cols)

    def add(self, r: ScoreRecord) -> None:
        if r.aggregate:
            return
        if self.n:
            marks = tuple(r.marks)[: self.n] + (None,) * max(0, self.n - len(r.marks))
            self.sheet.append((r.code, r.title, r.member, *marks, r.score, r.note), owner=r.code)
        else:
            self.sheet.append((r.code, r.title, r.member, r.criterion_code, r.criterion, r.weight, r.score, r.note),
                              owner=r.code)


def _col(i: int) -> str:
    from xlsxwriter.utility import xl_col_to_name

    return xl_col_to_name(i)


def _stats_sheet(book: _Book, fields: Sequence[str], unit_counts: Sequence[UnitFieldCount]) -> None:
    """"Thống kê": units × fields with formula totals, a table by field, and the two charts below
    the tables, each starting a printed page and no taller than one, with whole-number count axes."""
    fields = list(fields)
    nf = len(fields)
    cols = [("STT", 5, "int"), ("Đơn vị", 30, "text")] + [(f, 12, "int") for f in fields] + [("Tổng", 8, "int")]
    sheet = book.sheet("Thống kê", cols, charts=True)
    totals = [0] * nf
    for i, uc in enumerate(unit_counts, 1):
        counts = list(uc.counts)[:nf] + [0] * max(0, nf - len(uc.counts))
        totals = [a + b for a, b in zip(totals, counts)]
        r = sheet.row + 1  # the row's number in Excel
        sheet.append([i, uc.unit, *counts, Formula(f"=SUM(C{r}:{_col(nf + 1)}{r})", sum(counts))], owner=uc.unit)
    n_units = sheet.row - 1
    sheet.close()  # the filter covers the unit table only
    top, bottom = 2, max(2, n_units + 1)
    sums = [Formula(f"=SUM({_col(c)}{top}:{_col(c)}{bottom})", t)
            for c, t in zip(range(2, nf + 3), totals + [sum(totals)])]
    total_row = sheet.row + 1
    sheet.append([None, "Tổng cộng", *sums], bold=True)
    sheet.skip()
    field_header = sheet.row  # 0-based
    sheet.append([None, "Lĩnh vực", "Số lượng"], bold=True)
    for j, (f, t) in enumerate(zip(fields, totals)):
        sheet.append([None, f, Formula(f"={_col(2 + j)}{total_row}", t)])
    ws, wb = sheet.ws, book.wb
    biggest = max([sum(uc.counts) for uc in unit_counts] + totals + [0])

    def chart(kind: str, title: str, cats: list, vals: list, height: int):
        c = wb.add_chart({"type": kind})
        c.add_series({"name": "Số lượng", "categories": cats, "values": vals, "gap": 60,
                      "data_labels": {"value": True, "num_format": "0", "font": {"name": FONT, "size": 9}}})
        c.set_title({"name": title, "name_font": {"name": FONT, "size": 12, "bold": True}})
        c.set_legend({"none": True})
        value_axis = {"name": "Số lượng", "min": 0, "num_format": "0", "num_font": {"name": FONT, "size": 9},
                      "name_font": {"name": FONT, "size": 10}}
        if biggest <= 10:
            value_axis["major_unit"] = 1  # never 0,5 of an entry
        cat_axis = {"num_font": {"name": FONT, "size": 9}}
        if kind == "bar":  # XlsxWriter: a bar chart's x axis is its value axis
            c.set_x_axis(value_axis)
            c.set_y_axis({**cat_axis, "reverse": True})
        else:
            c.set_y_axis(value_axis)
            c.set_x_axis(cat_axis)
        c.set_size({"width": 900, "height": height})
        return c

    row = sheet.row + 1
    breaks = [row]
    ws.insert_chart(row, 1, chart("column", "Số mô hình, điển hình theo lĩnh vực",
                                  ["Thống kê", field_header + 1, 1, field_header + nf, 1],
                                  ["Thống kê", field_header + 1, 2, field_header + nf, 2], 460))
    if n_units:
        row2 = row + 26
        breaks.append(row2)
        ws.insert_chart(row2, 1, chart("bar", "Số mô hình, điển hình theo đơn vị",
                                       ["Thống kê", 1, 1, n_units, 1], ["Thống kê", 1, nf + 2, n_units, nf + 2],
                                       min(600, 120 + 16 * n_units)))
    ws.set_h_pagebreaks(breaks)


def _new_book(path: Path, author: str, when: dt.datetime, title: str, warnings: list[str]) -> tuple[_Book, Path]:
    fd, raw = temp_beside(path, ".raw")
    os.close(fd)
    return _Book(raw, author, when, title, warnings), raw


def write_year_workbook(path: str | os.PathLike, data: YearWorkbookData, force: bool = False) -> RenderResult:
    """Write ``tong-hop-<year>.xlsx``: sheets "Đăng ký", "Báo cáo", "Xác nhận", "Chấm điểm",
    "Kết quả", "Thống kê" (with native bar charts by field and by unit), "Tiêu chí".

    With ``data.entries`` every sheet is filled in one pass over the year; the separate row
    sources are read after it, each in turn.  Text that looks like a formula stays text; dates
    are real dates shown dd/mm/yyyy, scores "0.00"; totals are formulas.  Deterministic bytes;
    atomic write, mode 0600; ``OutputExistsError`` if the file exists and not ``force``.
    """
    path = Path(path)
    if path.exists() and not force:
        raise exists_error(path)
    when = dt.datetime(data.generated_on.year, data.generated_on.month, data.generated_on.day)
    warnings: list[str] = []
    book, raw = _new_book(path, data.author, when,
                          f"Tổng hợp mô hình, điển hình “Dân vận khéo” năm {data.year}", warnings)
    try:
        crits = list(data.score_criteria)
        reg = book.sheet("Đăng ký", _REG_COLUMNS)
        rep = book.sheet("Báo cáo", _REPORT_COLUMNS)
        conf = book.sheet("Xác nhận", _CONFIRM_COLUMNS)
        scores = _Scores(book, crits)
        res = book.sheet("Kết quả", _RESULT_COLUMNS)
        for e in data.entries:
            reg.append(_registration_values(e.registration), owner=e.registration.code)
            if e.report is not None:
                rep.append(_report_values(e.report), owner=e.report.code)
            if e.confirmation is not None:
                conf.append(_confirmation_values(e.confirmation), owner=e.confirmation.code)
            for s in e.scores:
                scores.add(s)
            res.append(_result_values(e.result), owner=e.result.code)
        for r in data.registrations:
            reg.append(_registration_values(r), owner=r.code)
        for r in data.reports:
            rep.append(_report_values(r), owner=r.code)
        for r in data.confirmations:
            conf.append(_confirmation_values(r), owner=r.code)
        for r in data.scores:
            scores.add(r)
        for r in data.results:
            res.append(_result_values(r), owner=r.code)
        for sheet in (reg, rep, conf, scores.sheet, res):
            sheet.close()
        _stats_sheet(book, data.fields, data.unit_counts)
        if data.council:  # the year's council (issue 13): members, conflicts, abstentions, spreads
            council = book.sheet("Hội đồng", _COUNCIL_COLUMNS)
            for row in data.council:
                council.append(row, owner=row[3] or "")
            council.close()
        if crits:
            legend = book.sheet("Tiêu chí", [("Mã tiêu chí", 11, "text"), ("Nội dung tiêu chí", 90, "text"),
                                            ("Trọng số", 10, "num")])
            for c in crits:
                legend.append((c.code, c.content, _number(c.weight)))
            legend.close()
        digest = book.save(when, data.identifier, raw, path, force)
    finally:
        raw.unlink(missing_ok=True)
    if len(warnings) >= _MAX_WARNINGS:
        warnings.append(f"(chỉ liệt kê {_MAX_WARNINGS} cảnh báo đầu tiên)")
    return RenderResult(path, digest, tuple(warnings))


def _rate(r: int, value: Any) -> Formula:
    return Formula(f'=IF(B{r}>0,ROUND(100*C{r}/B{r},2),"")', value)


def write_phase_workbook(path: str | os.PathLike, data: PhaseWorkbookData, force: bool = False) -> RenderResult:
    """Write ``tong-hop-<phase>.xlsx``: a "Tổng hợp" sheet (counts per year; the phase's totals and
    the rates are formulas; a column chart) and one sheet per year with its results.  Same
    guarantees as ``write_year_workbook``."""
    path = Path(path)
    if path.exists() and not force:
        raise exists_error(path)
    when = dt.datetime(data.generated_on.year, data.generated_on.month, data.generated_on.day)
    warnings: list[str] = []
    book, raw = _new_book(path, data.author, when,
                          f"Tổng hợp mô hình, điển hình “Dân vận khéo” giai đoạn {data.phase}", warnings)
    try:
        cols = [("Năm", 12, "int"), ("Đăng ký", 12, "int"), ("Công nhận", 12, "int"),
                ("Không công nhận", 16, "int"), ("Tỷ lệ công nhận (%)", 18, "score")]
        summary = book.sheet("Tổng hợp", cols, charts=True)
        for y in data.years:
            rate = round(100.0 * y.recognized / y.registered, 2) if y.registered else ""
            summary.append((y.year, y.registered, y.recognized, y.not_recognized, _rate(summary.row + 1, rate)))
        n = summary.row - 1
        summary.close()
        if n:
            sums = [Formula(f"=SUM({c}2:{c}{n + 1})", sum(getattr(y, a) for y in data.years))
                    for c, a in (("B", "registered"), ("C", "recognized"), ("D", "not_recognized"))]
            reg, rec = sums[0].value, sums[1].value
            summary.append(("Cả giai đoạn", *sums, _rate(n + 2, round(100.0 * rec / reg, 2) if reg else "")),
                           bold=True)
            chart = book.wb.add_chart({"type": "column"})
            for col, name in ((1, "Đăng ký"), (2, "Công nhận")):
                chart.add_series({"name": name, "categories": ["Tổng hợp", 1, 0, n, 0],
                                  "values": ["Tổng hợp", 1, col, n, col], "gap": 60})
            chart.set_title({"name": f"Mô hình, điển hình “Dân vận khéo” giai đoạn {data.phase}",
                             "name_font": {"name": FONT, "size": 12, "bold": True}})
            chart.set_y_axis({"name": "Số lượng", "min": 0, "num_format": "0"})
            chart.set_size({"width": 720, "height": 360})
            summary.ws.insert_chart(n + 3, 0, chart)
        if data.proposed:  # the list of the proposal (tờ trình), as `dvk propose` chose it
            sheet = book.sheet("Đề nghị khen thưởng", _PROPOSED_COLUMNS)
            for i, r in enumerate(data.proposed, 1):
                sheet.append((i, r.code, r.year, r.title, r.subject_text, r.unit, r.field, r.achievement, r.note),
                             owner=r.code)
            sheet.close()
        for y in data.years:
            sheet = book.sheet(str(y.year), _RESULT_COLUMNS)
            for r in y.results:
                sheet.append(_result_values(r), owner=r.code)
            sheet.close()
        digest = book.save(when, data.identifier, raw, path, force)
    finally:
        raw.unlink(missing_ok=True)
    return RenderResult(path, digest, tuple(warnings))
