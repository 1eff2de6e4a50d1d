"""`dvk register --from FILE`: registrations in bulk from real .xlsx/.csv/.json files on disk."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sqlite3
import unicodedata
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from conftest import ledger_dump

HEAD = ["Năm", "Mã đơn vị", "Tên mô hình, điển hình", "Loại", "Đối tượng", "Họ và tên", "Chức vụ", "Lĩnh vực",
        "Ngày đăng ký", "Đột xuất", "Ghi chú"]
ROWS = [
    ["2024", "BVDK", "Quỹ “Tấm lòng vàng” hỗ trợ đoàn viên", "Mô hình", "Tập thể", "", "", "1", "10/02/2024", "", ""],
    ["2024", "BVNHI", "Điều dưỡng tận tâm", "Điển hình", "Cá nhân", "Trần Thị Thuỷ", "Điều dưỡng trưởng", "5",
     "2024-02-20", "", "ghi chú"],
    ["2024", "CDC", "Phòng chống dịch sốt xuất huyết", "", "", "", "", "4", "15/06/2024", "x", ""],
]


def write_csv(path: Path, rows, *, encoding="utf-8", delimiter=",") -> Path:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, rows, font: str | None = None) -> Path:
    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    if font:
        for row in ws.iter_rows(min_row=2):
            for c in row:
                c.font = Font(name=font)
    wb.save(path)
    return path


def entries(db: Path) -> list[dict]:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute("SELECT * FROM entry ORDER BY year, seq")]
    finally:
        con.close()


def history_count(db: Path) -> int:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT count(*) FROM history").fetchone()[0]
    finally:
        con.close()


def run_json(ledger, *args):
    return json.loads(ledger(*args, "--json").stdout)


# ---------------------------------------------------------------- the happy path

def test_csv_import_assigns_ids_in_file_order_and_computes_late_and_sudden(ledger, tmp_path):
    f = write_csv(tmp_path / "dk.csv", [HEAD, *ROWS])
    res = run_json(ledger, "register", "--from", f)
    assert (res["added"], res["already"], res["conflicts"], res["rejected"]) == (3, 0, 0, 0)
    assert res["new_ids"] == ["2024-001", "2024-002", "2024-003"]
    got = entries(ledger.db)
    assert [e["unit_code"] for e in got] == ["BVDK", "BVNHI", "CDC"]
    assert got[0]["kind"] == "model" and got[0]["subject"] == "collective" and not got[0]["late"]
    assert got[1]["kind"] == "exemplar" and got[1]["subject"] == "individual"
    assert got[1]["person"] == "Trần Thị Thuỷ" and got[1]["position"] == "Điều dưỡng trưởng"
    assert got[1]["registered_on"] == "2024-02-20" and got[1]["note"] == "ghi chú"
    assert got[2]["sudden"] == 1 and got[2]["late"] == 0 and got[2]["field"] == 4
    # the history records the import as one command with every row
    listed = json.loads(ledger("history", "--json").stdout)
    assert "Nhập đăng ký" in json.dumps(listed, ensure_ascii=False)


def test_same_rules_as_the_single_command(ledger, tmp_path):
    """A row imported and the same registration typed give the same entry (but the id)."""
    f = write_csv(tmp_path / "one.csv", [HEAD, ["2024", "BVNHI", "Điều dưỡng tận tâm", "Điển hình", "Cá nhân",
                                                 "Trần Thị Thuỷ", "Điều dưỡng", "5", "05/03/2024", "", "n"]])
    ledger("register", "--from", f)
    ledger("register", "--year", "2025", "--unit", "BVNHI", "--title", "Điều dưỡng tận tâm", "--exemplar",
           "--individual", "Trần Thị Thuỷ", "--position", "Điều dưỡng", "--field", "5", "--date", "05/03/2025",
           "--note", "n")
    a, b = entries(ledger.db)
    for k in ("id", "year", "registered_on"):
        a.pop(k), b.pop(k)
    assert a == b and a["late"] == 1


def test_xlsx_with_real_excel_dates_numbers_and_year_option(ledger, tmp_path):
    head = [h for h in HEAD if h != "Năm"]
    rows = [[r[1], r[2], r[3], r[4], r[5], r[6], int(r[7]), None, r[9], r[10]] for r in ROWS]
    rows[0][7] = dt.datetime(2024, 2, 10)
    rows[1][7] = dt.date(2024, 2, 29)
    rows[2][7] = "15/06/2024"
    f = write_xlsx(tmp_path / "dk.xlsx", [head, *rows])
    res = run_json(ledger, "register", "--from", f, "--year", "2024")
    assert res["added"] == 3
    assert [e["registered_on"] for e in entries(ledger.db)] == ["2024-02-10", "2024-02-29", "2024-06-15"]


def test_headers_any_case_diacritics_spacing_and_english_values(ledger, tmp_path):
    head = ["nam", "MÃ  ĐƠN VỊ", "ten mo hinh, dien hinh", "LOẠI", "doi tuong", "Ho va ten", "chuc vu", "linh vuc",
            "ngày đăng ký", "dot xuat", "ghi chu"]
    rows = [["2024", "bvdk", "Mô hình A", "model", "collective", "", "", "2", "2024-02-03", "no", ""],
            ["2024", "CDC", "Điển hình B", "exemplar", "individual", "Lê Văn Bình", "", "3", "03/02/2024", "", ""]]
    f = write_csv(tmp_path / "h.csv", [head, *rows], delimiter=";")
    ledger("register", "--from", f)
    got = entries(ledger.db)
    assert got[0]["unit_code"] == "BVDK" and got[0]["kind"] == "model"
    assert got[1]["kind"] == "exemplar" and got[1]["subject"] == "individual"


def test_json_with_english_keys_round_trips_dvk_list_json(ledger, tmp_path, db):
    f = write_csv(tmp_path / "dk.csv", [HEAD, *ROWS])
    ledger("register", "--from", f)
    listed = ledger("list", "--year", "2024", "--json").stdout
    j = tmp_path / "list.json"
    j.write_text(listed, encoding="utf-8")
    # a second ledger with the same units takes the exported list as it is
    other = tmp_path / "other.sqlite"
    ledger("init", "--db", other)
    for code in ("BVDK", "BVNHI", "CDC"):
        ledger("units", "add", "--db", other, code, f"Công đoàn {code}")
    res = json.loads(ledger("register", "--db", other, "--from", j, "--json").stdout)
    assert res["added"] == 3 and res["unknown_headers"] == []
    strip = lambda rows: [{k: v for k, v in r.items()} for r in rows]  # noqa: E731
    assert strip(entries(other)) == strip(entries(ledger.db))


# ---------------------------------------------------------------- encodings and text

@pytest.mark.parametrize("encoding,delimiter", [
    ("utf-8", ","), ("utf-8-sig", ";"), ("utf-16", "\t"), ("cp1258", ";"),
])
def test_csv_encodings(ledger, tmp_path, encoding, delimiter):
    rows = [HEAD, *ROWS]
    if encoding == "cp1258":
        # Windows-1258 has no precomposed toned letters: Excel writes base letter + combining tone
        text_rows = [[unicodedata.normalize("NFD", c) for c in r] for r in rows]
        buf = io.StringIO()
        csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows(
            [[_cp1258_ready(c) for c in r] for r in text_rows])
        (tmp_path / "e.csv").write_bytes(buf.getvalue().encode("cp1258"))
        f = tmp_path / "e.csv"
    else:
        f = write_csv(tmp_path / "e.csv", rows, encoding=encoding, delimiter=delimiter)
    ledger("register", "--from", f)
    titles = [e["title"] for e in entries(ledger.db)]
    assert titles == [r[2] for r in ROWS]
    assert all(unicodedata.is_normalized("NFC", t) for t in titles)


def _cp1258_ready(s: str) -> str:
    """NFD text recomposed where cp1258 has the letter (â, ê, ô, ơ, ư, ă, đ), tones left combining."""
    tones = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
    out = []
    for ch in unicodedata.normalize("NFC", s):
        d = unicodedata.normalize("NFD", ch)
        base = unicodedata.normalize("NFC", "".join(m for m in d if m not in tones))
        out.append(base + "".join(m for m in d if m in tones))
    return "".join(out)


def test_nfd_input_is_stored_nfc_and_matches_on_reimport(ledger, tmp_path):
    nfd = [[unicodedata.normalize("NFD", c) for c in r] for r in [HEAD, *ROWS]]
    f = write_csv(tmp_path / "nfd.csv", nfd)
    ledger("register", "--from", f)
    for e in entries(ledger.db):
        for k in ("title", "person", "position"):
            assert e[k] is None or unicodedata.is_normalized("NFC", e[k])
    f2 = write_csv(tmp_path / "nfc.csv", [HEAD, *ROWS])
    assert run_json(ledger, "register", "--from", f2)["already"] == 3


def test_old_and_new_tone_placement_is_the_same_entry(ledger, tmp_path):
    ledger("register", "--from", write_csv(tmp_path / "a.csv", [HEAD, ["2024", "BVDK", "Chăm lo sức khoẻ hoà nhập",
                                                                       "", "", "", "", "1", "10/02/2024", "", ""]]))
    again = write_csv(tmp_path / "b.csv", [HEAD, ["2024", "bvdk", "chăm lo  sức khỏe hòa nhập", "", "", "", "", "1",
                                                  "10/02/2024", "", ""]])
    res = run_json(ledger, "register", "--from", again)
    assert (res["added"], res["already"]) == (0, 1)


def test_legacy_tcvn3_and_vni_text_is_converted_and_said(ledger, tmp_path):
    rows = [HEAD, ["2024", "BVDK", "B¶o vÖ quyÒn lîi ®oµn viªn", "", "", "", "", "1", "10/02/2024", "", ""],
            ["2024", "CDC", "Xin chaøo caùc baïn", "", "", "", "", "2", "10/02/2024", "", ""]]
    f = write_csv(tmp_path / "legacy.csv", rows)
    res = ledger("register", "--from", f)
    assert [e["title"] for e in entries(ledger.db)] == ["Bảo vệ quyền lợi đoàn viên", "Xin chào các bạn"]
    assert "TCVN3" in res.stderr and "VNI" in res.stderr and "sang Unicode" in res.stderr


def test_legacy_font_in_xlsx(ledger, tmp_path):
    rows = [HEAD, [2024, "BVDK", "Ch¨m lo ®êi sèng", None, None, None, None, 1, "10/02/2024", None, None]]
    f = write_xlsx(tmp_path / "vn.xlsx", rows, font=".VnTime")
    res = run_json(ledger, "register", "--from", f)
    assert res["legacy_converted"] == {"TCVN3 (ABC)": 1}
    assert entries(ledger.db)[0]["title"] == "Chăm lo đời sống"


# ---------------------------------------------------------------- validation: all or nothing

BAD = [
    # (row values by header, column in message, fragment of the reason)
    ({"Năm": ""}, "Năm", "thiếu năm"),
    ({"Năm": "20x4"}, "Năm", "năm không hợp lệ"),
    ({"Mã đơn vị": "KHONGCO"}, "Mã đơn vị", "không có đơn vị mã này"),
    ({"Tên mô hình, điển hình": ""}, "Tên mô hình, điển hình", "thiếu tên"),
    ({"Loại": "Phong trào"}, "Loại", "loại không hợp lệ"),
    ({"Đối tượng": "Nhóm"}, "Đối tượng", "đối tượng không hợp lệ"),
    ({"Đối tượng": "Cá nhân"}, "Họ và tên", "phải có họ và tên"),
    ({"Đối tượng": "Cá nhân", "Họ và tên": "Thuỷ"}, "Họ và tên", "ít nhất họ và tên"),
    ({"Họ và tên": "Lê Văn Tám"}, "Họ và tên", "tập thể không ghi họ và tên"),
    ({"Lĩnh vực": ""}, "Lĩnh vực", "thiếu lĩnh vực"),
    ({"Lĩnh vực": "7"}, "Lĩnh vực", "lĩnh vực không hợp lệ"),
    ({"Ngày đăng ký": "31/02/2024"}, "Ngày đăng ký", "ngày đăng ký không hợp lệ"),
    ({"Ngày đăng ký": "hôm qua"}, "Ngày đăng ký", "ngày đăng ký không hợp lệ"),
    ({"Đột xuất": "có lẽ"}, "Đột xuất", "chỉ ghi “x”"),
]


def test_every_validation_error_is_listed_with_row_column_value_and_nothing_is_written(ledger, tmp_path):
    good = dict(zip(HEAD, ROWS[0]))
    rows = [HEAD, ROWS[1]]  # one good row first: it must not be written either
    for i, (change, _col, _frag) in enumerate(BAD):
        r = {**good, "Tên mô hình, điển hình": f"Mô hình lỗi {i}", **change}
        if "Họ và tên" in change and "Đối tượng" not in change:
            r["Đối tượng"] = "Tập thể"
        rows.append([r[h] for h in HEAD])
    f = write_csv(tmp_path / "bad.csv", rows)
    before = ledger_dump(ledger.db)
    res = ledger.fails("register", "--from", f)
    err = res.stderr
    assert f"có {len(BAD)} lỗi ở {len(BAD)} dòng; không ghi gì vào sổ" in err
    for i, (_change, col, frag) in enumerate(BAD):
        line = i + 3  # header is line 1, the good row line 2
        expected = f"bad.csv, dòng {line}, cột “{col}”: "
        hits = [ln for ln in err.splitlines() if expected in ln]
        assert hits and frag in hits[0], (line, col, frag, err)
    assert "(giá trị: “KHONGCO”)" in err and "(giá trị: “31/02/2024”)" in err
    assert ledger_dump(ledger.db) == before


def test_missing_columns_are_reported_before_any_row(ledger, tmp_path):
    f = write_csv(tmp_path / "cols.csv", [["Năm", "Tên mô hình, điển hình"], ["2024", "X"]])
    res = ledger.fails("register", "--from", f)
    assert "thiếu cột “Mã đơn vị”" in res.stderr and "thiếu cột “Lĩnh vực”" in res.stderr


def test_unreadable_file_is_a_clear_error(ledger, tmp_path):
    res = ledger.fails("register", "--from", tmp_path / "khong-co.xlsx")
    assert "Không tìm thấy tệp" in res.stderr
    bad = tmp_path / "x.pdf"
    bad.write_text("x")
    assert "Không hỗ trợ định dạng" in ledger.fails("register", "--from", bad).stderr


def test_locked_year_refuses_the_import(full_entry, ledger, tmp_path):
    ledger("recognize", "--year", "2024", "--number", "5")
    f = write_csv(tmp_path / "late.csv", [HEAD, ROWS[0]])
    before = ledger_dump(ledger.db)
    res = ledger.fails("register", "--from", f)
    assert "Năm 2024 đã có Quyết định công nhận số 05" in res.stderr and "thu hồi" in res.stderr
    assert ledger_dump(ledger.db) == before


def test_option_mistakes(ledger, tmp_path):
    f = write_csv(tmp_path / "dk.csv", [HEAD, *ROWS])
    assert "cùng --from" in ledger.fails("register", "--from", f, "--unit", "BVDK").stderr
    assert "--skip-invalid" in ledger.fails("register", "--from", f, "--rejects", tmp_path / "r.csv").stderr
    assert "chỉ dùng khi nhập từ tệp" in ledger.fails(
        "register", "--year", "2024", "--unit", "BVDK", "--title", "x", "--field", "1", "--dry-run").stderr
    res = ledger("register", "--year", "2024", ok=False)
    assert res.exit_code == 2 and "--unit" in res.stderr and "--from" in res.stderr


# ---------------------------------------------------------------- dry run, rejects, idempotence, conflicts

def test_dry_run_reports_and_writes_nothing(ledger, tmp_path):
    f = write_csv(tmp_path / "dk.csv", [HEAD, *ROWS])
    before = ledger_dump(ledger.db)
    res = ledger("register", "--from", f, "--dry-run")
    assert "Chạy thử" in res.stdout and "2024-001, 2024-002, 2024-003" in res.stdout
    assert ledger_dump(ledger.db) == before
    bad = write_csv(tmp_path / "bad.csv", [HEAD, ROWS[0], ["2024", "X", "t", "", "", "", "", "1", "", "", ""]])
    ledger.fails("register", "--from", bad, "--dry-run")
    assert ledger_dump(ledger.db) == before


@pytest.mark.parametrize("ext", ["csv", "xlsx", "json"])
def test_skip_invalid_writes_rejects_in_the_input_format_and_they_reimport(ledger, tmp_path, ext):
    rows = [HEAD, ROWS[0], ["2024", "KHONGCO", "Mô hình sai đơn vị", "", "", "", "", "2", "10/02/2024", "", ""],
            ROWS[1], ["2024", "CDC", "Mô hình sai lĩnh vực", "", "", "", "", "9", "11/02/2024", "", ""]]
    if ext == "csv":
        f = write_csv(tmp_path / "in.csv", rows, delimiter=";")
    elif ext == "xlsx":
        f = write_xlsx(tmp_path / "in.xlsx", rows)
    else:
        f = tmp_path / "in.json"
        f.write_text(json.dumps([dict(zip(HEAD, r)) for r in rows[1:]], ensure_ascii=False), encoding="utf-8")
    rej = tmp_path / f"loai.{ext}"
    res = ledger("register", "--from", f, "--skip-invalid", "--rejects", rej)
    assert "bị loại" in res.stderr and rej.exists()
    # the rejects file exists now: writing it again needs --force (issue 9)
    out = json.loads(ledger("register", "--from", f, "--skip-invalid", "--rejects", rej, "--force", "--json").stdout)
    assert (out["added"], out["already"], out["rejected"]) == (0, 2, 2)
    assert [e["title"] for e in entries(ledger.db)] == [ROWS[0][2], ROWS[1][2]]
    # the rejects file has the two bad rows, in the input's own format, with the reason
    if ext == "xlsx":
        ws = load_workbook(rej).active
        data = [[c.value for c in r] for r in ws.iter_rows()]
        head, body = data[0], data[1:]
        assert head[-1] == "Lý do" and len(body) == 2
        reasons = [r[-1] for r in body]
        fixed = tmp_path / "fixed.xlsx"
        body[0][head.index("Mã đơn vị")] = "BVDK"
        body[1][head.index("Lĩnh vực")] = 3
        write_xlsx(fixed, [head, *body])
    elif ext == "csv":
        text = rej.read_text(encoding="utf-8-sig")
        data = list(csv.reader(io.StringIO(text), delimiter=";"))
        head, body = data[0], data[1:]
        assert head[-1] == "Lý do" and len(body) == 2
        reasons = [r[-1] for r in body]
        body[0][head.index("Mã đơn vị")] = "BVDK"
        body[1][head.index("Lĩnh vực")] = "3"
        fixed = write_csv(tmp_path / "fixed.csv", [head, *body], delimiter=";")
    else:
        body = json.loads(rej.read_text(encoding="utf-8"))
        reasons = [r["Lý do"] for r in body]
        body[0]["Mã đơn vị"] = "BVDK"
        body[1]["Lĩnh vực"] = "3"
        fixed = tmp_path / "fixed.json"
        fixed.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    assert "Mã đơn vị" in reasons[0] and "không có đơn vị" in reasons[0]
    assert "lĩnh vực không hợp lệ" in reasons[1]
    again = json.loads(ledger("register", "--from", fixed, "--json").stdout)
    assert again["added"] == 2 and again["unknown_headers"] == []
    assert len(entries(ledger.db)) == 4


def test_reimport_changes_nothing_not_even_the_history(ledger, tmp_path):
    f = write_xlsx(tmp_path / "dk.xlsx", [HEAD, *ROWS])
    ledger("register", "--from", f)
    before = ledger_dump(ledger.db)
    res = ledger("register", "--from", f)
    assert "Sổ không thay đổi" in res.stdout
    assert run_json(ledger, "register", "--from", f)["already"] == 3
    assert ledger_dump(ledger.db) == before


def test_conflict_is_reported_then_update_applies_it(ledger, tmp_path):
    ledger("register", "--from", write_csv(tmp_path / "a.csv", [HEAD, *ROWS]))
    changed = [r[:] for r in ROWS]
    changed[0][7] = "2"  # field
    changed[0][8] = "10/03/2024"  # now late
    changed[1][10] = "ghi chú mới"
    f = write_csv(tmp_path / "b.csv", [HEAD, *changed])
    before = ledger_dump(ledger.db)
    res = ledger("register", "--from", f)
    assert "xung đột" in res.stderr and "trùng với 2024-001" in res.stderr
    assert "Lĩnh vực: sổ ghi “1”, tệp ghi “2”" in res.stderr and "--update" in res.stderr
    assert ledger_dump(ledger.db) == before
    out = run_json(ledger, "register", "--from", f, "--update")
    assert (out["updated"], out["already"], out["added"]) == (2, 1, 0)
    got = entries(ledger.db)
    assert got[0]["field"] == 2 and got[0]["late"] == 1 and got[0]["registered_on"] == "2024-03-10"
    assert got[1]["note"] == "ghi chú mới" and got[0]["id"] == "2024-001"
    assert run_json(ledger, "register", "--from", f)["already"] == 3


def test_duplicates_inside_one_file_across_batches(ledger, tmp_path, monkeypatch):
    from dvk.intake import engine

    monkeypatch.setattr(engine, "BATCH", 2)
    dup = ROWS[0][:]
    other = ROWS[0][:]
    other[7] = "3"
    f = write_csv(tmp_path / "d.csv", [HEAD, ROWS[0], ROWS[1], ROWS[2], dup, other])
    out = run_json(ledger, "register", "--from", f)
    assert (out["added"], out["already"], out["conflicts"]) == (3, 1, 1)
    assert "vừa thêm từ dòng 2 của tệp" in out["conflict_details"][0]["target"]
    assert len(entries(ledger.db)) == 3


def test_examples_and_blank_rows_of_the_form_are_skipped(ledger, tmp_path):
    rows = [HEAD, ["2024", "BVDK", "Mẫu", "", "", "", "", "1", "", "", "[VÍ DỤ] dòng mẫu"], ROWS[0],
            [""] * len(HEAD)]
    out = run_json(ledger, "register", "--from", write_csv(tmp_path / "e.csv", rows))
    assert (out["added"], out["examples"]) == (1, 1)


def test_unknown_columns_are_ignored_and_said(ledger, tmp_path):
    f = write_csv(tmp_path / "u.csv", [[*HEAD, "Số điện thoại"], [*ROWS[0], "0909"]])
    res = ledger("register", "--from", f)
    assert "bỏ qua các cột không dùng đến: “Số điện thoại”" in res.stderr


def test_progress_bar_only_for_long_files(ledger, tmp_path, monkeypatch):
    from dvk.commands import intake as intake_cli
    from dvk.commands.intake import RowsProgress as _Progress

    PROGRESS_FROM = _Progress.PROGRESS_FROM

    shown: list[int] = []

    class Spy(_Progress):
        def update(self, rows):
            super().update(rows)
            if self.bar is not None:
                shown.append(rows)

    monkeypatch.setattr(intake_cli, "progress_display", lambda: Spy)  # as on a terminal
    units = ["BVDK", "BVNHI", "CDC"]
    short = [HEAD] + [["2024", units[i % 3], f"Mô hình {i}", "", "", "", "", "1", "", "", ""] for i in range(50)]
    ledger("register", "--from", write_csv(tmp_path / "s.csv", short))
    assert shown == []
    long = [HEAD] + [["2024", units[i % 3], f"Mô hình dài {i}", "", "", "", "", "1", "", "", ""]
                     for i in range(PROGRESS_FROM + 1000)]
    out = run_json(ledger, "register", "--from", write_csv(tmp_path / "l.csv", long), "--dry-run")
    assert out["added"] == PROGRESS_FROM + 1000 and out["dry_run"] is True
    assert shown and shown[0] == PROGRESS_FROM


def test_year_option_is_checked_and_fills_rows_without_a_year(ledger, tmp_path):
    head = [h for h in HEAD if h != "Năm"]
    f = write_csv(tmp_path / "y.csv", [head, ROWS[0][1:]])
    assert "Năm “1990” không hợp lệ" in ledger.fails("register", "--from", f, "--year", "1990").stderr
    assert "thiếu cột “Năm”" in ledger.fails("register", "--from", f).stderr
    other = write_csv(tmp_path / "o.csv", [HEAD, ["2023", *ROWS[0][1:]]])
    assert "năm 2023 khác với năm đang nhập (--year 2024)" in ledger.fails("register", "--from", other, "--year",
                                                                           "2024").stderr
    ledger("register", "--from", f, "--year", "2024")
    assert entries(ledger.db)[0]["id"] == "2024-001"


# ---------------------------------------------------------------- empty texts, nested JSON values

def test_empty_note_and_position_are_stored_as_null(ledger, tmp_path):
    """A blank note or position (empty, spaces, a zero-width space) is NULL, typed or imported."""
    ledger("register", "--year", "2024", "--unit", "BVNHI", "--title", "Gõ tay", "--exemplar",
           "--individual", "Trần Thị Thuỷ", "--position", " \u200b ", "--field", "5", "--date", "05/02/2024",
           "--note", "   ")
    ledger("register", "--year", "2024", "--unit", "BVDK", "--title", "Gõ tay tập thể", "--field", "1",
           "--note", "")
    f = write_csv(tmp_path / "blank.csv", [HEAD, ["2024", "BVNHI", "Từ tệp", "Điển hình", "Cá nhân",
                                                   "Lê Văn Nam", "  ", "5", "05/02/2024", "", " \u00a0 "]])
    ledger("register", "--from", f)
    j = tmp_path / "blank.json"
    j.write_text(json.dumps([{"year": 2024, "unit": "CDC", "title": "Từ JSON", "field": 2, "note": "",
                              "position": " "}]), encoding="utf-8")
    ledger("register", "--from", j)
    got = entries(ledger.db)
    assert len(got) == 4
    assert [(e["note"], e["position"]) for e in got] == [(None, None)] * 4
    assert "toàn vẹn" in ledger("verify").stdout


@pytest.mark.parametrize("column", ["year", "unit", "title", "kind", "subject", "person", "position", "field",
                                    "registered_on", "sudden", "note"])
@pytest.mark.parametrize("value", [["Mô hình"], {"a": 1}, []])
def test_a_list_or_object_in_any_json_column_is_a_row_problem(ledger, tmp_path, column, value):
    good = {"year": 2024, "unit": "CDC", "title": "Mô hình JSON", "field": 1}
    j = tmp_path / "nested.json"
    j.write_text(json.dumps([good, {**good, "title": "Mô hình hai", column: value}], ensure_ascii=False),
                 encoding="utf-8")
    before = ledger_dump(ledger.db)
    res = ledger.fails("register", "--from", j)
    assert "nested.json, bản ghi 2" in res.stderr and "giá trị không hợp lệ" in res.stderr, res.stderr
    assert "Lỗi nội bộ" not in res.stderr and "Traceback" not in res.stderr
    assert ledger_dump(ledger.db) == before
    # --skip-invalid imports the good record and leaves the nested one out
    out = run_json(ledger, "register", "--from", j, "--skip-invalid")
    assert (out["added"], out["rejected"]) == (1, 1)


def test_remembered_values_do_not_mix_numbers_and_booleans(ledger, tmp_path):
    """1, 1.0 and True are one dict key: a field of true must still be refused after a field of 1."""
    base = {"year": 2024, "unit": "CDC", "field": 1}
    j = tmp_path / "mixed.json"
    j.write_text(json.dumps([{**base, "title": "Một"}, {**base, "title": "Hai", "field": True},
                             {**base, "title": "Ba", "field": "1"}, {**base, "title": "Bốn", "field": 1.0}]),
                 encoding="utf-8")
    res = ledger.fails("register", "--from", j)
    assert "bản ghi 2" in res.stderr and "lĩnh vực không hợp lệ" in res.stderr
    assert "bản ghi 1," not in res.stderr and "bản ghi 3" not in res.stderr and "bản ghi 4" not in res.stderr
