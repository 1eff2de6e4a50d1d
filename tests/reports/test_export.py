"""`dvk export` and `dvk verify-doc` on real ledger files: every output is opened with
python-docx / openpyxl and read back (a failing test leaves its files in pytest's tmp folder).

The ledger is built once per module through the domain operations (the same ones the commands
use) and copied for each test.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import sqlite3
import subprocess
import zipfile
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph

from conftest import UNITS, backup_folder, clone_ledger, server_template

YEAR = 2024
FULL = {"G1": 9, "G2": 9, "G3": 8.5, "G4": 9, "G5": 9, "S1": 9, "S2": 8.5, "S3": None, "S4": 9, "S5": 9, "S6": 9}
WEAK = {k: (6 if v is not None else None) for k, v in FULL.items()}
ASPECTS = {"approach": "Cách làm sáng tạo", "experience": "Kinh nghiệm", "spread": "Lan tỏa 12 khoa",
           "effectiveness": "Tiết kiệm 120 triệu đồng", "sustainability": "Duy trì 3 năm"}
HOSTILE = "Tổ “A & B” <x> \"q\" 'p'\nxuống dòng\x07"
# (unit, title, person, position) in registration order: units deliberately out of configured order
ENTRIES_2024 = [
    ("CDC", "Tủ sách pháp luật điện tử", None, None),
    ("BVDK", "Bữa cơm công đoàn", None, None),
    ("BVNHI", "Ngày hội văn hóa", None, None),
    ("BVDK", "Sổ tay điện tử", None, None),
    ("CDC", "Gương sáng Đông", "Hoàng Văn Đông", "Bác sĩ"),
    ("BVDK", "Gương sáng Ánh", "Trần Thị Ánh", "Điều dưỡng trưởng khoa Nội"),
    ("BVNHI", "Gương sáng Ăn", "Ngô Văn Ăn", "Dược sĩ"),
    ("BVDK", "Gương sáng An", "Nguyễn Văn An", "Kỹ thuật viên"),
    ("CDC", "Gương sáng Anh", "Đỗ Thị Anh", "Hộ lý"),
    ("BVNHI", "Gương sáng Ân", "Bùi Văn Ân", "Y sĩ"),
    ("BVDK", "Gương sáng Dung", "Nguyễn Thị Dung", "Nữ hộ sinh"),
    ("CDC", "Gương sáng Bình", "Lê Bình", "Tài xế"),
    ("BVNHI", "Gương sáng An (2)", "Lê Thị An", "Điều dưỡng"),
    ("BVDK", "=SUM(A1:A3)", None, None),
    ("BVNHI", HOSTILE, None, None),
    ("CDC", "Mô hình còn yếu", None, None),  # scored below the pass mark
]
PEOPLE_ORDER = ["Lê Thị An", "Nguyễn Văn An", "Đỗ Thị Anh", "Trần Thị Ánh", "Ngô Văn Ăn", "Bùi Văn Ân",
                "Lê Bình", "Nguyễn Thị Dung", "Hoàng Văn Đông"]
COLLECTIVE_ORDER = ["Bữa cơm công đoàn", "Sổ tay điện tử", "=SUM(A1:A3)", "Ngày hội văn hóa",
                    "Tổ “A & B” <x> \"q\" 'p' xuống dòng", "Tủ sách pháp luật điện tử"]
MEMBERS = ["Trần Thị Mai", "Nguyễn Văn Hùng"]


def _build(path: Path) -> None:
    from dvk.cycle.config import criteria_for
    from dvk.cycle.entries import register, validate_entry
    from dvk.cycle.evidence import save_confirmation, save_report
    from dvk.cycle.setup import init_ledger, set_profile
    from dvk.cycle.units import list_units, upsert_units

    led, _ = init_ledger(path, user="thư ký", profile={}, criteria_file=None)
    try:
        with led.write(user="thư ký", command="test units") as tx:
            upsert_units(tx, [{"code": c, "name": n, "committee": k} for c, n, k in UNITS])
        _year(led, 2023, [("BVNHI", "Câu lạc bộ “Nói lời hay”", None, None),
                          ("BVDK", "Gương sáng 2023", "Phạm Thị Hoa", "Điều dưỡng")], number=3)
        _year(led, YEAR, ENTRIES_2024, number=5)
        # 2025: the profile changes (province merger), nothing decided yet, units still owe things
        with led.write(user="thư ký", command="test org") as tx:
            set_profile(tx, 2025, {"org": "Công đoàn Sở Y tế tỉnh Đồng Nai", "signer": "Lê Văn Mới",
                                       "symbol": "CĐYT"})
        with led.write(user="thư ký", command="test 2025") as tx:
            crit = criteria_for(tx.conn, 2025)
            units = {u["code"]: u for u in list_units(tx.conn)}
            ids = []
            for unit, title in [("BVDK", "Chưa có báo cáo"), ("CDC", "Báo cáo thiếu"), ("BVNHI", "Đủ hồ sơ")]:
                e = validate_entry(year=2025, unit_code=unit, title=title, field=2, crit=crit, units=units,
                                       registered_on=dt.date(2025, 2, 5))
                ids.append(register(tx, e)["id"])
            save_report(tx, ids[1], {"approach": "Có cách làm"}, dt.date(2025, 8, 1), None)
            save_report(tx, ids[2], ASPECTS, dt.date(2025, 8, 1), None)
            save_confirmation(tx, ids[2], committee=None, by="Bí thư", on=dt.date(2025, 9, 1), comment=None,
                                  rejected=False, reason=None)
    finally:
        led.close()


def _year(led, year: int, entries, *, number: int) -> None:
    from dvk.cycle.config import criteria_for
    from dvk.cycle.entries import register, validate_entry
    from dvk.cycle.evidence import save_confirmation, save_report, save_scores
    from dvk.cycle.recognition import plan_recognition, recognize
    from dvk.cycle.units import list_units

    with led.write(user="thư ký", command=f"test {year}") as tx:
        crit = criteria_for(tx.conn, year)
        units = {u["code"]: u for u in list_units(tx.conn)}
        for i, (unit, title, person, position) in enumerate(entries):
            e = validate_entry(year=year, unit_code=unit, title="x", field=1 + i % 5, crit=crit, units=units,
                                   subject="individual" if person else "collective", person=person,
                                   position=position, registered_on=dt.date(year, 2, 1 + i),
                                   kind="exemplar" if person else "model")
            e.title = title  # as imported, unchanged (the hostile title keeps its line break)
            eid = register(tx, e)["id"]
            save_report(tx, eid, ASPECTS, dt.date(year, 8, 1), None)
            save_confirmation(tx, eid, committee=None, by="Bí thư", on=dt.date(year, 9, 1), comment=None,
                                  rejected=False, reason=None)
            for m in MEMBERS:
                save_scores(tx, eid, m, WEAK if title == "Mô hình còn yếu" else FULL)
        plan = plan_recognition(tx.conn, year, number, None)
        recognize(tx, plan)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The ledger built once per module: a file (on PostgreSQL, also copied onto a template database)."""
    path = tmp_path_factory.mktemp("ledger") / "so.sqlite"
    _build(path)
    yield from server_template(path, "export")


@pytest.fixture
def led(built, dvk, db):
    """A fresh copy of the built ledger for this test, used by the `dvk` runner."""
    clone_ledger(built, db)
    return dvk


# --------------------------------------------------------------------------- helpers


def paragraphs(doc) -> list[str]:
    return [Paragraph(p, doc._body).text for p in doc.element.body.iter(qn("w:p"))]


def text_of(path: Path) -> str:
    return "\n".join(paragraphs(Document(str(path))))


def list_rows(path: Path) -> list[list[str]]:
    """The rows of the document's longest table (the list), cells as text."""
    doc = Document(str(path))
    table = max(doc.tables, key=lambda t: len(t.rows))
    return [[c.text for c in r.cells] for r in table.rows]


def titles_by_group(path: Path, col: int = 1) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    current = None
    for row in list_rows(path)[1:]:
        if re.match(r"^[IVX]+\. ", row[0]) and len(set(row)) == 1:
            current = row[0]
            groups[current] = []
        elif current:
            groups[current].append(row[col])
    return groups


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def documents(db: Path) -> list[dict]:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute("SELECT * FROM document ORDER BY name")]
    finally:
        con.close()


YEAR_FILES = ["bao-cao-ket-qua-2024.docx", "danh-sach-dang-ky-2024.docx", "phieu-cham-diem-2024.docx",
              "quyet-dinh-cong-nhan-2024.docx", "tong-hop-2024.xlsx"]


@pytest.fixture
def exported(led, tmp_path):
    out = tmp_path / "out"
    res = led("export", "--year", YEAR, "--out", out)
    return out, res


# --------------------------------------------------------------------------- files and table


def test_export_writes_the_year_files_and_prints_their_digests(exported):
    out, res = exported
    assert sorted(p.name for p in out.iterdir()) == YEAR_FILES
    for name in YEAR_FILES:
        assert name in res.stdout
        assert sha(out / name)[:12] in res.stdout
    # the hostile title's control character was dropped and said so
    assert "U+0007" in res.stderr


def test_decision_text_numbering_date_and_legal_bases(exported):
    out, _ = exported
    text = text_of(out / "quyet-dinh-cong-nhan-2024.docx")
    assert "Số: 05/QĐ-CĐN" in text
    assert "Đồng Nai, ngày 15 tháng 10 năm 2024" in text
    assert "Về việc công nhận mô hình, điển hình “Dân vận khéo” năm 2024" in text
    assert "BAN THƯỜNG VỤ CÔNG ĐOÀN NGÀNH Y TẾ TỈNH ĐỒNG NAI" in text
    assert "Căn cứ Điều lệ Công đoàn Việt Nam;" in text
    assert ("Căn cứ Công văn số 69/CĐN ngày 14/5/2021 của Ban Thường vụ Công đoàn ngành Y tế tỉnh Đồng Nai "
            "về việc hướng dẫn tiêu chí") in text
    assert "Xét đề nghị của Hội đồng Thi đua - Khen thưởng" in text
    assert "Công nhận 15 mô hình, điển hình “Dân vận khéo” năm 2024 (gồm 6 tập thể và 9 cá nhân)" in text
    assert "(Kèm theo Quyết định số 05/QĐ-CĐN ngày 15/10/2024 của Ban Thường vụ Công đoàn ngành Y tế" in text
    assert "TM. BAN THƯỜNG VỤ" in text and "Đàm Đức Chính" in text
    assert re.search(r"Nơi nhận:\n- Như Điều 3;\n", text)
    assert "Mô hình còn yếu" not in text  # below the pass mark: not in the decision


def test_decision_list_grouped_in_unit_order_and_vietnamese_name_order(exported):
    out, _ = exported
    path = out / "quyet-dinh-cong-nhan-2024.docx"
    groups = titles_by_group(path)
    assert list(groups) == ["I. Tập thể", "II. Cá nhân"]
    assert groups["I. Tập thể"] == COLLECTIVE_ORDER
    people = [r[2].split(",")[0] for r in list_rows(path)[1:] if "," in r[2]]
    assert people == PEOPLE_ORDER
    assert people != sorted(people)  # Python's order would be wrong
    anh = next(r for r in list_rows(path) if r[2].startswith("Trần Thị Ánh"))
    assert anh[2] == "Trần Thị Ánh, Điều dưỡng trưởng khoa Nội"
    assert anh[3] == "Công đoàn Bệnh viện Đa khoa Đồng Nai"
    assert re.fullmatch(r"\d{2},\d{2}", anh[5])  # decimal comma
    assert [r[0] for r in list_rows(path)[2:8]] == ["1", "2", "3", "4", "5", "6"]


def test_page_setup_margins_and_fonts(exported):
    out, _ = exported
    for name in YEAR_FILES[:-1]:
        doc = Document(str(out / name))
        for s in doc.sections:
            short, long_ = sorted((s.page_width.mm, s.page_height.mm))
            assert abs(short - 210) < 0.5 and abs(long_ - 297) < 0.5, name
            assert 20 <= round(s.top_margin.mm) <= 25 and 20 <= round(s.bottom_margin.mm) <= 25
            assert 30 <= round(s.left_margin.mm) <= 35 and 15 <= round(s.right_margin.mm) <= 20
        assert doc.styles["Normal"].font.name == "Times New Roman"
        with zipfile.ZipFile(out / name) as z:
            styles = z.read("word/styles.xml").decode()
        assert 'w:ascii="Times New Roman"' in styles


def test_hostile_title_is_escaped_not_lost(exported):
    out, _ = exported
    for name in ("quyet-dinh-cong-nhan-2024.docx", "danh-sach-dang-ky-2024.docx"):
        text = text_of(out / name)
        assert "Tổ “A & B” <x> \"q\" 'p' xuống dòng" in text
        assert "\x07" not in text
        with zipfile.ZipFile(out / name) as z:
            xml = z.read("word/document.xml").decode()
        assert "&amp; B” &lt;x&gt;" in xml


def test_registration_list_and_score_sheets(exported):
    out, _ = exported
    reg = out / "danh-sach-dang-ky-2024.docx"
    text = text_of(reg)
    assert "(Tính đến ngày 15/10/2024)" in text
    assert "Tổng cộng: 16 mô hình, điển hình (gồm 7 tập thể và 9 cá nhân)" in text
    row = next(r for r in list_rows(reg) if r[2] == "Bữa cơm công đoàn")
    assert row[1] == "2024-002" and row[6] == "02/02/2024"
    sheets = text_of(out / "phieu-cham-diem-2024.docx")
    # members who scored, in name order (Hùng < Mai), every ready entry once per member
    assert sheets.count("PHIẾU CHẤM ĐIỂM") == 16 * 2
    assert sheets.index("Nguyễn Văn Hùng") < sheets.index("Trần Thị Mai")
    assert "Thật sự tiêu biểu trong thực hiện các phong trào thi đua yêu nước" in sheets
    assert "tiêu chí có dấu * (S1–S6) nếu không áp dụng thì ghi “KAD”" in sheets


def test_score_sheets_for_named_members(led, tmp_path):
    out = tmp_path / "out"
    led("export", "--year", YEAR, "--out", out, "--member", "Lê Văn Tám", "--member", "  Lê  Văn Tám ")
    text = text_of(out / "phieu-cham-diem-2024.docx")
    assert text.count("PHIẾU CHẤM ĐIỂM") == 16
    assert "Lê Văn Tám" in text and "Trần Thị Mai" not in text


def test_results_report_counts_and_reasons(exported):
    out, _ = exported
    text = text_of(out / "bao-cao-ket-qua-2024.docx")
    assert "Tổng số mô hình, điển hình: 16 " in text
    assert "được công nhận: 15; không được công nhận: 1." in text
    assert "Quyết định số 05/QĐ-CĐN ngày 15/10/2024" in text
    assert "thấp hơn điểm đạt 80" in text


def test_workbook_sheets_dates_scores_and_formula_safety(exported):
    import openpyxl

    out, _ = exported
    wb = openpyxl.load_workbook(out / "tong-hop-2024.xlsx")
    assert wb.sheetnames == ["Đăng ký", "Báo cáo", "Xác nhận", "Chấm điểm", "Kết quả", "Thống kê", "Tiêu chí"]
    reg = wb["Đăng ký"]
    assert reg.freeze_panes == "A2" and reg.auto_filter.ref == "A1:K17"
    formula = next(r for r in reg.iter_rows(min_row=2) if r[2].value == "=SUM(A1:A3)")
    assert formula[2].data_type == "s"
    assert formula[7].value == dt.datetime(2024, 2, 14) and formula[7].number_format == "dd/mm/yyyy"
    scores = wb["Chấm điểm"]
    assert [c.value for c in scores[1]][:5] == ["Mã hồ sơ", "Tên mô hình, điển hình", "Thành viên Hội đồng", "G1", "G2"]
    assert scores.max_row == 1 + 16 * 2  # two members' sheets per entry; the aggregate is in "Kết quả"
    assert scores.auto_filter.ref == "A1:P33"
    first = [c.value for c in scores[2]]
    assert first[2] == "Nguyễn Văn Hùng" and first[3] == 9 and first[10] == "KAD"
    res = wb["Kết quả"]
    agg = next(r for r in res.iter_rows(min_row=2) if r[0].value == first[0])
    assert agg[5].value == 89  # (Σ general 44.5×8 + Σ specific 44.5×10) / 90 weights, S3 not applicable
    statuses = [r[6].value for r in res.iter_rows(min_row=2)]
    assert statuses.count("Được công nhận") == 15 and statuses.count("Không được công nhận") == 1
    assert wb["Tiêu chí"]["A2"].value == "G1" and wb["Tiêu chí"]["C2"].value == 8
    assert wb.properties.identifier.startswith("dvk:") and wb.properties.identifier.endswith(":workbook:2024:05")


# --------------------------------------------------------------------------- safety and trust


def test_refuses_to_overwrite_then_force_backs_up(led, tmp_path, db):
    out = tmp_path / "out"
    led("export", "--year", YEAR, "--out", out)
    (out / "quyet-dinh-cong-nhan-2024.docx").write_bytes(b"signed copy")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    res = led.fails("export", "--year", YEAR, "--out", out)
    assert "không ghi đè" in res.stderr and "quyet-dinh-cong-nhan-2024.docx" in res.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    led("export", "--year", YEAR, "--out", out, "--force")
    assert (out / "quyet-dinh-cong-nhan-2024.docx").read_bytes() != b"signed copy"
    kept = list(backup_folder(db).glob("*-force.files/quyet-dinh-cong-nhan-2024.docx"))
    assert len(kept) == 1 and kept[0].read_bytes() == b"signed copy"


def test_same_ledger_state_exports_identical_bytes_and_records_them(led, tmp_path, db):
    a, b = tmp_path / "a", tmp_path / "b"
    led("export", "--year", YEAR, "--out", a)
    led("export", "--year", YEAR, "--out", b)
    for name in YEAR_FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    rows = {r["name"]: r for r in documents(db)}
    for name in YEAR_FILES:
        assert rows[name]["sha256"] == sha(a / name)
        assert rows[name]["year"] == YEAR
    assert rows["quyet-dinh-cong-nhan-2024.docx"]["kind"] == "decision"
    assert rows["quyet-dinh-cong-nhan-2024.docx"]["decision_id"] is not None
    # each export is one history record, and the ledger still verifies
    hist = led("history", "--limit", "2").stdout
    assert hist.count("Xuất văn bản năm 2024") == 2
    led("verify")


def test_verify_doc_match_modified_unknown_and_revoked(led, tmp_path):
    out = tmp_path / "out"
    led("export", "--year", YEAR, "--out", out)
    decision = out / "quyet-dinh-cong-nhan-2024.docx"
    res = led("verify-doc", decision)
    assert "Quyết định số 05/QĐ-CĐN ngày 15/10/2024" in res.stdout and "khớp với sổ" in res.stdout
    assert json.loads(led("verify-doc", out / "tong-hop-2024.xlsx", "--json").stdout)["matches"] is True

    # modified: same identifier, other bytes
    changed = tmp_path / "sua.docx"
    with zipfile.ZipFile(decision) as zin, zipfile.ZipFile(changed, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "word/document.xml":
                data = data.replace("Bữa cơm công đoàn".encode(), "Bữa cơm đã sửa".encode())
            zout.writestr(item, data)
    res = led.fails("verify-doc", changed)
    assert "Quyết định số 05/QĐ-CĐN năm 2024" in res.stderr and "đã bị sửa" in res.stderr

    # unknown: a Word file dvk never wrote
    other = tmp_path / "khac.docx"
    Document().save(other)
    assert "không rõ nguồn gốc" in led.fails("verify-doc", other).stderr

    # revoked since: the exported file no longer stands
    led("recognize", "--revoke", "--year", YEAR, "--reason", "Sai sót trong hồ sơ")
    res = led.fails("verify-doc", decision)
    assert "đã bị thu hồi" in res.stderr and "Sai sót trong hồ sơ" in res.stderr
    assert "dựa vào đã bị thu hồi" in led.fails("verify-doc", out / "bao-cao-ket-qua-2024.docx").stderr
    assert led("verify-doc", out / "danh-sach-dang-ky-2024.docx").exit_code == 0  # registrations unchanged


def test_verify_doc_sees_a_ledger_change_after_export(led, tmp_path):
    out = tmp_path / "out"
    led("export", "--year", 2025, "--out", out, "--date", "20/09/2025")
    led("register", "--year", 2025, "--unit", "CDC", "--title", "Mô hình mới", "--field", "3", "--date", "06/02/2025")
    res = led.fails("verify-doc", out / "danh-sach-dang-ky-2025.docx")
    assert "Sổ đã thay đổi từ khi xuất tệp này" in res.stderr


def test_without_a_decision_everything_else_is_written(led, tmp_path):
    out = tmp_path / "out"
    res = led("export", "--year", 2025, "--out", out, "--date", "05/02/2025")
    names = sorted(p.name for p in out.iterdir())
    assert "quyet-dinh-cong-nhan-2025.docx" not in names
    assert "danh-sach-dang-ky-2025.docx" in names and "tong-hop-2025.xlsx" in names
    assert "chưa có quyết định công nhận" in res.stdout and "dvk recognize --year 2025" in res.stdout
    text = text_of(out / "danh-sach-dang-ky-2025.docx")
    assert "Đồng Nai, ngày 05 tháng 02 năm 2025" in text  # leading zeros for day and month
    assert "(Tính đến ngày 05/02/2025)" in text


def test_profile_in_force_for_the_year_heads_the_documents(led, tmp_path):
    out = tmp_path / "out"
    led("export", "--year", 2025, "--out", out, "--date", "20/09/2025")
    led("export", "--year", YEAR, "--out", out)
    new = text_of(out / "danh-sach-dang-ky-2025.docx")
    old = text_of(out / "danh-sach-dang-ky-2024.docx")
    # the header breaks a long name before its place, one line each
    assert "CÔNG ĐOÀN SỞ Y TẾ\nTỈNH ĐỒNG NAI" in new and "Lê Văn Mới" in new
    assert "CÔNG ĐOÀN NGÀNH Y TẾ\nTỈNH ĐỒNG NAI" in old and "Đàm Đức Chính" in old
    assert "Lê Văn Mới" not in old


def test_reminder_letter_lists_what_each_unit_lacks(led, tmp_path):
    out = tmp_path / "out"
    led("export", "--year", 2025, "--out", out, "--reminders", "--date", "10/09/2025")
    text = text_of(out / "cong-van-nhac-2025.docx")
    assert "Số:" in text and "/CĐYT" in text
    assert "V/v đôn đốc hoàn thiện hồ sơ mô hình, điển hình “Dân vận khéo” năm 2025" in text
    bvdk = text.index("Công đoàn Bệnh viện Đa khoa Đồng Nai\n")
    cdc = text.index("Công đoàn Trung tâm Kiểm soát bệnh tật tỉnh\n", bvdk)
    assert "2025-001 “Chưa có báo cáo”: còn thiếu báo cáo thành tích; xác nhận của cấp ủy" in text[bvdk:cdc]
    assert "2025-002 “Báo cáo thiếu”: còn thiếu nội dung báo cáo: Kinh nghiệm" in text[cdc:]
    assert "Đủ hồ sơ" not in text  # the complete one owes nothing (scoring is the council's)
    assert "30/09/2025" in text  # default deadline: 15 days before 15 October
    led("export", "--year", 2025, "--out", tmp_path / "o2", "--reminders", "--deadline", "05/10/2025",
        "--date", "10/09/2025")
    assert "05/10/2025" in text_of(tmp_path / "o2" / "cong-van-nhac-2025.docx")
    assert "đã có quyết định công nhận" in led("export", "--year", YEAR, "--out", tmp_path / "o3",
                                              "--reminders").stdout


def test_phase_proposal_lists_the_years_exemplars(led, tmp_path):
    import openpyxl

    out = tmp_path / "out"
    assert "dvk propose --phase 2021-2025" in " ".join(
        led.fails("export", "--phase", "2021-2025", "--out", out, "--date", "20/11/2025").stderr.split())
    _propose_recognised(led.db)  # every recognised entry, as before `dvk propose`
    res = led("export", "--phase", "2021-2025", "--out", out, "--date", "20/11/2025")
    assert sorted(p.name for p in out.iterdir()) == ["to-trinh-khen-thuong-2021-2025.docx",
                                                      "tong-hop-2021-2025.xlsx"]
    assert "Năm 2025 chưa có quyết định công nhận" in res.stdout
    path = out / "to-trinh-khen-thuong-2021-2025.docx"
    text = text_of(path)
    assert "Kính gửi: Ban Thường vụ Liên đoàn Lao động tỉnh Đồng Nai" in text
    assert "Đồng Nai, ngày 20 tháng 11 năm 2025" in text and "/TTr-CĐYT" in text  # the 2025 profile
    # "Như trên" already covers the addressee: it is not listed again as "Ban Thường vụ LĐLĐ tỉnh".
    assert "- Như trên;" in text and "LĐLĐ tỉnh" not in text.split("Nơi nhận:")[1]
    rows = list_rows(path)
    years = [r[4] for r in rows[1:] if r[4].isdigit()]  # column "Năm công nhận"
    assert years.count("2023") == 2 and years.count("2024") == 15
    first = next(r for r in rows if r[4] == "2023")
    assert first[6].startswith("QĐ số 03/QĐ-CĐN ngày ")
    wb = openpyxl.load_workbook(out / "tong-hop-2021-2025.xlsx")
    assert wb.sheetnames == ["Tổng hợp", "Đề nghị khen thưởng", "2021", "2022", "2023", "2024", "2025"]
    proposed = [r[1].value for r in wb["Đề nghị khen thưởng"].iter_rows(min_row=2) if r[1].value]
    assert len(proposed) == len(years)  # the workbook holds the proposal's list, one row a row
    assert [c.value for c in wb["Tổng hợp"][5]][:4] == [2024, 16, 15, 1]
    assert led("verify-doc", path).exit_code == 0


@pytest.mark.sqlite_only("templates in a folder beside the ledger file (a server ledger has none: --templates)")
def test_templates_beside_the_ledger_are_used(led, tmp_path, db):
    from dvk.reports.sandbox import find_template

    folder = db.parent / "templates"
    folder.mkdir()
    src = find_template("danh-sach-dang-ky.docx")
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(folder / "danh-sach-dang-ky.docx", "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "word/document.xml":
                data = data.replace(b"{{ as_of }}", b"{{ nam }}", 1)
            zout.writestr(item, data)
    res = led.fails("export", "--year", YEAR, "--out", tmp_path / "out")
    assert "danh-sach-dang-ky.docx" in res.stderr and "{{ nam }}" in res.stderr


def test_json_output(led, tmp_path):
    out = tmp_path / "out"
    data = json.loads(led("export", "--year", YEAR, "--out", out, "--json").stdout)
    assert sorted(Path(f["path"]).name for f in data["files"]) == YEAR_FILES
    assert all(f["sha256"] == sha(Path(f["path"])) for f in data["files"])
    check = json.loads(led("verify-doc", out / "quyet-dinh-cong-nhan-2024.docx", "--json").stdout)
    assert check["matches"] and check["kind"] == "decision" and check["year"] == YEAR


def test_usage_errors(led, tmp_path):
    assert "chưa có mô hình, điển hình nào" in led.fails("export", "--year", 2030, "--out", tmp_path / "o").stderr
    assert not (tmp_path / "o").exists()
    assert "Không tìm thấy tệp" in led.fails("verify-doc", tmp_path / "khong-co.docx").stderr
    assert "--year" in led.fails("export", "--out", tmp_path).stderr
    assert "chỉ dùng với --year" in led.fails("export", "--phase", "2021-2025", "--out", tmp_path,
                                              "--reminders").stderr
    assert "Giai đoạn" in led.fails("export", "--phase", "2021", "--out", tmp_path).stderr


def test_pdf_without_libreoffice_writes_word_and_says_how_to_install(led, tmp_path, monkeypatch):
    from dvk.reports import pdf

    monkeypatch.setattr(pdf, "find_soffice", lambda: None)
    out = tmp_path / "out"
    res = led("export", "--year", YEAR, "--out", out, "--pdf")
    assert res.exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == YEAR_FILES
    assert "libreoffice-writer-nogui" in res.stdout


def test_demo_writes_every_document(tmp_path):
    from typer.testing import CliRunner

    from dvk.cli import app

    out = tmp_path / "demo"
    res = CliRunner().invoke(app, ["demo", "--out", str(out)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    names = {p.name for p in out.iterdir()}
    for name in ["quyet-dinh-cong-nhan-2025.docx", "danh-sach-dang-ky-2025.docx", "phieu-cham-diem-2025.docx",
                 "bao-cao-ket-qua-2025.docx", "tong-hop-2025.xlsx", "cong-van-nhac-2025.docx",
                 "to-trinh-khen-thuong-2021-2025.docx", "tong-hop-2021-2025.xlsx"]:
        assert name in names, name


@pytest.mark.slow
def test_pdf_through_libreoffice(led, tmp_path):
    if not (shutil.which("soffice") or shutil.which("libreoffice")):
        pytest.skip("LibreOffice (soffice) is not installed")
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    out = tmp_path / "out"
    led("export", "--year", YEAR, "--out", out, "--pdf")
    pdf = out / "quyet-dinh-cong-nhan-2024.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    for needle in ("QUYẾT ĐỊNH", "Số: 05/QĐ-CĐN", "Đồng Nai, ngày 15 tháng 10 năm 2024", "TM. BAN THƯỜNG VỤ",
                   "Đàm Đức Chính", "I. Tập thể", "II. Cá nhân", "Trần Thị Ánh"):
        assert needle in text, needle
    pages = text.split("\f")[:-1]
    assert "Điều 3." in pages[0] and "Đàm Đức Chính" in pages[0]  # the decision on its first page
    assert "DANH SÁCH MÔ HÌNH, ĐIỂN HÌNH" in pages[1]  # the list starts on a page of its own
    assert all(p.strip() for p in pages)  # no blank page
    # each score sheet fits one page: 16 entries x 2 members
    sheets = subprocess.run(["pdftotext", str(out / "phieu-cham-diem-2024.pdf"), "-"], capture_output=True,
                            text=True, check=True).stdout
    assert sheets.count("\f") == 32
    # PDFs are recorded and verify through their Word source
    assert led("verify-doc", pdf).exit_code == 0


def _propose_recognised(db) -> None:
    """`dvk propose --phase 2021-2025` every entry recognised by a decision in force (the phase
    proposal lists only the chosen entries)."""
    from typer.testing import CliRunner

    from dvk.cli import app

    con = sqlite3.connect(db)
    ids = [r[0] for r in con.execute("SELECT entry_id FROM outcome JOIN decision d ON d.id = decision_id "
                                     "WHERE recognized AND NOT d.revoked ORDER BY entry_id")]
    con.close()
    res = CliRunner().invoke(app, ["propose", "--db", str(db), "--user", "thư ký", "--phase", "2021-2025", *ids])
    assert res.exit_code == 0, res.output
