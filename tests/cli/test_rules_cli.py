"""The one rule set through both paths: `dvk register` (options) and `dvk register --from` (columns)
call the same rules (dvk.rules), so they store the same row and refuse with the same reasons; a
typed command lists every bad option at once, each by its name."""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

import pytest

from conftest import ledger_dump

HEAD = ["Năm", "Mã đơn vị", "Tên mô hình, điển hình", "Loại", "Đối tượng", "Họ và tên", "Chức vụ", "Lĩnh vực",
        "Ngày đăng ký", "Đột xuất", "Ghi chú"]


def _csv(path: Path, rows) -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([HEAD, *rows])
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def _entries(db: Path) -> list[dict]:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute("SELECT * FROM entry ORDER BY id")]
    finally:
        con.close()


@pytest.mark.parametrize("kind", ["model", "exemplar"])
def test_typed_and_imported_registrations_store_the_same_row(ledger, tmp_path, kind):
    """What the kept-equal test used to compare, now one rule: the same values give the same row."""
    from conftest import Dvk, UNITS

    person = "Trần Thị  Thuỷ" if kind == "exemplar" else None
    other = Dvk(tmp_path / "typed.sqlite")
    other("init")
    for code, name, committee in UNITS:
        other("units", "add", code, name, "--committee", committee)
    args = ["register", "--year", "2024", "--unit", "cdc", "--title", " Giữ  gìn\u00a0sức khoẻ ", "--field", "3",
            "--date", "05/03/2024", "--note", " n  "]
    if person:
        args += ["--exemplar", "--individual", person, "--position", "Bác sĩ"]
    other(*args)
    ledger("register", "--from", _csv(tmp_path / "one.csv", [
        ["2024", "cdc", " Giữ  gìn\u00a0sức khoẻ ", "Điển hình" if person else "", "", person or "",
         "Bác sĩ" if person else "", "3", "05/03/2024", "", " n  "]]))
    typed, imported = _entries(other.db), _entries(ledger.db)
    assert typed == imported and len(typed) == 1
    row = typed[0]
    assert (row["unit_code"], row["title"], row["note"], row["late"]) == ("CDC", "Giữ gìn sức khoẻ", "n", 1)
    assert row["person"] == (" ".join(person.split()) if person else None)


BAD = [  # (option, value, column, the reason both paths give)
    ("--title", "Mô hình\x07", "Tên mô hình, điển hình", "tên mô hình, điển hình có ký tự điều khiển U+0007"),
    ("--note", "x" * 2001, "Ghi chú", "ghi chú quá dài (2001 ký tự, tối đa 2000)"),
    ("--position", "Trưởng khoa", "Chức vụ", "tập thể không có họ tên, chức vụ"),
    ("--field", "9", "Lĩnh vực", "lĩnh vực"),  # typed: “9” quoted; imported: the cell beside it
    ("--date", "31/02/2024", "Ngày đăng ký", "ngày đăng ký không hợp lệ: ngày 31 không có trong tháng 02/2024"),
]


def test_register_lists_every_bad_option_at_once_each_by_name(ledger):
    before = ledger_dump(ledger.db)
    args = ["register", "--year", "2024", "--unit", "NOPE", "--title", "Mô hình\x07", "--field", "9",
            "--position", "Trưởng khoa", "--date", "31/02/2024", "--note", "x" * 2001]
    err = ledger.fails(*args).stderr
    assert "Đăng ký không hợp lệ (6 lỗi); sổ không thay đổi:" in err
    lines = [line.strip() for line in err.splitlines() if line.strip().startswith("- ")]
    assert [line.split(":")[0] for line in lines] == ["- --unit", "- --title", "- --position", "- --field",
                                                      "- --date", "- --note"]
    assert "không có đơn vị mã “NOPE” trong sổ" in err
    said = " ".join(err.split())
    for opt, _value, _column, reason in BAD:  # typed, the value is quoted where no cell shows it
        assert (reason if opt != "--date" else "ngày đăng ký “31/02/2024” không hợp lệ: ngày 31 không có") in said
    assert ledger_dump(ledger.db) == before


@pytest.mark.parametrize("option,value,column,reason", BAD)
def test_the_same_bad_value_is_refused_alike_typed_or_imported(ledger, tmp_path, option, value, column, reason):
    typed = ["register", "--year", "2024", "--unit", "BVDK", "--title", "Mô hình", "--field", "1", option, value]
    err = " ".join(ledger.fails(*typed).stderr.split())
    if option == "--date":  # alone, a date that cannot be read says so in its own sentence, as everywhere
        assert err.startswith('Lỗi: Ngày không hợp lệ: "31/02/2024" (ngày 31 không có trong tháng 02/2024).')
    else:
        assert f"Đăng ký không hợp lệ ({option}): {reason}" in err
    row = dict(zip(HEAD, ["2024", "BVDK", "Mô hình", "", "", "", "", "1", "", "", ""]))
    row[column] = value
    f = _csv(tmp_path / "sai.csv", [[row[h] for h in HEAD]])
    err = ledger.fails("register", "--from", f).stderr
    assert f"sai.csv, dòng 2, cột “{column}”: {reason}" in " ".join(err.split())


def test_an_unknown_unit_alone_is_not_found_typed_and_a_problem_of_its_column_imported(ledger, tmp_path):
    res = ledger.fails("register", "--year", "2024", "--unit", "NOPE", "--title", "Mô hình", "--field", "1")
    assert res.stderr.startswith("Lỗi: Không có đơn vị mã “NOPE” trong sổ (xem: dvk units list).")
    f = _csv(tmp_path / "sai.csv", [["2024", "NOPE", "Mô hình", "", "", "", "", "1", "", "", ""]])
    err = ledger.fails("register", "--from", f).stderr
    assert "sai.csv, dòng 2, cột “Mã đơn vị”: không có đơn vị mã này trong sổ (xem: dvk units list)" in err


def test_report_and_confirm_list_every_problem_at_once(ledger):
    eid = ledger("register", "--year", "2024", "--unit", "BVDK", "--title", "Mô hình", "--field", "1",
                 "--date", "10/02/2024").stdout.strip()
    before = ledger_dump(ledger.db)
    err = ledger.fails("report", eid, "--approach", "a\x01", "--spread", "x" * 20001, "--date", "40/01/2024").stderr
    assert "Báo cáo thành tích không hợp lệ (3 lỗi)" in err
    for opt in ("--approach:", "--spread:", "--date:"):
        assert opt in err
    err = ledger.fails("confirm", eid, "--reason", "vì", "--comment", "b\x02").stderr
    assert "Xác nhận của cấp ủy không hợp lệ (4 lỗi)" in err
    assert f"{eid} chưa có báo cáo thành tích" in err
    for opt in ("--by: thiếu người ký xác nhận", "--comment:", "--reason: lý do chỉ dùng khi cấp ủy không xác nhận"):
        assert opt in err
    assert ledger_dump(ledger.db) == before
