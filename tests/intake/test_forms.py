"""`dvk template`: the Excel forms (headers, instructions, drop-downs, examples) and the Word report form."""

from __future__ import annotations

import csv
import json
import sqlite3

import pytest
from docx import Document
from openpyxl import load_workbook

from conftest import ASPECTS, ledger_dump

REG_HEAD = ["Năm", "Mã đơn vị", "Tên mô hình, điển hình", "Loại", "Đối tượng", "Họ và tên", "Chức vụ", "Lĩnh vực",
            "Ngày đăng ký", "Đột xuất", "Ghi chú"]


def validations(ws) -> dict[str, str]:
    """First column letter of each validation range -> its formula."""
    return {str(dv.sqref).split(":")[0].rstrip("0123456789"): dv.formula1 for dv in ws.data_validations.dataValidation}


def test_registrations_form_headers_instructions_dropdowns_examples(ledger, tmp_path):
    f = tmp_path / "dk.xlsx"
    ledger("template", "registrations", "--out", f, "--year", "2025")
    wb = load_workbook(f)
    assert wb.sheetnames == ["Đăng ký", "Danh mục", "Hướng dẫn"]
    ws = wb["Đăng ký"]
    assert [c.value for c in ws[1]] == REG_HEAD
    assert wb["Danh mục"].sheet_state == "hidden"
    assert [c.value for c in wb["Danh mục"]["A"] if c.value][1:] == ["BVDK", "BVNHI", "CDC"]
    text = "\n".join(str(c.value) for row in wb["Hướng dẫn"].iter_rows() for c in row if c.value)
    assert "01/02/2025–28/02/2025" in text and "dvk register --from" in text and "BVNHI" in text
    dv = validations(ws)
    assert dv["B"] == "='Danh mục'!$A$2:$A$4"
    assert dv["D"].startswith("='Danh mục'!$C$") and dv["E"].startswith("='Danh mục'!$D$")
    assert dv["H"].startswith("='Danh mục'!$B$") and dv["J"].startswith("='Danh mục'!$E$") and "A" in dv
    examples = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    assert len(examples) == 2 and all(r[10].startswith("[VÍ DỤ]") for r in examples)
    # left in, the examples import cleanly: skipped and said so, nothing written
    before = ledger_dump(ledger.db)
    res = ledger("register", "--from", f)
    assert "bỏ qua 2 dòng ví dụ" in res.stderr and ledger_dump(ledger.db) == before
    # and they are valid rows: without the mark they would register as they are
    for r in ws.iter_rows(min_row=2):
        r[10].value = None
    wb.save(f)
    out = json.loads(ledger("register", "--from", f, "--json").stdout)
    assert out["added"] == 2 and out["rejected"] == 0


def test_registrations_form_filled_then_saved_as_csv_imports(ledger, tmp_path):
    f = tmp_path / "dk.xlsx"
    ledger("template", "registrations", "--out", f, "--year", "2024", "--unit", "CDC")
    wb = load_workbook(f)
    assert [c.value for c in wb["Danh mục"]["A"] if c.value][1:] == ["CDC"]
    ws = wb["Đăng ký"]
    ws.append([2024, "CDC", "Tủ sách pháp luật", "Mô hình", "Tập thể", None, None, 2, "12/02/2024", None, None])
    ws.append([2024, "CDC", "Bác sĩ tận tâm", "Điển hình", "Cá nhân", "Lê Văn Tám", "Bác sĩ", 5, None, "x", None])
    wb.save(f)
    c = tmp_path / "dk.csv"
    with open(c, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        for row in ws.iter_rows(values_only=True):
            w.writerow(["" if v is None else (v.strftime("%d/%m/%Y") if hasattr(v, "strftime") else v) for v in row])
    out = json.loads(ledger("register", "--from", c, "--json").stdout)
    assert (out["added"], out["examples"]) == (2, 2)
    out = json.loads(ledger("register", "--from", f, "--json").stdout)
    assert (out["already"], out["added"]) == (2, 0)


def test_reports_and_confirmations_forms_list_what_is_missing(ledger, tmp_path):
    for t in ("A", "B"):
        ledger("register", "--year", "2024", "--unit", "BVNHI", "--title", t, "--field", "2", "--date", "03/02/2024")
    ledger("register", "--year", "2024", "--unit", "CDC", "--title", "C", "--field", "2", "--date", "03/02/2024")
    ledger("report", "2024-001", *ASPECTS)
    f = tmp_path / "bc.xlsx"
    res = ledger("template", "reports", "--out", f, "--year", "2024", "--unit", "BVNHI")
    assert "1 mô hình" in res.stdout
    ws = load_workbook(f)["Báo cáo"]
    assert [[c.value for c in r][:3] for r in ws.iter_rows(min_row=3)] == [["2024-002", "B", "BVNHI"]]
    g = tmp_path / "xn.xlsx"
    ledger("template", "confirmations", "--out", g, "--year", "2024")
    wb = load_workbook(g)
    assert [r[0].value for r in wb["Xác nhận"].iter_rows(min_row=3)] == ["2024-001"]
    assert validations(wb["Xác nhận"])["H"].startswith("='Danh mục'!$A$")


def test_scores_form_one_sheet_per_member_codes_validation(full_entry, ledger, tmp_path):
    f = tmp_path / "cd.xlsx"
    ledger("template", "scores", "--out", f, "--year", "2024", "--member", "Lê Văn C", "--member", "Phạm Thị D")
    wb = load_workbook(f)
    assert wb.sheetnames == ["Lê Văn C", "Phạm Thị D", "Hướng dẫn"]
    ws = wb["Lê Văn C"]
    assert [c.value for c in ws[1]][3:] == ["G1", "G2", "G3", "G4", "G5", "S1", "S2", "S3", "S4", "S5", "S6"]
    assert ws["D1"].comment is not None and "G1" in ws["D1"].comment.text
    assert [r[0].value for r in ws.iter_rows(min_row=3)] == [full_entry]
    dv = validations(ws)
    assert "na" not in dv["D"] and 'LOWER(I2)="na"' in dv["I"]
    # the form as handed back with nothing scored changes nothing
    before = ledger_dump(ledger.db)
    out = json.loads(ledger("score", "--from", f, "--json").stdout)
    assert (out["added"], out["blank"], out["examples"]) == (0, 2, 2)
    assert ledger_dump(ledger.db) == before
    assert "cùng tên trang tính" in ledger.fails("template", "scores", "--out", tmp_path / "y.xlsx", "--member",
                                                 "An", "--member", "an").stderr


def test_template_errors(ledger, tmp_path):
    f = tmp_path / "a.xlsx"
    ledger("template", "registrations", "--out", f)
    assert "đã có" in ledger.fails("template", "registrations", "--out", f).stderr
    ledger("template", "registrations", "--out", f, "--force")
    assert "Loại mẫu “hoso” không có" in ledger.fails("template", "hoso", "--out", f).stderr
    assert ".xlsx" in ledger.fails("template", "reports", "--out", tmp_path / "a.csv").stderr
    assert ".docx" in ledger.fails("template", "report-form", "--out", tmp_path / "a.xlsx").stderr
    assert "Không có đơn vị" in ledger.fails("template", "registrations", "--out", tmp_path / "b.xlsx",
                                             "--unit", "XYZ").stderr
    assert "không tồn tại" in ledger.fails("template", "reports", "--out", tmp_path / "no" / "b.xlsx").stderr


def test_report_form_docx_layout(ledger, tmp_path):
    f = tmp_path / "mau.docx"
    ledger("template", "report-form", "--out", f)
    doc = Document(str(f))
    sec = doc.sections[0]
    assert round(sec.page_width.cm, 1) == 21.0 and round(sec.left_margin.cm, 1) == 3.0
    assert doc.styles["Normal"].font.name == "Times New Roman"
    heads = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert heads[:5] == [f"{i}. {label}" for i, label in
                         enumerate(["Cách làm", "Kinh nghiệm", "Tính lan tỏa", "Hiệu quả", "Sự bền vững"], 1)]
    con = sqlite3.connect(ledger.db)
    try:
        assert con.execute("SELECT count(*) FROM report").fetchone()[0] == 0
    finally:
        con.close()


def test_forms_and_help_name_no_guidance_letter_of_their_own(ledger, tmp_path):
    """The guidance and the fields come from the year's criteria set: no form or help text names the
    2021 letter by itself (issue 12: nothing in the code names the seed's numbers)."""
    texts = [ledger("register", "--help").stdout]
    for kind in ("registrations", "reports", "confirmations"):
        out = tmp_path / f"{kind}.xlsx"
        ledger("template", kind, "--year", "2026", "--out", out)
        wb = load_workbook(out)
        texts += [str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value]
        texts += [dv.prompt or "" for ws in wb.worksheets for dv in ws.data_validations.dataValidation]
    joined = "\n".join(texts)
    assert "69/CĐN" not in joined and "mục II" not in joined
    assert "Lĩnh vực 1–5 theo bộ tiêu chí năm 2026" in joined
