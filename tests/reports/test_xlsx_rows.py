"""The workbook's data rows are written as XML by dvk (`dvk.reports.xlsx_rows`), not cell by cell through
XlsxWriter: the file must be the one XlsxWriter writes for the same rows, byte for byte (a workbook
exported earlier still checks against the ledger with `dvk verify-doc`), except for text XlsxWriter would
write unescaped."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dvk.reports import excel
from dvk.reports.excel import Formula, _new_book
from dvk.reports.xlsx_rows import RowWriter, inline_text

COLUMNS = [("Mã hồ sơ", 11, "text"), ("Tên mô hình, điển hình", 28, "text"), ("Ngày", 11, "date"),
           ("Điểm", 8, "score"), ("Số", 6, "int"), ("Trọng số", 8, "num"), ("Muộn", 8, "bool"),
           ("Ghi chú", 12, "text")]

WHEN = dt.datetime(2026, 10, 15)

LONG = "Chăm lo đời sống vật chất và tinh thần cho đoàn viên, người lao động có hoàn cảnh khó khăn"

TRICKY = [
    ("2026-0001", LONG, dt.date(2026, 3, 1), 87.25, 3, 7.5, True, "a & b < c > d \"e\" 'f'"),
    ("2026-0002", "  khoảng trắng đầu", dt.date(1900, 2, 28), 0.1 + 0.2, 0, 8, False, "cuối  "),
    ("2026-0003", "dòng một\ndòng hai\r\ndòng ba\tthẻ", dt.date(1900, 3, 1), 100, -1, 0.333333333333333333, None, ""),
    ("2026-0004", "_x0041_ và _X004a_ và _x00zz_", None, None, 10**15, 1e-7, True, "\u00a0nbsp"),
    ("2026-0005", "e\u0301 tổ hợp (NFD) và ký tự\x01điều\x1fkhiển\x0b", dt.date(2030, 12, 31), 99.995, 1, 2, True,
     "emoji 🏅 và 𠀀"),
    ("", "", None, "", "", "", "", ""),  # an empty row
    ("2026-0006", "x" * 40000 + "🏅" * 5, None, 50, 2, 3, False, "rất dài"),
    ("2026-0007", "<b>không phải thẻ</b>", dt.date(2026, 1, 1), 12.5, 4, 5, True, "\n"),
]


def _book(path: Path, rows, *, fast: bool, monkeypatch) -> tuple[bytes, list[str]]:
    monkeypatch.setattr(RowWriter, "usable", staticmethod(lambda ws: False) if not fast else _USABLE)
    warnings: list[str] = []
    book, raw = _new_book(path, "Công đoàn ngành Y tế", WHEN, "Thử", warnings)
    try:
        data = book.sheet("Dữ liệu", COLUMNS)
        other = book.sheet("Khác", [("Mã", 11, "text"), ("Tên", 30, "text")])
        for i, row in enumerate(rows):
            data.append(row, owner=str(row[0]))
            if i % 3 == 0:
                other.append((f"K-{i}", LONG if i % 2 else "Ngắn"))
        data.close()
        data.append((None, "Tổng cộng", None, Formula("=SUM(D2:D9)", 1.5), Formula("=SUM(E2:E9)", 3)), bold=True)
        data.append(("2026-0099", "sau dòng tổng", dt.date(2026, 5, 5), 1, 1, 1, True, LONG))
        other.close()
        book.save(WHEN, "dvk:thu:workbook:2026:", raw, path, force=False)
    finally:
        raw.unlink(missing_ok=True)
    return path.read_bytes(), warnings


_USABLE = RowWriter.usable


def test_rows_written_as_xml_are_the_bytes_xlsxwriter_writes(tmp_path, monkeypatch):
    slow, w1 = _book(tmp_path / "xlsxwriter.xlsx", TRICKY, fast=False, monkeypatch=monkeypatch)
    fast, w2 = _book(tmp_path / "dvk.xlsx", TRICKY, fast=True, monkeypatch=monkeypatch)
    assert w1 == w2 and any("U+0001" in w for w in w2), "the same warnings, control characters named"
    if fast != slow:  # say which part differs, and where
        with zipfile.ZipFile(tmp_path / "xlsxwriter.xlsx") as a, zipfile.ZipFile(tmp_path / "dvk.xlsx") as b:
            for name in a.namelist():
                x, y = a.read(name), b.read(name)
                if x != y:
                    i = next(i for i, (p, q) in enumerate(zip(x, y)) if p != q)
                    pytest.fail(f"{name} differs at {i}: {x[i - 80:i + 80]!r} vs {y[i - 80:i + 80]!r}")
    assert fast == slow


def test_the_rows_read_back_as_written(tmp_path, monkeypatch):
    from openpyxl import load_workbook

    _book(tmp_path / "dvk.xlsx", TRICKY, fast=True, monkeypatch=monkeypatch)
    ws = load_workbook(tmp_path / "dvk.xlsx")["Dữ liệu"]
    assert ws.cell(2, 2).value == LONG and ws.row_dimensions[2].height  # wrapped: its height is set
    assert ws.cell(2, 3).value == dt.datetime(2026, 3, 1) and ws.cell(2, 3).number_format == "dd/mm/yyyy"
    assert ws.cell(2, 4).value == 87.25 and ws.cell(2, 4).number_format == "0.00"
    assert ws.cell(2, 7).value == "Có" and ws.cell(3, 7).value is None  # False: an empty cell
    assert ws.cell(2, 8).value == "a & b < c > d \"e\" 'f'"
    assert ws.cell(3, 2).value == "  khoảng trắng đầu" and ws.cell(3, 8).value == "cuối  "
    with zipfile.ZipFile(tmp_path / "dvk.xlsx") as z:  # a literal _xHHHH_ has its underscore escaped (ST_Xstring)
        assert "<t>_x005F_x0041_ và _X004a_ và _x00zz_</t>" in z.read("xl/worksheets/sheet1.xml").decode()
    assert ws.cell(5, 5).value == 10**15
    assert ws.cell(6, 2).value == "\u00e9 tổ hợp (NFD) và ký tựđiềukhiển", "NFC, control characters left out"
    assert ws.cell(6, 8).value == "emoji 🏅 và 𠀀"
    assert all(ws.cell(7, c).value is None for c in range(1, 9)), "an empty row stays empty"
    assert len(ws.cell(8, 2).value) == 32767 and ws.cell(8, 2).value == "x" * 32767, "cut at Excel's limit"
    assert ws.cell(10, 2).value == "Tổng cộng" and ws.cell(10, 4).value == "=SUM(D2:D9)"
    assert ws.cell(11, 1).value == "2026-0099"


HOSTILE = '<r><t></t></is></c></row><row r="9999"><c r="A9999"><v>1</v></c></row><r></t></r>'


@pytest.mark.parametrize("fast", [True, False], ids=["dvk's rows", "XlsxWriter's rows"])
def test_text_that_looks_like_rich_text_is_text(tmp_path, monkeypatch, fast):
    """XlsxWriter writes a string that starts "<r>" and ends "</r>" unescaped (as rich text): a title typed
    that way would put its own XML into the sheet. Both ways of writing a row escape it like any other
    text: in a data row, in a sheet's last row (XlsxWriter writes it), in the statistics (a unit's name)."""
    from openpyxl import load_workbook

    rows = [("2026-0001", HOSTILE, None, None, None, None, None, "<r>x</r>"),
            ("2026-0002", "", None, None, None, None, None, HOSTILE)]
    _book(tmp_path / "dvk.xlsx", rows, fast=fast, monkeypatch=monkeypatch)
    with zipfile.ZipFile(tmp_path / "dvk.xlsx") as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert '<row r="9999"' not in sheet and '<c r="A9999"' not in sheet  # no row of its own
    assert sheet.count("&lt;r&gt;&lt;t&gt;&lt;/t&gt;") == 2
    ws = load_workbook(tmp_path / "dvk.xlsx")["Dữ liệu"]
    assert ws.cell(2, 2).value == HOSTILE and ws.cell(2, 8).value == "<r>x</r>" and ws.cell(3, 8).value == HOSTILE
    assert ws.max_row == 5  # header, the two rows, the total, the row after it

    book, raw = _new_book(tmp_path / "tk.xlsx", "X", WHEN, "Thử", [])
    try:
        excel._stats_sheet(book, ["1. Lĩnh vực"], [excel.UnitFieldCount(HOSTILE, (2,))])
        book.save(WHEN, "", raw, tmp_path / "tk.xlsx", force=False)
    finally:
        raw.unlink(missing_ok=True)
    assert load_workbook(tmp_path / "tk.xlsx")["Thống kê"].cell(2, 2).value == HOSTILE


def test_inline_text_keeps_plain_text_as_it_is():
    assert inline_text("Mô hình “Dân vận khéo”") == ("Mô hình “Dân vận khéo”", False)
    assert inline_text(" a") == (" a", True) and inline_text("a\n") == ("a\n", True)
    assert inline_text("a&b") == ("a&amp;b", False)
    assert inline_text("\x01_x0001_") == ("_x0001__x005F_x0001_", False)


_TEXT = st.one_of(st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
                  st.text(max_size=8).map(lambda s: f"<r>{s}</r>"))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(_TEXT, _TEXT, st.one_of(st.none(), st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1))),
                          st.one_of(st.none(), st.floats(-1e6, 1e6)), st.one_of(st.none(), st.integers(-10**9, 10**9)),
                          st.booleans()),
                min_size=1, max_size=6))
def test_any_rows_are_the_bytes_xlsxwriter_writes(tmp_path_factory, rows):
    tmp = tmp_path_factory.mktemp("rows")
    full = [(a, b, d, f, i, None, flag, a + b) for a, b, d, f, i, flag in rows]
    with pytest.MonkeyPatch.context() as mp:
        slow, w1 = _book(tmp / "xlsxwriter.xlsx", full, fast=False, monkeypatch=mp)
        fast, w2 = _book(tmp / "dvk.xlsx", full, fast=True, monkeypatch=mp)
    assert (fast, w2) == (slow, w1)


def test_a_year_workbook_writes_its_data_rows_as_xml(tmp_path, monkeypatch):
    """The year's data sheets go through the row writer (the chart sheet through XlsxWriter)."""
    used = []
    real = RowWriter.add

    def add(self, r, cells, height):
        used.append(self.ws.name)
        return real(self, r, cells, height)

    monkeypatch.setattr(RowWriter, "add", add)
    book, raw = _new_book(tmp_path / "a.xlsx", "X", WHEN, "Thử", [])
    try:
        excel._stats_sheet(book, ["1. Lĩnh vực"], [excel.UnitFieldCount("Đơn vị", (2,))])
        s = book.sheet("Đăng ký", excel._REG_COLUMNS)
        s.append(("2026-0001", "Đơn vị", "Tên", "Tập thể", "Đơn vị", "", "1. Lĩnh vực", dt.date(2026, 1, 2), False,
                  False, ""))
        book.save(WHEN, "", raw, tmp_path / "a.xlsx", force=False)
    finally:
        raw.unlink(missing_ok=True)
    assert used == ["Đăng ký"]
