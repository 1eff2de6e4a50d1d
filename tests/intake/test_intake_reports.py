"""`dvk report --from`, `dvk confirm --from` and `dvk report ID --from-docx` on real files."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest
from docx import Document
from openpyxl import Workbook, load_workbook

from conftest import ASPECTS, ledger_dump

REPORT_HEAD = ["Mã", "Tên mô hình, điển hình", "Mã đơn vị", "Cách làm", "Kinh nghiệm", "Tính lan tỏa", "Hiệu quả",
               "Sự bền vững", "Ngày báo cáo"]
CONF_HEAD = ["Mã", "Tên mô hình, điển hình", "Mã đơn vị", "Cấp ủy", "Người xác nhận", "Ngày xác nhận", "Nhận xét",
             "Không xác nhận", "Lý do"]
FIVE = ["Lập tổ tư vấn", "Cần lãnh đạo đồng thuận", "12 khoa làm theo", "Tiết kiệm 120 triệu", "Duy trì 3 năm"]


@pytest.fixture
def three(ledger):
    """Three 2024 entries: 2024-001 (BVDK), 2024-002 (BVNHI), 2024-003 (CDC)."""
    for unit, title in (("BVDK", "Chăm lo đoàn viên"), ("BVNHI", "Nụ cười thân thiện"), ("CDC", "Tủ sách pháp luật")):
        ledger("register", "--year", "2024", "--unit", unit, "--title", title, "--field", "1", "--date",
               "10/02/2024")
    return ledger


def rows_of(db: Path, table: str) -> list[dict]:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(f"SELECT * FROM {table} ORDER BY entry_id")]
    finally:
        con.close()


def write_xlsx(path: Path, rows) -> Path:
    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    wb.save(path)
    return path


def write_csv(path: Path, rows, delimiter=",") -> Path:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter).writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8-sig")
    return path


def fill(path: Path, sheet: str, by_id: dict[str, dict[str, object]]) -> None:
    wb = load_workbook(path)
    ws = wb[sheet]
    head = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        eid = row[0].value
        for col, value in by_id.get(eid, {}).items():
            row[head.index(col)].value = value
    wb.save(path)


# ---------------------------------------------------------------- reports

def test_reports_form_round_trip(three, tmp_path):
    f = tmp_path / "bc.xlsx"
    three("template", "reports", "--out", f, "--year", "2024")
    ws = load_workbook(f)["Báo cáo"]
    assert [c.value for c in ws[1]] == REPORT_HEAD
    assert [r[0].value for r in ws.iter_rows(min_row=3)] == ["2024-001", "2024-002", "2024-003"]
    fill(f, "Báo cáo", {
        "2024-001": dict(zip(REPORT_HEAD[3:8], ["Lập tổ tư vấn\nphân công từng người", *FIVE[1:]])),
        "2024-002": {"Cách làm": "Chỉ mới có cách làm", "Ngày báo cáo": "01/08/2024"},
    })
    res = json.loads(three("report", "--from", f, "--json").stdout)
    assert (res["added"], res["blank"], res["examples"]) == (2, 1, 1)
    got = rows_of(three.db, "report")
    assert got[0]["approach"] == "Lập tổ tư vấn\nphân công từng người" and got[0]["sustainability"] == FIVE[4]
    assert got[1]["approach"] == "Chỉ mới có cách làm" and got[1]["experience"] is None
    assert got[1]["reported_on"] == "2024-08-01"
    check = json.loads(three("check", "2024-001", "--json").stdout)
    assert next(g for g in check["gates"] if g["code"] == "report")["ok"]
    # the form again: only the entries whose report is incomplete
    g = tmp_path / "bc2.xlsx"
    three("template", "reports", "--out", g, "--year", "2024")
    assert [r[0].value for r in load_workbook(g)["Báo cáo"].iter_rows(min_row=3)] == ["2024-002", "2024-003"]


def test_report_errors_are_all_listed_and_nothing_written(three, tmp_path):
    rows = [REPORT_HEAD,
            ["2024-001", "", "BVDK", *FIVE, ""],
            ["2024-099", "", "", *FIVE, ""],
            ["2024-002", "", "CDC", *FIVE, ""],
            ["2024-003", "", "", "", "", "", "", "", "01/08/2024"],
            ["2024-003", "", "", "x" * 20001, "", "", "", "", "32/08/2024"],
            ["", "", "", *FIVE, ""]]
    f = write_csv(tmp_path / "bad.csv", rows)
    before = ledger_dump(three.db)
    err = three.fails("report", "--from", f).stderr
    assert "bad.csv, dòng 3, cột “Mã”: không có mô hình, điển hình mã này trong sổ" in err
    assert "bad.csv, dòng 4, cột “Mã đơn vị”: mô hình 2024-002 thuộc đơn vị BVNHI" in err
    assert "bad.csv, dòng 5: báo cáo trống" in err
    assert "dòng 6, cột “Cách làm”: Cách làm quá dài" in err
    assert "dòng 6, cột “Ngày báo cáo”: ngày báo cáo không hợp lệ" in err
    assert "dòng 7, cột “Mã”: thiếu mã mô hình" in err
    assert ledger_dump(three.db) == before


def test_report_reimport_conflict_and_update(three, tmp_path):
    f = write_csv(tmp_path / "a.csv", [REPORT_HEAD, ["2024-1", "", "", *FIVE, "01/08/2024"]])
    three("report", "--from", f)
    before = ledger_dump(three.db)
    assert json.loads(three("report", "--from", f, "--json").stdout)["already"] == 1
    g = write_csv(tmp_path / "b.csv", [REPORT_HEAD, ["2024-001", "", "", "Cách làm mới", *FIVE[1:], ""]])
    res = three("report", "--from", g)
    assert "xung đột" in res.stderr and "Cách làm: sổ ghi “Lập tổ tư vấn”, tệp ghi “Cách làm mới”" in res.stderr
    assert ledger_dump(three.db) == before
    out = json.loads(three("report", "--from", g, "--update", "--json").stdout)
    assert out["updated"] == 1
    got = rows_of(three.db, "report")[0]
    assert got["approach"] == "Cách làm mới" and got["reported_on"] == "2024-08-01"


def test_report_locked_year(full_entry, ledger, tmp_path):
    ledger("recognize", "--year", "2024", "--number", "3")
    f = write_csv(tmp_path / "a.csv", [REPORT_HEAD, [full_entry, "", "", "Khác", *FIVE[1:], ""]])
    res = ledger.fails("report", "--from", f, "--update")
    assert "đã có Quyết định công nhận" in res.stderr


def test_report_single_entry_still_works_and_refuses_mixed_use(three, tmp_path):
    three("report", "2024-001", *ASPECTS)
    f = write_csv(tmp_path / "a.csv", [REPORT_HEAD, ["2024-002", "", "", *FIVE, ""]])
    assert "cùng --from" in three.fails("report", "2024-002", "--from", f).stderr
    res = three("report", ok=False)
    assert res.exit_code == 2 and "ID" in res.stderr


# ---------------------------------------------------------------- confirmations

def test_confirmations_form_round_trip_default_committee_and_refusal(three, tmp_path):
    three("report", "2024-001", *ASPECTS)
    three("report", "2024-002", *ASPECTS)
    f = tmp_path / "xn.xlsx"
    three("template", "confirmations", "--out", f, "--year", "2024")
    wb = load_workbook(f)
    ws = wb["Xác nhận"]
    assert [c.value for c in ws[1]] == CONF_HEAD
    assert [r[0].value for r in ws.iter_rows(min_row=3)] == ["2024-001", "2024-002"]  # 003 has no report
    assert "Hướng dẫn" in wb.sheetnames
    fill(f, "Xác nhận", {
        "2024-001": {"Người xác nhận": "Bí thư Trần Văn Bình", "Ngày xác nhận": "15/09/2024", "Nhận xét": "Tốt"},
        "2024-002": {"Người xác nhận": "Bí thư Lê Thị Hoa", "Không xác nhận": "x", "Lý do": "Chưa lan tỏa"},
    })
    res = json.loads(three("confirm", "--from", f, "--json").stdout)
    assert (res["added"], res["examples"]) == (2, 1)
    a, b = rows_of(three.db, "confirmation")
    assert a["committee"] == "Đảng ủy Bệnh viện Đa khoa Đồng Nai" and a["confirmed_on"] == "2024-09-15"
    assert a["rejected"] == 0 and a["comment"] == "Tốt"
    assert b["rejected"] == 1 and b["reason"] == "Chưa lan tỏa" and b["committee"].startswith("Chi bộ Bệnh viện Nhi")
    assert json.loads(three("confirm", "--from", f, "--json").stdout)["already"] == 2


def test_confirmation_errors(three, tmp_path):
    three("report", "2024-001", *ASPECTS)
    rows = [CONF_HEAD,
            ["2024-001", "", "", "", "", "", "", "x", ""],
            ["2024-003", "", "", "", "Bí thư", "", "", "", ""],
            ["2024-001", "", "", "", "Bí thư", "", "", "có thể", ""],
            ["2024-001", "", "", "", "Bí thư", "hôm nay", "", "", ""]]
    f = write_csv(tmp_path / "x.csv", rows)
    before = ledger_dump(three.db)
    err = three.fails("confirm", "--from", f).stderr
    assert "dòng 2, cột “Người xác nhận”: thiếu người ký xác nhận" in err
    assert "dòng 2, cột “Lý do”: cấp ủy không xác nhận thì phải ghi lý do" in err
    assert "dòng 3, cột “Mã”: 2024-003 chưa có báo cáo thành tích" in err
    assert "dòng 4, cột “Không xác nhận”" in err
    assert "dòng 5, cột “Ngày xác nhận”: ngày xác nhận không hợp lệ" in err
    assert ledger_dump(three.db) == before


def test_confirmation_conflict_then_update_and_skip_invalid(three, tmp_path):
    three("report", "2024-001", *ASPECTS)
    three("report", "2024-002", *ASPECTS)
    f = write_xlsx(tmp_path / "a.xlsx", [CONF_HEAD, ["2024-001", None, None, None, "Bí thư A", "10/09/2024", None,
                                                     None, None]])
    three("confirm", "--from", f)
    g = write_xlsx(tmp_path / "b.xlsx", [
        CONF_HEAD, ["2024-001", None, None, None, "Bí thư A", "10/09/2024", None, "x", "Chưa đủ hồ sơ"],
        ["2024-003", None, None, None, "Bí thư C", None, None, None, None]])
    rej = tmp_path / "loai.xlsx"
    res = three("confirm", "--from", g, "--skip-invalid", "--rejects", rej)
    assert "xung đột" in res.stderr and "Không xác nhận: sổ ghi “(trống)”, tệp ghi “x”" in res.stderr
    body = [[c.value for c in r] for r in load_workbook(rej).active.iter_rows()]
    assert body[0][-1] == "Lý do bị loại" and body[1][0] == "2024-003" and "chưa có báo cáo" in body[1][-1]
    out = json.loads(three("confirm", "--from", g, "--update", "--skip-invalid", "--json").stdout)
    assert (out["updated"], out["rejected"]) == (1, 1)
    assert rows_of(three.db, "confirmation")[0]["rejected"] == 1


# ---------------------------------------------------------------- the Word report form

def _fill_docx(src: Path, dst: Path, texts: dict[str, list[str]]) -> None:
    doc = Document(str(src))
    paras = list(doc.paragraphs)
    for i, p in enumerate(paras):
        if p.style.name.startswith("Heading") and ". " in p.text:
            label = p.text.split(". ", 1)[1]
            hint = paras[i + 1]
            lines = texts.get(label, [])
            if not lines:
                continue
            for run in hint.runs[1:]:
                run.text = ""
            hint.runs[0].text = lines[0]
            hint.runs[0].italic = False
            nxt = paras[i + 2]
            for extra in lines[1:]:
                nxt.insert_paragraph_before(extra)
    doc.save(str(dst))


def test_report_form_docx_round_trip(three, tmp_path):
    form = tmp_path / "mau.docx"
    res = three("template", "report-form", "--out", form, "--entry", "2024-002")
    assert "dvk report" in res.stdout
    doc = Document(str(form))
    heads = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert heads == ["1. Cách làm", "2. Kinh nghiệm", "3. Tính lan tỏa", "4. Hiệu quả", "5. Sự bền vững",
                     "XÁC NHẬN CỦA CẤP ỦY"]
    assert any("2024-002" in p.text for p in doc.paragraphs)
    filled = tmp_path / "bao-cao.docx"
    _fill_docx(form, filled, {"Cách làm": ["Lập tổ tư vấn.", "Phân công từng người."],
                              "Kinh nghiệm": [FIVE[1]], "Tính lan tỏa": [FIVE[2]], "Hiệu quả": [FIVE[3]],
                              "Sự bền vững": [FIVE[4]]})
    three("report", "2024-002", "--from-docx", filled)
    got = rows_of(three.db, "report")[0]
    assert got["approach"] == "Lập tổ tư vấn.\nPhân công từng người." and got["sustainability"] == FIVE[4]
    import hashlib

    assert got["file_sha256"] == hashlib.sha256(filled.read_bytes()).hexdigest()
    assert "toàn vẹn" in three("verify").stdout


def test_report_docx_partial_wrong_id_and_not_a_form(three, tmp_path):
    form = tmp_path / "mau.docx"
    three("template", "report-form", "--out", form, "--entry", "2024-001")
    part = tmp_path / "part.docx"
    _fill_docx(form, part, {"Hiệu quả": ["Tiết kiệm"]})
    res = three("report", "2024-001", "--from-docx", part)
    assert "còn thiếu: Cách làm, Kinh nghiệm, Tính lan tỏa, Sự bền vững" in res.stderr
    assert "là báo cáo của 2024-001, không phải 2024-003" in three.fails("report", "2024-003", "--from-docx",
                                                                         part).stderr
    assert "chưa có nội dung" in three.fails("report", "2024-001", "--from-docx", form).stderr
    other = Document()
    other.add_paragraph("Một văn bản khác")
    other.save(str(tmp_path / "khac.docx"))
    assert "không có các mục" in three.fails("report", "2024-001", "--from-docx", tmp_path / "khac.docx").stderr
    (tmp_path / "hong.docx").write_bytes(b"not a zip")
    assert "Không đọc được tệp Word" in three.fails("report", "2024-001", "--from-docx", tmp_path / "hong.docx").stderr


def test_report_docx_written_by_hand_with_bold_labels(three, tmp_path):
    doc = Document()
    doc.add_paragraph("BÁO CÁO THÀNH TÍCH")
    for label, text in zip(["I. CÁCH LÀM:", "II. Kinh nghiệm", "III. Lan toả", "IV. Hiệu quả", "V. Bền vững"], FIVE):
        p = doc.add_paragraph()
        p.add_run(label).bold = True
        doc.add_paragraph(text)
    f = tmp_path / "tay.docx"
    doc.save(str(f))
    three("report", "2024-003", "--from-docx", f)
    got = rows_of(three.db, "report")[0]
    assert [got[k] for k in ("approach", "experience", "spread", "effectiveness", "sustainability")] == FIVE
