"""Big exports without holding the year: Word lists and score sheets are streamed (the same bytes as
a whole render, for dvk's templates and for one a clerk edited), the old row and page caps are gone,
and `dvk export` of a 1,000-entry year stays under a memory bound (it peaked at 870 MB).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]
YEAR = 2024


def _bench_ledger(path: Path, size: int, *, decided: bool) -> Path:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from build import build
    finally:
        sys.path.remove(str(ROOT / "bench"))
    build(path, size)
    if decided:
        from dvk.cycle.recognition import plan_recognition, recognize
        from dvk.ledger.sqlite import Ledger

        with Ledger.open(path) as led, led.write(user="thư ký", command="test recognize") as tx:
            recognize(tx, plan_recognition(tx.conn, YEAR, 5, None))
    return path


@pytest.fixture(scope="module")
def decided(tmp_path_factory) -> Path:
    return _bench_ledger(tmp_path_factory.mktemp("ledger") / "so.sqlite", 90, decided=True)


def _export(db: Path, out: Path, *args: str) -> None:
    from dvk.cli import app

    res = CliRunner().invoke(app, ["export", "--db", str(db), "--user", "thư ký", "--year", str(YEAR),
                                   "--out", str(out), *args])
    assert res.exit_code == 0, res.output


def _docx(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.docx"))}


def test_streamed_word_files_are_the_bytes_of_a_whole_render(decided, tmp_path, monkeypatch):
    from dvk.reports import word

    db = tmp_path / "so.sqlite"
    shutil.copy(decided, db)
    monkeypatch.setattr(word, "_BATCH_CHARS", 2_000)  # many batches per list
    _export(db, tmp_path / "streamed", "--member", "Trần Thị Mai", "--member", "Lê Văn Hùng")
    with monkeypatch.context() as m:
        m.setattr(word, "STREAMED_LISTS", frozenset())  # nothing streamed: docxtpl renders it whole
        _export(db, tmp_path / "whole", "--member", "Trần Thị Mai", "--member", "Lê Văn Hùng", "--force")
    streamed, whole = _docx(tmp_path / "streamed"), _docx(tmp_path / "whole")
    assert sorted(streamed) == ["bao-cao-ket-qua-2024.docx", "danh-sach-dang-ky-2024.docx",
                                "phieu-cham-diem-2024.docx", "quyet-dinh-cong-nhan-2024.docx"]
    assert streamed == whole
    from docx import Document

    with zipfile.ZipFile(tmp_path / "streamed" / "phieu-cham-diem-2024.docx") as z:
        body = z.read("word/document.xml").decode("utf-8")
    ready = body.count("Trần Thị Mai")
    assert ready > 50 and body.count("Lê Văn Hùng") == ready  # a page per entry and member
    listing = Document(str(tmp_path / "streamed" / "danh-sach-dang-ky-2024.docx"))
    assert max(len(t.rows) for t in listing.tables) >= 90


def test_the_long_loops_are_found_in_the_template_not_in_fixed_xml():
    from docxtpl import DocxTemplate

    from dvk.reports.sandbox import find_template
    from dvk.reports.word import split_for_streaming

    for name in ("danh-sach-dang-ky.docx", "quyet-dinh-cong-nhan.docx", "phieu-cham-diem.docx",
                 "bao-cao-ket-qua.docx", "to-trinh-khen-thuong.docx"):
        tpl = DocxTemplate(str(find_template(name)))
        tpl.init_docx()
        src = tpl.patch_xml(tpl.get_xml())
        assert split_for_streaming(src) is not None, name
    # A loop whose else branch or whitespace control the split could not reproduce is rendered whole.
    assert split_for_streaming("<a>{% for r in g.rows %}x{% else %}y{% endfor %}</a>") is None
    assert split_for_streaming("<a>{% for r in g.rows -%}x{% endfor %}</a>") is None
    assert split_for_streaming("<a>{% for b in legal_bases %}x{% endfor %}</a>") is None


def _edited_template(folder: Path) -> None:
    """The registration list as a clerk might change it in Word: the row loop's variable renamed and
    two columns swapped (the code and the title)."""
    from dvk.reports.sandbox import find_template

    folder.mkdir()
    src = find_template("danh-sach-dang-ky.docx")
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(folder / "danh-sach-dang-ky.docx", "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "word/document.xml":
                xml = data.decode("utf-8")
                assert "for r in g.rows" in xml
                xml = xml.replace("for r in g.rows", "for dong in g.rows").replace("{{ r.", "{{ dong.")
                xml = xml.replace("{{ dong.code }}", "\x00").replace("{{ dong.title }}", "{{ dong.code }}")
                xml = xml.replace("\x00", "{{ dong.title }}")
                data = xml.encode("utf-8")
            zout.writestr(item, data)


def test_a_template_edited_by_a_clerk_is_streamed_the_same(decided, tmp_path, monkeypatch):
    from docx import Document

    from dvk.reports import word

    db = tmp_path / "so.sqlite"
    shutil.copy(decided, db)
    _edited_template(tmp_path / "mau")
    calls = []
    split = word.split_for_streaming
    monkeypatch.setattr(word, "split_for_streaming", lambda src: calls.append(split(src)) or calls[-1])
    monkeypatch.setattr(word, "_BATCH_CHARS", 2_000)
    _export(db, tmp_path / "streamed", "--templates", str(tmp_path / "mau"))
    assert any(c is not None and "for dong in g.rows" in c.side for c in calls)
    with monkeypatch.context() as m:
        m.setattr(word, "STREAMED_LISTS", frozenset())
        _export(db, tmp_path / "whole", "--templates", str(tmp_path / "mau"), "--force")
    name = "danh-sach-dang-ky-2024.docx"
    assert (tmp_path / "streamed" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes()
    table = max(Document(str(tmp_path / "streamed" / name)).tables, key=lambda t: len(t.rows))
    rows = [[c.text for c in r.cells] for r in table.rows]
    assert any(r[1].startswith("2024-") for r in rows) is False  # the code moved to the title's column
    assert sum(1 for r in rows if r[2].startswith("2024-")) == 90


def test_no_cap_on_the_rows_of_a_word_list(ledger, tmp_path):
    """A list used to be left out beyond 20,000 rows (score sheets beyond 5,000 pages): no more."""
    import csv

    from docx import Document

    rows = [["Năm", "Mã đơn vị", "Tên mô hình, điển hình", "Lĩnh vực", "Ngày đăng ký"]]
    rows += [["2024", "BVDK", f"Mô hình số {i}", "1", "10/02/2024"] for i in range(1200)]
    src = tmp_path / "dang-ky.csv"
    with open(src, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    ledger("register", "--from", src)
    res = ledger("export", "--year", "2024", "--out", tmp_path / "out")
    assert "vượt giới hạn" not in res.stdout + res.stderr
    table = max(Document(str(tmp_path / "out" / "danh-sach-dang-ky-2024.docx")).tables, key=lambda t: len(t.rows))
    assert sum(1 for r in table.rows if r.cells[2].text.startswith("Mô hình số ")) == 1200


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the peak from /proc (Linux)")
def test_export_of_a_1000_entry_year_stays_under_200_mb(tmp_path):
    """Memory bound, not timing: the whole export (four Word files — 2,700 score-sheet pages — and
    the workbook) of a 1,000-entry year, in a process of its own."""
    db = _bench_ledger(tmp_path / "so.sqlite", 1000, decided=False)
    # VmHWM is this process's own peak (ru_maxrss would count the parent's memory at fork time).
    code = ("import re, sys\nfrom dvk.entry import main\nsys.argv = ['dvk'] + sys.argv[1:]\n"
            "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
            "status = open('/proc/self/status').read()\n"
            "print(int(re.search(r'VmHWM:\\s*(\\d+)', status).group(1)) // 1024)")
    res = subprocess.run([sys.executable, "-c", code, "export", "--db", str(db), "--user", "thư ký", "--year",
                          str(YEAR), "--out", str(tmp_path / "out"), "--json"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    peak_mb = int(res.stdout.strip().splitlines()[-1])
    assert (tmp_path / "out" / "phieu-cham-diem-2024.docx").exists()
    assert peak_mb <= 200, f"peak {peak_mb} MB"


def _zip64_in_local_header(path: Path, member: str) -> bool:
    """Whether ``member``'s local header carries a zip64 extra field (id 0x0001)."""
    import struct

    with zipfile.ZipFile(path) as z:
        offset = z.getinfo(member).header_offset
    with open(path, "rb") as fh:
        fh.seek(offset)
        head = fh.read(30)
        name_len, extra_len = struct.unpack("<HH", head[26:30])
        fh.seek(offset + 30 + name_len)
        extra = fh.read(extra_len)
    ids = []
    while len(extra) >= 4:
        kind, size = struct.unpack("<HH", extra[:4])
        ids.append(kind)
        extra = extra[4 + size:]
    return 0x0001 in ids


@pytest.mark.parametrize("known", [True, False], ids=["known from its items", "found while writing"])
def test_a_document_past_zips_member_limit_is_written_as_zip64(decided, tmp_path, monkeypatch, known):
    """A 100,000-entry year's score sheets are more than zip's member limit (2 GB in Python's
    zipfile) of XML: the export failed with zipfile's "File size too large".  Here the limit is
    lowered to 1 MB (zipfile's own check follows it), so the score sheets of 90 entries (4 MB) pass
    it.  The body is written as a zip64 member, either because its pages could pass the limit or,
    when its pages weigh more than dvk assumed, written again once it did; the file opens, holds
    every page, and `verify-doc` renders the same bytes again.  Documents below the limit are
    unchanged."""
    from docx import Document

    from dvk.reports import word

    db = tmp_path / "so.sqlite"
    shutil.copy(decided, db)
    members = ("--member", "Trần Thị Mai", "--member", "Lê Văn Hùng")
    _export(db, tmp_path / "plain", *members)
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 1 << 20)
    if not known:
        monkeypatch.setattr(word, "_ITEM_BYTES", 1)  # every count looks small: the write finds out
    rewrites = []
    writer = word._document_writer
    monkeypatch.setattr(word, "_document_writer", lambda *a, zip64: rewrites.append(zip64) or writer(*a, zip64=zip64))
    _export(db, tmp_path / "big", *members)

    sheets, plain = tmp_path / "big" / "phieu-cham-diem-2024.docx", tmp_path / "plain" / "phieu-cham-diem-2024.docx"
    with zipfile.ZipFile(plain) as z:
        assert z.getinfo("word/document.xml").file_size > 1 << 20
        parts = {name: z.read(name) for name in z.namelist()}
    assert not _zip64_in_local_header(plain, "word/document.xml")
    assert _zip64_in_local_header(sheets, "word/document.xml")
    with zipfile.ZipFile(sheets) as z:
        assert z.testzip() is None
        assert {name: z.read(name) for name in z.namelist()} == parts  # the same document, stored as zip64
    doc = Document(str(sheets))
    assert sum(p.text.count("Trần Thị Mai") for t in doc.tables for r in t.rows for c in r.cells
               for p in c.paragraphs) + sum(p.text.count("Trần Thị Mai") for p in doc.paragraphs) > 50
    if known:  # the count asked for zip64 from the start: written once
        assert False not in rewrites
    else:  # written as a plain member until it passed the limit, then again as zip64
        assert rewrites.count(True) == 1
    # The lists of 90 rows are far below the limit: as they were, byte for byte, unless the count
    # of their rows (90 × 64 KB > 1 MB) asked for zip64.
    for name in ("danh-sach-dang-ky-2024.docx", "bao-cao-ket-qua-2024.docx"):
        same = (tmp_path / "big" / name).read_bytes() == (tmp_path / "plain" / name).read_bytes()
        assert same is not known, name
    res = CliRunner().invoke(__import__("dvk.cli", fromlist=["app"]).app,
                             ["verify-doc", "--db", str(db), str(sheets), "--json"])
    assert res.exit_code == 0, res.output
    assert '"matches": true' in res.output
    openxml_audit = pytest.importorskip("openxml_audit")
    result = openxml_audit.OpenXmlValidator().validate(str(sheets))
    assert [e.description for e in result.errors if str(getattr(e.severity, "value", e.severity)).lower() == "error"] == []


def test_a_workbook_sheet_past_zips_member_limit_is_written_as_zip64(decided, tmp_path, monkeypatch):
    """The workbook's sheets, too, may pass zip's member limit (lowered here to 64 KB, below the
    data sheets of 90 entries): XlsxWriter refused it ("Filesize would require ZIP64 extensions").
    The sheet is stored as zip64, the workbook holds the same parts, and a sheet below the limit is
    stored as before."""
    from openpyxl import load_workbook

    db = tmp_path / "so.sqlite"
    shutil.copy(decided, db)
    _export(db, tmp_path / "plain")
    plain = tmp_path / "plain" / "tong-hop-2024.xlsx"
    with zipfile.ZipFile(plain) as z:
        sizes = {i.filename: i.file_size for i in z.infolist()}
        parts = {name: z.read(name) for name in z.namelist()}
    big = [n for n, size in sizes.items() if size > 64 << 10]
    small = [n for n, size in sizes.items() if size < 32 << 10 and n.startswith("xl/worksheets/")]
    assert big and small
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 64 << 10)
    _export(db, tmp_path / "big")
    book = tmp_path / "big" / "tong-hop-2024.xlsx"
    assert all(_zip64_in_local_header(book, n) for n in big)
    assert not any(_zip64_in_local_header(book, n) for n in small)
    with zipfile.ZipFile(book) as z:
        assert z.testzip() is None
        assert {name: z.read(name) for name in z.namelist()} == parts
    wb = load_workbook(book, read_only=True)
    assert [ws.title for ws in wb.worksheets] == [ws.title for ws in load_workbook(plain, read_only=True).worksheets]
