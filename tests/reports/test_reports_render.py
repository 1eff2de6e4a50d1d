"""Rendering tests for dvk.reports: Word documents (Decree 30 layout), Excel workbooks, PDF.

Every document is rendered from hand-made view models into ``tmp_path`` (pytest keeps the last
runs' folders, so a failing test leaves its .docx to open) and read back with python-docx /
openpyxl / the raw XML.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shutil
import stat
import subprocess
import zipfile
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.text.paragraph import Paragraph
from hypothesis import given, settings
from hypothesis import strategies as st

import shutil
from dvk.reports.context import _clean_text
from dvk.reports.kinds import REQUIRED_PLACEHOLDERS, TEMPLATE_NAMES, context_of
from dvk.reports.models import BLANK_NUMBER, DOTS

# Short labels of five fields, as a criteria set gives them (the code names none).
FIELD_SHORT_NAMES = ("Chăm lo, bảo vệ quyền lợi", "Tuyên truyền, văn hóa", "Xây dựng tổ chức CĐ",
                     "Phong trào thi đua", "Công tác cán bộ")
from dvk.reports.pdf import docx_to_pdf
from dvk.reports.sandbox import check_template, find_template
from dvk.errors import OutputExistsError, PdfConversionError, TemplateError
from dvk.reports.excel import write_phase_workbook, write_year_workbook
from dvk.reports.models import Criterion, DecisionDoc, FieldCountRow, Group, Letterhead, ListRow, NotRecognizedRow, ProposalDoc, RegistrationListDoc, ReminderDoc, ReminderItem, ReminderUnit, ResultsReportDoc, RevocationDoc, ScoreSheetDoc, ScoreSheetEntry, UnitCountRow, YearSummaryRow
from dvk.reports.records import ConfirmationRecord, PhaseWorkbookData, PhaseYear, RegistrationRecord, ReportRecord, ResultRecord, ScoreRecord, UnitFieldCount, YearWorkbookData
from dvk.reports.word import render_docx

ROOT = Path(__file__).resolve().parents[2]
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

# --------------------------------------------------------------------------- sample data

LH = Letterhead(
    parent_org="LĐLĐ tỉnh Đồng Nai",
    org="Công đoàn ngành Y tế",
    symbol="CĐN",
    place="Đồng Nai",
    signer="Đàm Đức Chính",
    issuer_name="Ban Thường vụ Công đoàn ngành Y tế",
    office="Văn phòng Công đoàn ngành",
    recipients=("Ban Thường vụ LĐLĐ tỉnh (để b/c)", "Ban Thường vụ Đảng ủy Sở Y tế (để b/c)"),
)
ISSUED = dt.date(2026, 10, 15)


def collective_rows() -> tuple[ListRow, ...]:
    return (
        ListRow(title="Tổ chức “Bữa cơm công đoàn” hỗ trợ đoàn viên khó khăn", subject_text="Khoa Nội tổng hợp",
                unit="CĐCS Bệnh viện Đa khoa Đồng Nai", field="1", score="95,00", code="2026-001"),
        ListRow(title="Ứng dụng bệnh án điện tử giảm thời gian chờ của người bệnh tại khoa Khám bệnh",
                subject_text="Khoa Khám bệnh", unit="CĐCS Bệnh viện Đa khoa Thống Nhất", field="3", score="91,50",
                code="2026-002", note="Đột xuất"),
    )


def individual_rows() -> tuple[ListRow, ...]:
    return (
        ListRow(title="Điển hình “Dân vận khéo” trong chăm sóc người bệnh",
                subject_text="Nguyễn Thị Ánh, Điều dưỡng trưởng khoa Nội", unit="CĐCS Bệnh viện Nhi đồng Đồng Nai",
                field="2", score="88,00", code="2026-008"),
    )


def decision(**kw) -> DecisionDoc:
    base = dict(letterhead=LH, year=2026, number="05", issued_on=ISSUED,
                groups=(Group("Tập thể", collective_rows()), Group("Cá nhân", individual_rows())))
    base.update(kw)
    return DecisionDoc(**base)


def score_doc(**kw) -> ScoreSheetDoc:
    crit = (Criterion("C1", "Cách làm sáng tạo", "8"), Criterion("C2", "Tính lan tỏa", "8"))
    entries = (
        ScoreSheetEntry(code="2026-001", title="Bữa cơm công đoàn", unit="CĐCS A", subject_text="Khoa Nội",
                        field="1", criteria=crit, total_weight="16"),
        ScoreSheetEntry(code="2026-002", title="Bệnh án điện tử", unit="CĐCS B", subject_text="Khoa Khám bệnh",
                        field="3", criteria=crit, total_weight="16"),
    )
    base = dict(letterhead=LH, year=2026, entries=entries)
    base.update(kw)
    return ScoreSheetDoc(**base)


def report_doc() -> ResultsReportDoc:
    return ResultsReportDoc(
        letterhead=LH, year=2026, number="12", issued_on=dt.date(2026, 11, 5),
        registered=4, late=1, sudden=1, reported=4, confirmed=3, scored=3, recognized=3, not_recognized=1,
        units=(UnitCountRow("CĐCS A", 2, 2, 2, 2, 2, 0), UnitCountRow("CĐCS B", 2, 2, 1, 1, 1, 1)),
        fields=tuple(FieldCountRow(f, 1, 1) for f in FIELD_SHORT_NAMES),
        recognized_groups=(Group("Tập thể", collective_rows()), Group("Cá nhân", individual_rows())),
        not_recognized_rows=(NotRecognizedRow("2026-009", "Tủ sách pháp luật", "CĐCS B",
                                              "Thiếu xác nhận của cấp ủy cùng cấp"),),
        decision_ref="Quyết định số 05/QĐ-CĐN ngày 15/10/2026",
    )


def reminder_doc() -> ReminderDoc:
    return ReminderDoc(
        letterhead=LH, year=2026, number="15", issued_on=dt.date(2026, 9, 10), deadline="30/9/2026",
        units=(
            ReminderUnit("CĐCS Bệnh viện Đa khoa Đồng Nai", (
                ReminderItem("2026-001", "Bữa cơm công đoàn", "báo cáo thành tích"),
                ReminderItem("2026-004", "Đối thoại định kỳ", "xác nhận của cấp ủy cùng cấp"),
            )),
            ReminderUnit("CĐCS Trung tâm Y tế huyện Long Thành", (
                ReminderItem("2026-003", "Tiếng hát áo trắng", "báo cáo thành tích"),
            )),
        ),
    )


def proposal_doc() -> ProposalDoc:
    rows = tuple(ListRow(title=r.title, subject_text=r.subject_text, unit=r.unit, field=r.field, year=str(2021 + i))
                 for i, r in enumerate(collective_rows() + individual_rows()))
    return ProposalDoc(
        letterhead=LH, phase="2021-2025", number="08", issued_on=dt.date(2025, 11, 20),
        addressee="Ban Thường vụ Liên đoàn Lao động tỉnh Đồng Nai", addressee_short="Ban Thường vụ LĐLĐ tỉnh",
        groups=(Group("Tập thể", rows[:2]), Group("Cá nhân", rows[2:])),
        years=tuple(YearSummaryRow(str(y), 30, 20, 1) for y in range(2021, 2026)),
    )


def registration_doc() -> RegistrationListDoc:
    rows = tuple(ListRow(title=r.title, subject_text=r.subject_text, unit=r.unit, field=r.field, code=r.code,
                         date="12/02/2026", note=n)
                 for r, n in zip(collective_rows() + individual_rows(), ("", "Đột xuất", "Đăng ký muộn")))
    return RegistrationListDoc(letterhead=LH, year=2026, issued_on=dt.date(2026, 3, 2), as_of="28/02/2026",
                               groups=(Group("Tập thể", rows[:2]), Group("Cá nhân", rows[2:])),
                               preparer="Nguyễn Văn Thư", late_count=1, sudden_count=1)


# --------------------------------------------------------------------------- helpers


def all_paragraphs(doc) -> list[Paragraph]:
    """Every paragraph of the body, tables included, in document order."""
    return [Paragraph(p, doc._body) for p in doc.element.body.iter(qn("w:p"))]


def texts(doc) -> list[str]:
    return [p.text for p in all_paragraphs(doc)]


def full_text(doc) -> str:
    return "\n".join(texts(doc))


def distinct_cells(row) -> list[str]:
    """Texts of a row's real cells (python-docx repeats a merged cell once per grid column)."""
    return ["".join(t.text or "" for t in tc.iter(qn("w:t"))) for tc in row._tr.tc_lst]


def part_xml(path: Path, name: str = "word/document.xml") -> str:
    with zipfile.ZipFile(path) as z:
        return z.read(name).decode("utf-8")


def run_with(doc, text: str):
    """The first run whose text contains ``text``."""
    for p in all_paragraphs(doc):
        for r in p.runs:
            if text in r.text:
                return r
    raise AssertionError(f"no run contains {text!r}")


def para_with(doc, text: str) -> Paragraph:
    for p in all_paragraphs(doc):
        if text in p.text:
            return p
    raise AssertionError(f"no paragraph contains {text!r}")


def edited_template(src: Path, dst: Path, old: str, new: str) -> Path:
    """Copy a template, replacing ``old`` by ``new`` in its document.xml (a clerk's edit)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "word/document.xml":
                text = data.decode("utf-8")
                assert old in text, old
                data = text.replace(old, new, 1).encode("utf-8")
            zout.writestr(info, data)
    return dst


@pytest.fixture(scope="module")
def decision_file(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("decision") / "qd.docx"
    render_docx("quyet-dinh-cong-nhan.docx", decision(), out)
    return out


# --------------------------------------------------------------------------- templates


def test_committed_templates_match_generator(tmp_path):
    """templates/*.docx are exactly what tools/make_templates.py writes (reproducible)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_templates", ROOT / "tools" / "make_templates.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    written = mod.build(tmp_path)
    assert {p.name for p in written} == set(TEMPLATE_NAMES)
    for p in written:
        # compare the members (not the compressed bytes, which depend on the zlib build)
        with zipfile.ZipFile(p) as new, zipfile.ZipFile(ROOT / "templates" / p.name) as old:
            assert new.namelist() == old.namelist(), p.name
            for name in new.namelist():
                assert new.read(name) == old.read(name), f"re-run tools/make_templates.py: {p.name} {name}"


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_packaged_templates_pass_the_placeholder_check(name):
    path = find_template(name)
    used = check_template(path, _known_keys(name), REQUIRED_PLACEHOLDERS[name])
    assert REQUIRED_PLACEHOLDERS[name] <= used


def _council_docs() -> dict:
    from test_council import sample_council_docs  # the council's papers (issue 13)

    return sample_council_docs(LH)


def _known_keys(name: str) -> set[str]:
    vm = {
        "quyet-dinh-cong-nhan.docx": decision(),
        "danh-sach-dang-ky.docx": registration_doc(),
        "phieu-cham-diem.docx": score_doc(),
        "bao-cao-ket-qua.docx": report_doc(),
        "cong-van-nhac.docx": reminder_doc(),
        "to-trinh-khen-thuong.docx": proposal_doc(),
        "quyet-dinh-thu-hoi.docx": RevocationDoc(letterhead=LH, year=2026, number="07", issued_on=ISSUED,
                                                 revoked="Quyết định số 05/QĐ-CĐN ngày 15/10/2026", reason="Sai sót"),
        **_council_docs(),
    }[name]
    return set(context_of(vm))


def test_styles_use_times_new_roman_for_every_script(decision_file):
    styles = part_xml(decision_file, "word/styles.xml")
    defaults = re.search(r"<w:rPrDefault>.*?</w:rPrDefault>", styles, re.S).group(0)
    for attr in ("ascii", "hAnsi", "eastAsia", "cs"):
        assert f'w:{attr}="Times New Roman"' in defaults
    assert "Theme=" not in styles and "w:cstheme" not in styles
    doc = Document(str(decision_file))
    normal = doc.styles["Normal"]
    assert normal.font.name == "Times New Roman"
    assert normal.font.size == Pt(14)
    assert normal.paragraph_format.first_line_indent == Mm(12.7)
    assert normal.paragraph_format.alignment == 3  # justify


# --------------------------------------------------------------------------- the decision


def test_decision_page_setup_is_decree_30(decision_file):
    doc = Document(str(decision_file))
    first = doc.sections[0]
    assert abs(first.page_width.mm - 210) < 0.5 and abs(first.page_height.mm - 297) < 0.5
    assert abs(first.top_margin.mm - 20) < 0.5
    assert abs(first.bottom_margin.mm - 20) < 0.5
    assert abs(first.left_margin.mm - 30) < 0.5
    assert abs(first.right_margin.mm - 15) < 0.5
    assert first.different_first_page_header_footer  # page numbers from page 2
    # the attached list is a landscape A4 section
    annex = doc.sections[1]
    assert abs(annex.page_width.mm - 297) < 0.5 and abs(annex.page_height.mm - 210) < 0.5


def test_decision_header_and_body(decision_file):
    doc = Document(str(decision_file))
    header = doc.tables[0]
    left, right = header.cell(0, 0), header.cell(0, 1)
    assert [p.text for p in left.paragraphs if p.text] == ["LĐLĐ TỈNH ĐỒNG NAI", "CÔNG ĐOÀN NGÀNH Y TẾ"]
    assert [p.text for p in right.paragraphs if p.text] == ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                                                           "Độc lập - Tự do - Hạnh phúc"]
    assert header.cell(1, 0).text == "Số: 05/QĐ-CĐN"
    assert header.cell(1, 1).text == "Đồng Nai, ngày 15 tháng 10 năm 2026"
    # no borders on the header table, rules are paragraph bottom borders
    xml = part_xml(decision_file)
    first_tbl = xml[xml.index("<w:tbl>"):xml.index("</w:tbl>")]
    assert 'w:insideV w:val="nil"' in first_tbl
    assert first_tbl.count("<w:pBdr>") == 2  # short rule under the body, full rule under the motto

    parent = run_with(doc, "LĐLĐ TỈNH ĐỒNG NAI")
    assert parent.font.size == Pt(13) and not parent.font.bold
    org = run_with(doc, "CÔNG ĐOÀN NGÀNH Y TẾ")
    assert org.font.size == Pt(13) and org.font.bold
    nation = run_with(doc, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    assert nation.font.bold and nation.font.size in (Pt(12), Pt(13))
    motto = run_with(doc, "Độc lập - Tự do - Hạnh phúc")
    assert motto.font.bold and motto.font.size in (Pt(13), Pt(14))
    date_run = run_with(doc, "Đồng Nai, ngày 15 tháng 10 năm 2026")
    assert date_run.font.italic

    title = run_with(doc, "QUYẾT ĐỊNH")
    assert title.font.bold and title.font.size == Pt(14)
    subject = run_with(doc, "Về việc công nhận mô hình, điển hình “Dân vận khéo” năm 2026")
    assert subject.font.bold
    assert "BAN THƯỜNG VỤ CÔNG ĐOÀN NGÀNH Y TẾ" in texts(doc)
    bases = [p for p in all_paragraphs(doc) if p.text.startswith(("Căn cứ", "Xét đề nghị"))]
    assert len(bases) == 3 and all(r.font.italic for p in bases for r in p.runs)
    decide = para_with(doc, "QUYẾT ĐỊNH:")
    assert decide.runs[0].font.bold and decide.style.name == "DVK Title"
    art1 = para_with(doc, "Điều 1.")
    assert art1.runs[0].text == "Điều 1." and art1.runs[0].font.bold
    assert "Công nhận 3 mô hình, điển hình “Dân vận khéo” năm 2026 (gồm 2 tập thể và 1 cá nhân)" in art1.text
    assert para_with(doc, "Điều 3.").text.endswith("chịu trách nhiệm thi hành Quyết định này./.")

    # signature block: recipients left, signer right
    sig = doc.tables[1]
    lines = [p.text for p in sig.cell(0, 0).paragraphs if p.text]
    assert lines[0] == "Nơi nhận:"
    assert lines[1] == "- Như Điều 3;"
    assert lines[-1] == "- Lưu: VT, CĐN."
    noi_nhan = run_with(doc, "Nơi nhận:")
    assert noi_nhan.font.bold and noi_nhan.font.italic and noi_nhan.font.size == Pt(12)
    assert run_with(doc, "- Như Điều 3;").font.size == Pt(11)
    right = [p.text for p in sig.cell(0, 1).paragraphs if p.text]
    assert right == ["TM. BAN THƯỜNG VỤ", "CHỦ TỊCH", "Đàm Đức Chính"]
    assert all(run_with(doc, t).font.bold for t in right)


def test_decision_list_grouped_with_repeating_header(decision_file):
    doc = Document(str(decision_file))
    assert "DANH SÁCH MÔ HÌNH, ĐIỂN HÌNH “DÂN VẬN KHÉO” NĂM 2026" in texts(doc)
    annex = para_with(doc, "(Kèm theo Quyết định số 05/QĐ-CĐN ngày 15/10/2026 của Ban Thường vụ Công đoàn ngành Y tế)")
    assert annex.runs[0].font.italic
    table = doc.tables[2]
    rows = [[c.text for c in r.cells] for r in table.rows]
    assert rows[0] == ["STT", "Tên mô hình, điển hình", "Tập thể/Cá nhân", "Đơn vị", "Lĩnh vực", "Điểm", "Ghi chú"]
    assert rows[1][0] == "I. Tập thể"
    assert rows[2][:2] == ["1", collective_rows()[0].title]
    assert rows[3][0] == "2" and rows[3][6] == "Đột xuất"
    assert rows[4][0] == "II. Cá nhân"
    assert rows[5][:3] == ["1", individual_rows()[0].title, "Nguyễn Thị Ánh, Điều dưỡng trưởng khoa Nội"]
    assert len(rows) == 6
    xml = part_xml(decision_file)
    list_tbl = xml[xml.rindex("<w:tbl>"):]
    header_row = re.search(r"<w:tr[ >].*?</w:tr>", list_tbl, re.S).group(0)
    assert "<w:tblHeader/>" in header_row and "<w:cantSplit/>" in header_row
    assert list_tbl.count("<w:cantSplit/>") == len(rows)
    assert "{{" not in xml and "{%" not in xml


def test_groups_keep_given_order_and_empty_groups_are_omitted(tmp_path):
    vm = decision(groups=(Group("Cá nhân", individual_rows()), Group("Tập thể", ()),
                          Group("Tập thể", collective_rows())))
    out = tmp_path / "qd.docx"
    render_docx("quyet-dinh-cong-nhan.docx", vm, out)
    doc = Document(str(out))
    first_cells = [r.cells[0].text for r in doc.tables[2].rows]
    assert first_cells == ["STT", "I. Cá nhân", "1", "II. Tập thể", "1", "2"]
    assert "(gồm 1 cá nhân và 2 tập thể)" in para_with(doc, "Điều 1.").text


def test_empty_list_prints_a_single_none_row(tmp_path):
    out = tmp_path / "qd.docx"
    render_docx("quyet-dinh-cong-nhan.docx", decision(groups=()), out)
    rows = [distinct_cells(r) for r in Document(str(out)).tables[2].rows]
    assert rows[1:] == [["(Không có mô hình, điển hình nào)"]]


def test_blank_number_is_left_for_the_records_office(tmp_path):
    out = tmp_path / "qd.docx"
    render_docx("quyet-dinh-cong-nhan.docx", decision(number=""), out)
    doc = Document(str(out))
    assert doc.tables[0].cell(1, 0).text == f"Số: {BLANK_NUMBER}/QĐ-CĐN"


def test_date_line_default_pads_day_and_early_months(tmp_path):
    out = tmp_path / "qd.docx"
    render_docx("quyet-dinh-cong-nhan.docx", decision(issued_on=dt.date(2026, 2, 5)), out)
    doc = Document(str(out))
    assert doc.tables[0].cell(1, 1).text == "Đồng Nai, ngày 05 tháng 02 năm 2026"
    assert "ngày 05/02/2026" in full_text(doc)


# --------------------------------------------------------------------------- text hygiene


def test_user_text_is_escaped_and_control_characters_dropped(tmp_path):
    nasty = ListRow(title='Mô hình A&B <b>"đậm"</b> \'x\'\nxuống dòng\x07', subject_text="Khoa\tNội",
                    unit="CĐCS\x0bA", code="2024-007")
    vm = decision(groups=(Group("Tập thể", (nasty,)),))
    out = tmp_path / "qd.docx"
    result = render_docx("quyet-dinh-cong-nhan.docx", vm, out)
    doc = Document(str(out))  # parses: the XML is well-formed
    row = [c.text for c in doc.tables[2].rows[2].cells]
    assert row[1] == 'Mô hình A&B <b>"đậm"</b> \'x\' xuống dòng'
    assert row[2] == "Khoa Nội"
    assert row[3] == "CĐCS A"
    assert "Đã bỏ ký tự điều khiển U+0007 trong “Tên mô hình” của 2024-007" in result.warnings
    assert "Đã bỏ ký tự điều khiển U+000B trong “Đơn vị” của 2024-007" in result.warnings
    assert len(result.warnings) == 2
    assert "&lt;b&gt;" in part_xml(out)


def test_lone_surrogates_and_nonchars_are_dropped(tmp_path):
    vm = decision(groups=(Group("Tập thể", (ListRow(title="A\ud800B\uffffC", code="2024-001"),)),))
    out = tmp_path / "qd.docx"
    result = render_docx("quyet-dinh-cong-nhan.docx", vm, out)
    assert Document(str(out)).tables[2].rows[2].cells[1].text == "ABC"
    assert {w.split()[6] for w in result.warnings} == {"U+D800", "U+FFFF"}


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=()), max_size=40))
def test_clean_text_never_leaves_forbidden_characters(s):
    warnings: list[str] = []
    out = _clean_text(s, "Tên mô hình", "2024-001", warnings)
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff\n\r\t]", out)
    assert bool(warnings) == bool(re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]", s))


def test_decomposed_input_is_printed_nfc(tmp_path):
    import unicodedata

    title = unicodedata.normalize("NFD", "Mô hình “Dân vận khéo” của Nguyễn Thị Ánh")
    out = tmp_path / "qd.docx"
    render_docx("quyet-dinh-cong-nhan.docx", decision(groups=(Group("Cá nhân", (ListRow(title=title),)),)), out)
    assert Document(str(out)).tables[2].rows[2].cells[1].text == unicodedata.normalize("NFC", title)


# --------------------------------------------------------------------------- files


def test_refuses_to_overwrite_without_force(tmp_path):
    out = tmp_path / "qd.docx"
    out.write_bytes(b"keep me")
    with pytest.raises(OutputExistsError) as exc:
        render_docx("quyet-dinh-cong-nhan.docx", decision(), out)
    assert str(out) in exc.value.message and "--force" in exc.value.message
    assert out.read_bytes() == b"keep me"
    render_docx("quyet-dinh-cong-nhan.docx", decision(), out, force=True)
    assert out.read_bytes()[:2] == b"PK"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["qd.docx"]  # no temporary left behind


def test_same_view_model_gives_identical_bytes(tmp_path):
    a = render_docx("quyet-dinh-cong-nhan.docx", decision(), tmp_path / "a.docx")
    b = render_docx("quyet-dinh-cong-nhan.docx", decision(), tmp_path / "b.docx")
    assert a.sha256 == b.sha256
    assert (tmp_path / "a.docx").read_bytes() == (tmp_path / "b.docx").read_bytes()
    with zipfile.ZipFile(tmp_path / "a.docx") as z:
        assert {i.date_time for i in z.infolist()} == {(2026, 10, 15, 0, 0, 0)}
        assert z.namelist()[0] == "[Content_Types].xml"
    doc = Document(str(tmp_path / "a.docx"))
    cp = doc.core_properties
    assert cp.author == "Công đoàn ngành Y tế" and cp.last_modified_by == "Công đoàn ngành Y tế"
    assert cp.revision == 1
    assert cp.created == cp.modified == dt.datetime(2026, 10, 15, tzinfo=dt.timezone.utc)
    c = render_docx("quyet-dinh-cong-nhan.docx", decision(number="06"), tmp_path / "c.docx")
    assert c.sha256 != a.sha256


# --------------------------------------------------------------------------- user templates


def test_unknown_placeholder_in_user_template(tmp_path):
    tdir = tmp_path / "mau"
    tdir.mkdir()
    src = find_template("quyet-dinh-cong-nhan.docx")
    edited_template(src, tdir / "quyet-dinh-cong-nhan.docx", "{{ year }}", "{{ nam }}")
    with pytest.raises(TemplateError) as exc:
        render_docx("quyet-dinh-cong-nhan.docx", decision(), tmp_path / "qd.docx", templates_dir=tdir)
    assert "quyet-dinh-cong-nhan.docx" in exc.value.message and "{{ nam }}" in exc.value.message
    assert not (tmp_path / "qd.docx").exists()


def test_missing_required_placeholder_in_user_template(tmp_path):
    tdir = tmp_path / "mau"
    tdir.mkdir()
    src = find_template("quyet-dinh-cong-nhan.docx")
    edited_template(src, tdir / "quyet-dinh-cong-nhan.docx", "{{ signer }}", "Đàm Đức Chính")
    with pytest.raises(TemplateError) as exc:
        render_docx("quyet-dinh-cong-nhan.docx", decision(), tmp_path / "qd.docx", templates_dir=tdir)
    assert "thiếu" in exc.value.message and "{{ signer }}" in exc.value.message


def test_jinja_syntax_error_in_user_template(tmp_path):
    tdir = tmp_path / "mau"
    tdir.mkdir()
    src = find_template("quyet-dinh-cong-nhan.docx")
    edited_template(src, tdir / "quyet-dinh-cong-nhan.docx", "{{ year }}", "{{ year }")
    with pytest.raises(TemplateError) as exc:
        render_docx("quyet-dinh-cong-nhan.docx", decision(), tmp_path / "qd.docx", templates_dir=tdir)
    assert "quyet-dinh-cong-nhan.docx" in exc.value.message and "Jinja" in exc.value.message


def test_unknown_attribute_in_user_template(tmp_path):
    tdir = tmp_path / "mau"
    tdir.mkdir()
    src = find_template("quyet-dinh-cong-nhan.docx")
    edited_template(src, tdir / "quyet-dinh-cong-nhan.docx", "{{ r.title }}", "{{ r.titel }}")
    with pytest.raises(TemplateError) as exc:
        render_docx("quyet-dinh-cong-nhan.docx", decision(), tmp_path / "qd.docx", templates_dir=tdir)
    assert "quyet-dinh-cong-nhan.docx" in exc.value.message and "titel" in exc.value.message


def test_user_template_is_preferred_and_packaged_one_is_the_fallback(tmp_path):
    tdir = tmp_path / "mau"
    tdir.mkdir()
    src = find_template("quyet-dinh-cong-nhan.docx")
    edited_template(src, tdir / "quyet-dinh-cong-nhan.docx", "Điều 2.", "Điều 2 (sửa).")
    out = tmp_path / "qd.docx"
    render_docx("quyet-dinh-cong-nhan.docx", decision(), out, templates_dir=tdir)
    assert "Điều 2 (sửa)." in full_text(Document(str(out)))
    assert find_template("cong-van-nhac.docx", tdir).parent != tdir


def test_not_a_docx_user_template(tmp_path):
    tdir = tmp_path / "mau"
    tdir.mkdir()
    (tdir / "quyet-dinh-cong-nhan.docx").write_text("not a zip")
    with pytest.raises(TemplateError) as exc:
        render_docx("quyet-dinh-cong-nhan.docx", decision(), tmp_path / "qd.docx", templates_dir=tdir)
    assert "quyet-dinh-cong-nhan.docx" in exc.value.message


# --------------------------------------------------------------------------- other documents


def test_registration_list(tmp_path):
    out = tmp_path / "ds.docx"
    render_docx("danh-sach-dang-ky.docx", registration_doc(), out)
    doc = Document(str(out))
    assert abs(doc.sections[0].page_width.mm - 297) < 0.5  # a wide table: landscape
    text = full_text(doc)
    assert "Đăng ký mô hình, điển hình “Dân vận khéo” năm 2026" in text
    assert "(Tính đến ngày 28/02/2026)" in text
    assert "Số:" not in doc.tables[0].cell(1, 0).text  # no number given
    rows = [[c.text for c in r.cells] for r in doc.tables[1].rows]
    assert rows[0][:3] == ["STT", "Mã hồ sơ", "Tên mô hình, điển hình"]
    assert [r[0] for r in rows[1:]] == ["I. Tập thể", "1", "2", "II. Cá nhân", "1"]
    assert rows[3][1] == "2026-002" and rows[3][7] == "Đột xuất"
    assert rows[5][7] == "Đăng ký muộn" and rows[5][6] == "12/02/2026"
    assert "trong đó 1 đăng ký muộn, 1 thành tích đột xuất" in text
    sig = [p.text for p in doc.tables[2].cell(0, 0).paragraphs if p.text]
    assert sig == ["NGƯỜI LẬP BIỂU", "Nguyễn Văn Thư"]
    assert "CHỦ TỊCH" in doc.tables[2].cell(0, 1).text


def _page_breaks(path: Path) -> int:
    return part_xml(path).count('<w:br w:type="page"/>')


def test_score_sheets_one_entry_per_page_per_member(tmp_path):
    out = tmp_path / "phieu.docx"
    render_docx("phieu-cham-diem.docx", score_doc(members=("Nguyễn Văn An", "Lê Thị Bích")), out)
    doc = Document(str(out))
    assert _page_breaks(out) == 3  # 2 members × 2 entries = 4 pages
    text = full_text(doc)
    assert text.count("PHIẾU CHẤM ĐIỂM") == 4
    # the member's name stands under the signature (issue 12)
    assert text.count("(Ký, ghi rõ họ tên)\n\n\nNguyễn Văn An") == 2
    assert text.count("(Ký, ghi rõ họ tên)\n\n\nLê Thị Bích") == 2
    assert text.count("Ký, ghi rõ họ tên") == 4
    # order: all entries for the first member, then for the second
    order = [t for t in texts(doc) if t.startswith("Mã hồ sơ:") or t in ("Nguyễn Văn An", "Lê Thị Bích")]
    assert order[:4] == ["Mã hồ sơ: 2026-001; lĩnh vực: 1", "Nguyễn Văn An",
                         "Mã hồ sơ: 2026-002; lĩnh vực: 3", "Nguyễn Văn An"]
    crit = doc.tables[0]
    assert [c.text for c in crit.rows[0].cells] == ["Mã", "Nội dung tiêu chí", "Điểm tối đa", "Điểm (0–10)",
                                                    "Điểm quy đổi"]
    assert [c.text for c in crit.rows[1].cells] == ["C1", "Cách làm sáng tạo", "8", "", ""]
    assert crit.rows[-1].cells[-3].text == "16"
    assert "<w:tblHeader/>" in part_xml(out)


def test_score_sheets_without_members_print_one_set_with_a_blank_name(tmp_path):
    out = tmp_path / "phieu.docx"
    render_docx("phieu-cham-diem.docx", score_doc(), out)
    assert _page_breaks(out) == 1
    assert full_text(Document(str(out))).count(f"(Ký, ghi rõ họ tên)\n\n\n{DOTS}") == 2


def test_results_report(tmp_path):
    out = tmp_path / "bc.docx"
    render_docx("bao-cao-ket-qua.docx", report_doc(), out)
    doc = Document(str(out))
    assert doc.tables[0].cell(1, 0).text == "Số: 12/BC-CĐN"
    text = full_text(doc)
    assert "BÁO CÁO" in texts(doc)
    assert "Kết quả xây dựng, xét chọn mô hình, điển hình “Dân vận khéo” năm 2026" in text
    assert "- Số báo cáo được cấp ủy cùng cấp xác nhận: 3." in text
    assert "- Số mô hình, điển hình được công nhận: 3; không được công nhận: 1." in text
    units = [[c.text for c in r.cells] for r in doc.tables[1].rows]
    assert units[1] == ["1", "CĐCS A", "2", "2", "2", "2", "2", "0"]
    assert units[-1] == ["", "Tổng cộng", "4", "4", "3", "3", "3", "1"]
    fields = [[c.text for c in r.cells] for r in doc.tables[2].rows]
    assert len(fields) == 7 and fields[-1][2:] == ["5", "5"]
    recognized = [r.cells[0].text for r in doc.tables[3].rows]
    assert recognized == ["STT", "I. Tập thể", "1", "2", "II. Cá nhân", "1"]
    not_rec = [c.text for c in doc.tables[4].rows[1].cells]
    assert not_rec == ["1", "2026-009", "Tủ sách pháp luật", "CĐCS B", "Thiếu xác nhận của cấp ủy cùng cấp"]
    assert "đã ban hành Quyết định số 05/QĐ-CĐN ngày 15/10/2026 công nhận 3 mô hình" in text
    for heading in ("I. TÌNH HÌNH ĐĂNG KÝ", "II. KẾT QUẢ XÉT CHỌN", "III. ĐÁNH GIÁ CHUNG", "IV. ĐỀ XUẤT"):
        assert run_with(doc, heading).font.bold


def test_reminder_letter(tmp_path):
    out = tmp_path / "cv.docx"
    render_docx("cong-van-nhac.docx", reminder_doc(), out)
    doc = Document(str(out))
    left = [p.text for p in doc.tables[0].cell(1, 0).paragraphs if p.text]
    assert left == ["Số: 15/CĐN", "V/v đôn đốc hoàn thiện hồ sơ mô hình, điển hình “Dân vận khéo” năm 2026"]
    assert run_with(doc, "V/v ").font.size == Pt(12)
    t = texts(doc)
    i = t.index("Kính gửi:")
    assert t[i + 1:i + 3] == ["- CĐCS Bệnh viện Đa khoa Đồng Nai;", "- CĐCS Trung tâm Y tế huyện Long Thành."]
    assert "1. CĐCS Bệnh viện Đa khoa Đồng Nai" in t
    assert "- 2026-004 “Đối thoại định kỳ”: còn thiếu xác nhận của cấp ủy cùng cấp." in t
    assert "2. CĐCS Trung tâm Y tế huyện Long Thành" in t
    assert run_with(doc, "30/9/2026").font.bold
    sig = [p.text for p in doc.tables[1].cell(0, 0).paragraphs if p.text]
    assert sig[1] == "- Như trên;" and sig[-1] == "- Lưu: VT, CĐN."


def test_reminder_single_addressee_on_one_line(tmp_path):
    out = tmp_path / "cv.docx"
    vm = reminder_doc()
    vm = dataclasses.replace(vm, units=vm.units[:1])
    render_docx("cong-van-nhac.docx", vm, out)
    assert "Kính gửi: CĐCS Bệnh viện Đa khoa Đồng Nai." in texts(Document(str(out)))


def test_phase_proposal(tmp_path):
    out = tmp_path / "tt.docx"
    render_docx("to-trinh-khen-thuong.docx", proposal_doc(), out)
    doc = Document(str(out))
    assert doc.tables[0].cell(1, 0).text == "Số: 08/TTr-CĐN"
    t = texts(doc)
    assert "TỜ TRÌNH" in t
    assert "Về việc đề nghị khen thưởng điển hình “Dân vận khéo” giai đoạn 2021-2025" in t
    assert "Kính gửi: Ban Thường vụ Liên đoàn Lao động tỉnh Đồng Nai" in t
    years = [[c.text for c in r.cells] for r in doc.tables[1].rows]
    assert years[1] == ["2021", "30", "20", "1"] and years[-1] == ["Cộng", "150", "100", "5"]
    listing = [[c.text for c in r.cells] for r in doc.tables[3].rows]
    assert listing[0] == ["STT", "Tập thể/Cá nhân", "Đơn vị", "Tên mô hình, điển hình", "Năm công nhận",
                          "Thành tích tiêu biểu", "Ghi chú"]
    assert (listing[2][0], listing[2][4]) == ("1", "2021") and (listing[5][0], listing[5][4]) == ("1", "2023")
    assert any(line.startswith("Tổng cộng: ") for line in t)
    assert "(Kèm theo Tờ trình số 08/TTr-CĐN ngày 20/11/2025 của Ban Thường vụ Công đoàn ngành Y tế)" in t
    assert abs(doc.sections[-1].page_width.mm - 297) < 0.5


def test_wrong_view_model_for_template(tmp_path):
    with pytest.raises(TypeError):
        render_docx("quyet-dinh-cong-nhan.docx", reminder_doc(), tmp_path / "x.docx")


# --------------------------------------------------------------------------- Excel


def _year_data(n: int = 50) -> YearWorkbookData:
    def regs():  # a generator: rows are streamed, not listed
        for i in range(n):
            yield RegistrationRecord(
                code=f"2026-{i:03d}", unit=f"CĐCS {i % 3}",
                title="=HYPERLINK(\"http://x\",\"bấm\")" if i == 1 else f"Mô hình {i}",
                subject_kind="Cá nhân" if i % 2 else "Tập thể",
                subject_name="+84 912" if i == 2 else "Nguyễn Thị Ánh",
                position="-Điều dưỡng" if i == 3 else "Điều dưỡng trưởng khoa Nội",
                field=FIELD_SHORT_NAMES[i % 5], registered_on=dt.date(2026, 2, 1 + i % 28),
                late=i == 4, sudden=i == 5, note="@ghi chú" if i == 4 else "")

    def scores():
        for i in range(3):
            for m in ("Nguyễn Văn An", "Lê Thị Bích"):
                for c in ("C1", "C2"):
                    yield ScoreRecord(code=f"2026-{i:03d}", title=f"Mô hình {i}", member=m, criterion_code=c,
                                      criterion=f"Tiêu chí {c}", weight=10, score=8.5)
            yield ScoreRecord(code=f"2026-{i:03d}", title=f"Mô hình {i}", score=85.0, aggregate=True)

    return YearWorkbookData(fields=FIELD_SHORT_NAMES,
        year=2026, author="Công đoàn ngành Y tế", generated_on=dt.date(2026, 10, 15),
        registrations=regs(),
        reports=iter([ReportRecord("2026-000", "CĐCS 0", "Mô hình 0", dt.date(2026, 8, 1), "Sáng tạo")]),
        confirmations=iter([ConfirmationRecord("2026-000", "CĐCS 0", "Mô hình 0", "Đảng ủy Bệnh viện", True,
                                               dt.date(2026, 9, 1), "Tốt\x07")]),
        scores=scores(),
        results=(ResultRecord(f"2026-{i:03d}", "CĐCS 0", f"Mô hình {i}", status="Công nhận", score=90.25)
                 for i in range(3)),
        unit_counts=[UnitFieldCount(f"CĐCS {u}", (1, 2, 3, 4, 5)) for u in range(3)],
    )


def test_year_workbook(tmp_path):
    import openpyxl

    path = tmp_path / "tong-hop-2026.xlsx"
    result = write_year_workbook(path, _year_data())
    assert result.warnings == ("Đã bỏ ký tự điều khiển U+0007 trong “Nhận xét” (trang “Xác nhận”) của 2026-000",)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Đăng ký", "Báo cáo", "Xác nhận", "Chấm điểm", "Kết quả", "Thống kê"]
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:")
        assert ws["A1"].font.b
    reg = wb["Đăng ký"]
    assert reg.auto_filter.ref == "A1:K51"
    assert reg["H2"].value == dt.datetime(2026, 2, 1) and reg["H2"].number_format == "dd/mm/yyyy"
    assert reg["C3"].value == '=HYPERLINK("http://x","bấm")' and reg["C3"].data_type == "s"
    assert reg["E4"].value == "+84 912" and reg["E4"].data_type == "s"
    assert reg["F5"].value == "-Điều dưỡng" and reg["F5"].data_type == "s"
    assert reg["K6"].value == "@ghi chú" and reg["K6"].data_type == "s"
    assert reg["I6"].value == "Có" and reg["J7"].value == "Có"
    assert reg.column_dimensions["C"].width >= 28 and reg["C2"].alignment.wrap_text
    scores = wb["Chấm điểm"]
    assert scores.max_row == 1 + 3 * 4  # members' rows only: the aggregate is the "Điểm" of "Kết quả"
    assert scores.auto_filter.ref == "A1:H13"
    assert all(r[2].value != "Điểm tổng hợp (thang 100)" for r in scores.iter_rows(min_row=2))
    assert wb["Kết quả"]["F2"].number_format == "0.00"
    stats = wb["Thống kê"]
    assert [c.value for c in stats[1]] == ["STT", "Đơn vị", *FIELD_SHORT_NAMES, "Tổng"]
    assert [c.value for c in stats[5]][1:] == ["Tổng cộng", "=SUM(C2:C4)", "=SUM(D2:D4)", "=SUM(E2:E4)",
                                               "=SUM(F2:F4)", "=SUM(G2:G4)", "=SUM(H2:H4)"]
    values = openpyxl.load_workbook(path, data_only=True)["Thống kê"]  # the values computed when written
    assert [c.value for c in values[5]][1:] == ["Tổng cộng", 3, 6, 9, 12, 15, 45]
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        assert "xl/charts/chart1.xml" in names and "xl/charts/chart2.xml" in names
        assert all("<c:barChart>" in z.read(f"xl/charts/chart{i}.xml").decode() for i in (1, 2))
        assert {i.date_time for i in z.infolist()} == {(2026, 10, 15, 0, 0, 0)}
    assert wb.properties.creator == "Công đoàn ngành Y tế"
    assert wb.properties.created == wb.properties.modified == dt.datetime(2026, 10, 15)


def test_year_workbook_is_deterministic_and_not_overwritten(tmp_path):
    a = write_year_workbook(tmp_path / "a.xlsx", _year_data())
    b = write_year_workbook(tmp_path / "b.xlsx", _year_data())
    assert a.sha256 == b.sha256 and (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    with pytest.raises(OutputExistsError):
        write_year_workbook(tmp_path / "a.xlsx", _year_data())
    assert write_year_workbook(tmp_path / "a.xlsx", _year_data(), force=True).sha256 == a.sha256
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.xlsx", "b.xlsx"]


def test_phase_workbook(tmp_path):
    import openpyxl

    def results(y):
        for i in range(4):
            yield ResultRecord(f"{y}-{i:03d}", "CĐCS A", f"Mô hình {i}", status="Công nhận", score=88)

    years = [PhaseYear(y, registered=30, recognized=20, not_recognized=5, results=results(y))
             for y in range(2021, 2026)]
    path = tmp_path / "tong-hop-2021-2025.xlsx"
    write_phase_workbook(path, PhaseWorkbookData("2021-2025", "Công đoàn ngành Y tế", dt.date(2025, 11, 20), years))
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Tổng hợp", "2021", "2022", "2023", "2024", "2025"]
    summary = wb["Tổng hợp"]
    assert [c.value for c in summary[2]][:4] == [2021, 30, 20, 5]
    assert summary["E2"].value == '=IF(B2>0,ROUND(100*C2/B2,2),"")'
    assert [c.value for c in summary[7]][1:4] == ["=SUM(B2:B6)", "=SUM(C2:C6)", "=SUM(D2:D6)"]  # formulas
    values = openpyxl.load_workbook(path, data_only=True)["Tổng hợp"]
    assert [c.value for c in values[2]] == [2021, 30, 20, 5, pytest.approx(66.67)]
    assert [c.value for c in values[7]] == ["Cả giai đoạn", 150, 100, 25, pytest.approx(66.67)]
    assert wb["2023"].max_row == 5 and wb["2023"]["A2"].value == "2023-000"
    with zipfile.ZipFile(path) as z:
        assert "xl/charts/chart1.xml" in z.namelist()


# --------------------------------------------------------------------------- PDF


def test_pdf_conversion_without_libreoffice_says_how_to_install(tmp_path, monkeypatch, decision_file):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(PdfConversionError) as exc:
        docx_to_pdf(decision_file, tmp_path)
    assert "sudo apt-get install libreoffice-writer-nogui fonts-liberation" in exc.value.message


@pytest.mark.slow
def test_decision_pdf_with_libreoffice(tmp_path, decision_file):
    if not (shutil.which("soffice") or shutil.which("libreoffice")):
        pytest.skip("LibreOffice (soffice) is not installed")
    pdf = docx_to_pdf(decision_file, tmp_path)
    assert pdf == tmp_path / "qd.pdf" and pdf.read_bytes()[:5] == b"%PDF-"
    with pytest.raises(OutputExistsError):
        docx_to_pdf(decision_file, tmp_path)
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    for needle in ("QUYẾT ĐỊNH", "Số: 05/QĐ-CĐN", "TM. BAN THƯỜNG VỤ", "Đàm Đức Chính",
                   "Đồng Nai, ngày 15 tháng 10 năm 2026", "DANH SÁCH MÔ HÌNH, ĐIỂN HÌNH"):
        assert needle in text
    pages = text.count("\f")
    assert pages == 2  # the decision on one portrait page, the short list on one landscape page
