"""Issue 12: documents a clerk can sign — valid OOXML, Decree-30 details, the guidance in force,
revocation decisions, the phase proposal. Every check opens the files dvk wrote through the CLI."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn

from conftest import ASPECTS, FULL

AUDIT = shutil.which("openxml-audit") or str(Path(sys.executable).with_name("openxml-audit"))
ROOT = Path(__file__).resolve().parent.parent


def _text(path: Path) -> str:
    doc = Document(str(path))
    out = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        for row in t.rows:
            for cell in row.cells:
                out.extend(p.text for p in cell.paragraphs)
    return "\n".join(out)


def _audit(path: Path) -> str:
    res = subprocess.run([AUDIT, str(path)], capture_output=True, text=True, timeout=300)
    return res.stdout + res.stderr


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


@pytest.mark.skipif(not Path(AUDIT).exists(), reason="openxml-audit is in the test extra")
def test_every_template_and_exported_docx_validates(decided):
    _, out, _ = decided
    files = sorted(out.glob("*.docx")) + sorted((ROOT / "templates").glob("*.docx"))
    assert any(f.name.startswith("quyet-dinh") for f in files)
    for f in files:
        report = _audit(f)
        assert "Errors: 0" in report, (f.name, report)


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
