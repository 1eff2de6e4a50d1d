"""Issue 9, the domain's part: criteria files checked key by key before anything is stored, a report
file read before the write lock, a report changed after its confirmation, decided years keeping their
units, and a score sheet damaged inside the ledger — each through the CLI, on real files."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from conftest import ASPECTS, FULL, ledger_dump
from pg_support import holding_write_lock
from safety_support import dvk_process

INTERNAL = "Lỗi nội bộ"


def _default_criteria() -> str:
    from dvk.criteria import default_text

    return default_text()


# ---------------------------------------------------------------- criteria files (point 13, part of 6)

BAD_CRITERIA = {
    # name: (change to the default file, key the message must name, reason fragment)
    "decimals-huge": (("decimals = 1 ", "decimals = 100000 "), "scoring.decimals", "từ 0 đến 3"),
    "decimals-negative": (("decimals = 1 ", "decimals = -1 "), "scoring.decimals", "từ 0 đến 3"),
    "decimals-text": (("decimals = 1 ", 'decimals = "abc" '), "scoring.decimals", "số nguyên"),
    "field-number-text": (("number = 2\n", 'number = "một"\n'), "fields[2].number", "số nguyên"),
    "field-number-duplicate": (("number = 2\n", "number = 1\n"), "fields[2].number", "trùng"),
    "scoring-not-a-table": (("[scoring]\n", "scoring = 5\n[calendar0]\n"), "scoring", "phải là một bảng"),
    "window-reversed": (('registration_start = "02-01"', 'registration_start = "03-01"'),
                        "calendar.registration_end", "trước ngày đầu"),
    "weight-exponent": (("weight = 8\nallow_na = false\ntitle = \"Thể",
                         "weight = \"1e999999999\"\nallow_na = false\ntitle = \"Thể"), "criteria[2] (G2).weight",
                        "lũy thừa"),
    "weight-infinite": (("weight = 10\nallow_na = true\ntitle = \"Thực",
                         "weight = 1e999999999\nallow_na = true\ntitle = \"Thực"), "criteria[6] (S1).weight",
                        "không quá 1000"),
    "weight-zero": (("weight = 10\nallow_na = true\ntitle = \"Thực",
                     "weight = 0\nallow_na = true\ntitle = \"Thực"), "criteria[6] (S1).weight", "lớn hơn 0"),
    "pass-mark": (("pass_mark = 80", "pass_mark = 101"), "scoring.pass_mark", "0–100"),
    "min-members": (("min_members = 1 ", "min_members = 51 "), "scoring.min_members", "từ 1 đến 50"),
    "month-day": (('recognition_date = "10-15"', 'recognition_date = "13-40"'), "calendar.recognition_date",
                  "tháng 13"),
    "code-duplicate": (('code = "G2"', 'code = "g1"'), "criteria[2].code", "trùng"),
    "code-malformed": (('code = "G3"', 'code = "G 3"'), "criteria[3].code", "mã tiêu chí"),
    "typo-in-a-key": (("pass_mark = 80", "pass_mrk = 80"), "scoring.pass_mrk", "khóa lạ"),
}


@pytest.mark.parametrize("case", sorted(BAD_CRITERIA))
def test_a_bad_criteria_file_is_refused_naming_the_key(ledger, tmp_path, case):
    (old, new), key, reason = BAD_CRITERIA[case]
    text = _default_criteria()
    assert old in text
    bad = tmp_path / "tieu-chi.toml"
    bad.write_text(text.replace(old, new, 1), encoding="utf-8")
    before = ledger_dump(ledger.db)
    res = ledger.fails("criteria", "use", str(bad), "--from-year", "2026")
    assert f"“{key}”" in res.stderr and reason in res.stderr, res.stderr
    assert INTERNAL not in res.stderr
    assert ledger_dump(ledger.db) == before
    # The same file given to init creates nothing.
    fresh = tmp_path / "moi.sqlite"
    res = ledger.fails("init", "--db", str(fresh), "--criteria", str(bad))
    assert f"“{key}”" in res.stderr and not fresh.exists()


def test_every_problem_of_a_criteria_file_is_listed_at_once(ledger, tmp_path):
    text = _default_criteria()
    for old, new in (("decimals = 1 ", "decimals = 100000 "), ('registration_start = "02-01"',
                                                               'registration_start = "03-01"'),
                     ("number = 2\n", "number = 1\n"), ("pass_mark = 80", "pass_mark = -5")):
        text = text.replace(old, new, 1)
    bad = tmp_path / "nhieu-loi.toml"
    bad.write_text(text, encoding="utf-8")
    res = ledger.fails("criteria", "use", str(bad), "--from-year", "2026")
    for key in ("scoring.decimals", "calendar.registration_end", "fields[2].number", "scoring.pass_mark"):
        assert f"“{key}”" in res.stderr


def test_a_huge_criteria_file_a_device_and_a_fifo_are_refused_before_reading(ledger, tmp_path):
    big = tmp_path / "lon.toml"
    with open(big, "wb") as fh:
        fh.truncate(50 * 1024 * 1024)  # 50 MB (sparse): refused by its size, never read
    res = ledger.fails("criteria", "use", str(big), "--from-year", "2026")
    assert "quá lớn" in res.stderr and "1.048.576" in res.stderr
    res = ledger.fails("criteria", "use", "/dev/zero", "--from-year", "2026")
    assert "không phải là tệp thông thường" in res.stderr
    fifo = tmp_path / "tieu-chi.fifo"
    os.mkfifo(fifo)
    # In a process of its own: a command that opened the FIFO to read would wait for a writer forever.
    res = dvk_process("criteria", "use", str(fifo), "--from-year", "2026", "--db", str(ledger.db), timeout=60)
    assert res.returncode == 1 and "không phải là tệp thông thường" in res.stderr
    res = dvk_process("init", "--db", str(tmp_path / "moi.sqlite"), "--criteria", str(fifo), timeout=60)
    assert res.returncode == 1 and not (tmp_path / "moi.sqlite").exists()


def test_a_criteria_file_is_checked_before_the_write_lock(ledger, tmp_path):
    bad = tmp_path / "sai.toml"
    bad.write_text(_default_criteria().replace("decimals = 1 ", 'decimals = "abc" '), encoding="utf-8")
    with holding_write_lock(ledger.db):  # another writer in the middle of a transaction (a long import)
        # Checked first: the answer is the file's problem, not a wait for the lock ("đang bận" after 60 s).
        res = dvk_process("criteria", "use", str(bad), "--from-year", "2026", "--db", str(ledger.db), timeout=45)
    assert res.returncode == 1 and "“scoring.decimals”" in res.stderr and "đang bận" not in res.stderr


def test_a_good_criteria_file_with_numbers_as_text_is_still_accepted(ledger, tmp_path):
    text = _default_criteria().replace("weight = 10\nallow_na = true\ntitle = \"Thực",
                                       "weight = \"12,5\"\nallow_na = true\ntitle = \"Thực", 1)
    good = tmp_path / "tot.toml"
    good.write_text(text, encoding="utf-8")
    ledger("criteria", "use", str(good), "--from-year", "2026")
    shown = json.loads(ledger("criteria", "show", "--year", "2026", "--json").stdout)
    assert shown["criteria"][5]["weight"] == 12.5


# ---------------------------------------------------------------- a score sheet damaged inside the ledger ("Also")

@pytest.mark.parametrize("marks", ["xyz", '{"G1": "abc"}', "[8, 9]", '{"G1": 1e400}', '{"G1": NaN}'])
def test_a_damaged_score_sheet_names_its_row_and_points_to_verify(ledger, full_entry, tmp_path, marks):
    con = sqlite3.connect(ledger.db)
    con.execute("UPDATE score SET marks = ? WHERE entry_id = ?", (marks, full_entry))
    con.commit()
    con.close()
    for args in (["check", "--year", "2024"], ["check", full_entry], ["list", "--year", "2024"],
                 ["list", "--year", "2024", "--json"], ["show", full_entry],
                 ["export", "--year", "2024", "--out", str(tmp_path / "out")]):
        res = ledger.fails(*args)
        assert INTERNAL not in res.stderr, (args, res.stderr)
        assert f"thành viên “Nguyễn Văn An” cho {full_entry}" in res.stderr and "dvk verify" in res.stderr, res.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    assert "Phiếu chấm điểm" not in ledger("status", "--year", "2024").stderr  # reads who scored, not the marks


# ---------------------------------------------------------------- decided years keep their units (point 4)

OLD_NAME, OLD_COMMITTEE = "Công đoàn Bệnh viện Đa khoa Đồng Nai", "Đảng ủy Bệnh viện Đa khoa Đồng Nai"
NEW_NAME, NEW_COMMITTEE = "Công đoàn Bệnh viện Đa khoa tỉnh Đồng Nai (sau sáp nhập)", "Đảng ủy Bệnh viện Đa khoa tỉnh"
FIXTURES = Path(__file__).parents[1] / "fixtures"


def docx_text(path: Path) -> str:
    from docx import Document

    doc = Document(str(path))
    parts = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        for row in t.rows:
            parts.extend(c.text for c in row.cells)
    return "\n".join(parts)


def _complete(d, eid: str) -> None:
    d("report", eid, *ASPECTS, "--date", "01/08/2025")
    d("confirm", eid, "--by", "Bí thư Trần Văn Bình", "--date", "10/08/2025")
    d("score", eid, "--member", "Nguyễn Văn An", *FULL)


@pytest.fixture
def decided_2025(ledger, tmp_path):
    """2025 recognised (decision 05) and exported into out-2025/, with an entry of BVDK."""
    eid = ledger("register", "--year", "2025", "--unit", "BVDK", "--title", "Bữa cơm công đoàn", "--field", "1",
                 "--date", "10/02/2025").stdout.strip()
    _complete(ledger, eid)
    ledger("recognize", "--year", "2025", "--number", "5")
    ledger("export", "--year", "2025", "--out", str(tmp_path / "out-2025"))
    return eid


def _rename_by_import(d, tmp_path) -> object:
    units = tmp_path / "don-vi.csv"
    units.write_text(f"Mã đơn vị,Tên đơn vị,Cấp ủy\nBVDK,{NEW_NAME},{NEW_COMMITTEE}\n", encoding="utf-8")
    return d("units", "import", str(units))


def test_a_unit_renamed_after_the_decision_leaves_the_decided_year_as_signed(decided_2025, ledger, tmp_path):
    res = _rename_by_import(ledger, tmp_path)
    assert "cập nhật 1" in res.stdout
    assert "2025" in res.stderr and "giữ" in res.stderr  # the note: decided years keep their units
    assert ledger("units", "list", "--json").stdout.count(NEW_NAME) == 1  # the change itself is made

    # The signed decision still matches the ledger.
    signed = tmp_path / "out-2025" / "quyet-dinh-cong-nhan-2025.docx"
    res = ledger("verify-doc", str(signed))
    assert "khớp với sổ" in res.stdout
    for name in ("bao-cao-ket-qua-2025.docx", "danh-sach-dang-ky-2025.docx", "tong-hop-2025.xlsx"):
        assert json.loads(ledger("verify-doc", str(tmp_path / "out-2025" / name), "--json").stdout)["matches"]

    # A re-export of 2025 prints the names the year was decided with.
    ledger("export", "--year", "2025", "--out", str(tmp_path / "again"), "--force")
    for name in ("quyet-dinh-cong-nhan-2025.docx", "bao-cao-ket-qua-2025.docx", "danh-sach-dang-ky-2025.docx"):
        text = docx_text(tmp_path / "again" / name)
        assert OLD_NAME in text and NEW_NAME not in text, name
    row = json.loads(ledger("list", "--year", "2025", "--json").stdout)[0]
    assert row["unit_name"] == OLD_NAME and row["status"] == "recognized"
    # The gates of the decided year still see the committee it was decided with.
    check = json.loads(ledger("check", decided_2025, "--json").stdout)
    assert check["eligible"] is True and check["unit_name"] == OLD_NAME

    # The next, undecided year has the new name and committee.
    e26 = ledger("register", "--year", "2026", "--unit", "BVDK", "--title", "Tủ sách pháp luật", "--field", "2",
                 "--date", "10/02/2026").stdout.strip()
    assert json.loads(ledger("list", "--year", "2026", "--json").stdout)[0]["unit_name"] == NEW_NAME
    ledger("report", e26, *ASPECTS)
    assert json.loads(ledger("confirm", e26, "--by", "Bí thư", "--json").stdout)["committee"] == NEW_COMMITTEE
    ledger("export", "--year", "2026", "--out", str(tmp_path / "out-2026"))
    text = docx_text(tmp_path / "out-2026" / "danh-sach-dang-ky-2026.docx")
    assert NEW_NAME in text and OLD_NAME not in text
    assert "Sổ toàn vẹn" in ledger("verify").stdout


def test_a_revoked_decision_keeps_its_units_and_the_reopened_year_takes_the_new_ones(decided_2025, ledger,
                                                                                     tmp_path):
    _rename_by_import(ledger, tmp_path)
    ledger("recognize", "--revoke", "--year", "2025", "--reason", "Sai tên đơn vị")
    res = ledger.fails("verify-doc", str(tmp_path / "out-2025" / "quyet-dinh-cong-nhan-2025.docx"))
    assert "thu hồi" in res.stderr and "Sổ đã thay đổi" not in res.stderr  # rendered again with its own units
    # The year is open again: it is judged and printed with the units as they are now.
    assert json.loads(ledger("list", "--year", "2025", "--json").stdout)[0]["unit_name"] == NEW_NAME
    ledger("confirm", decided_2025, "--by", "Bí thư")  # the new committee confirms again
    ledger("recognize", "--year", "2025", "--number", "6")
    ledger("export", "--year", "2025", "--out", str(tmp_path / "out-06"))
    assert NEW_NAME in docx_text(tmp_path / "out-06" / "quyet-dinh-cong-nhan-2025.docx")
    assert "Sổ toàn vẹn" in ledger("verify").stdout


def test_adding_a_unit_says_decided_years_keep_their_list(decided_2025, ledger):
    res = ledger("units", "add", "BVMAT", "Công đoàn Bệnh viện Mắt")
    assert "2025" in res.stderr and "giữ" in res.stderr
    assert "BVMAT" not in json.dumps(json.loads(ledger("status", "--year", "2025", "--json").stdout))


@pytest.mark.sqlite_only("upgrades the committed SQLite fixture file of revision 0002 in place")
def test_the_migration_gives_decided_years_the_units_they_were_printed_with(dvk, tmp_path):
    """ledger-0002: the 2023 decision was exported, then BVDK renamed by `units import` (which that release
    applied to the decided year too). After the upgrade the decision printed then matches again."""
    dvk.db.write_bytes((FIXTURES / "ledger-0002.sqlite").read_bytes())
    signed = tmp_path / "quyet-dinh-cong-nhan-2023.docx"
    signed.write_bytes((FIXTURES / "ledger-0002-quyet-dinh-cong-nhan-2023.docx").read_bytes())
    # Issue 12 changed the decision's layout (Decree 30): the file of the earlier release is recognised as
    # recorded but no longer re-rendered byte for byte; the units it was printed with are back all the same.
    res = dvk.fails("verify-doc", str(signed))
    assert "phiên bản dvk trước" in " ".join(res.stderr.split()) and "Sổ đã thay đổi" not in res.stderr
    assert "Sổ toàn vẹn" in dvk("verify").stdout
    rows = json.loads(dvk("list", "--year", "2023", "--json").stdout)
    assert {r["unit_name"] for r in rows if r["unit"] == "BVDK"} == {OLD_NAME}
    assert json.loads(dvk("units", "list", "--json").stdout)[0]["name"] == "Công đoàn Bệnh viện Đa khoa tỉnh Đồng Nai"
    con = sqlite3.connect(dvk.db)
    last = con.execute("SELECT command, n_changes FROM history ORDER BY id DESC LIMIT 1").fetchone()
    con.close()
    assert last[0] == "migrate" and last[1] > 0  # the rows it added are in the history of the upgrade
    from docx import Document  # a fresh export prints the unit as the decision was printed

    out = tmp_path / "again"
    dvk("export", "--year", "2023", "--out", str(out))
    again = Document(str(out / "quyet-dinh-cong-nhan-2023.docx"))
    printed = {c.text for t in again.tables for r in t.rows for c in r.cells}
    old_doc = Document(str(signed))
    assert {c.text for t in old_doc.tables[1:] for r in t.rows for c in r.cells if c.text == OLD_NAME} <= printed
    assert OLD_NAME in printed


# ---------------------------------------------------------------- a report changed after its confirmation (point 10)

def _history_count(db: Path) -> int:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT count(*) FROM history").fetchone()[0]
    finally:
        con.close()


def test_changing_a_confirmed_report_needs_force_and_clears_the_confirmation(ledger, full_entry):
    assert json.loads(ledger("check", full_entry, "--json").stdout)["eligible"] is True
    before = ledger_dump(ledger.db)
    res = ledger.fails("report", full_entry, "--approach", "Cách làm đã viết lại")
    assert "đã được cấp ủy “Đảng ủy Bệnh viện Đa khoa Đồng Nai” xác nhận" in res.stderr and "--force" in res.stderr
    assert ledger_dump(ledger.db) == before

    res = ledger("report", full_entry, "--approach", "Cách làm đã viết lại", "--force")
    assert "đã xóa xác nhận" in res.stderr and "dvk confirm" in res.stderr
    shown = json.loads(ledger("show", full_entry, "--json").stdout)
    assert shown["report"]["approach"] == "Cách làm đã viết lại" and shown["confirmation"] is None
    gate = next(g for g in shown["gates"] if g["code"] == "confirmation")
    assert not gate["ok"] and "sau khi cấp ủy xác nhận" in gate["reason"] and "xác nhận lại" in gate["reason"]
    assert "sau khi cấp ủy xác nhận" in ledger("check", "--year", "2024").stdout
    assert "xác nhận lại của cấp ủy" in ledger("status", "--year", "2024", "--missing").stdout
    # One history record holds both the new report and the confirmation it cleared.
    last = json.loads(ledger("history", "--json", "-n", "1").stdout)[0]
    assert sorted((c["op"], c["table_name"]) for c in last["changes"]) == [("delete", "confirmation"),
                                                                          ("update", "report")]
    assert "Sổ toàn vẹn" in ledger("verify").stdout
    # Confirmed again, the entry counts again.
    ledger("confirm", full_entry, "--by", "Bí thư Trần Văn Bình")
    assert json.loads(ledger("check", full_entry, "--json").stdout)["eligible"] is True


def test_a_refused_report_is_protected_as_well(ledger):
    eid = ledger("register", "--year", "2024", "--unit", "CDC", "--title", "Tủ sách", "--field", "2",
                 "--date", "10/02/2024").stdout.strip()
    ledger("report", eid, *ASPECTS)
    ledger("confirm", eid, "--by", "Bí thư", "--reject", "--reason", "Chưa có số liệu")
    res = ledger.fails("report", eid, "--effectiveness", "Có số liệu: tiết kiệm 50 triệu")
    assert "đã không xác nhận" in res.stderr and "--force" in res.stderr
    ledger("report", eid, "--effectiveness", "Có số liệu: tiết kiệm 50 triệu", "--force")
    assert json.loads(ledger("show", eid, "--json").stdout)["confirmation"] is None


def test_the_same_report_again_needs_no_force_and_records_nothing(ledger, full_entry):
    n = _history_count(ledger.db)
    res = ledger("report", full_entry, "--approach", "Cách làm sáng tạo")  # what is stored already
    assert "không thay đổi" in res.stdout
    assert _history_count(ledger.db) == n
    assert json.loads(ledger("show", full_entry, "--json").stdout)["status"] == "scored"


@pytest.mark.parametrize("blank", ["", "   ", "\n\t "])
def test_a_blank_option_never_erases_a_stored_aspect(ledger, full_entry, blank):
    before = ledger_dump(ledger.db)
    res = ledger("report", full_entry, "--approach", blank)
    assert "bỏ qua “Cách làm” (--approach) để trống" in res.stderr
    assert ledger_dump(ledger.db) == before
    # An unconfirmed report: the blank is left aside, the other option is written.
    eid = ledger("register", "--year", "2024", "--unit", "CDC", "--title", "Tủ sách", "--field", "2",
                 "--date", "10/02/2024").stdout.strip()
    ledger("report", eid, "--approach", "Cách làm", "--spread", "Lan tỏa")
    ledger("report", eid, "--approach", blank, "--spread", "Lan tỏa rộng")
    rep = json.loads(ledger("show", eid, "--json").stdout)["report"]
    assert rep["approach"] == "Cách làm" and rep["spread"] == "Lan tỏa rộng"


REPORT_HEAD = ["Mã", "Cách làm", "Kinh nghiệm", "Tính lan tỏa", "Hiệu quả", "Sự bền vững"]


def _report_csv(path: Path, rows) -> Path:
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf).writerows([REPORT_HEAD, *rows])
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def test_an_import_changing_a_confirmed_report_is_a_conflict_unless_update_force(ledger, full_entry, tmp_path):
    stored = ASPECTS[1::2]
    f = _report_csv(tmp_path / "bc.csv", [[full_entry, "Cách làm mới", *stored[1:]]])
    before = ledger_dump(ledger.db)
    for extra in ([], ["--update"]):
        res = ledger("report", "--from", str(f), *extra, "--json")
        out = json.loads(res.stdout)
        assert out["conflicts"] == 1 and out["updated"] == 0, extra
        assert "xác nhận" in json.dumps(out["conflict_details"], ensure_ascii=False)
    res = ledger("report", "--from", str(f), "--update")
    assert "--update --force" in res.stderr
    assert ledger_dump(ledger.db) == before
    # Blank cells never erase, and an unchanged row is "already there", confirmed or not.
    same = _report_csv(tmp_path / "same.csv", [[full_entry, "   ", "", *stored[2:]]])
    assert json.loads(ledger("report", "--from", str(same), "--update", "--json").stdout)["already"] == 1
    assert ledger_dump(ledger.db) == before

    out = json.loads(ledger("report", "--from", str(f), "--update", "--force", "--json").stdout)
    assert out["updated"] == 1 and out["confirmations_cleared"] == 1
    shown = json.loads(ledger("show", full_entry, "--json").stdout)
    assert shown["report"]["approach"] == "Cách làm mới" and shown["confirmation"] is None
    assert any("sau khi cấp ủy xác nhận" in r for r in shown["reasons"])
    last = json.loads(ledger("history", "--json", "-n", "1").stdout)[0]
    assert ("delete", "confirmation") in [(c["op"], c["table_name"]) for c in last["changes"]]
    assert "Sổ toàn vẹn" in ledger("verify").stdout


# ---------------------------------------------------------------- a report file read before the write lock (point 6)

def test_report_file_dev_zero_and_a_huge_file_are_refused_before_reading(ledger, full_entry, tmp_path):
    eid = ledger("register", "--year", "2024", "--unit", "CDC", "--title", "Tủ sách", "--field", "2",
                 "--date", "10/02/2024").stdout.strip()
    before = ledger_dump(ledger.db)
    # In processes of their own: hashing /dev/zero would never end.
    res = dvk_process("report", eid, "--approach", "x", "--file", "/dev/zero", "--db", str(ledger.db), timeout=60)
    assert res.returncode == 1 and "không phải là tệp thông thường" in res.stderr, res.stderr
    res = dvk_process("report", eid, "--from-docx", "/dev/zero", "--db", str(ledger.db), timeout=60)
    assert res.returncode == 1 and "không phải là tệp thông thường" in res.stderr, res.stderr
    big = tmp_path / "bao-cao.pdf"
    with open(big, "wb") as fh:
        fh.truncate(101 * 1024 * 1024)  # sparse: refused by its size
    res = ledger.fails("report", eid, "--approach", "x", "--file", str(big))
    assert "quá lớn" in res.stderr and "100 MiB" in res.stderr
    assert ledger_dump(ledger.db) == before


def test_a_report_file_that_is_a_fifo_blocks_no_other_writer(ledger, tmp_path):
    eid = ledger("register", "--year", "2024", "--unit", "CDC", "--title", "Tủ sách", "--field", "2",
                 "--date", "10/02/2024").stdout.strip()
    fifo = tmp_path / "bao-cao.pdf"
    os.mkfifo(fifo)
    env = {k: v for k, v in os.environ.items() if k != "DVK_DEBUG"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    import sys

    reporter = subprocess.Popen([sys.executable, "-m", "dvk", "report", eid, "--approach", "x", "--file", str(fifo),
                                 "--db", str(ledger.db)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env)
    try:
        # Another clerk writes meanwhile: it must not wait for the report command (60 s, then "đang bận").
        other = dvk_process("units", "add", "BVMAT", "Công đoàn Bệnh viện Mắt", "--db", str(ledger.db), timeout=45)
        assert other.returncode == 0, other.stderr
        out, err = reporter.communicate(timeout=45)
    finally:
        if reporter.poll() is None:
            reporter.kill()
            reporter.wait()
    assert reporter.returncode == 1 and "không phải là tệp thông thường" in err, err
    assert json.loads(ledger("show", eid, "--json").stdout)["report"] is None


def test_a_stored_criteria_set_with_a_key_dvk_does_not_use_stays_readable(ledger, full_entry, tmp_path):
    """An earlier release stored criteria files without checking their keys: such a year must not become
    unreadable (a decided year could not even take another set); a new file with that key is refused."""
    text = _default_criteria().replace("[scoring]\n", "ghi_chu = \"bản của văn phòng\"\n[scoring]\n")
    con = sqlite3.connect(ledger.db)
    con.execute("UPDATE criteria_set SET text = ?", (text,))
    con.commit()
    con.close()
    assert json.loads(ledger("check", full_entry, "--json").stdout)["eligible"] is True
    f = tmp_path / "co-khoa-la.toml"
    f.write_text(text, encoding="utf-8")
    assert "“ghi_chu”: khóa lạ" in ledger.fails("criteria", "use", str(f), "--from-year", "2026").stderr
