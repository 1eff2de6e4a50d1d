"""Workbooks (Excel): the year's and the phase's summary, streamed sheet by sheet."""

from __future__ import annotations

import datetime as dt
import os
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from dvk.files import sha256_file
from dvk.reports.models import Criterion, RenderResult
from dvk.reports.ooxml import exists_error, fixed_when, publish, rewrite_ooxml, temp_beside
from dvk.reports.records import PhaseWorkbookData, ResultRecord, ScoreRecord, UnitFieldCount, YearWorkbookData


_FORMULA_START = ("=", "+", "-", "@")


_XL_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


_MAX_WARNINGS = 200


class _Sheet:
    """A write-only sheet with a styled, frozen header, autofilter and typed columns."""

    def __init__(self, wb, title: str, columns: Sequence[tuple[str, float, str]], warnings: list[str]):
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
        from openpyxl.utils import get_column_letter
        from openpyxl.cell import WriteOnlyCell

        self._cell = WriteOnlyCell
        self.ws = wb.create_sheet(title=title)
        self.title = title
        self.columns = columns
        self.warnings = warnings
        self.rows = 0
        self.kinds = [k for _, _, k in columns]
        self.labels = [h for h, _, _ in columns]
        self.bold = Font(name="Times New Roman", bold=True)
        self.ws.freeze_panes = "A2"
        for i, (_, width, _) in enumerate(columns, 1):
            self.ws.column_dimensions[get_column_letter(i)].width = width
        self.ws.print_title_rows = "1:1"
        self.ws.page_setup.orientation = "landscape"
        self.ws.page_setup.paperSize = 9  # A4
        self.ws.sheet_properties.pageSetUpPr.fitToPage = True
        self.ws.page_setup.fitToWidth = 1
        self.ws.page_setup.fitToHeight = 0
        thin = Side(style="thin", color="808080")
        header = []
        for h in self.labels:
            c = WriteOnlyCell(self.ws, value=h)
            c.font = Font(name="Times New Roman", bold=True)
            c.fill = PatternFill("solid", fgColor="D9E1F2")
            c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            c.border = Border(top=thin, bottom=thin, left=thin, right=thin)
            header.append(c)
        self.ws.append(header)
        self.last_col = get_column_letter(len(columns))

    def _text(self, value: str, col: int, owner: str, bold: bool):
        if _XL_ILLEGAL.search(value):
            found = sorted(set(_XL_ILLEGAL.findall(value)))
            for ch in found:
                if len(self.warnings) < _MAX_WARNINGS:
                    where = f"“{self.labels[col]}” (trang “{self.title}”)" + (f" của {owner}" if owner else "")
                    self.warnings.append(f"Đã bỏ ký tự điều khiển U+{ord(ch):04X} trong {where}")
            value = _XL_ILLEGAL.sub("", value)
        value = unicodedata.normalize("NFC", value)
        if value.startswith(_FORMULA_START) or bold:
            c = self._cell(self.ws, value=value)
            c.data_type = "s"  # text, never a formula
            if bold:
                c.font = self.bold
            return c
        return value

    def append(self, values: Sequence[Any], *, owner: str = "", bold: bool = False) -> None:
        row = []
        for i, (kind, v) in enumerate(zip(self.kinds, values)):
            if v is None or v == "":
                row.append(None)
            elif kind == "text" or isinstance(v, str):
                row.append(self._text(str(v), i, owner, bold))
            elif kind == "date":
                c = self._cell(self.ws, value=v)
                c.number_format = "dd/mm/yyyy"
                row.append(c)
            elif kind == "score":
                c = self._cell(self.ws, value=float(v))
                c.number_format = "0.00"
                if bold:
                    c.font = self.bold
                row.append(c)
            elif kind == "bool":
                row.append("Có" if v else None)
            elif kind == "num":  # a plain number as entered (a mark: 8, 7.5)
                row.append(v)
            else:  # int
                row.append(v)
        self.ws.append(row)
        self.rows += 1

    def close(self) -> None:
        self.ws.auto_filter.ref = f"A1:{self.last_col}{self.rows + 1}"


_REG_COLUMNS = [("Mã hồ sơ", 12, "text"), ("Đơn vị", 30, "text"), ("Tên mô hình, điển hình", 50, "text"),
                ("Tập thể/Cá nhân", 13, "text"), ("Họ và tên / Tên tập thể", 28, "text"),
                ("Chức vụ", 26, "text"), ("Lĩnh vực", 22, "text"), ("Ngày đăng ký", 13, "date"),
                ("Đăng ký muộn", 10, "bool"), ("Đột xuất", 10, "bool"), ("Ghi chú", 30, "text")]


_REPORT_COLUMNS = [("Mã hồ sơ", 12, "text"), ("Đơn vị", 30, "text"), ("Tên mô hình, điển hình", 50, "text"),
                   ("Ngày nhận báo cáo", 13, "date"), ("Cách làm", 30, "text"), ("Kinh nghiệm", 30, "text"),
                   ("Tính lan tỏa", 30, "text"), ("Hiệu quả", 30, "text"), ("Sự bền vững", 30, "text"),
                   ("Ghi chú", 30, "text")]


_CONFIRM_COLUMNS = [("Mã hồ sơ", 12, "text"), ("Đơn vị", 30, "text"), ("Tên mô hình, điển hình", 50, "text"),
                    ("Cấp ủy xác nhận", 32, "text"), ("Cùng cấp", 10, "bool"), ("Ngày xác nhận", 13, "date"),
                    ("Nhận xét", 40, "text")]


_SCORE_COLUMNS = [("Mã hồ sơ", 12, "text"), ("Tên mô hình, điển hình", 45, "text"),
                  ("Thành viên Hội đồng", 26, "text"), ("Mã tiêu chí", 11, "text"), ("Tiêu chí", 50, "text"),
                  ("Trọng số", 10, "score"), ("Điểm", 10, "score"), ("Ghi chú", 25, "text")]


_RESULT_COLUMNS = [("Mã hồ sơ", 12, "text"), ("Đơn vị", 30, "text"), ("Tên mô hình, điển hình", 50, "text"),
                   ("Tập thể/Cá nhân", 32, "text"), ("Lĩnh vực", 22, "text"), ("Điểm", 10, "score"),
                   ("Trạng thái", 16, "text"), ("Lý do", 45, "text"), ("Quyết định", 26, "text")]


_COUNCIL_COLUMNS = [("Mục", 20, "text"), ("Thành viên", 26, "text"), ("Chức vụ, vai trò", 34, "text"),
                    ("Mã hồ sơ", 12, "text"), ("Độ chênh", 10, "score"), ("Độ lệch chuẩn", 13, "score"),
                    ("Ghi chú", 50, "text")]


def _new_workbook(author: str, when: dt.datetime, title: str, identifier: str = ""):
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    props = wb.properties
    props.creator = author
    props.lastModifiedBy = author
    props.created = when
    props.modified = when
    props.title = title
    props.language = "vi-VN"
    if identifier:
        props.identifier = identifier
        props.keywords = identifier
    return wb


def _save_workbook(wb, path: Path, when: dt.datetime, force: bool) -> str:
    """Save a write-only workbook, normalise it (streamed) and publish it; return its sha256."""
    fd, raw = temp_beside(path, ".raw")
    os.close(fd)
    fd, tmp = temp_beside(path, ".tmp")
    try:
        wb.save(str(raw))
        with zipfile.ZipFile(raw) as zin, os.fdopen(fd, "wb") as fh:
            rewrite_ooxml(zin, fh, fixed_when(when))
            fh.flush()
            os.fsync(fh.fileno())
        digest = sha256_file(tmp)
        publish(tmp, path, force=force)
    finally:
        raw.unlink(missing_ok=True)
        tmp.unlink(missing_ok=True)
    return digest


def _number(text: str) -> float | int | str:
    """A weight as printed ("8", "7,5") back to a number for a cell (the text if it is none)."""
    try:
        f = float(str(text).replace(",", "."))
    except ValueError:
        return text
    return int(f) if f == int(f) else f


def _wide_scores(wb, crits: Sequence[Criterion], rows: Iterable[ScoreRecord], warnings: list[str]) -> None:
    """"Chấm điểm" with one row per member's sheet and a column per criterion (streamed)."""
    n = len(crits)
    cols = ([("Mã hồ sơ", 12, "text"), ("Tên mô hình, điển hình", 45, "text"), ("Thành viên Hội đồng", 26, "text")]
            + [(c.code, 7, "num") for c in crits] + [("Tổng (thang 100)", 11, "score"), ("Ghi chú", 25, "text")])
    sheet = _Sheet(wb, "Chấm điểm", cols, warnings)
    blank = (None,) * n
    for r in rows:
        if r.aggregate:
            sheet.append((r.code, r.title, "Điểm tổng hợp (thang 100)", *blank, r.score, r.note),
                         owner=r.code, bold=True)
        else:
            marks = tuple(r.marks)[:n] + (None,) * max(0, n - len(r.marks))
            sheet.append((r.code, r.title, r.member, *marks, r.score, r.note), owner=r.code)
    sheet.close()


def _result_values(r: ResultRecord) -> tuple:
    return (r.code, r.unit, r.title, r.subject_text, r.field, r.score, r.status, r.reasons, r.decision)


def _bar_chart(title: str, y_title: str, data_ref, cats_ref, *, horizontal: bool = False):
    from openpyxl.chart import BarChart

    chart = BarChart()
    chart.type = "bar" if horizontal else "col"
    chart.style = 10
    chart.title = title
    chart.y_axis.title = y_title
    chart.add_data(data_ref, titles_from_data=True)
    chart.set_categories(cats_ref)
    chart.legend = None
    chart.gapWidth = 60  # bars wider than the gaps between them (the default 150 leaves hairlines)
    chart.width = 18
    chart.height = 9
    return chart


def _stats_sheet(wb, fields: Sequence[str], unit_counts: Sequence[UnitFieldCount], warnings: list[str]) -> None:
    from openpyxl.chart import Reference
    from openpyxl.utils import get_column_letter

    fields = list(fields)
    cols = [("STT", 6, "int"), ("Đơn vị", 34, "text")] + [(f, 14, "int") for f in fields] + [("Tổng", 10, "int")]
    sheet = _Sheet(wb, "Thống kê", cols, warnings)
    totals = [0] * len(fields)
    for i, uc in enumerate(unit_counts, 1):
        counts = list(uc.counts)[: len(fields)] + [0] * max(0, len(fields) - len(uc.counts))
        totals = [a + b for a, b in zip(totals, counts)]
        sheet.append([i, uc.unit, *counts, sum(counts)], owner=uc.unit)
    n_units = sheet.rows
    sheet.close()  # autofilter over the unit table only
    sheet.append([None, "Tổng cộng", *totals, sum(totals)], bold=True)
    sheet.ws.append([])
    field_header_row = sheet.rows + 3  # header(1) + data rows + blank
    sheet.append([None, "Lĩnh vực", "Số lượng", *([None] * len(fields))], bold=True)
    # second table: one row per field (label in B, count in C) for the chart by field
    for f, t in zip(fields, totals):
        sheet.append([None, f, t] + [None] * len(fields))
    ws = sheet.ws
    total_col = len(fields) + 3
    if n_units:
        by_unit = _bar_chart("Số mô hình, điển hình theo đơn vị", "Số lượng",
                             Reference(ws, min_col=total_col, min_row=1, max_row=n_units + 1),
                             Reference(ws, min_col=2, min_row=2, max_row=n_units + 1), horizontal=True)
        by_unit.height = max(9, 0.8 * n_units)  # room for every unit's label (34 CĐCS: 27 cm)
        ws.add_chart(by_unit, f"{get_column_letter(total_col + 2)}20")
    by_field = _bar_chart("Số mô hình, điển hình theo lĩnh vực", "Số lượng",
                          Reference(ws, min_col=3, min_row=field_header_row, max_row=field_header_row + len(fields)),
                          Reference(ws, min_col=2, min_row=field_header_row + 1,
                                    max_row=field_header_row + len(fields)))
    ws.add_chart(by_field, f"{get_column_letter(total_col + 2)}2")


def write_year_workbook(path: str | os.PathLike, data: YearWorkbookData, force: bool = False) -> RenderResult:
    """Write ``tong-hop-<year>.xlsx``: sheets "Đăng ký", "Báo cáo", "Xác nhận", "Chấm điểm",
    "Kết quả", "Thống kê" (with native bar charts by field and by unit).

    Rows are streamed (openpyxl write-only); text that looks like a formula stays text; dates are
    real dates shown dd/mm/yyyy, scores "0.00".  Deterministic bytes; atomic write, mode 0600;
    ``OutputExistsError`` if the file exists and not ``force``.
    """
    path = Path(path)
    if path.exists() and not force:
        raise exists_error(path)
    when = dt.datetime(data.generated_on.year, data.generated_on.month, data.generated_on.day)
    wb = _new_workbook(data.author, when, f"Tổng hợp mô hình, điển hình “Dân vận khéo” năm {data.year}",
                       data.identifier)
    warnings: list[str] = []

    sheet = _Sheet(wb, "Đăng ký", _REG_COLUMNS, warnings)
    for r in data.registrations:
        sheet.append((r.code, r.unit, r.title, r.subject_kind, r.subject_name, r.position, r.field,
                      r.registered_on, r.late, r.sudden, r.note), owner=r.code)
    sheet.close()

    sheet = _Sheet(wb, "Báo cáo", _REPORT_COLUMNS, warnings)
    for r in data.reports:
        sheet.append((r.code, r.unit, r.title, r.received_on, r.approach, r.experience, r.spread,
                      r.effectiveness, r.sustainability, r.note), owner=r.code)
    sheet.close()

    sheet = _Sheet(wb, "Xác nhận", _CONFIRM_COLUMNS, warnings)
    for r in data.confirmations:
        sheet.append((r.code, r.unit, r.title, r.committee, r.same_level, r.confirmed_on, r.comment),
                     owner=r.code)
    sheet.close()

    crits = list(data.score_criteria)
    if crits:
        _wide_scores(wb, crits, data.scores, warnings)
    else:
        sheet = _Sheet(wb, "Chấm điểm", _SCORE_COLUMNS, warnings)
        for r in data.scores:
            if r.aggregate:
                sheet.append((r.code, r.title, "Điểm tổng hợp (thang 100)", None, None, None, r.score, r.note),
                             owner=r.code, bold=True)
            else:
                sheet.append((r.code, r.title, r.member, r.criterion_code, r.criterion, r.weight, r.score, r.note),
                             owner=r.code)
        sheet.close()

    sheet = _Sheet(wb, "Kết quả", _RESULT_COLUMNS, warnings)
    for r in data.results:
        sheet.append(_result_values(r), owner=r.code)
    sheet.close()

    _stats_sheet(wb, data.fields, data.unit_counts, warnings)
    if data.council:  # the year's council (issue 13): members, conflicts, abstentions, spreads
        sheet = _Sheet(wb, "Hội đồng", _COUNCIL_COLUMNS, warnings)
        for row in data.council:
            sheet.append(row, owner=row[3] or None)
        sheet.close()
    if crits:
        legend = _Sheet(wb, "Tiêu chí", [("Mã tiêu chí", 11, "text"), ("Nội dung tiêu chí", 90, "text"),
                                         ("Trọng số", 10, "num")], warnings)
        for c in crits:
            legend.append((c.code, c.content, _number(c.weight)))
        legend.close()
    digest = _save_workbook(wb, path, when, force)
    if len(warnings) >= _MAX_WARNINGS:
        warnings.append(f"(chỉ liệt kê {_MAX_WARNINGS} cảnh báo đầu tiên)")
    return RenderResult(path, digest, tuple(warnings))


def write_phase_workbook(path: str | os.PathLike, data: PhaseWorkbookData, force: bool = False) -> RenderResult:
    """Write ``tong-hop-<phase>.xlsx``: a "Tổng hợp" sheet (counts per year, with a native bar chart)
    and one sheet per year with its results.  Same guarantees as ``write_year_workbook``."""
    from openpyxl.chart import Reference

    path = Path(path)
    if path.exists() and not force:
        raise exists_error(path)
    when = dt.datetime(data.generated_on.year, data.generated_on.month, data.generated_on.day)
    wb = _new_workbook(data.author, when, f"Tổng hợp mô hình, điển hình “Dân vận khéo” giai đoạn {data.phase}",
                       data.identifier)
    warnings: list[str] = []
    cols = [("Năm", 8, "int"), ("Đăng ký", 12, "int"), ("Công nhận", 12, "int"),
            ("Không công nhận", 16, "int"), ("Tỷ lệ công nhận (%)", 18, "score")]
    summary = _Sheet(wb, "Tổng hợp", cols, warnings)
    for y in data.years:
        rate = round(100.0 * y.recognized / y.registered, 2) if y.registered else None
        summary.append((y.year, y.registered, y.recognized, y.not_recognized, rate))
    n = summary.rows
    summary.close()
    summary.append((None, sum(y.registered for y in data.years), sum(y.recognized for y in data.years),
                    sum(y.not_recognized for y in data.years), None), bold=True)
    if n:
        from openpyxl.chart import BarChart

        chart = BarChart()
        chart.type = "col"
        chart.style = 10
        chart.title = f"Mô hình, điển hình “Dân vận khéo” giai đoạn {data.phase}"
        chart.y_axis.title = "Số lượng"
        chart.add_data(Reference(summary.ws, min_col=2, max_col=3, min_row=1, max_row=n + 1), titles_from_data=True)
        chart.set_categories(Reference(summary.ws, min_col=1, min_row=2, max_row=n + 1))
        chart.width = 18
        chart.height = 9
        summary.ws.add_chart(chart, "H2")
    for y in data.years:
        sheet = _Sheet(wb, str(y.year), _RESULT_COLUMNS, warnings)
        for r in y.results:
            sheet.append(_result_values(r), owner=r.code)
        sheet.close()
    digest = _save_workbook(wb, path, when, force)
    return RenderResult(path, digest, tuple(warnings))
