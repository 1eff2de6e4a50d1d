"""Tests for dvk.tabular: reading CSV/XLSX/JSON tables and writing rejects."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import tracemalloc
import unicodedata
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from dvk.intake.tables.rejects import _umask
from dvk.intake.tables.base import Row, TableError, fold_header
from dvk.intake.tables.csvfile import decode_csv_bytes, open_csv_text
from dvk.intake.tables.rejects import atomic_write_path, write_rejects
from dvk.intake.tables.table import read_table

NFC = lambda s: unicodedata.normalize("NFC", s)  # noqa: E731
NFD = lambda s: unicodedata.normalize("NFD", s)  # noqa: E731

COLUMNS = {
    "unit": ["Mã đơn vị", "ma don vi", "unit"],
    "name": ["Họ và tên", "Tên mô hình"],
    "year": ["Năm"],
}
HEADER = ["Mã đơn vị", "Họ và tên", "Năm"]
DATA = [
    ["CĐCS01", "Nguyễn Văn An", "2023"],
    ["CĐCS02", "Trần Thị Thuỷ", "2024"],
    ["CĐCS03", "Lê Hoàng Đức", "2025"],
]


def _write_csv(path: Path, rows: list[list[str]], encoding: str, delimiter: str) -> Path:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter).writerows(rows)
    text = buf.getvalue()
    if encoding == "cp1258":
        data = _cp1258(text)
    else:
        data = text.encode(encoding)
    path.write_bytes(data)
    return path


_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def _cp1258(text: str) -> bytes:
    """Encode like Windows: base letters precomposed, tones as combining marks."""
    out = []
    for ch in NFC(text):
        d = NFD(ch)
        tones = "".join(m for m in d if m in _TONE_MARKS)
        out.append(NFC("".join(m for m in d if m not in _TONE_MARKS)) + tones)
    return "".join(out).encode("cp1258")


def _read_all(path: Path, columns: dict[str, list[str]] = COLUMNS, **kw: object) -> list[Row]:
    with read_table(path, columns, **kw) as t:  # type: ignore[arg-type]
        return list(t)


# ---------------------------------------------------------------------------
# Header folding
# ---------------------------------------------------------------------------
def test_fold_header() -> None:
    for spelling in ("Mã đơn vị", "MÃ ĐƠN VỊ", "ma don vi", "Mã_đơn_vị:", " Mã  đơn vị (*) ",
                     NFD("Mã đơn vị"), "MA-DON-VI"):
        assert fold_header(spelling) == "madonvi"
    assert fold_header(None) == ""


# ---------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1258"])
@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_csv_encodings_and_delimiters(tmp_path: Path, encoding: str, delimiter: str) -> None:
    path = _write_csv(tmp_path / "dk.csv", [HEADER, *DATA], encoding, delimiter)
    with read_table(path, COLUMNS) as t:
        rows = list(t)
        assert t.delimiter == delimiter
        assert t.format == "csv"
        expected_enc = {"utf-16": "utf-16", "utf-8-sig": "utf-8-sig"}.get(encoding, encoding)
        assert t.encoding == expected_enc
        assert t.missing == [] and t.unknown_headers == []
    assert [r.line for r in rows] == [2, 3, 4]
    assert [[r.values["unit"], r.values["name"], r.values["year"]] for r in rows] == DATA
    for r in rows:
        for v in r.values.values():
            assert v == NFC(v)
        assert r.legacy == {}


def test_csv_utf16_le_without_bom(tmp_path: Path) -> None:
    text = "\n".join("\t".join(r) for r in [HEADER, *DATA]) + "\n"
    path = tmp_path / "u.txt"
    path.write_bytes(text.encode("utf-16-le"))
    rows = _read_all(path)
    assert [r.values["name"] for r in rows] == [d[1] for d in DATA]


def test_csv_nfd_becomes_nfc(tmp_path: Path) -> None:
    rows = [[NFD(c) for c in HEADER], *[[NFD(c) for c in r] for r in DATA]]
    path = _write_csv(tmp_path / "nfd.csv", rows, "utf-8", ";")
    got = _read_all(path)
    assert [r.values["name"] for r in got] == [d[1] for d in DATA]
    assert all(r.values["name"] == NFC(r.values["name"]) for r in got)


@pytest.mark.parametrize("header", [
    ["MÃ ĐƠN VỊ", "HỌ VÀ TÊN", "NĂM"],
    ["ma don vi", "ho va ten", "nam"],
    ["unit", "Tên mô hình", "Năm:"],
    ["Mã đơn vị (*)", "Họ và tên*", " Năm "],
])
def test_csv_header_variants(tmp_path: Path, header: list[str]) -> None:
    path = _write_csv(tmp_path / "h.csv", [header, *DATA], "utf-8", ",")
    with read_table(path, COLUMNS) as t:
        assert t.missing == []
        assert set(t.columns) == {"unit", "name", "year"}
        rows = list(t)
    assert rows[0].values == {"unit": "CĐCS01", "name": "Nguyễn Văn An", "year": "2023"}


def test_csv_unknown_and_missing_columns(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "x.csv", [["Mã đơn vị", "Ghi chú", "Cột lạ"],
                                            ["CĐCS01", "a", "b"]], "utf-8", ";")
    with read_table(path, COLUMNS) as t:
        assert t.unknown_headers == ["Ghi chú", "Cột lạ"]
        assert t.missing == ["name", "year"]
        rows = list(t)
    assert rows[0].values == {"unit": "CĐCS01", "name": None, "year": None}


def test_csv_blank_rows_title_rows_and_line_numbers(tmp_path: Path) -> None:
    rows = [
        ["DANH SÁCH ĐĂNG KÝ MÔ HÌNH", "", ""],
        ["", "", ""],
        HEADER,
        DATA[0],
        ["", "", ""],
        ["  ", " ", ""],
        [" CĐCS02 ", "  Trần Thị Thuỷ ", ""],
        [],
        DATA[2],
    ]
    path = _write_csv(tmp_path / "b.csv", rows, "utf-8-sig", ";")
    with read_table(path, COLUMNS) as t:
        assert t.header_line == 3
        got = list(t)
    assert [r.line for r in got] == [4, 7, 9]
    assert got[1].values == {"unit": "CĐCS02", "name": "Trần Thị Thuỷ", "year": None}
    assert got[1].location == "dòng 7"


def test_csv_short_and_long_rows(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("Mã đơn vị;Họ và tên;Năm\nCĐCS01\nCĐCS02;B;2023;extra;more\n",
                    encoding="utf-8")
    got = _read_all(path)
    assert got[0].values == {"unit": "CĐCS01", "name": None, "year": None}
    assert got[1].values == {"unit": "CĐCS02", "name": "B", "year": "2023"}


def test_csv_row_with_only_unknown_columns_is_not_blank(tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    path.write_text("Mã đơn vị;Ghi chú\n;chỉ có ghi chú\n", encoding="utf-8")
    got = _read_all(path)
    assert [(r.line, r.values["unit"]) for r in got] == [(2, None)]


def test_csv_delimiter_sniffing_with_commas_in_text(tmp_path: Path) -> None:
    rows = [["Mã đơn vị", "Họ và tên, chức vụ", "Năm"],
            ["CĐCS01", "Nguyễn Văn An, Chủ tịch, CĐCS, khoa A, khoa B", "2023"]]
    path = _write_csv(tmp_path / "c.csv", rows, "utf-8", ";")
    cols = {"unit": ["Mã đơn vị"], "name": ["Họ và tên, chức vụ"], "year": ["Năm"]}
    with read_table(path, cols) as t:
        assert t.delimiter == ";"
        got = list(t)
    assert got[0].values["name"] == "Nguyễn Văn An, Chủ tịch, CĐCS, khoa A, khoa B"


def test_csv_excel_sep_line(tmp_path: Path) -> None:
    path = tmp_path / "sep.csv"
    path.write_text("sep=|\nMã đơn vị|Năm\nCĐCS01|2023\n", encoding="utf-8")
    with read_table(path, COLUMNS) as t:
        assert t.delimiter == "|"
        got = list(t)
    assert [(r.line, r.values["unit"], r.values["year"]) for r in got] == [(2, "CĐCS01", "2023")]


def test_csv_multiline_cell_counts_as_one_row(tmp_path: Path) -> None:
    rows = [HEADER, ["CĐCS01", "Dòng một\nDòng hai", "2023"], DATA[1]]
    path = _write_csv(tmp_path / "m.csv", rows, "utf-8", ",")
    got = _read_all(path)
    assert [r.line for r in got] == [2, 3]
    assert got[0].values["name"] == "Dòng một\nDòng hai"


def test_csv_legacy_text_is_converted(tmp_path: Path) -> None:
    rows = [HEADER, ["CĐCS01", "NguyÔn ThÞ Thuû", "2023"], ["CĐCS02", "Xin chaøo baïn", "2023"],
            ["CĐCS03", "Müller Café", "2023"]]
    path = _write_csv(tmp_path / "l.csv", rows, "utf-8", ";")
    got = _read_all(path)
    assert got[0].values["name"] == "Nguyễn Thị Thuỷ" and got[0].legacy == {"name": "tcvn3"}
    assert got[1].values["name"] == "Xin chào bạn" and got[1].legacy == {"name": "vni"}
    assert got[2].values["name"] == "Müller Café" and got[2].legacy == {}
    off = _read_all(path, legacy=False)
    assert off[0].values["name"] == "NguyÔn ThÞ Thuû" and off[0].legacy == {}


def test_csv_legacy_probe_window(tmp_path: Path) -> None:
    rows = [HEADER] + [["CĐCS01", "Nguyễn Văn An", "2023"]] * 30 + [["X", "B¶o Th¾ng", "1"]]
    path = _write_csv(tmp_path / "p.csv", rows, "utf-8", ";")
    t = read_table(path, COLUMNS)
    t.legacy_probe_rows = 10  # nothing legacy in the first 10 rows: fast path after
    assert list(t)[-1].values["name"] == "B¶o Th¾ng"
    assert _read_all(path, legacy=True)[-1].values["name"] == "Bảo Thắng"
    assert _read_all(path)[-1].values["name"] == "Bảo Thắng"  # default window: 1000 rows


def test_csv_header_in_legacy_encoding(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "lh.csv", [["M· ®¬n vÞ", "Hä vµ tªn", "N¨m"], DATA[0]],
                      "utf-8", ";")
    with read_table(path, COLUMNS) as t:
        assert t.missing == []
        assert t.headers == ["Mã đơn vị", "Họ và tên", "Năm"]
        assert t.legacy_headers == {"Mã đơn vị": "tcvn3", "Họ và tên": "tcvn3", "Năm": "tcvn3"}


def test_csv_ascii_first_chunk_then_cp1258(tmp_path: Path) -> None:
    # the first 64 KiB say nothing; the reader must not assume UTF-8
    lines = ["Ma don vi;Ho va ten;Nam"] + [f"CD{i:05d};Nguyen Van A;2023" for i in range(3000)]
    data = ("\n".join(lines) + "\n").encode("ascii") + _cp1258("CĐCS99;Trần Thị Thuỷ;2024\n")
    path = tmp_path / "late.csv"
    path.write_bytes(data)
    with read_table(path, COLUMNS) as t:
        assert t.encoding == "cp1258"
        last = list(t)[-1]
    assert last.values == {"unit": "CĐCS99", "name": "Trần Thị Thuỷ", "year": "2024"}
    assert last.line == 3002


def test_csv_bad_bytes_after_utf8_head_is_table_error(tmp_path: Path) -> None:
    lines = ["Mã đơn vị;Họ và tên;Năm"] + ["CĐCS01;Nguyễn Văn Án;2023"] * 4000
    data = ("\n".join(lines) + "\n").encode("utf-8") + b"CD\xff\xfe;x;1\n"
    path = tmp_path / "mixed.csv"
    path.write_bytes(data)
    t = read_table(path, COLUMNS)
    assert t.encoding == "utf-8"
    with pytest.raises(TableError) as e:
        list(t)
    assert "mixed.csv" in e.value.message and "giải mã" in e.value.message


def test_decode_csv_bytes_and_open_csv_text(tmp_path: Path) -> None:
    assert decode_csv_bytes("a;b\n".encode("utf-8-sig")) == ("a;b\n", "utf-8-sig")
    assert decode_csv_bytes("Thuỷ".encode("utf-16")) == ("Thuỷ", "utf-16")
    assert decode_csv_bytes(_cp1258("Thuỷ")) == ("Thuỷ", "cp1258")
    assert decode_csv_bytes(NFD("Thuỷ").encode()) == ("Thuỷ", "utf-8")
    path = _write_csv(tmp_path / "o.csv", [HEADER], "utf-16", "\t")
    stream, enc = open_csv_text(path)
    with stream:
        assert enc == "utf-16"
        assert stream.read().startswith("Mã đơn vị\t")


# Hypothesis: any text survives a CSV round trip (NFC + strip, empty -> None)
_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                max_size=40)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(_text, min_size=1, max_size=5),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
       delimiter=st.sampled_from([";", ",", "\t"]))
def test_csv_round_trip_random_text(tmp_path: Path, values: list[str], encoding: str,
                                    delimiter: str) -> None:
    path = tmp_path / "r.csv"
    _write_csv(path, [["Mã đơn vị", "Họ và tên"], *[["k", v] for v in values]],
               encoding, delimiter)
    got = _read_all(path, legacy=False)
    assert [r.values["name"] for r in got] == [NFC(v).strip() or None for v in values]
    assert [r.line for r in got] == list(range(2, 2 + len(values)))


# ---------------------------------------------------------------------------
# XLSX
# ---------------------------------------------------------------------------
def _workbook(path: Path) -> Path:
    wb = Workbook()
    guide = wb.active
    guide.title = "Hướng dẫn"
    guide["A1"] = "Điền danh sách vào trang tính sau."
    ws = wb.create_sheet("Danh sách")
    ws.append(["DANH SÁCH ĐĂNG KÝ"])
    ws.append([])
    ws.append(["MÃ ĐƠN VỊ (*)", "Họ và tên:", "Ngày đăng ký", "Điểm", "Cột lạ"])
    ws.append(["CĐCS01", "B¶o Th¾ng", dt.date(2023, 5, 1), 9.5, "x"])
    ws["B4"].font = Font(name=".VnTime")
    ws.append(["CĐCS02", "Xin chaøo", dt.datetime(2023, 5, 2), 8, None])
    ws["B5"].font = Font(name="VNI-Times")
    ws.append([None, "   ", None, None, None])
    ws.append(["CĐCS03", NFD("  Nguyễn Văn An "), None, 7, None])
    ws.append(["CĐCS04", "b¶o th¾ng", dt.datetime(2023, 5, 3, 14, 30), None, None])
    ws["B8"].font = Font(name=".VnTimeH")
    ws.append(["CĐCS05", "Hå", None, None, None])  # one word: the font alone decides
    ws["B9"].font = Font(name=".VnTime")
    ws.append(["CĐCS06", "Cô giáo", None, None, None])  # Unicode in an old-font cell
    ws["B10"].font = Font(name=".VnTime")
    wb.save(path)
    return path


XCOLS = {"unit": ["Mã đơn vị"], "name": ["Họ và tên"], "date": ["Ngày đăng ký"],
         "score": ["Điểm"], "note": ["Ghi chú"]}


def test_xlsx_types_fonts_lines(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "dk.xlsx")
    with read_table(path, XCOLS) as t:
        assert t.format == "xlsx"
        assert t.sheet == "Danh sách"  # "Hướng dẫn" is skipped
        assert t.header_line == 3
        assert t.unknown_headers == ["Cột lạ"]
        assert t.missing == ["note"]
        rows = list(t)
    by_line = {r.line: r for r in rows}
    assert sorted(by_line) == [4, 5, 7, 8, 9, 10]
    r4 = by_line[4]
    assert r4.values == {"unit": "CĐCS01", "name": "Bảo Thắng", "date": dt.date(2023, 5, 1),
                         "score": 9.5, "note": None}
    assert r4.legacy == {"name": "tcvn3"}
    assert type(r4.values["date"]) is dt.date
    assert by_line[5].values["name"] == "Xin chào" and by_line[5].legacy == {"name": "vni"}
    assert type(by_line[5].values["date"]) is dt.date
    assert by_line[5].values["score"] == 8 and isinstance(by_line[5].values["score"], int)
    assert by_line[7].values["name"] == "Nguyễn Văn An"
    assert by_line[8].values["name"] == "BẢO THẮNG"
    assert by_line[8].values["date"] == dt.datetime(2023, 5, 3, 14, 30)
    assert by_line[9].values["name"] == "Hồ" and by_line[9].legacy == {"name": "tcvn3"}
    assert by_line[10].values["name"] == "Cô giáo" and by_line[10].legacy == {}
    assert r4.location == "dòng 4"


def test_xlsx_header_in_legacy_font(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["M· ®¬n vÞ", "Hä vµ tªn"])
    ws["A1"].font = ws["B1"].font = Font(name=".VnTime")
    ws.append(["CĐCS01", "Lª V¨n Hïng"])
    ws["B2"].font = Font(name=".VnTime")
    path = tmp_path / "h.xlsx"
    wb.save(path)
    with read_table(path, COLUMNS) as t:
        assert t.header_line == 1
        assert t.headers == ["Mã đơn vị", "Họ và tên"]
        assert t.missing == ["year"]
        rows = list(t)
    assert rows[0].line == 2
    assert rows[0].values["name"] == "Lê Văn Hùng"


def test_xlsx_all_sheets(tmp_path: Path) -> None:
    wb = Workbook()
    wb.active.title = "Hướng dẫn"
    wb.active.append(["Mã đơn vị", "Điểm"])  # would match, but is the instructions sheet
    for member, score in (("Ủy viên A", 8), ("Ủy viên B", 9)):
        ws = wb.create_sheet(member)
        ws.append(["Mã đơn vị", "Điểm"])
        ws.append(["CĐCS01", score])
        ws.append(["CĐCS02", score - 1])
    wb.create_sheet("Tổng hợp").append(["Tổng", "=SUM(1,2)"])
    path = tmp_path / "scores.xlsm"
    wb.save(path)
    cols = {"unit": ["Mã đơn vị"], "score": ["Điểm"]}
    with read_table(path, cols, sheet="*") as t:
        assert t.skipped_sheets == ["Tổng hợp"]
        assert [i.name for i in t.sheet_info] == ["Ủy viên A", "Ủy viên B"]
        rows = list(t)
    assert [(r.sheet, r.line, r.values["unit"], r.values["score"]) for r in rows] == [
        ("Ủy viên A", 2, "CĐCS01", 8), ("Ủy viên A", 3, "CĐCS02", 7),
        ("Ủy viên B", 2, "CĐCS01", 9), ("Ủy viên B", 3, "CĐCS02", 8)]
    assert rows[0].where == "trang tính “Ủy viên A”, dòng 2"
    with read_table(path, cols, sheet="Ủy viên B") as t:
        assert [r.values["score"] for r in t] == [9, 8]
    with pytest.raises(TableError, match="không có trang tính “Không có”"):
        read_table(path, cols, sheet="Không có")


def test_xlsx_can_iterate_twice(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "dk.xlsx")
    with read_table(path, XCOLS) as t:
        assert [r.line for r in t] == [r.line for r in t]


# ---------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------
def test_json_list(tmp_path: Path) -> None:
    path = tmp_path / "dk.json"
    data = [{"Mã đơn vị": "CĐCS01", "Họ và tên": NFD(" Nguyễn Văn An "), "Năm": 2023,
             "Khác": 1},
            {"ma don vi": "CĐCS02", "ho va ten": "", "nam": None},
            {},
            {"unit": "CĐCS03", "Họ và tên": "B¶o Th¾ng", "Năm": 2024.5}]
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with read_table(path, COLUMNS) as t:
        assert t.format == "json"
        assert t.unknown_headers == ["Khác"]
        assert t.missing == []
        rows = list(t)
    assert [r.line for r in rows] == [1, 2, 4]
    assert rows[0].values == {"unit": "CĐCS01", "name": "Nguyễn Văn An", "year": 2023}
    assert rows[1].values == {"unit": "CĐCS02", "name": None, "year": None}
    assert rows[2].values["name"] == "Bảo Thắng" and rows[2].legacy == {"name": "tcvn3"}
    assert rows[2].values["year"] == 2024.5
    assert rows[2].location == "bản ghi 4"


@pytest.mark.parametrize("member", ["entries", "rows"])
def test_json_object_with_entries(tmp_path: Path, member: str) -> None:
    path = tmp_path / "dk.json"
    doc = {"version": 12345678901234567890, "note": {"a": [1, 2, {"b": "]"}]},
           member: [{"unit": "A", "Năm": 1}, {"unit": "B", "Năm": 2}], "after": True}
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert [(r.line, r.values["unit"]) for r in _read_all(path)] == [(1, "A"), (2, "B")]


def test_json_streaming_across_tiny_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    from dvk.intake.tables import jsonfile

    monkeypatch.setattr(jsonfile, "_JSON_CHUNK", 7)
    items = [{"unit": f"CĐCS{i}", "Năm": 2000 + i, "Họ và tên": "Nguyễn \"Văn\" An, ]}"}
             for i in range(300)]
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"meta": 3.25, "rows": items}, ensure_ascii=False, indent=2),
                    encoding="utf-8-sig")
    rows = _read_all(path)
    assert len(rows) == 300
    assert rows[-1].values == {"unit": "CĐCS299", "name": "Nguyễn \"Văn\" An, ]}", "year": 2299}


@pytest.mark.parametrize(("content", "fragment"), [
    ("", "trống"),
    ('{"a": 1}', "entries"),
    ("42", "danh sách"),
    ('[{"unit": "A"}, 5]', "bản ghi 2"),
    ('[{"unit": "A"}, {"unit": ', "JSON không hợp lệ"),
    ('[{"unit": "A"} {"unit": "B"}]', "JSON không hợp lệ"),
])
def test_json_errors(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(TableError) as e:
        _read_all(path)
    assert fragment in e.value.message
    assert "bad.json" in e.value.message


def test_json_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(_cp1258('[{"unit": "Thuỷ"}]'))
    with pytest.raises(TableError, match="UTF-8"):
        _read_all(path)


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------
def test_error_unknown_extension(tmp_path: Path) -> None:
    path = tmp_path / "dk.pdf"
    path.write_bytes(b"%PDF")
    with pytest.raises(TableError) as e:
        read_table(path, COLUMNS)
    assert "Không hỗ trợ định dạng" in e.value.message and "dk.pdf" in e.value.message


def test_error_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(TableError, match="Không tìm thấy tệp"):
        read_table(tmp_path / "nope.csv", COLUMNS)
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(TableError, match="thư mục"):
        read_table(tmp_path / "dir.csv", COLUMNS)


def test_error_old_xls(tmp_path: Path) -> None:
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    with pytest.raises(TableError, match=r"\.xls"):
        read_table(path, COLUMNS)


@pytest.mark.parametrize("payload", [
    b"this is not a zip file at all",
    b"PK\x03\x04garbage",
    b"",
])
def test_error_corrupt_xlsx(tmp_path: Path, payload: bytes) -> None:
    path = tmp_path / "hong.xlsx"
    path.write_bytes(payload)
    with pytest.raises(TableError) as e:
        read_table(path, COLUMNS)
    assert "hong.xlsx" in e.value.message and "bị hỏng" in e.value.message


def test_error_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "zip.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "xin chào")
    with pytest.raises(TableError, match="bị hỏng"):
        read_table(path, COLUMNS)


def test_error_broken_sheet_xml(tmp_path: Path) -> None:
    good = _workbook(tmp_path / "good.xlsx")
    bad = tmp_path / "bad.xlsx"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(bad, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet2.xml":
                data = data[: len(data) * 2 // 3]  # truncated XML
            zout.writestr(item, data)
    with pytest.raises(TableError) as e:
        _read_all(bad, XCOLS)
    assert "bad.xlsx" in e.value.message


@pytest.mark.parametrize(("name", "payload", "fragment"), [
    ("bin.csv", bytes(range(256)) * 10, "không phải tệp văn bản"),
    ("empty.csv", b"", "trống"),
    ("blank.csv", b"\n\n ; ; \n", "trống"),
    ("zip.csv", b"PK\x03\x04" + b"x" * 50, ".xlsx"),
    ("noheader.csv", "a;b;c\n1;2;3\n".encode(), "Không tìm thấy dòng tiêu đề"),
    ("undefined.csv", _cp1258("Mã đơn vị;x\n") + b"\x81\x8d;y\n", "giải mã"),
])
def test_error_garbage_csv(tmp_path: Path, name: str, payload: bytes, fragment: str) -> None:
    path = tmp_path / name
    path.write_bytes(payload)
    with pytest.raises(TableError) as e:
        _read_all(path)
    assert fragment in e.value.message
    assert name in e.value.message


def test_error_csv_nul_in_data(tmp_path: Path) -> None:
    path = tmp_path / "nul.csv"
    path.write_bytes("Mã đơn vị;Năm\n".encode() + b"A;1\n" * 5000 + b"B\x00;2\n")
    with pytest.raises(TableError) as e:
        _read_all(path)
    assert "nul.csv" in e.value.message


def test_error_empty_sheet(tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    Workbook().save(path)
    with pytest.raises(TableError, match="trống"):
        read_table(path, COLUMNS)


# ---------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------
REJECTS = [
    {"Mã đơn vị": "=SUM(A1:A3)", "Họ và tên": "+84 xin chào", "Ngày": dt.date(2023, 1, 2),
     "Điểm": 7.5, "reason": "-thiếu tên"},
    {"Mã đơn vị": "@cmd", "Họ và tên": "#N/A", "Ngày": None, "Điểm": -3, "reason": "Lỗi\x07 lạ"},
    {"Mã đơn vị": "CĐCS01", "Họ và tên": "-5", "Ngày": None, "Điểm": None, "reason": "ok"},
]
RH = ["Mã đơn vị", "Họ và tên", "Ngày", "Điểm"]


def test_write_rejects_xlsx_text_never_formula(tmp_path: Path) -> None:
    path = write_rejects(tmp_path / "loai.xlsx", "xlsx", RH, REJECTS, "reason")
    ws = load_workbook(path).active
    rows = list(ws.iter_rows())
    assert [c.value for c in rows[0]] == [*RH, "Lý do"]
    a2, b2, c2, d2, e2 = rows[1]
    assert (a2.value, a2.data_type) == ("=SUM(A1:A3)", "s")
    assert (b2.value, b2.data_type) == ("+84 xin chào", "s")
    assert (e2.value, e2.data_type) == ("-thiếu tên", "s")
    assert c2.value == dt.datetime(2023, 1, 2) and c2.number_format == "DD/MM/YYYY"
    assert d2.value == 7.5
    assert (rows[2][0].value, rows[2][0].data_type) == ("@cmd", "s")
    assert (rows[2][1].value, rows[2][1].data_type) == ("#N/A", "s")
    assert rows[2][4].value == "Lỗi lạ"  # control characters cannot go into XML
    assert not list(tmp_path.glob(".*tmp*"))
    # and the rejects file reads back
    with read_table(path, {"unit": ["Mã đơn vị"], "reason": ["Lý do"]}) as t:
        assert t.is_rejects
        assert [r.values["unit"] for r in t] == ["=SUM(A1:A3)", "@cmd", "CĐCS01"]


def test_write_rejects_csv(tmp_path: Path) -> None:
    path = write_rejects(tmp_path / "loai.csv", "csv", RH, REJECTS, "reason", delimiter=";")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0] == "Mã đơn vị;Họ và tên;Ngày;Điểm;Lý do"
    assert lines[1] == "'=SUM(A1:A3);'+84 xin chào;02/01/2023;7.5;'-thiếu tên"
    assert lines[3] == "CĐCS01;-5;;;ok"
    cols = {"unit": ["Mã đơn vị"], "name": ["Họ và tên"], "reason": ["Lý do"]}
    with read_table(path, cols) as t:
        assert t.delimiter == ";" and t.is_rejects
        rows = list(t)
    assert [r.values["unit"] for r in rows] == ["=SUM(A1:A3)", "@cmd", "CĐCS01"]
    assert rows[0].values["reason"] == "-thiếu tên"


def test_write_rejects_json(tmp_path: Path) -> None:
    path = write_rejects(tmp_path / "loai.json", "json", RH, REJECTS, "reason")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data[0] == {"Mã đơn vị": "=SUM(A1:A3)", "Họ và tên": "+84 xin chào",
                       "Ngày": "2023-01-02", "Điểm": 7.5, "reason": "-thiếu tên"}
    empty = write_rejects(tmp_path / "empty.json", "json", RH, [], "reason")
    assert json.loads(empty.read_text(encoding="utf-8")) == []


def test_write_rejects_errors(tmp_path: Path) -> None:
    with pytest.raises(TableError, match="Không hỗ trợ ghi định dạng"):
        write_rejects(tmp_path / "x.pdf", "pdf", RH, REJECTS)
    with pytest.raises(TableError, match="không tồn tại"):
        write_rejects(tmp_path / "no" / "x.csv", "csv", RH, REJECTS)


def test_rejects_from_a_table(tmp_path: Path) -> None:
    src = _write_csv(tmp_path / "in.csv", [["Mã đơn vị", "Ghi chú", "Họ và tên"],
                                            ["CĐCS01", "x", "An"]], "utf-8", ",")
    with read_table(src, COLUMNS) as t:
        rows = [dict(t.original(r), reason="Thiếu năm") for r in t]
        assert t.reject_headers() == ["Mã đơn vị", "Họ và tên"]
        out = write_rejects(tmp_path / "out.csv", "csv", t.reject_headers(), rows,
                            delimiter=t.delimiter)
    assert out.read_text(encoding="utf-8-sig").splitlines() == [
        "Mã đơn vị,Họ và tên,Lý do", "CĐCS01,An,Thiếu năm"]


def test_atomic_write_path(tmp_path: Path) -> None:
    final = tmp_path / "f.txt"
    final.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_write_path(final) as tmp:
            assert tmp.parent == tmp_path and tmp.suffix == ".txt"
            tmp.write_text("half")
            raise RuntimeError("boom")
    assert final.read_text() == "old"
    assert list(tmp_path.iterdir()) == [final]
    with atomic_write_path(final) as tmp:
        tmp.write_text("new")
    assert final.read_text() == "new"
    assert list(tmp_path.iterdir()) == [final]
    with atomic_write_path(tmp_path / "g.txt") as tmp:
        tmp.write_text("g")
    # not mkstemp's private 0600: the mode a plain open() would give
    assert os.stat(tmp_path / "g.txt").st_mode & 0o777 == 0o666 & ~_umask()


# ---------------------------------------------------------------------------
# Row
# ---------------------------------------------------------------------------
def test_row_api() -> None:
    r = Row(5, {"unit": "A", "name": None}, {})
    assert (r.line, r.values, r.legacy, r.sheet) == (5, {"unit": "A", "name": None}, {}, None)
    assert r.location == "dòng 5" and r.where == "dòng 5" and r.kind == "line"
    assert r.get("name", "?") == "?" and r.get("unit") == "A"
    j = Row(3, {}, None, kind="record")
    assert j.location == "bản ghi 3" and j.legacy == {}
    s = Row(2, {}, {}, sheet="Ủy viên A")
    assert s.where == "trang tính “Ủy viên A”, dòng 2"
    import copy
    import pickle
    assert pickle.loads(pickle.dumps(j)).location == "bản ghi 3"
    assert copy.copy(s).sheet == "Ủy viên A"


# ---------------------------------------------------------------------------
# Memory (slow)
# ---------------------------------------------------------------------------
@pytest.mark.slow
def test_csv_streaming_memory_200k_rows(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(["Mã đơn vị", "Họ và tên", "Năm", "Ghi chú"])
        for i in range(200_000):
            w.writerow([f"CĐCS{i % 34:02d}", f"Nguyễn Văn Thắng {i}", "2023",
                        "Mô hình dân vận khéo về chăm sóc sức khoẻ nhân dân" if i % 3 else ""])
    assert path.stat().st_size > 10_000_000
    tracemalloc.start()
    try:
        count = 0
        with read_table(path, COLUMNS) as t:
            for row in t:
                count += 1
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 200_000
    assert row.line == 200_001
    assert peak < 30 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
