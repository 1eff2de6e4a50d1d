"""`dvk score --from FILE`: council members' sheets in bulk, with the same results as `dvk score` by hand."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from conftest import ASPECTS, ledger_dump

CODES = ["G1", "G2", "G3", "G4", "G5", "S1", "S2", "S3", "S4", "S5", "S6"]
MEMBERS = ["Nguyễn Văn An", "Trần Thị Bích Ngọc"]
# entry -> member -> the marks typed, in criteria order
MARKS = {
    "2024-001": {MEMBERS[0]: ["8", "9", "8", "8.5", "9", "9", "8", "na", "9", "8", "9"],
                 MEMBERS[1]: ["9", "9", "9", "9", "9", "9.5", "9", "9", "9", "9", "10"]},
    "2024-002": {MEMBERS[0]: ["6", "7", "6.5", "7", "7", "na", "6", "7", "7", "na", "6"],
                 MEMBERS[1]: ["7", "7", "7", "7", "7", "7", "7", "7", "7", "7", "7"]},
    "2024-003": {MEMBERS[0]: ["10", "10", "10", "10", "10", "10", "10", "10", "10", "10", "10"]},
}


@pytest.fixture
def ready(ledger):
    """Three 2024 entries, each reported and confirmed: ready to be scored."""
    for unit, title in (("BVDK", "Chăm lo đoàn viên"), ("BVNHI", "Nụ cười thân thiện"), ("CDC", "Tủ sách")):
        eid = ledger("register", "--year", "2024", "--unit", unit, "--title", title, "--field", "1", "--date",
                     "10/02/2024").stdout.strip()
        ledger("report", eid, *ASPECTS)
        ledger("confirm", eid, "--by", "Bí thư")
    return ledger


def scores(db: Path) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT entry_id, member, marks FROM score ORDER BY entry_id, member").fetchall()
    finally:
        con.close()


def fill_form(path: Path, marks=MARKS) -> None:
    """Fill the template as a council would, in Excel (numbers as numbers, na as text)."""
    wb = load_workbook(path)
    for member in MEMBERS:
        ws = wb[member]
        head = [c.value for c in ws[1]]
        for row in ws.iter_rows(min_row=2):
            given = marks.get(row[0].value, {}).get(member)
            if not given:
                continue
            for code, v in zip(CODES, given):
                row[head.index(code)].value = v if v == "na" else float(v)
    wb.save(path)


def test_several_members_sheets_give_the_same_results_as_dvk_score_by_hand(ready, tmp_path, ledger_copy):
    by_file = ledger_copy(ready.db, "by-file.sqlite")
    for eid, per_member in MARKS.items():
        for member, marks in per_member.items():
            ready("score", eid, "--member", member, *[f"{c}={v}" for c, v in zip(CODES, marks)])
    form = tmp_path / "cham.xlsx"
    res = ready("template", "scores", "--out", form, "--year", "2024", "--member", MEMBERS[0], "--member",
                MEMBERS[1], "--db", by_file)
    assert "2 trang tính" in res.stdout
    wb = load_workbook(form)
    assert wb.sheetnames[:2] == MEMBERS and "Hướng dẫn" in wb.sheetnames
    assert [c.value for c in wb[MEMBERS[0]][1]] == ["Mã", "Tên mô hình, điển hình", "Mã đơn vị", *CODES]
    fill_form(form)
    out = json.loads(ready("score", "--from", form, "--db", by_file, "--json").stdout)
    assert (out["added"], out["blank"], out["examples"], out["rejected"]) == (5, 1, 2, 0)
    assert scores(by_file) == scores(ready.db)
    by_hand = json.loads(ready("check", "--year", "2024", "--json").stdout)
    from_file = json.loads(ready("check", "--year", "2024", "--json", "--db", by_file).stdout)
    assert by_hand == from_file
    assert [e["score"] for e in by_hand][2] == 100.0
    # importing the same sheets again changes nothing
    before = ledger_dump(by_file)
    assert json.loads(ready("score", "--from", form, "--db", by_file, "--json").stdout)["already"] == 5
    assert ledger_dump(by_file) == before


def test_score_errors_every_cell_listed_nothing_written(ready, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = MEMBERS[0]
    ws.append(["Mã", *CODES])
    ws.append(["2024-001", "na", 9, 8, 8, 9, 9, 8, "na", 9, 8, 9])  # G1 may not be na
    ws.append(["2024-002", 11, 9, 8, 8, 9, 9, 8, 7, 9, 8, 9])  # out of scale
    ws.append(["2024-003", 7.25, 9, 8, 8, 9, 9, 8, 7, 9, 8, "tám"])  # too many decimals, not a number
    ws.append(["2024-003", 8, 9, None, 8, 9, 9, 8, 7, 9, 8, 9])  # G3 missing
    ws.append(["2024-777", 8, 9, 8, 8, 9, 9, 8, 7, 9, 8, 9])  # no such entry
    other = wb.create_sheet("Sheet2")
    other.append(["Mã", *CODES])
    other.append(["2024-001", 8, 9, 8, 8, 9, 9, 8, 7, 9, 8, 9])
    f = tmp_path / "sai.xlsx"
    wb.save(f)
    before = ledger_dump(ready.db)
    err = ready.fails("score", "--from", f).stderr
    sheet = f"sai.xlsx, trang tính “{MEMBERS[0]}”"
    assert f"{sheet}, dòng 2, cột “G1”: Tiêu chí G1 là tiêu chí chung, không được chấm “không áp dụng”" in err
    assert f"{sheet}, dòng 3, cột “G1”: Tiêu chí G1: điểm “11” nằm ngoài thang 0–10" in err
    assert f"{sheet}, dòng 4, cột “G1”" in err and "quá 1 chữ số thập phân" in err
    assert f"{sheet}, dòng 4, cột “S6”" in err and "không phải là số" in err
    assert f"{sheet}, dòng 5: chưa chấm các tiêu chí: G3" in err
    assert f"{sheet}, dòng 6, cột “Mã”: không có mô hình, điển hình mã này" in err
    assert "trang tính “Sheet2”, dòng 2, cột “Thành viên”: trang tính “Sheet2” mang tên mặc định" in err
    assert ledger_dump(ready.db) == before


def test_score_conflict_then_update_replaces_the_members_sheet(ready, tmp_path):
    ready("score", "2024-001", "--member", MEMBERS[0], *[f"{c}=8" for c in CODES])
    f = tmp_path / "d.csv"
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";")
    w.writerow(["Mã", "Thành viên", *CODES])
    w.writerow(["2024-001", MEMBERS[0], *(["8"] * 10 + ["9,5"])])
    w.writerow(["2024-002", MEMBERS[1], *(["7"] * 11)])
    f.write_text(buf.getvalue(), encoding="utf-8")
    res = ready("score", "--from", f)
    assert "xung đột" in res.stderr and "S6: sổ ghi “8”, tệp ghi “9,5”" in res.stderr
    assert [s[0] for s in scores(ready.db)] == ["2024-001", "2024-002"]
    out = json.loads(ready("score", "--from", f, "--update", "--json").stdout)
    assert (out["updated"], out["already"]) == (1, 1)
    assert json.loads(scores(ready.db)[0][2])["S6"] == 9.5
    total = json.loads(ready("check", "2024-001", "--json").stdout)["member_totals"][MEMBERS[0]]
    assert total == pytest.approx(81.5)  # 80 + (9.5 - 8) / 10 × weight 10


def test_csv_without_member_column_takes_the_member_option(ready, tmp_path):
    f = tmp_path / "an.csv"
    f.write_text("Mã," + ",".join(CODES) + "\n2024-002," + ",".join(["7"] * 11) + "\n", encoding="utf-8")
    assert "--member" in ready.fails("score", "--from", f).stderr
    ready("score", "--from", f, "--member", MEMBERS[0])
    assert scores(ready.db)[0][:2] == ("2024-002", MEMBERS[0])


def test_long_member_name_gets_a_member_column(ready, tmp_path):
    name = "Phó Giáo sư, Tiến sĩ Nguyễn Thị Phương Thảo (Phó Chủ tịch)"
    form = tmp_path / "dai.xlsx"
    ready("template", "scores", "--out", form, "--year", "2024", "--member", name)
    wb = load_workbook(form)
    ws = wb.worksheets[0]
    assert len(ws.title) <= 31 and [c.value for c in ws[1]][3] == "Thành viên"
    head = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=3, max_row=3):
        for code in CODES:
            row[head.index(code)].value = 9
    wb.save(form)
    ready("score", "--from", form)
    assert scores(ready.db) == [("2024-001", name, json.dumps({c: 9 for c in CODES}, separators=(",", ":")))]


def test_skip_invalid_rejects_keep_the_member_and_reimport(ready, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = MEMBERS[1]
    ws.append(["Mã", *CODES])
    ws.append(["2024-001", *([9] * 11)])
    ws.append(["2024-002", 12, *([9] * 10)])
    f = tmp_path / "m.xlsx"
    wb.save(f)
    rej = tmp_path / "loai.xlsx"
    out = json.loads(ready("score", "--from", f, "--skip-invalid", "--rejects", rej, "--json").stdout)
    assert (out["added"], out["rejected"]) == (1, 1)
    data = [[c.value for c in r] for r in load_workbook(rej).active.iter_rows()]
    head = data[0]
    assert head[:2] == ["Mã", "Thành viên"] and data[1][1] == MEMBERS[1] and "ngoài thang" in data[1][-1]
    data[1][head.index("G1")] = 9
    fixed = tmp_path / "sua.xlsx"
    wb2 = Workbook()
    for r in data:
        wb2.active.append(r)
    wb2.save(fixed)
    ready("score", "--from", fixed)
    assert [s[:2] for s in scores(ready.db)] == [("2024-001", MEMBERS[1]), ("2024-002", MEMBERS[1])]


def test_scores_into_a_decided_year_are_refused(full_entry, ledger, tmp_path):
    ledger("recognize", "--year", "2024", "--number", "2")
    f = tmp_path / "x.csv"
    f.write_text("Mã,Thành viên," + ",".join(CODES) + f"\n{full_entry},Lê Văn C," + ",".join(["9"] * 11) + "\n",
                 encoding="utf-8")
    before = ledger_dump(ledger.db)
    assert "đã có Quyết định công nhận" in ledger.fails("score", "--from", f).stderr
    assert ledger_dump(ledger.db) == before


def test_scores_template_needs_members(ready, tmp_path):
    assert "--member" in ready.fails("template", "scores", "--out", tmp_path / "x.xlsx").stderr


def test_member_option_and_sheet_names(ready, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(["Mã", *CODES])
    ws.append(["2024-001", *([8] * 11)])
    named = wb.create_sheet(MEMBERS[1])
    named.append(["Mã", *CODES])
    named.append(["2024-002", *([7] * 11)])
    f = tmp_path / "hai.xlsx"
    wb.save(f)
    err = ready.fails("score", "--from", f, "--member", MEMBERS[0]).stderr
    assert f"mang tên một thành viên khác với --member “{MEMBERS[0]}”" in err
    named.title = MEMBERS[0]
    wb.save(f)
    ready("score", "--from", f, "--member", MEMBERS[0])
    assert [s[:2] for s in scores(ready.db)] == [("2024-001", MEMBERS[0]), ("2024-002", MEMBERS[0])]
    assert "không được trùng" in ready.fails("score", "--from", f, "--skip-invalid", "--rejects", f).stderr
