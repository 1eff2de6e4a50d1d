"""The workbooks as a clerk prints and sums them (issue 12, "Excel that can be printed and summed"),
written by `dvk export` from a real ledger and read back with openpyxl and from their XML."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from test_export import _build, _propose_recognised

A4_LANDSCAPE_PRINTABLE_PX = int((29.7 - 2 * 1.5) / 2.54 * 96)


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    from dvk.cli import app

    work = tmp_path_factory.mktemp("wb")
    db = work / "so.sqlite"
    _build(db)
    _propose_recognised(db)
    folder = work / "out"
    for args in (["--year", "2024"], ["--phase", "2021-2025"]):
        res = CliRunner().invoke(app, ["export", "--db", str(db), "--user", "thư ký", "--out", str(folder), *args])
        assert res.exit_code == 0, res.output
    return folder


def _px(width: float) -> int:
    """Pixels of a column as stored (Excel's width includes the 5 px of padding)."""
    return int(width * 7 + 0.5)


def _widths(ws) -> list[float]:
    """Each column's width (a <col> element may stand for several columns of the same width)."""
    by_col: dict[int, float] = {}
    for cd in ws.column_dimensions.values():
        for i in range(cd.min or 0, (cd.max or 0) + 1):
            by_col[i] = cd.width
    return [by_col.get(i, 8.43) for i in range(1, ws.max_column + 1)]


@pytest.mark.parametrize("name", ["tong-hop-2024.xlsx", "tong-hop-2021-2025.xlsx"])
def test_every_sheet_prints_readable_with_page_numbers_and_title_rows(out, name):
    import openpyxl

    wb = openpyxl.load_workbook(out / name)
    for ws in wb.worksheets:
        ps = ws.page_setup
        assert ps.orientation == "landscape" and int(ps.paperSize) == 9, ws.title
        assert not ws.sheet_properties.pageSetUpPr or not ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        scale = int(ps.scale or 100)
        assert scale >= 82, ws.title  # 11 pt text prints at 9 pt or more
        widths = _widths(ws)
        assert sum(_px(w) for w in widths) * scale / 100 <= A4_LANDSCAPE_PRINTABLE_PX + 1, ws.title  # one page wide
        assert ws.oddFooter.center.text == "Trang &P/&N", ws.title
        assert ws.print_title_rows.replace("$", "") == "1:1", ws.title
        assert ws.freeze_panes == "A2", ws.title
        for i, w in enumerate(widths, 1):  # long text columns wrap
            cell = ws.cell(row=2, column=i)
            if w >= 10 and isinstance(cell.value, str) and not cell.value.startswith("="):
                assert cell.alignment.wrap_text, (ws.title, i)


def test_results_name_the_decision_on_recognised_rows_only(out):
    import openpyxl

    res = openpyxl.load_workbook(out / "tong-hop-2024.xlsx")["Kết quả"]
    rows = [[c.value for c in r] for r in res.iter_rows(min_row=2)]
    recognised = [r for r in rows if r[6] == "Được công nhận"]
    others = [r for r in rows if r[6] != "Được công nhận"]
    assert len(recognised) == 15 and len(others) == 1
    assert all(r[8] and "05" in r[8] for r in recognised)
    assert all(r[8] in (None, "") for r in others)


def test_score_sheet_table_holds_members_rows_only_so_a_sum_counts_once(out):
    import openpyxl

    ws = openpyxl.load_workbook(out / "tong-hop-2024.xlsx")["Chấm điểm"]
    header = [c.value for c in ws[1]]
    total_col = header.index("Tổng (thang 100)")
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    assert ws.auto_filter.ref == f"A1:{ws.cell(row=1, column=len(header)).column_letter}{len(rows) + 1}"
    assert all(r[2] and "tổng hợp" not in str(r[2]).lower() for r in rows)  # no summary rows in the table
    assert len(rows) == 16 * 2  # two members' sheets for each entry
    assert all(isinstance(r[total_col], (int, float)) for r in rows)


def test_totals_are_formulas(out):
    import openpyxl

    stats = openpyxl.load_workbook(out / "tong-hop-2024.xlsx")["Thống kê"]
    total = next(r for r in stats.iter_rows() if r[1].value == "Tổng cộng")
    assert all(str(c.value).startswith("=SUM(") for c in total[2:])
    phase = openpyxl.load_workbook(out / "tong-hop-2021-2025.xlsx")["Tổng hợp"]
    last = [c.value for c in phase[phase.max_row]]
    assert last[0] == "Cả giai đoạn" and all(str(v).startswith("=SUM(") for v in last[1:4])
    assert str(phase["E2"].value).startswith("=IF(B2>0")
    values = openpyxl.load_workbook(out / "tong-hop-2021-2025.xlsx", data_only=True)["Tổng hợp"]
    assert [c.value for c in values[values.max_row]][1:3] == [sum(values.cell(row=r, column=2).value or 0
                                                                  for r in range(2, values.max_row)),
                                                              sum(values.cell(row=r, column=3).value or 0
                                                                  for r in range(2, values.max_row))]


def test_charts_fit_a_page_and_count_in_whole_numbers(out):
    with zipfile.ZipFile(out / "tong-hop-2024.xlsx") as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
        drawings = [z.read(n).decode() for n in z.namelist() if re.fullmatch(r"xl/drawings/drawing\d+\.xml", n)]
        sheet = next(z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/sheet6"))
    assert len(charts) == 2
    for c in charts:
        assert '<c:numFmt formatCode="0" sourceLinked="0"/>' in c  # the count axis: 0, 1, 2 …
        assert '<c:majorUnit val="1"/>' in c  # the test year's counts are small: one step per entry
    anchor = re.compile(r"<xdr:from>.*?<xdr:row>(\d+)</xdr:row><xdr:rowOff>(\d+)</xdr:rowOff></xdr:from>"
                        r"<xdr:to>.*?<xdr:row>(\d+)</xdr:row><xdr:rowOff>(\d+)</xdr:rowOff></xdr:to>", re.DOTALL)
    spans = [((int(r2) - int(r1)) * 20 + (int(o2) - int(o1)) / 9525) for d in drawings
             for r1, o1, r2, o2 in anchor.findall(d)]  # pixels, rows of 20 px (15 pt)
    page_px = (21 - 2 * 2.54 * 0.75) / 2.54 * 96 / 0.82  # a landscape page's printable height on the sheet
    assert len(spans) == 2 and all(0 < h <= page_px for h in spans)
    assert "<rowBreaks" in sheet  # each chart starts a page of its own


def test_a_long_sheet_keeps_every_row_height_without_holding_them_all(tmp_path):
    """XlsxWriter keeps each row's height until the end, even in constant-memory mode (220 MB for a
    100,000-entry year). A data sheet's rows are written by dvk (`xlsx_rows`), their heights in the row's
    XML, none kept. Every wrapped row still has its height in the file, and a sheet with charts keeps them
    all (it places its charts by them)."""
    import datetime as dt

    from openpyxl import load_workbook

    from dvk.reports.excel import _new_book

    path = tmp_path / "dai.xlsx"
    book, raw = _new_book(path, "Công đoàn ngành Y tế", dt.datetime(2024, 11, 1), "Thử", [])
    data = book.sheet("Dữ liệu", [("Mã", 11, "text"), ("Tên mô hình, điển hình", 20, "text")])
    charts = book.sheet("Có biểu đồ", [("Mã", 11, "text"), ("Tên", 20, "text")], charts=True)
    long = "Chăm lo đời sống vật chất và tinh thần cho đoàn viên, người lao động có hoàn cảnh khó khăn"
    for i in range(5000):
        data.append((f"2024-{i:04d}", long if i % 2 else "Ngắn"))
    for i in range(1500):
        charts.append((f"2024-{i:04d}", long))
    assert len(data.ws.row_info) <= 1001 and len(data.ws.row_sizes) <= 1001
    assert len(charts.ws.row_info) == 1501  # the header row and every row
    data.close(), charts.close()
    book.save(dt.datetime(2024, 11, 1), "", raw, path, force=False)
    ws = load_workbook(path)["Dữ liệu"]
    tall = [r for r in range(2, 5002) if ws.row_dimensions[r].height]
    assert tall == list(range(3, 5002, 2)), "every wrapped row keeps its height, and only those"
    assert ws.cell(5001, 2).value == long
