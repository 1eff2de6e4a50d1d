"""Issue 12: documents a clerk can sign — valid OOXML, Decree-30 details, the guidance in force,
revocation decisions, the phase proposal. Every check opens the files dvk wrote through the CLI."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn

from conftest import ASPECTS, FULL

ROOT = Path(__file__).resolve().parents[2]


def _text(path: Path) -> str:
    doc = Document(str(path))
    out = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        for row in t.rows:
            for cell in row.cells:
                out.extend(p.text for p in cell.paragraphs)
    return "\n".join(out)


def _findings(path: Path) -> list[str]:
    """Every finding of the OOXML validator (openxml-audit, the test extra), any severity, in-process."""
    openxml_audit = pytest.importorskip("openxml_audit")
    return [f"{e.description} ({getattr(e, 'part', '')} {getattr(e, 'path', '')})"
            for e in openxml_audit.OpenXmlValidator().validate(str(path)).errors]


@pytest.fixture
def decided(ledger, tmp_path):
    """A 2024 year decided (one collective, one individual), exported."""
    eids = []
    for unit, subject in (("BVDK", []), ("BVNHI", ["--individual", "Nguyễn Thị Ánh", "--position", "Điều dưỡng"])):
        eid = ledger("register", "--year", "2024", "--unit", unit, "--title", f"Mô hình {unit}", "--field", "1",
                     "--date", "10/02/2024", *subject).stdout.strip()
        ledger("report", eid, *ASPECTS)
        ledger("confirm", eid, "--by", "Bí thư Trần Văn Bình")
        ledger("score", eid, "--member", "Nguyễn Văn An", *FULL)
        eids.append(eid)
    ledger("recognize", "--year", "2024", "--number", "9", "--date", "09/10/2024")
    out = tmp_path / "out"
    ledger("export", "--year", "2024", "--out", out)
    return ledger, out, eids


def test_every_exported_docx_validates(decided):
    """Every .docx of a decided year, through the OOXML validator in-process: no finding at all (any
    severity). The packaged templates are validated by tests/reports/test_ooxml_valid.py."""
    _, out, _ = decided
    files = sorted(out.glob("*.docx"))
    assert any(f.name.startswith("quyet-dinh") for f in files)
    for f in files:
        assert _findings(f) == [], f.name


def test_section_mark_properties_precede_the_section(decided):
    _, out, _ = decided
    body = Document(str(out / "quyet-dinh-cong-nhan-2024.docx")).element.body
    for ppr in body.iter(qn("w:pPr")):
        sect = ppr.find(qn("w:sectPr"))
        if sect is not None:
            tags = [c.tag for c in ppr]
            assert qn("w:rPr") not in tags[tags.index(qn("w:sectPr")):]


def test_attached_list_numbers_its_own_pages_from_one(decided):
    _, out, _ = decided
    doc = Document(str(out / "quyet-dinh-cong-nhan-2024.docx"))
    main, annex = doc.sections[0], doc.sections[1]
    assert main._sectPr.find(qn("w:pgNumType")) is None
    pg = annex._sectPr.find(qn("w:pgNumType"))
    assert pg is not None and pg.get(qn("w:start")) == "1"
    assert annex.different_first_page_header_footer  # no number on the list's first page
    assert "PAGE" in "".join(t.text or "" for t in annex.header._element.iter(qn("w:instrText")))


def test_attached_line_is_italic_not_bold_and_last_basis_ends_with_a_comma_or_period(decided):
    _, out, _ = decided
    doc = Document(str(out / "quyet-dinh-cong-nhan-2024.docx"))
    p = next(p for p in doc.paragraphs if p.text.startswith("(Kèm theo Quyết định số 09/QĐ-"))
    assert all(r.italic for r in p.runs if r.text.strip())
    assert all(r.bold is False for r in p.runs if r.text.strip())


def test_metadata_says_what_the_document_is(decided):
    _, out, _ = decided
    for f in out.glob("*.docx"):
        core = zipfile.ZipFile(f).read("docProps/core.xml").decode()
        assert "Mẫu văn bản" not in core and "lastPrinted" not in core, f.name
        assert Document(str(f)).core_properties.subject.endswith("năm 2024"), f.name
    for f in (ROOT / "templates").glob("*.docx"):
        core = zipfile.ZipFile(f).read("docProps/core.xml").decode()
        assert "Mẫu văn bản dvk" not in core and "lastPrinted" not in core, f.name


def _header_lines(path: Path) -> list[str]:
    cell = Document(str(path)).tables[0].rows[0].cells[0]
    return [p.text for p in cell.paragraphs if p.text.strip()]


def test_header_breaks_a_long_name_before_its_place(decided):
    _, out, _ = decided
    lines = _header_lines(out / "quyet-dinh-cong-nhan-2024.docx")
    assert "CÔNG ĐOÀN NGÀNH Y TẾ" in lines and "TỈNH ĐỒNG NAI" in lines
    assert not any(line.endswith("TỈNH") for line in lines)


def test_profile_line_breaks_are_kept_in_the_header_only(decided, tmp_path):
    led, _, _ = decided
    led("org", "set", "--from-year", "2025", "--org", "Công đoàn ngành Y tế\ntỉnh Đồng Nai mới")
    led("register", "--year", "2025", "--unit", "BVDK", "--title", "Mô hình 2025", "--field", "2",
        "--date", "10/02/2025")
    out = tmp_path / "o25"
    led("export", "--year", "2025", "--out", out)
    f = out / "danh-sach-dang-ky-2025.docx"
    assert _header_lines(f)[-2:] == ["CÔNG ĐOÀN NGÀNH Y TẾ", "TỈNH ĐỒNG NAI MỚI"]
    assert Document(str(f)).core_properties.author == "Công đoàn ngành Y tế tỉnh Đồng Nai mới"


# ---------------------------------------------------------------- the phase in force

GUIDE = ["--guidance-number", "12/HD-CĐN", "--guidance-date", "05/03/2026", "--guidance-issuer",
         "Ban Thường vụ Công đoàn ngành Y tế tỉnh Đồng Nai", "--guidance-subject",
         "hướng dẫn tiêu chí “Dân vận khéo” giai đoạn 2026-2030"]


def _flat(text: str) -> str:
    """A message as one line (the console wraps long ones)."""
    return " ".join(text.split())


def _year_2026(led, eid_title="Mô hình 2026"):
    eid = led("register", "--year", "2026", "--unit", "BVDK", "--title", eid_title, "--field", "2",
              "--date", "10/02/2026").stdout.strip().splitlines()[0]
    led("report", eid, *ASPECTS)
    led("confirm", eid, "--by", "Bí thư Trần Văn Bình")
    led("score", eid, "--member", "Nguyễn Văn An", *FULL)
    return eid


def test_a_year_outside_the_phase_warns_and_recognize_refuses(ledger, tmp_path):
    res = ledger("register", "--year", "2026", "--unit", "BVDK", "--title", "Mô hình 2026", "--field", "2",
                 "--date", "10/02/2026")
    assert "ngoài giai đoạn 2021-2025" in _flat(res.stderr) and "dvk criteria new --phase 2026-2030" in _flat(res.stderr)
    assert "ngoài giai đoạn 2021-2025" in _flat(ledger("check", "--year", "2026").stderr)
    out = tmp_path / "o"
    assert "ngoài giai đoạn 2021-2025" in _flat(ledger("export", "--year", "2026", "--out", out).stdout)
    res = ledger.fails("recognize", "--year", "2026", "--number", "1")
    assert "ngoài giai đoạn 2021-2025" in _flat(res.stderr)
    assert "dvk criteria use tieu-chi-2026-2030.toml --from-year 2026" in _flat(res.stderr)
    assert "ngoài giai đoạn" not in ledger("register", "--year", "2025", "--unit", "BVDK", "--title", "M",
                                            "--field", "1", "--date", "10/02/2025").stderr


def test_criteria_new_writes_a_phase_file_and_use_refuses_incomplete_guidance(ledger, tmp_path):
    half = tmp_path / "half.toml"
    res = ledger("criteria", "new", "--phase", "2026-2030", "--guidance-number", "12/HD-CĐN", "--out", half)
    assert "date, issuer, subject" in _flat(res.stdout)
    text = half.read_text(encoding="utf-8")
    import tomllib

    data = tomllib.loads(text)
    assert data["phase"] == "2026-2030" and "2021" not in data["name"]
    assert data["guidance"] == {"kind": "Công văn", "number": "12/HD-CĐN", "date": "", "issuer": "", "subject": ""}
    assert len(data["criteria"]) == 11 and len(data["fields"]) == 5  # the current set's criteria, kept
    res = ledger.fails("criteria", "use", half, "--from-year", "2026")
    for key in ("guidance.date", "guidance.issuer", "guidance.subject"):
        assert key in _flat(res.stderr)
    assert "guidance.number" not in res.stderr
    # an old-style file without a [guidance] table is refused too
    old = tmp_path / "old.toml"
    old.write_text(re.sub(r"(?m)^\[guidance\]\n(?:\w+ = .*\n)*", "", text), encoding="utf-8")
    assert "\n[guidance]" not in old.read_text(encoding="utf-8")
    assert "thiếu bảng [guidance]" in _flat(ledger.fails("criteria", "use", old, "--from-year", "2026").stderr)
    full = tmp_path / "full.toml"
    ledger("criteria", "new", "--phase", "2026-2030", *GUIDE, "--out", full)
    ledger("criteria", "use", full, "--from-year", "2026")
    assert ledger.fails("criteria", "new", "--phase", "2026-2030", "--out", full).exit_code == 1  # never overwrites


def test_documents_cite_the_guidance_of_the_years_set(decided, tmp_path):
    led, out24, _ = decided
    full = tmp_path / "full.toml"
    led("criteria", "new", "--phase", "2026-2030", *GUIDE, "--out", full)
    led("criteria", "use", full, "--from-year", "2026")
    eid = _year_2026(led)
    assert "ngoài giai đoạn" not in led("check", "--year", "2026").stderr
    led("recognize", "--year", "2026", "--number", "3")
    out = tmp_path / "o26"
    led("export", "--year", "2026", "--out", out, "--reminders")
    dec = _text(out / "quyet-dinh-cong-nhan-2026.docx")
    assert "Căn cứ Công văn số 12/HD-CĐN ngày 5/3/2026 của Ban Thường vụ Công đoàn ngành Y tế tỉnh Đồng Nai về việc " \
           "hướng dẫn tiêu chí “Dân vận khéo” giai đoạn 2026-2030;" in dec
    assert "69/CĐN" not in dec and "2021-2025" not in dec
    assert "Thực hiện Công văn số 12/HD-CĐN" in _text(out / "bao-cao-ket-qua-2026.docx")
    assert "(Thực hiện Công văn số 12/HD-CĐN ngày 5/3/2026 của Ban Thường vụ" in _text(out / "danh-sach-dang-ky-2026.docx")
    old = _text(out24 / "quyet-dinh-cong-nhan-2024.docx")
    assert "Căn cứ Công văn số 69/CĐN ngày 14/5/2021" in old  # the stored 2021-2025 set, read from its source
    bases = [p for p in Document(str(out / "quyet-dinh-cong-nhan-2026.docx")).paragraphs if p.text.startswith(("Căn cứ", "Xét đề nghị"))]
    assert [p.text[-1] for p in bases] == [";", ";", "."]  # the last basis ends with "."


# ---------------------------------------------------------------- revocation

def test_a_revocation_decision_is_written_and_named_by_verify_doc(decided, tmp_path):
    led, out, _ = decided
    assert "đã được dùng" in _flat(led.fails("recognize", "--revoke", "--year", "2024", "--reason", "Sai sót",
                                             "--number", "9").stderr)  # the year's numbering
    led("recognize", "--revoke", "--year", "2024", "--reason", "Sai sót trong hồ sơ", "--number", "11",
        "--date", "20/10/2024")
    assert "đã được dùng cho một quyết định thu hồi" in _flat(
        led.fails("recognize", "--year", "2024", "--number", "11").stderr)
    led("recognize", "--year", "2024", "--number", "12", "--date", "25/10/2024")
    new = tmp_path / "new"
    led("export", "--year", "2024", "--out", new)
    rev = _text(new / "quyet-dinh-thu-hoi-2024.docx")
    assert "Số: 11/QĐ-CĐN" in rev
    assert "Về việc thu hồi Quyết định số 09/QĐ-CĐN ngày 09/10/2024" in rev
    assert "Lý do: Sai sót trong hồ sơ." in rev
    assert "2 mô hình, điển hình có tên trong danh sách kèm theo Quyết định số 09/QĐ-CĐN ngày 09/10/2024 không còn " \
           "được công nhận" in rev
    dec = _text(new / "quyet-dinh-cong-nhan-2024.docx")
    assert "Số: 12/QĐ-CĐN" in dec and "thay thế Quyết định số 09/QĐ-CĐN ngày 09/10/2024." in dec
    res = led.fails("verify-doc", out / "quyet-dinh-cong-nhan-2024.docx")
    assert "đã bị thu hồi bằng Quyết định số 11/QĐ-CĐN ngày 20/10/2024" in _flat(res.stderr)
    assert "khớp với sổ" in led("verify-doc", new / "quyet-dinh-thu-hoi-2024.docx").stdout
    assert _findings(new / "quyet-dinh-thu-hoi-2024.docx") == []


def test_a_revocation_without_number_is_recorded_only(decided, tmp_path):
    led, _, _ = decided
    res = led("recognize", "--revoke", "--year", "2024", "--reason", "Chưa gửi", "--date", "10/10/2024")
    assert "chỉ được ghi vào sổ" in _flat(res.stdout)
    led("recognize", "--year", "2024", "--number", "10", "--date", "12/10/2024")
    out = tmp_path / "o"
    res = led("export", "--year", "2024", "--out", out)
    assert "không có quyết định thu hồi (không có số)" in _flat(res.stdout)
    assert not (out / "quyet-dinh-thu-hoi-2024.docx").exists()
    assert "thay thế" not in _text(out / "quyet-dinh-cong-nhan-2024.docx")  # a decision never sent out


# ---------------------------------------------------------------- the phase proposal

def _entry(led, year, unit, title, *, person=None, scores=FULL, report=True):
    who = ["--individual", person, "--position", "Điều dưỡng"] if person else []
    eid = led("register", "--year", str(year), "--unit", unit, "--title", title, "--field", "1",
              "--date", f"10/02/{year}", *who).stdout.strip().splitlines()[0]
    if report:
        led("report", eid, *ASPECTS)
        led("confirm", eid, "--by", "Bí thư Trần Văn Bình")
        led("score", eid, "--member", "Nguyễn Văn An", *scores)
    return eid


def test_propose_records_the_chosen_entries_and_the_proposal_lists_only_those(ledger, tmp_path):
    a22 = _entry(ledger, 2022, "BVNHI", "Gương “Dân vận khéo” Nguyễn Thị Ánh", person="Nguyễn Thị Ánh")
    c22 = _entry(ledger, 2022, "BVDK", "Bữa cơm công đoàn")
    ledger("recognize", "--year", "2022", "--number", "4", "--date", "14/10/2022")
    a24 = _entry(ledger, 2024, "BVNHI", "Gương “Dân vận khéo” Nguyễn Thị Ánh", person="NGUYỄN THỊ ÁNH")
    c24 = _entry(ledger, 2024, "CDC", "Tủ sách pháp luật")
    ledger("recognize", "--year", "2024", "--number", "6", "--date", "15/10/2024")
    out = tmp_path / "o"
    res = ledger.fails("export", "--phase", "2021-2025", "--out", out)
    assert "dvk propose --phase 2021-2025" in _flat(res.stderr) and not out.exists()
    bad = ledger.fails("propose", "--phase", "2021-2025", "2026-001", "2019-001")
    assert "2026-001" in bad.stderr and "2019-001" in bad.stderr
    lst = tmp_path / "chon.txt"
    lst.write_text(f"{a22}\n{a24}\n{c24}\n", encoding="utf-8")
    ledger("propose", "--phase", "2021-2025", "--from", lst)
    ledger("propose", "--phase", "2021-2025", c22, "--remove", c24)
    listed = ledger("propose", "--phase", "2021-2025", "--list").stdout
    assert a22 in listed and c22 in listed and c24 not in listed
    history = ledger("history", "--limit", "3").stdout
    assert "Đề nghị khen thưởng giai đoạn 2021-2025" in history
    ledger("export", "--phase", "2021-2025", "--out", out, "--date", "20/11/2025")
    f = out / "to-trinh-khen-thuong-2021-2025.docx"
    doc = Document(str(f))
    listing = [[c.text for c in r.cells] for r in doc.tables[-1].rows]
    people = [r for r in listing if r[1].startswith("Nguyễn Thị Ánh")]
    assert len(people) == 1, listing  # one row for the person recognised twice (same folded name, same unit)
    assert people[0][4] == "2022, 2024"
    assert "QĐ số 04/QĐ-CĐN ngày 14/10/2022" in people[0][6] and "QĐ số 06/QĐ-CĐN ngày 15/10/2024" in people[0][6]
    assert people[0][5].startswith("2022: Tiết kiệm 120 triệu đồng")  # the report's achievement
    assert not any("Tủ sách pháp luật" in r[3] for r in listing)  # removed
    text = _text(f)
    assert "Tổng cộng: 2 tập thể, cá nhân (gồm 1 tập thể và 1 cá nhân)." in text
    assert "tặng Bằng khen của Liên đoàn Lao động tỉnh Đồng Nai cho 2 tập thể, cá nhân" in text
    ledger("propose", "--phase", "2021-2025", "--award", "Cờ thi đua")
    out2 = tmp_path / "o2"
    ledger("export", "--phase", "2021-2025", "--out", out2, "--date", "20/11/2025")
    assert "tặng Cờ thi đua cho 2 tập thể" in _text(out2 / "to-trinh-khen-thuong-2021-2025.docx")


def test_a_grassroots_union_proposes_a_giay_khen_and_names_its_groups(ledger, tmp_path):
    ledger("org", "set", "--from-year", "2021", "--org", "Công đoàn cơ sở Bệnh viện X", "--symbol", "CĐCS",
           "--parent-org", "Công đoàn ngành Y tế tỉnh Đồng Nai")
    for code, name in (("T1", "Tổ công đoàn Khoa Nội"), ("T2", "Tổ công đoàn Khoa Ngoại")):
        ledger("units", "add", code, name, "--committee", "Chi bộ Bệnh viện X")
    eid = _entry(ledger, 2024, "T1", "Chăm lo đoàn viên")
    ledger("recognize", "--year", "2024", "--number", "2")
    ledger("propose", "--phase", "2021-2025", eid)
    out = tmp_path / "o"
    ledger("export", "--year", "2024", "--out", out)
    ledger("export", "--phase", "2021-2025", "--out", out, "--date", "20/11/2025")
    assert "tặng Giấy khen của Công đoàn ngành Y tế tỉnh Đồng Nai" in _text(out / "to-trinh-khen-thuong-2021-2025.docx")
    dec = _text(out / "quyet-dinh-cong-nhan-2024.docx")
    assert "Các tập thể có tên tại Điều 1" in dec  # only collectives


def test_members_name_ignores_diacritics():
    from dvk.wording import GRASSROOTS, members_name

    assert members_name(["Công đoàn Bệnh viện A", "Công đoàn Trung tâm B"]) == "các Công đoàn cơ sở trực thuộc"
    assert members_name(["Tổ Công đoàn Khoa Nội", "Tổ công đoàn Khoa Ngoại"]) == "các tổ công đoàn trực thuộc"
    assert members_name(["Khoa Nội", "Khoa Ngoại"], GRASSROOTS) == "các tổ công đoàn trực thuộc"


# ---------------------------------------------------------------- a year in which nothing passes

def test_recognize_none_closes_a_year_and_every_count_agrees(ledger, tmp_path):
    weak = [s.split("=")[0] + "=" + ("na" if s.endswith("na") else "5") for s in FULL]
    e1 = _entry(ledger, 2024, "BVDK", "Mô hình yếu", scores=weak)
    e2 = _entry(ledger, 2024, "CDC", "Chưa chấm", report=False)
    assert "--none" in _flat(ledger.fails("recognize", "--year", "2024", "--number", "1").stderr)
    res = ledger("recognize", "--year", "2024", "--none")
    assert "không ra quyết định" in _flat(res.stdout)
    assert "đã" in _flat(ledger.fails("register", "--year", "2024", "--unit", "BVDK", "--title", "Mới", "--field", "1",
                                      "--date", "10/02/2024").stderr)  # locked
    out = tmp_path / "o"
    res = ledger("export", "--year", "2024", "--out", out)
    assert "không có quyết định công nhận" in _flat(res.stdout)
    assert not (out / "quyet-dinh-cong-nhan-2024.docx").exists()
    f = out / "bao-cao-ket-qua-2024.docx"
    text = _text(f)
    assert "được công nhận: 0; không được công nhận: 2." in text
    assert "chốt ngày 15/10/2024, không ban hành quyết định công nhận" in text
    assert "Không có mô hình, điển hình nào đạt điểm công nhận (80/100)." in text
    assert "nhiều mô hình có cách làm sáng tạo" not in text  # no fixed praise
    unit_table = Document(str(f)).tables[1]
    total = [c.text for c in unit_table.rows[-1].cells]
    assert total[-2:] == ["0", "2"]  # the unit table agrees with the text
    assert e1 in text and e2 in text
    ledger("recognize", "--revoke", "--year", "2024", "--reason", "Chấm lại")  # revocable like a decision
    ledger("register", "--year", "2024", "--unit", "BVDK", "--title", "Mới", "--field", "1", "--date", "10/02/2024")


def test_a_document_date_outside_its_year_is_refused(ledger, tmp_path):
    _entry(ledger, 2024, "BVDK", "Mô hình", report=False)
    out = tmp_path / "o"
    res = ledger.fails("export", "--year", "2024", "--out", out, "--date", "01/03/2025")
    assert "không thuộc năm 2024" in _flat(res.stderr) and not out.exists()
    ledger("export", "--year", "2024", "--out", out)  # today is not in 2024: the recognition day
    assert "Đồng Nai, ngày 15 tháng 10 năm 2024" in _text(out / "danh-sach-dang-ky-2024.docx")


# ---------------------------------------------------------------- the score sheet

def test_score_sheet_can_be_filled_and_totalled_on_paper(ledger, tmp_path):
    eid = ledger("register", "--year", "2024", "--unit", "BVDK", "--title", "Mô hình chờ chấm", "--field", "1",
                 "--date", "10/02/2024").stdout.strip()
    ledger("report", eid, *ASPECTS)
    ledger("confirm", eid, "--by", "Bí thư Trần Văn Bình")
    out = tmp_path / "o"
    ledger("export", "--year", "2024", "--out", out, "--member", "Nguyễn Văn An")
    f = out / "phieu-cham-diem-2024.docx"
    doc = Document(str(f))
    sheet = next(t for t in doc.tables if t.rows[0].cells[0].text == "Mã")
    head = [c.text for c in sheet.rows[0].cells]
    assert head == ["Mã", "Nội dung tiêu chí", "Điểm tối đa", "Điểm (0–10)", "Điểm quy đổi"]
    rows = [[c.text for c in r.cells] for r in sheet.rows[1:]]
    assert rows[0][0] == "G1" and rows[0][2] == "8" and rows[5][0] == "S1*"  # S1 may be "na": marked
    assert rows[-1][0] == "Cộng" and rows[-1][2] == "100"
    text = _text(f)
    assert "tiêu chí có dấu * (S1–S6) nếu không áp dụng thì ghi “KAD”" in text
    assert "Điểm quy đổi = điểm × điểm tối đa / 10" in text
    sig = doc.tables[-1].rows[0].cells[1]
    lines = [p.text for p in sig.paragraphs if p.text.strip()]
    assert lines[-1] == "Nguyễn Văn An" and lines[1] == "THÀNH VIÊN HỘI ĐỒNG"  # the name under the signature
    total = sheet.rows[-1]._tr
    assert all(p.find(qn("w:pPr")) is not None and p.find(qn("w:pPr")).find(qn("w:keepNext")) is not None
               for p in total.iter(qn("w:p")))  # the total row keeps the signature with it


# ---------------------------------------------------------------- wording details

def test_reasons_read_as_a_clerk_writes_and_titles_keep_their_quotes(ledger, tmp_path):
    e1 = ledger("register", "--year", "2024", "--unit", "BVDK", "--title", "Phong trào “Xanh - Sạch - Đẹp”",
                "--field", "1", "--date", "10/02/2024").stdout.strip()
    ledger("report", e1, "--approach", "Cách làm", "--spread", "Lan tỏa", "--effectiveness", "Hiệu quả")
    out = tmp_path / "o"
    ledger("export", "--year", "2024", "--out", out, "--reminders", "--date", "01/09/2024")
    report = _text(out / "bao-cao-ket-qua-2024.docx")
    assert "chưa được Hội đồng chấm điểm" in report and "Mới có 0 thành viên" not in report
    assert "còn thiếu: kinh nghiệm, sự bền vững" in report
    reminder = _text(out / "cong-van-nhac-2024.docx")
    assert "“Phong trào ‘Xanh - Sạch - Đẹp’”" in reminder


def test_a_character_the_font_cannot_show_is_reported_at_input_and_export(ledger, tmp_path):
    res = ledger("register", "--year", "2024", "--unit", "BVDK", "--title", "Bữa cơm công đoàn 🍚", "--field", "1",
                 "--date", "10/02/2024")
    eid = res.stdout.strip()
    assert "U+1F35A" in res.stderr and "đã ghi vào sổ như đã nhập" in _flat(res.stderr)
    assert ledger("show", eid, "--json").stdout.count("🍚") >= 1  # stored as given
    res = ledger("export", "--year", "2024", "--out", tmp_path / "o")
    assert "U+1F35A" in res.stderr and eid in res.stderr


def test_rules_under_the_subject_and_the_motto_have_their_widths(decided):
    from docx.shared import Mm

    from dvk.reports.context import text_width_mm

    _, out, _ = decided
    doc = Document(str(out / "quyet-dinh-cong-nhan-2024.docx"))
    paras = doc.paragraphs
    i = next(k for k, p in enumerate(paras) if p.text.startswith("Về việc công nhận"))
    rule = paras[i + 1].paragraph_format
    width = 165 - (rule.left_indent + rule.right_indent) / Mm(1)
    line = text_width_mm(paras[i].text.upper(), 14, bold=True) * 0.8  # mixed case is narrower than capitals
    assert line / 3 <= width <= line / 2 + 5 and 40 < width < 83, (width, line)
    motto_cell = doc.tables[0].rows[0].cells[1]
    motto_rule = motto_cell.paragraphs[2].paragraph_format
    motto_width = (165 - round(165 * 0.41, 1) - 2 * 1.9) - (motto_rule.left_indent + motto_rule.right_indent) / Mm(1)
    assert abs(motto_width - 56.1) < 0.5  # as wide as "Độc lập - Tự do - Hạnh phúc" (bold 13 pt: 159 pt rendered)


def test_the_phase_workbook_data_holds_the_proposed_list(ledger):
    from dvk.ledger.stores import open_ledger
    from dvk.reports.jobs import plan_phase
    from dvk.reports.kinds import Options

    eid = _entry(ledger, 2024, "BVDK", "Mô hình được đề nghị")
    _entry(ledger, 2024, "CDC", "Mô hình không đề nghị")
    ledger("recognize", "--year", "2024", "--number", "2")
    ledger("propose", "--phase", "2021-2025", eid)
    with open_ledger(ledger.db) as led, led.read() as conn:
        jobs, _ = plan_phase(conn, "2021-2025", Options(), kinds=("phase-workbook",))
        data = jobs[0].draft.workbook(conn, "id")
        assert [r.code for r in data.proposed] == [eid] and data.proposed[0].year == "2024"


def test_a_reminder_defaults_to_a_date_before_its_deadline(ledger, tmp_path):
    _entry(ledger, 2024, "BVDK", "Chưa có báo cáo", report=False)
    out = tmp_path / "o"
    ledger("export", "--year", "2024", "--out", out, "--reminders")
    text = _text(out / "cong-van-nhac-2024.docx")
    assert "Đồng Nai, ngày 15 tháng 9 năm 2024" in text and "30/09/2024" in text  # a month before 15/10
    assert "khớp với sổ" in ledger("verify-doc", out / "cong-van-nhac-2024.docx").stdout


def test_status_of_a_year_closed_without_decision(ledger):
    _entry(ledger, 2024, "BVDK", "Mô hình", report=False)
    ledger("recognize", "--year", "2024", "--none", "--date", "16/10/2024")
    res = ledger("status", "--year", "2024")
    assert "đã chốt ngày 16/10/2024" in _flat(res.stdout) and "Quyết định số 0" not in res.stdout


def test_the_phase_workbook_prints_the_proposed_list(ledger, tmp_path):
    """The phase workbook has the same list as the proposal: only the chosen entries, with their year."""
    from openpyxl import load_workbook

    eid = _entry(ledger, 2024, "BVDK", "Mô hình được đề nghị")
    _entry(ledger, 2024, "CDC", "Mô hình không đề nghị")
    ledger("recognize", "--year", "2024", "--number", "2")
    ledger("propose", "--phase", "2021-2025", eid)
    out = tmp_path / "o"
    ledger("export", "--phase", "2021-2025", "--out", out, "--date", "20/11/2025")
    ws = load_workbook(out / "tong-hop-2021-2025.xlsx")["Đề nghị khen thưởng"]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2) if any(c.value for c in row)]
    assert [(r[1], r[2], r[3]) for r in rows] == [(eid, "2024", "Mô hình được đề nghị")]
    assert str(rows[0][8]) == "QĐ số 02/QĐ-CĐN ngày 15/10/2024"  # the note of the proposal
