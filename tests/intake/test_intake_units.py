"""`dvk units import FILE`: the list of units from CSV/XLSX/JSON, all or nothing."""

from __future__ import annotations

import json
import sqlite3

from openpyxl import Workbook

from conftest import ledger_dump


def units(db) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT code, name, committee, ordinal FROM unit ORDER BY ordinal").fetchall()
    finally:
        con.close()


def test_units_import_xlsx_adds_in_file_order_then_updates(dvk, tmp_path):
    dvk("init")
    wb = Workbook()
    ws = wb.active
    ws.append(["Danh sách công đoàn cơ sở"])  # a title row above the header
    ws.append(["MÃ ĐƠN VỊ", "Tên đơn vị", "Cấp uỷ"])
    ws.append(["BVDK", "Công đoàn Bệnh viện Đa khoa", "Đảng ủy Bệnh viện Đa khoa"])
    ws.append(["CDC", "Công đoàn CDC", None])
    ws.append([115, "Công đoàn Trung tâm Cấp cứu 115", "Chi bộ 115"])
    f = tmp_path / "dv.xlsx"
    wb.save(f)
    out = json.loads(dvk("units", "import", f, "--json").stdout)
    assert out == {"added": 3, "updated": 0, "unchanged": 0}
    assert [u[0] for u in units(dvk.db)] == ["BVDK", "CDC", "115"]
    csv_file = tmp_path / "dv.csv"
    csv_file.write_text("Mã đơn vị;Tên đơn vị;Cấp ủy\nbvdk;Công đoàn Bệnh viện Đa khoa;Đảng ủy BV\n"
                        "CDC;Công đoàn CDC;\nMOI;Công đoàn mới;Chi bộ mới\n", encoding="utf-8")
    out = json.loads(dvk("units", "import", csv_file, "--json").stdout)
    assert out == {"added": 1, "updated": 1, "unchanged": 1}
    got = units(dvk.db)
    assert got[0] == ("BVDK", "Công đoàn Bệnh viện Đa khoa", "Đảng ủy BV", 1)  # no "bvdk" near-duplicate
    assert got[-1] == ("MOI", "Công đoàn mới", "Chi bộ mới", 4)


def test_units_import_lists_every_problem_and_writes_nothing(dvk, tmp_path):
    dvk("init")
    dvk("units", "add", "BVDK", "Công đoàn BVĐK")
    f = tmp_path / "sai.csv"
    f.write_text("Mã đơn vị,Tên đơn vị,Cấp ủy\n,Không mã,\nX1,,\nX2,Tên A,\nx2,Tên B,\n" + "Y," + "T" * 301 + ",\n",
                 encoding="utf-8")
    before = ledger_dump(dvk.db)
    err = dvk.fails("units", "import", f).stderr
    assert "sai.csv, dòng 2, cột “Mã đơn vị”: thiếu mã đơn vị" in err
    assert "sai.csv, dòng 3, cột “Tên đơn vị”: thiếu tên đơn vị" in err
    assert "sai.csv, dòng 5, cột “Mã đơn vị”: mã đơn vị trùng với dòng 4" in err
    assert "sai.csv, dòng 6, cột “Tên đơn vị”: tên đơn vị quá dài" in err
    assert ledger_dump(dvk.db) == before
    g = tmp_path / "thieu.csv"
    g.write_text("Tên đơn vị\nA\n", encoding="utf-8")
    assert "thiếu cột “Mã đơn vị”" in dvk.fails("units", "import", g).stderr
    assert "Không tìm thấy tệp" in dvk.fails("units", "import", tmp_path / "khong.csv").stderr


def test_units_import_json(dvk, tmp_path):
    dvk("init")
    f = tmp_path / "dv.json"
    f.write_text(json.dumps([{"code": "A", "name": "Công đoàn A", "committee": "Chi bộ A"},
                             {"code": "B", "name": "Công đoàn B"}], ensure_ascii=False), encoding="utf-8")
    dvk("units", "import", f)
    assert [u[:3] for u in units(dvk.db)] == [("A", "Công đoàn A", "Chi bộ A"), ("B", "Công đoàn B", None)]
