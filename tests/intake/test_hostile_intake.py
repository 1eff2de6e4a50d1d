"""Bulk intake (`--from FILE`) against careless and hostile input (issue 9, part H2).

A rejects file never overwrites the ledger, its side files, a backup or the input; xlsx/csv/json
inputs are bounded before and while they are read (zip bombs, endless lines, huge cells); the input
is read and checked before the write lock is taken and `--dry-run` never takes it; one council
member is one member whatever the case, spacing or tone placement of the name; Ctrl-C always ends
in the Vietnamese message and exit code 130; scores are plain decimal numbers; entry ids have one
spelling everywhere.
"""

from __future__ import annotations

import csv
import io
import json
import os
import resource
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
from openpyxl import Workbook

from conftest import ASPECTS, FULL, backup_folder, clone_ledger, ledger_dump
from pg_support import PG, holding_write_lock
from safety_support import ROOT, dvk_process, verify_ok

HEAD = ["Năm", "Mã đơn vị", "Tên mô hình, điển hình", "Loại", "Đối tượng", "Họ và tên", "Chức vụ", "Lĩnh vực",
        "Ngày đăng ký", "Đột xuất", "Ghi chú"]
GOOD = ["2024", "BVDK", "Quỹ “Tấm lòng vàng” hỗ trợ đoàn viên", "Mô hình", "Tập thể", "", "", "1", "10/02/2024",
        "", ""]
GOOD2 = ["2024", "BVNHI", "Điều dưỡng tận tâm", "Điển hình", "Cá nhân", "Trần Thị Thuỷ", "Điều dưỡng trưởng", "5",
         "2024-02-20", "", ""]
BAD = ["2024", "KHONGCO", "Mô hình sai đơn vị", "", "", "", "", "2", "10/02/2024", "", ""]
CODES = ["G1", "G2", "G3", "G4", "G5", "S1", "S2", "S3", "S4", "S5", "S6"]
MARKS = ["8", "9", "8", "8.5", "9", "9", "8", "na", "9", "8", "9"]
OTHER_MARKS = ["7", "7", "7", "7", "7", "7", "7", "7", "7", "7", "7"]


def write_csv(path: Path, rows, *, delimiter: str = ",") -> Path:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def entries(db: Path) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT id, unit_code, title FROM entry ORDER BY year, seq").fetchall()
    finally:
        con.close()


def sheets(db: Path) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT entry_id, member, marks FROM score ORDER BY entry_id, member").fetchall()
    finally:
        con.close()


def marks_json(marks) -> str:
    out = {}
    for c, v in zip(CODES, marks):
        out[c] = None if v == "na" else (int(float(v)) if float(v).is_integer() else float(v))
    return json.dumps(out, separators=(",", ":"))


def _env() -> dict:
    e = {k: v for k, v in os.environ.items() if k != "DVK_DEBUG"}
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    return e


def _limit_memory(mib: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (mib << 20, mib << 20))
    return apply


@pytest.fixture
def ready(ledger):
    """Three 2024 entries, each reported and confirmed: ready to be scored."""
    for unit, title in (("BVDK", "Chăm lo đoàn viên"), ("BVNHI", "Nụ cười thân thiện"), ("CDC", "Tủ sách")):
        eid = ledger("register", "--year", "2024", "--unit", unit, "--title", title, "--field", "1", "--date",
                     "10/02/2024").stdout.strip()
        ledger("report", eid, *ASPECTS)
        ledger("confirm", eid, "--by", "Bí thư")
    return ledger


# ================================================================ 2. --rejects never destroys a file

def mixed_csv(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "in.csv", [HEAD, GOOD, BAD])


@pytest.mark.sqlite_only("--rejects naming the ledger file, its side files or a link to it (a server ledger is no file)")
@pytest.mark.parametrize("force", [False, True], ids=["plain", "force"])
def test_rejects_file_is_never_the_ledger(ledger, tmp_path, force):
    f = mixed_csv(tmp_path)
    before = ledger_dump(ledger.db)
    err = ledger.fails("register", "--from", f, "--skip-invalid", "--rejects", ledger.db,
                       *(["--force"] if force else [])).stderr
    assert "--rejects" in err and "chính sổ" in err and "Lỗi nội bộ" not in err
    assert ledger.db.read_bytes()[:16] == b"SQLite format 3\x00"
    assert ledger_dump(ledger.db) == before
    verify_ok(ledger.db)


@pytest.mark.sqlite_only("--rejects naming the ledger file, its side files or a link to it (a server ledger is no file)")
@pytest.mark.parametrize("suffix", ["-wal", "-shm", "-journal"])
def test_rejects_file_is_never_a_side_file_of_the_ledger(ledger, tmp_path, suffix):
    f = mixed_csv(tmp_path)
    side = Path(f"{ledger.db}{suffix}")
    before = ledger_dump(ledger.db)
    err = ledger.fails("register", "--from", f, "--skip-invalid", "--rejects", side, "--force").stderr
    assert "chính sổ" in err or "tệp đi kèm" in err
    assert not side.exists()
    assert ledger_dump(ledger.db) == before
    verify_ok(ledger.db)


@pytest.mark.sqlite_only("--rejects naming the ledger file, its side files or a link to it (a server ledger is no file)")
@pytest.mark.parametrize("how", ["hardlink", "symlink"])
def test_rejects_file_is_never_a_link_to_the_ledger(ledger, tmp_path, how):
    f = mixed_csv(tmp_path)
    link = tmp_path / "loai.csv"
    (os.link if how == "hardlink" else os.symlink)(ledger.db, link)
    before = ledger_dump(ledger.db)
    err = ledger.fails("register", "--from", f, "--skip-invalid", "--rejects", link, "--force").stderr
    assert "chính sổ" in err
    assert ledger_dump(ledger.db) == before
    verify_ok(ledger.db)


def test_rejects_file_is_never_a_backup_nor_any_sqlite_database(ledger, tmp_path):
    f = mixed_csv(tmp_path)
    ledger("backup")
    folder = backup_folder(ledger.db)
    kept = sorted(folder.iterdir())
    assert kept
    before = ledger_dump(ledger.db)
    # an existing backup, and a new name inside the backups folder
    for target in (kept[0], folder / "loai.csv"):
        err = ledger.fails("register", "--from", f, "--skip-invalid", "--rejects", target, "--force").stderr
        assert "sao lưu" in err
    assert sorted(folder.iterdir()) == kept
    # any SQLite database, whatever its name (a copied ledger, another ledger)
    copy = tmp_path / "so-cu.csv"
    if PG:  # a server ledger's own copy as a SQLite database: its portable backup
        ledger("backup", copy)
    else:
        shutil.copy(ledger.db, copy)
    digest = copy.read_bytes()
    err = ledger.fails("register", "--from", f, "--skip-invalid", "--rejects", copy, "--force").stderr
    assert "SQLite" in err
    assert copy.read_bytes() == digest
    assert ledger_dump(ledger.db) == before


@pytest.mark.parametrize("how", ["same", "hardlink", "symlink"])
def test_rejects_file_is_never_the_input(ledger, tmp_path, how):
    f = mixed_csv(tmp_path)
    content = f.read_bytes()
    target = f if how == "same" else tmp_path / "loai.csv"
    if how == "hardlink":
        os.link(f, target)
    elif how == "symlink":
        os.symlink(f, target)
    before = ledger_dump(ledger.db)
    err = ledger.fails("register", "--from", f, "--skip-invalid", "--rejects", target, "--force").stderr
    assert "không được trùng với tệp nhập" in err
    assert f.read_bytes() == content
    assert ledger_dump(ledger.db) == before


def test_existing_rejects_file_needs_force_and_nothing_is_imported_without_it(ledger, tmp_path):
    f = mixed_csv(tmp_path)
    rej = tmp_path / "loai.csv"
    rej.write_text("bản cũ, đừng xóa\n", encoding="utf-8")
    before = ledger_dump(ledger.db)
    err = ledger.fails("register", "--from", f, "--skip-invalid", "--rejects", rej).stderr
    assert "đã tồn tại" in err and "--force" in err
    assert rej.read_text(encoding="utf-8") == "bản cũ, đừng xóa\n"
    assert ledger_dump(ledger.db) == before
    out = json.loads(ledger("register", "--from", f, "--skip-invalid", "--rejects", rej, "--force",
                            "--json").stdout)
    assert (out["added"], out["rejected"]) == (1, 1)
    body = list(csv.reader(io.StringIO(rej.read_text(encoding="utf-8-sig"))))
    assert body[0][-1] == "Lý do" and body[1][1] == "KHONGCO"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temporary file left


def test_rejects_folder_is_checked_before_anything_is_written(ledger, tmp_path):
    f = mixed_csv(tmp_path)
    before = ledger_dump(ledger.db)
    err = ledger.fails("register", "--from", f, "--skip-invalid", "--rejects", tmp_path / "khong-co" / "r.csv").stderr
    assert "không tồn tại" in err and "khong-co" in err
    assert ledger_dump(ledger.db) == before
    err = ledger.fails("register", "--from", f, "--skip-invalid", "--rejects", tmp_path).stderr
    assert "thư mục" in err
    assert ledger_dump(ledger.db) == before


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may write anywhere")
def test_rejects_folder_without_write_permission(ledger, tmp_path):
    f = mixed_csv(tmp_path)
    ro = tmp_path / "chi-doc"
    ro.mkdir()
    ro.chmod(0o500)
    before = ledger_dump(ledger.db)
    try:
        assert "quyền ghi" in ledger.fails("register", "--from", f, "--skip-invalid", "--rejects", ro / "r.csv").stderr
    finally:
        ro.chmod(0o700)
    assert ledger_dump(ledger.db) == before


@pytest.mark.parametrize("command", ["register", "report", "confirm", "score"])
def test_every_from_command_documents_force(dvk, command):
    out = dvk(command, "--help").stdout
    assert "--force" in out and "ghi đè" in out


# ================================================================ 5. bounded reading

def _block(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(zlib.Z_FULL_FLUSH)


def _zip_by_hand(path: Path, members: dict[str, list[tuple[bytes, int]]]) -> None:
    """A zip whose members are deflate streams made of repeated blocks: (chunk, times) pieces.
    A gibibyte of one letter costs a kilobyte of file and a fraction of a second to make."""
    out = bytearray()
    central = bytearray()
    for name, pieces in members.items():
        crc, size, data = 0, 0, bytearray()
        for chunk, times in pieces:
            blk = _block(chunk)
            for _ in range(times):
                crc = zlib.crc32(chunk, crc)
            size += len(chunk) * times
            data += blk * times
        data += zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)
        raw = name.encode()
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data), size, len(raw), 0) + raw
        out += data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(data), size,
                               len(raw), 0, 0, 0, 0, 0, offset) + raw
    cd_offset = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), cd_offset, 0)
    path.write_bytes(bytes(out))


WORKBOOK_PARTS = {
    "[Content_Types].xml": b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    b'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    b'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.'
    b'xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override '
    b'PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
    b'worksheet+xml"/></Types>',
    "_rels/.rels": b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
    b'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
    b'2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
    b'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    b'<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
    b'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
    b'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
}


def shared_strings_xlsx(path: Path, rows: list[list[str]], title: str = "Sheet1") -> Path:
    """A workbook as Excel writes it: every text cell in the shared-strings table."""
    from openpyxl.utils import get_column_letter
    from xml.sax.saxutils import escape

    strings: dict[str, int] = {}
    body = []
    for r, row in enumerate(rows, 1):
        cells = []
        for c, text in enumerate(row, 1):
            if text == "":
                continue
            i = strings.setdefault(text, len(strings))
            cells.append(f'<c r="{get_column_letter(c)}{r}" t="s"><v>{i}</v></c>')
        body.append(f'<row r="{r}">{"".join(cells)}</row>')
    sst = "".join(f"<si><t>{escape(t)}</t></si>" for t in strings)
    parts = dict(WORKBOOK_PARTS)
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                     b'officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                             b'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(b'name="Sheet1"', f'name="{title}"'.encode())
    parts["xl/sharedStrings.xml"] = (
        '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
        f'main" count="{len(strings)}" uniqueCount="{len(strings)}">{sst}</sst>').encode()
    parts["xl/worksheets/sheet1.xml"] = SHEET_START + "".join(body).encode() + SHEET_END
    _zip_by_hand(path, {k: [(v, 1)] for k, v in parts.items()})
    return path


def _cell(ref: str, text: str) -> bytes:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'.encode()


def _header_row() -> bytes:
    cols = "ABCDEFGHIJK"
    return b'<row r="1">' + b"".join(_cell(f"{c}1", h) for c, h in zip(cols, HEAD)) + b"</row>"


SHEET_START = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
               b'spreadsheetml/2006/main"><sheetData>')
SHEET_END = b"</sheetData></worksheet>"


def bomb_xlsx(path: Path, mib: int) -> Path:
    """A registrations workbook whose one title cell holds `mib` MiB of the letter A."""
    row = (b'<row r="2">' + _cell("A2", "2024") + _cell("B2", "BVDK") + b'<c r="C2" t="inlineStr"><is><t>')
    tail = b"</t></is></c>" + _cell("H2", "1") + b"</row>"
    sheet = [(SHEET_START + _header_row() + row, 1), (b"A" * (1 << 20), mib), (tail + SHEET_END, 1)]
    _zip_by_hand(path, {**{k: [(v, 1)] for k, v in WORKBOOK_PARTS.items()}, "xl/worksheets/sheet1.xml": sheet})
    return path


@pytest.mark.slow
def test_xlsx_zip_bomb_is_refused_at_once_in_small_memory(ledger, tmp_path):
    f = bomb_xlsx(tmp_path / "bom.xlsx", 1024)  # 1 GiB in one cell, about 1 MB on disk
    assert f.stat().st_size < 2 << 20
    before = ledger_dump(ledger.db)
    res = dvk_process("register", "--from", str(f), "--db", str(ledger.db), env=_env(), timeout=60,
                      preexec_fn=_limit_memory(768))
    assert res.returncode == 1, (res.returncode, res.stderr)
    assert "bom.xlsx" in res.stderr and "giới hạn" in res.stderr and "nén" in res.stderr
    assert "Lỗi nội bộ" not in res.stderr and "Traceback" not in res.stderr
    assert ledger_dump(ledger.db) == before


def test_xlsx_cell_run_too_long_is_refused_before_openpyxl_reads_it(ledger, tmp_path):
    # 3 MiB of letters that do not compress well enough to trip the ratio limit on a small member
    junk = bytes((65 + (i * 7919) % 26) for i in range(1 << 16))
    row = b'<row r="2">' + _cell("A2", "2024") + _cell("B2", "BVDK") + b'<c r="C2" t="inlineStr"><is><t>'
    sheet = [(SHEET_START + _header_row() + row, 1), (junk, 48), (b"</t></is></c></row>" + SHEET_END, 1)]
    f = tmp_path / "o-dai.xlsx"
    _zip_by_hand(f, {**{k: [(v, 1)] for k, v in WORKBOOK_PARTS.items()}, "xl/worksheets/sheet1.xml": sheet})
    before = ledger_dump(ledger.db)
    err = ledger.fails("register", "--from", f).stderr
    assert "o-dai.xlsx" in err and "ô" in err and "giới hạn" in err
    assert ledger_dump(ledger.db) == before


def test_xlsx_cell_longer_than_the_cell_limit_names_sheet_row_and_column(ledger, tmp_path):
    from dvk.intake.tables.base import MAX_CELL_CHARS

    long = "x" * (MAX_CELL_CHARS + 1)  # Excel itself stops at 32,767; a file made by hand does not
    f = shared_strings_xlsx(tmp_path / "dai.xlsx", [HEAD, ["2024", "BVDK", long, "", "", "", "", "1", "", "", ""]])
    err = ledger.fails("register", "--from", f).stderr
    assert "dai.xlsx" in err and "dòng 2" in err and "Tên mô hình, điển hình" in err
    assert f"{MAX_CELL_CHARS:,}".replace(",", ".") in err


@pytest.mark.slow
def test_xlsx_row_far_below_is_refused_quickly(ledger, tmp_path):
    """A cell at row 2,000,000,000 would make the reader walk two billion empty rows."""
    far = b'<row r="2000000000">' + _cell("A2000000000", "2024") + b"</row>"
    f = tmp_path / "xa.xlsx"
    _zip_by_hand(f, {**{k: [(v, 1)] for k, v in WORKBOOK_PARTS.items()},
                     "xl/worksheets/sheet1.xml": [(SHEET_START + _header_row() + far + SHEET_END, 1)]})
    res = dvk_process("register", "--from", str(f), "--db", str(ledger.db), env=_env(), timeout=60)
    assert res.returncode == 1 and "dòng" in res.stderr and "giới hạn" in res.stderr, res.stderr


@pytest.mark.parametrize("limit, value, word", [
    ("MAX_SHARED_STRINGS", 5, "chuỗi"),
    ("MAX_SHARED_STRINGS_BYTES", 200, "sharedStrings"),
    ("MAX_XLSX_SHEET_ROWS", 5, "dòng"),
    ("MAX_XLSX_SHEET_BYTES", 1000, "trang tính"),
    ("MAX_XLSX_UNCOMPRESSED", 3000, "giải nén"),
    ("MAX_INPUT_BYTES", 1000, "dung lượng"),
])
def test_each_xlsx_limit_is_named_in_the_refusal(ledger, tmp_path, monkeypatch, limit, value, word):
    from dvk.intake.tables import base, xlsxfile

    rows = [HEAD] + [["2024", "BVDK", f"Mô hình số {i}", "", "", "", "", "1", "", "", f"ghi chú {i}"]
                     for i in range(10)]
    f = shared_strings_xlsx(tmp_path / "gioi-han.xlsx", rows)
    assert json.loads(ledger("register", "--from", f, "--dry-run", "--json").stdout)["added"] == 10
    monkeypatch.setattr(xlsxfile if hasattr(xlsxfile, limit) else base, limit, value)
    before = ledger_dump(ledger.db)
    err = ledger.fails("register", "--from", f).stderr
    assert "gioi-han.xlsx" in err and word in err and "giới hạn" in err
    assert ledger_dump(ledger.db) == before


@pytest.mark.slow
def test_csv_line_without_end_is_refused_in_small_memory(ledger, tmp_path):
    f = tmp_path / "mot-dong.csv"
    with open(f, "w", encoding="utf-8") as fh:
        fh.write(",".join(HEAD) + "\n")
        fh.write("2024,BVDK," + "a," * (40 << 20))  # 80 MB, no line end
    before = ledger_dump(ledger.db)
    res = dvk_process("register", "--from", str(f), "--db", str(ledger.db), env=_env(), timeout=60,
                      preexec_fn=_limit_memory(512))
    assert res.returncode == 1, (res.returncode, res.stderr[-500:])
    assert "mot-dong.csv" in res.stderr and "dòng" in res.stderr and "giới hạn" in res.stderr
    assert "Lỗi nội bộ" not in res.stderr
    assert ledger_dump(ledger.db) == before


def test_csv_huge_field_is_refused_in_vietnamese(ledger, tmp_path):
    from dvk.intake.tables.base import MAX_CELL_CHARS

    f = tmp_path / "o-lon.csv"
    big = "\n".join(["dòng dài " * 100] * 2000)  # one quoted cell of 1.8 MB over many lines
    write_csv(f, [HEAD, ["2024", "BVDK", big, "", "", "", "", "1", "", "", ""]])
    err = ledger.fails("register", "--from", f).stderr
    assert "o-lon.csv" in err and "giới hạn" in err and f"{MAX_CELL_CHARS:,}".replace(",", ".") in err
    assert "field larger" not in err


def test_json_huge_string_is_refused_before_it_is_held(ledger, tmp_path):
    f = tmp_path / "lon.json"
    f.write_text(json.dumps([{"Năm": 2024, "Mã đơn vị": "BVDK", "Tên mô hình, điển hình": "A" * (24 << 20),
                              "Lĩnh vực": 1}]), encoding="utf-8")
    err = ledger.fails("register", "--from", f).stderr
    assert "lon.json" in err and "bản ghi 1" in err and "giới hạn" in err


def test_json_integer_of_5000_digits_is_a_row_problem_naming_the_column(ledger, tmp_path):
    f = tmp_path / "so.json"
    f.write_text('[{"Năm": ' + "1" * 5000 + ', "Mã đơn vị": "BVDK", "Tên mô hình, điển hình": "Y", "Lĩnh vực": 1}]',
                 encoding="utf-8")
    before = ledger_dump(ledger.db)
    err = ledger.fails("register", "--from", f).stderr
    assert "Lỗi nội bộ" not in err
    assert "bản ghi 1" in err and "“Năm”" in err and "5000 chữ số" in err
    assert ledger_dump(ledger.db) == before


@pytest.mark.parametrize("tail, where", [(" xyz", "dòng 1"), ("\n\n  ]", "dòng 3"), (", {}", "dòng 1")])
def test_json_garbage_after_the_array_is_refused_naming_where(ledger, tmp_path, tail, where):
    f = tmp_path / "rac.json"
    rec = {"Năm": 2024, "Mã đơn vị": "BVDK", "Tên mô hình, điển hình": "X", "Lĩnh vực": 1}
    f.write_text(json.dumps([rec], ensure_ascii=False) + tail, encoding="utf-8")
    before = ledger_dump(ledger.db)
    err = ledger.fails("register", "--from", f, "--dry-run").stderr
    assert "rac.json" in err and "sau danh sách" in err and where in err
    assert ledger_dump(ledger.db) == before
    obj = tmp_path / "rac2.json"
    obj.write_text(json.dumps({"entries": [rec], "n": 1}, ensure_ascii=False) + " xyz", encoding="utf-8")
    assert "sau danh sách" in ledger.fails("register", "--from", obj, "--dry-run").stderr
    ok = tmp_path / "dung.json"
    ok.write_text(json.dumps({"entries": [rec], "n": 1}, ensure_ascii=False) + "\n", encoding="utf-8")
    assert json.loads(ledger("register", "--from", ok, "--dry-run", "--json").stdout)["added"] == 1


# ================================================================ 6. no write lock while reading

def test_fifo_input_is_refused_at_once_and_blocks_no_writer(ledger, tmp_path):
    fifo = tmp_path / "ong.csv"
    os.mkfifo(fifo)
    imp = subprocess.Popen([sys.executable, "-m", "dvk", "register", "--from", str(fifo), "--db", str(ledger.db)],
                           env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)  # let it reach the point where it would open the FIFO
        other = dvk_process("register", "--year", "2024", "--unit", "CDC", "--title", "Trong lúc chờ", "--field",
                            "2", "--db", str(ledger.db), env=_env(), timeout=30)
        assert other.returncode == 0, other.stderr
        _, err = imp.communicate(timeout=30)
    finally:
        if imp.poll() is None:
            imp.kill()
            imp.wait()
    assert imp.returncode == 1 and "không phải là tệp thường" in err and "ong.csv" in err
    assert [e[2] for e in entries(ledger.db)] == ["Trong lúc chờ"]


def test_directory_and_device_inputs_are_refused(ledger, tmp_path):
    d = tmp_path / "thu-muc.csv"
    d.mkdir()
    assert "thư mục" in ledger.fails("register", "--from", d).stderr
    assert "không phải là tệp thường" in ledger.fails("register", "--from", Path("/dev/zero")).stderr


@pytest.mark.parametrize("kind", ["registrations", "scores"])
def test_dry_run_never_takes_the_write_lock(ready, tmp_path, kind):
    if kind == "registrations":
        f = write_csv(tmp_path / "dk.csv", [HEAD, GOOD, GOOD2])
        args = ["register", "--from", str(f)]
    else:
        f = write_csv(tmp_path / "diem.csv", [["Mã", "Thành viên", *CODES], ["2024-001", "Lê Văn C", *MARKS]])
        args = ["score", "--from", str(f)]
    with holding_write_lock(ready.db):  # another process is writing, for longer than this test
        res = dvk_process(*args, "--dry-run", "--json", "--db", str(ready.db), env=_env(), timeout=30)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["added"] == (2 if kind == "registrations" else 1)


def test_a_write_while_the_import_reads_is_taken_into_account(ledger, tmp_path, monkeypatch):
    """Another command writes while the import is reading its file: the import is planned again on the
    new state of the ledger, and the result is what running them one after the other gives."""
    from dvk.commands import intake as intake_cli
    from dvk.commands.intake import RowsProgress as _Progress

    units = ["BVDK", "BVNHI", "CDC"]
    rows = [HEAD] + [["2024", units[i % 3], f"Mô hình {i}", "", "", "", "", "1", "10/02/2024", "", ""]
                     for i in range(1500)]
    f = write_csv(tmp_path / "nhieu.csv", rows)
    wrote: list[str] = []

    class WriterMeanwhile(_Progress):
        def update(self, n):
            if not wrote:  # once, while the import reads row 1000 of its first plan
                wrote.append(ledger("register", "--year", "2024", "--unit", "CDC", "--title", "Chen ngang",
                                    "--field", "3", "--date", "11/02/2024").stdout.strip())

    monkeypatch.setattr(intake_cli, "progress_display", lambda: WriterMeanwhile)
    out = json.loads(ledger("register", "--from", f, "--json").stdout)
    assert wrote == ["2024-001"]
    assert out["added"] == 1500 and out["new_ids"][0] == "2024-002"
    got = entries(ledger.db)
    assert len(got) == 1501 and got[0][2] == "Chen ngang" and got[1][2] == "Mô hình 0"
    assert got[-1][:3:2] == ("2024-1501", "Mô hình 1499")
    verify_ok(ledger.db)


def test_rows_planned_by_earlier_batches_are_found_and_updated(ledger, tmp_path, monkeypatch):
    """Later batches find the rows earlier ones planned (not written yet) as they would find them in
    the ledger: already there, or updated with --update, then written once, in order."""
    from dvk.intake import engine

    monkeypatch.setattr(engine, "BATCH", 2)
    other = GOOD[:]
    other[7] = "3"
    changed = GOOD2[:]
    changed[10] = "ghi chú mới"
    f = write_csv(tmp_path / "d.csv", [HEAD, GOOD, GOOD2, BAD[:1] + ["CDC"] + BAD[2:], GOOD, other, changed])
    out = json.loads(ledger("register", "--from", f, "--json", "--update").stdout)
    assert (out["added"], out["already"], out["updated"], out["conflicts"]) == (3, 1, 2, 0)
    got = {e[2]: e[0] for e in entries(ledger.db)}
    assert len(got) == 3
    con = sqlite3.connect(ledger.db)
    try:
        assert con.execute("SELECT field FROM entry WHERE id = '2024-001'").fetchone() == (3,)
        assert con.execute("SELECT note FROM entry WHERE id = '2024-002'").fetchone() == ("ghi chú mới",)
    finally:
        con.close()
    verify_ok(ledger.db)


def test_an_import_ends_even_when_others_write_during_every_plan(ledger, tmp_path, monkeypatch):
    """Writes during each plan made without the lock: the last plan is made under the lock from the
    rows kept by the one before (the file is not read again), and the import ends."""
    from dvk.commands import intake as intake_cli
    from dvk.commands.intake import RowsProgress as _Progress
    from dvk.intake import engine
    from dvk.intake.engine import _replayed
    from dvk.intake.run import REPLANS

    units = ["BVDK", "BVNHI", "CDC"]
    rows = [HEAD] + [["2024", units[i % 3], f"Mô hình {i}", "", "", "", "", "1", "10/02/2024", "", ""]
                     for i in range(1200)]
    f = write_csv(tmp_path / "nhieu.csv", rows)
    wrote: list[str] = []
    plans = REPLANS - 1  # the plans made without the lock

    class WriterDuringEveryPlan(_Progress):
        def update(self, n):
            if n == 1000 and self.label.startswith("Đang nhập") and len(wrote) < plans:
                wrote.append(ledger("register", "--year", "2024", "--unit", "CDC", "--title",
                                    f"Chen ngang {len(wrote)}", "--field", "3").stdout.strip())
                if len(wrote) == plans:  # another file under the name (this plan reads on from the old one)
                    other = tmp_path / "khac.csv"
                    other.write_text("Năm,Mã đơn vị\n", encoding="utf-8")
                    os.replace(other, f)  # the last plan must not read the file again

    monkeypatch.setattr(intake_cli, "progress_display", lambda: WriterDuringEveryPlan)
    replays: list[int] = []
    real_replayed = _replayed
    monkeypatch.setattr(engine, "_replayed", lambda *a: replays.append(1) or real_replayed(*a))
    out = json.loads(ledger("register", "--from", f, "--json").stdout)
    assert replays == [1]  # the last plan read the rows kept, not the file
    assert wrote == [f"2024-{i:03d}" for i in range(1, plans + 1)]
    assert out["added"] == 1200 and out["new_ids"][0] == f"2024-{plans + 1:03d}"
    assert len(entries(ledger.db)) == 1200 + plans
    verify_ok(ledger.db)


@pytest.mark.parametrize("command", ["register", "units"])
def test_a_bad_file_is_refused_while_another_process_writes(ready, tmp_path, command):
    """The file is read and checked before the write lock is wanted: a refusal does not wait for it."""
    if command == "register":
        f = write_csv(tmp_path / "sai.csv", [HEAD, GOOD, BAD])
        args = ["register", "--from", str(f)]
    else:
        f = write_csv(tmp_path / "don-vi.csv", [["Mã đơn vị", "Cấp ủy"], ["BVX", "Chi bộ"]])  # no "Tên đơn vị"
        args = ["units", "import", str(f)]
    with holding_write_lock(ready.db):
        res = dvk_process(*args, "--db", str(ready.db), env=_env(), timeout=30)
    assert res.returncode == 1 and ("KHONGCO" in res.stderr or "Tên đơn vị" in res.stderr), res.stderr
    fifo = tmp_path / "ong.csv"
    os.mkfifo(fifo)
    res = dvk_process("units", "import", str(fifo), "--db", str(ready.db), env=_env(), timeout=30)
    assert res.returncode == 1 and "không phải là tệp thường" in res.stderr


# ================================================================ 9. one member, one sheet

def test_score_by_hand_one_member_whatever_the_case_spacing_or_tone_placement(ready):
    ready("score", "2024-001", "--member", "Nguyễn Văn Hùng", *FULL)
    res = ready("score", "2024-001", "--member", "NGUYỄN  VĂN   HÙNG", *[f"{c}=7" for c in CODES])
    assert "Nguyễn Văn Hùng" in res.stdout and "thay" in res.stdout
    assert [s[:2] for s in sheets(ready.db)] == [("2024-001", "Nguyễn Văn Hùng")]
    assert sheets(ready.db)[0][2] == marks_json(OTHER_MARKS)
    before = ledger_dump(ready.db)
    err = ready.fails("score", "2024-001", "--member", "Nguyen Van Hung", *FULL).stderr
    assert "đã có phiếu của “Nguyễn Văn Hùng”" in err and "ghi đúng tên" in err
    assert ledger_dump(ready.db) == before
    ready("score", "2024-002", "--member", "Lê Thị Hoà", *FULL)
    ready("score", "2024-002", "--member", "lê thị hòa", *FULL)
    assert [s[:2] for s in sheets(ready.db)] == [("2024-001", "Nguyễn Văn Hùng"), ("2024-002", "Lê Thị Hoà")]


def _score_rows(*rows):
    return [["Mã", "Thành viên", *CODES], *[[eid, m, *marks] for eid, m, marks in rows]]


def test_score_import_one_member_across_files_and_within_one(ready, tmp_path):
    ready("score", "2024-001", "--member", "Nguyễn Văn Hùng", *[f"{c}={v}" for c, v in zip(CODES, MARKS)])
    f = write_csv(tmp_path / "diem.csv", _score_rows(
        ("2024-001", "NGUYỄN VĂN HÙNG", MARKS),  # the member already there: the same sheet
        ("2024-002", "Trần Thị Bích", MARKS),
        ("2024-002", "TRẦN  THỊ BÍCH", OTHER_MARKS),  # the same member again in this file: a conflict
        ("2024-001", "Nguyen Van Hung", MARKS),  # only the diacritics differ: refused
    ))
    before = ledger_dump(ready.db)
    err = ready.fails("score", "--from", f).stderr
    assert "đã có phiếu của “Nguyễn Văn Hùng”" in err and "dòng 5" in err
    assert ledger_dump(ready.db) == before
    out = json.loads(ready("score", "--from", f, "--skip-invalid", "--json").stdout)
    assert (out["added"], out["already"], out["conflicts"], out["rejected"]) == (1, 1, 1, 1)
    assert [s[:2] for s in sheets(ready.db)] == [("2024-001", "Nguyễn Văn Hùng"), ("2024-002", "Trần Thị Bích")]
    # --update replaces the sheet, kept under the spelling already in the ledger
    g = write_csv(tmp_path / "sua.csv", _score_rows(("2024-001", "nguyễn văn hùng", OTHER_MARKS)))
    res = ready("score", "--from", g, "--update")
    assert "“nguyễn văn hùng”" in res.stderr and "“Nguyễn Văn Hùng”" in res.stderr
    assert sheets(ready.db)[0] == ("2024-001", "Nguyễn Văn Hùng", marks_json(OTHER_MARKS))


def test_score_import_one_member_across_batches_and_sheets(ready, tmp_path, monkeypatch):
    from dvk.intake import engine

    monkeypatch.setattr(engine, "BATCH", 1)  # each row planned on its own: the earlier ones are in the plan
    wb = Workbook()
    wb.remove(wb.active)
    # sheet names: Excel refuses two that differ by case alone, not by tone placement or marks
    for title in ("Lê Thị Hoà", "Lê  Thị Hòa", "Le Thi Hoa"):
        ws = wb.create_sheet(title)
        ws.append(["Mã", *CODES])
        ws.append(["2024-003", *[float(v) if v != "na" else v for v in MARKS]])
    f = tmp_path / "ba-trang.xlsx"
    wb.save(f)
    assert wb.sheetnames == ["Lê Thị Hoà", "Lê  Thị Hòa", "Le Thi Hoa"]
    out = json.loads(ready("score", "--from", f, "--skip-invalid", "--json").stdout)
    assert (out["added"], out["already"], out["rejected"]) == (1, 1, 1)
    assert "đã có phiếu của “Lê Thị Hoà”" in out["problems"][0]["reason"]
    assert "“Lê Thị Hòa” là thành viên “Lê Thị Hoà”" in out["notes"][0]
    assert [s[:2] for s in sheets(ready.db)] == [("2024-003", "Lê Thị Hoà")]


# ================================================================ Also: Ctrl-C

def _fd_pos(pid: int, name: str) -> int | None:
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}").endswith(name):
                    with open(f"/proc/{pid}/fdinfo/{fd}") as fh:
                        for line in fh:
                            if line.startswith("pos:"):
                                return int(line.split()[1])
            except OSError:
                pass
    except OSError:
        pass
    return None


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/fdinfo").exists(), reason="needs /proc to see how far the import read")
def test_ctrl_c_during_an_import_always_ends_in_vietnamese_with_130(ledger, tmp_path, ledger_copy):
    units = ["BVDK", "BVNHI", "CDC"]
    f = write_csv(tmp_path / "lon.csv", [HEAD] + [
        ["2024", units[i % 3], f"Mô hình Ctrl-C số {i}", "", "", "", "", str(1 + i % 5), "10/02/2024", "", ""]
        for i in range(20000)])
    size = f.stat().st_size
    template = ledger_copy(ledger.db, "mau.sqlite")
    before = ledger_dump(template)
    outcomes = []
    # several moments while the file is read, then moments after it was read (checking, writing)
    for moment in (0.1, 0.5, 0.9, "read", "read+0.1"):
        clone_ledger(template, ledger.db)
        p = subprocess.Popen([sys.executable, "-m", "dvk", "register", "--from", str(f), "--db", str(ledger.db)],
                             env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        seen = False
        try:
            while p.poll() is None:
                pos = _fd_pos(p.pid, "lon.csv")
                seen = seen or pos is not None
                if isinstance(moment, float) and pos is not None and pos >= moment * size:
                    break
                if isinstance(moment, str) and seen and pos is None:
                    time.sleep(float(moment.partition("+")[2] or 0))
                    break
                time.sleep(0.002)
            p.send_signal(signal.SIGINT)
            out, err = p.communicate(timeout=60)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        outcomes.append((moment, p.returncode))
        assert "Traceback" not in err and "sqlalchemy" not in err.lower(), (moment, err)
        if isinstance(moment, float) or p.returncode == 130:
            assert p.returncode == 130, (moment, p.returncode, err)
            assert "Đã dừng (Ctrl-C)" in err and "Sổ giữ nguyên như trước lệnh" in err, (moment, err)
            assert ledger_dump(ledger.db) == before, moment
        else:  # the signal came once the import was being committed: it completes, whole
            assert p.returncode == 0, (moment, p.returncode, err)
            assert len(entries(ledger.db)) == 20000
            verify_ok(ledger.db)
    assert [o for o in outcomes if isinstance(o[0], float)] == [(m, 130) for m in (0.1, 0.5, 0.9)]


# ================================================================ Also: score files and score values

@pytest.mark.parametrize("second", ["G1", "g1", " G 1 "])
def test_two_columns_for_one_criterion_are_refused_naming_both(ready, tmp_path, second):
    f = write_csv(tmp_path / "hai-cot.csv", [["Mã", "Thành viên", *CODES, second],
                                             ["2024-001", "Lê Văn C", *MARKS, "5"]])
    before = ledger_dump(ready.db)
    err = ready.fails("score", "--from", f).stderr
    assert "hai-cot.csv" in err and "“G1”" in err and f"“{second.strip()}”" in err and "tiêu chí G1" in err
    assert ledger_dump(ready.db) == before
    wb = Workbook()
    ws = wb.active
    ws.title = "Lê Văn C"
    ws.append(["Mã", *CODES, second])
    ws.append(["2024-001", *[float(v) if v != "na" else v for v in MARKS], 5])
    x = tmp_path / "hai-cot.xlsx"
    wb.save(x)
    err = ready.fails("score", "--from", x).stderr
    assert "“G1”" in err and "cột B" in err and "cột M" in err


@pytest.mark.parametrize("value", ["1_0", "1e1", "８", "0x8", "8.", ".5", "8,5,0", "Infinity", "٨"])
def test_only_plain_decimal_scores_are_accepted_typed_or_imported(ready, tmp_path, value):
    before = ledger_dump(ready.db)
    err = ready.fails("score", "2024-001", "--member", "Lê Văn C", f"G1={value}", *FULL[1:]).stderr
    assert f"“{value}”" in err and "không phải là số" in err
    f = write_csv(tmp_path / "diem.csv", _score_rows(("2024-001", "Lê Văn C", [value, *MARKS[1:]])))
    err = ready.fails("score", "--from", f).stderr
    assert "không phải là số" in err and "“G1”" in err
    assert ledger_dump(ready.db) == before


def test_plain_decimal_scores_with_comma_point_and_sign(ready, tmp_path):
    ready("score", "2024-001", "--member", "Lê Văn C", "G1=7,5", "G2=+8", "G3= 9 ", *FULL[3:])
    assert json.loads(sheets(ready.db)[0][2])["G1"] == 7.5
    assert "ngoài thang" in ready.fails("score", "2024-002", "--member", "Lê Văn C", "G1=-1", *FULL[1:]).stderr


# ================================================================ Also: one spelling of an entry id

def test_entry_ids_are_accepted_as_imports_accept_them(ready):
    assert json.loads(ready("show", "2024-1", "--json").stdout)["id"] == "2024-001"
    assert json.loads(ready("show", " 2024 - 0002 ", "--json").stdout)["id"] == "2024-002"
    ready("score", "2024-3", "--member", "Lê Văn C", *FULL)
    assert sheets(ready.db)[0][:2] == ("2024-003", "Lê Văn C")
    ready("report", "2024-2", "--approach", "Cách làm mới", "--force")  # 2024-002 is confirmed: a change needs --force
    ready("confirm", "2024-2", "--by", "Bí thư")
    assert json.loads(ready("check", "2024-3", "--json").stdout)["id"] == "2024-003"
    hist = json.loads(ready("history", "2024-3", "--json").stdout)
    assert hist and all(any(c["row_key"].startswith("2024-003") for c in h["changes"]) for h in hist)
    assert "2024-009" in ready.fails("show", "2024-9").stderr


def test_a_report_form_is_taken_for_its_entry_however_the_id_is_typed(ready, tmp_path):
    from docx import Document

    form = tmp_path / "mau.docx"
    ready("template", "report-form", "--out", form, "--entry", "2024-1")
    doc = Document(str(form))
    paras = list(doc.paragraphs)
    head = next(i for i, p in enumerate(paras) if p.style.name.startswith("Heading") and p.text.endswith("Hiệu quả"))
    for run in paras[head + 1].runs[1:]:
        run.text = ""
    paras[head + 1].runs[0].text = "Tiết kiệm 50 triệu đồng"
    filled = tmp_path / "bao-cao.docx"
    doc.save(str(filled))
    ready("report", "2024-1", "--from-docx", filled, "--force")  # 2024-001 is confirmed: a change needs --force
    con = sqlite3.connect(ready.db)
    try:
        assert con.execute("SELECT effectiveness FROM report WHERE entry_id = '2024-001'").fetchone() == (
            "Tiết kiệm 50 triệu đồng",)
    finally:
        con.close()


def test_a_report_form_that_unpacks_to_a_gibibyte_is_refused_before_it_is_opened(ready, tmp_path):
    """`report --from-docx` and `verify-doc` read a Word file a unit sent: its zip is bounded before any part
    is decompressed (python-docx would hold the whole document.xml in memory)."""
    f = tmp_path / "bao-cao.docx"
    _zip_by_hand(f, {"[Content_Types].xml": [(b"<Types/>", 1)], "word/document.xml": [(b"A" * 65536, 16384)]})
    assert f.stat().st_size < 2 << 20
    before = ledger_dump(ready.db)
    err = ready.fails("report", "2024-1", "--from-docx", f, "--force").stderr
    assert "bao-cao.docx" in err and "giải nén" in err and "Lỗi nội bộ" not in err
    assert ledger_dump(ready.db) == before
    res = ready.fails("verify-doc", f)
    assert "Lỗi nội bộ" not in res.stderr + res.stdout
