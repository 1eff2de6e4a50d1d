"""Lateness has one definition (dvk.rules.is_late): registration, `--update` imports, the gate of
`dvk check`, JSON and the registration list agree -- also after `dvk criteria use` moves the
registration window of an undecided year (every stored flag follows it, recorded in the history);
a decided year keeps what its decision said."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

from docx import Document

from conftest import ASPECTS, FULL, ledger_dump


def _criteria(ledger, tmp_path: Path, name: str, *, start: str | None = None, end: str | None = None) -> Path:
    """The ledger's criteria file with another registration window (MM-DD)."""
    text = ledger("criteria", "show", "--raw").stdout
    lines = []
    for line in text.splitlines():
        if start and line.startswith("registration_start ="):
            line = f'registration_start = "{start}"'
        if end and line.startswith("registration_end ="):
            line = f'registration_end = "{end}"'
        lines.append(line)
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _register(ledger, title: str, date: str, year: str = "2024", *extra: str) -> str:
    return ledger("register", "--year", year, "--unit", "BVDK", "--title", title, "--field", "1", "--date", date,
                  *extra).stdout.strip().splitlines()[0]


def _flags(db: Path) -> dict[str, bool]:
    """The `late` column as stored."""
    con = sqlite3.connect(db)
    try:
        return {i: bool(late) for i, late in con.execute("SELECT id, late FROM entry ORDER BY id")}
    finally:
        con.close()


def _shown(ledger, year: str = "2024") -> dict[str, dict]:
    """What every view says of each entry of `year`: list/show --json "late", the gate of `dvk check`,
    the text list's "(muộn)" and the note column of the registration list document."""
    listed = {e["id"]: e["late"] for e in json.loads(ledger("list", "--year", year, "--json").stdout)}
    text = ledger("list", "--year", year).stdout
    out = {}
    for eid, late in listed.items():
        shown = json.loads(ledger("show", eid, "--json").stdout)
        checked = json.loads(ledger("check", eid, "--json").stdout)
        gate = next(g for g in checked["gates"] if g["code"] == "registration")
        out[eid] = {"list": late, "show": shown["late"], "gate_late": not gate["ok"],
                    "check": checked["late"]}
    return {"entries": out, "text_says_late": "muộn" in text}


def _record_of(ledger, command: str) -> dict:
    """The latest history record of `command` (dvk export records its documents after it)."""
    return next(r for r in json.loads(ledger("history", "-n", "10", "--changes", "--json").stdout)
                if r["command"].startswith(command))


def _document_notes(ledger, tmp_path: Path, year: str = "2024") -> dict[str, str]:
    """Entry id -> the note column ("Đăng ký muộn", "Đột xuất" or "") of danh-sach-dang-ky-YEAR.docx."""
    out = tmp_path / f"out-{len(list(tmp_path.glob('out-*')))}"
    ledger("export", "--year", year, "--out", out)
    doc = Document(str(out / f"danh-sach-dang-ky-{year}.docx"))
    table = max(doc.tables, key=lambda t: len(t.rows))
    rows = [[c.text for c in r.cells] for r in table.rows]
    head = rows[0]
    return {r[1]: r[-1] for r in rows[1:] if r[1].startswith(f"{year}-") and r[1] != head[1]}


def test_a_later_window_end_makes_a_late_registration_on_time_everywhere(ledger, tmp_path):
    late = _register(ledger, "Mô hình đăng ký tháng 3", "05/03/2024")
    on_time = _register(ledger, "Mô hình đăng ký tháng 2", "10/02/2024")
    assert _flags(ledger.db) == {late: True, on_time: False}
    before = _shown(ledger)
    assert before["entries"][late] == {"list": True, "show": True, "gate_late": True, "check": True}
    assert before["text_says_late"]
    assert _document_notes(ledger, tmp_path)[late] == "Đăng ký muộn"

    march = _criteria(ledger, tmp_path, "thang-3.toml", end="03-31")
    res = ledger("criteria", "use", march, "--from-year", "2024")
    assert f"Đã cập nhật tình trạng đăng ký của 1 mô hình, điển hình" in res.stdout
    assert f"nay đúng hạn: {late}" in res.stdout and "nay muộn" not in res.stdout

    assert _flags(ledger.db) == {late: False, on_time: False}
    after = _shown(ledger)
    assert after["entries"][late] == {"list": False, "show": False, "gate_late": False, "check": False}
    assert after["entries"][on_time]["list"] is False
    assert not after["text_says_late"]
    assert _document_notes(ledger, tmp_path) == {late: "", on_time: ""}
    status = json.loads(ledger("status", "--year", "2024", "--json").stdout)
    assert status["late"] == 0

    # the change is recorded in the history record of `dvk criteria use`, and the ledger verifies
    rec = _record_of(ledger, "dvk criteria use")
    changed = {c["row_key"]: json.loads(c["data"]) for c in rec["changes"] if c["table_name"] == "entry"}
    assert set(changed) == {late} and changed[late]["late"] is False and rec["n_changes"] == 2
    assert "toàn vẹn" in ledger("verify").stdout


def test_a_later_window_start_makes_on_time_registrations_late_everywhere(ledger, tmp_path):
    early = _register(ledger, "Mô hình đăng ký đầu tháng 2", "03/02/2024")
    also = _register(ledger, "Mô hình đăng ký sớm", "01/02/2024")
    sudden = _register(ledger, "Thành tích đột xuất", "03/02/2024", "2024", "--sudden")
    inside = _register(ledger, "Mô hình đăng ký giữa tháng 2", "20/02/2024")
    assert set(_flags(ledger.db).values()) == {False}
    assert not _shown(ledger)["text_says_late"]

    mid = _criteria(ledger, tmp_path, "giua-thang-2.toml", start="02-15")
    res = ledger("criteria", "use", mid, "--from-year", "2024")
    assert "của 2 mô hình, điển hình" in res.stdout and f"nay muộn: {early}, {also}" in res.stdout

    assert _flags(ledger.db) == {early: True, also: True, sudden: False, inside: False}
    shown = _shown(ledger)
    for eid in (early, also):
        assert shown["entries"][eid] == {"list": True, "show": True, "gate_late": True, "check": True}
    for eid in (sudden, inside):  # a sudden achievement is never late; the 20th is inside the new window
        assert shown["entries"][eid] == {"list": False, "show": False, "gate_late": False, "check": False}
    assert shown["text_says_late"]
    assert _document_notes(ledger, tmp_path) == {early: "Đăng ký muộn", also: "Đăng ký muộn", sudden: "Đột xuất",
                                                 inside: ""}
    rec = _record_of(ledger, "dvk criteria use")
    assert sorted(c["row_key"] for c in rec["changes"] if c["table_name"] == "entry") == [early, also]
    assert "toàn vẹn" in ledger("verify").stdout

    # the same file again changes nothing and says nothing of lateness
    res = ledger("criteria", "use", mid, "--from-year", "2024")
    assert "tình trạng đăng ký" not in res.stdout
    assert _flags(ledger.db) == {early: True, also: True, sudden: False, inside: False}


def test_registering_and_update_imports_use_the_window_in_force(ledger, tmp_path):
    ledger("criteria", "use", _criteria(ledger, tmp_path, "thang-3.toml", end="03-31"), "--from-year", "2024")
    eid = _register(ledger, "Mô hình đăng ký tháng 3", "05/03/2024")
    assert json.loads(ledger("show", eid, "--json").stdout)["late"] is False  # on time under the March window
    f = tmp_path / "dang-ky.csv"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([
        ["Năm", "Mã đơn vị", "Tên mô hình, điển hình", "Lĩnh vực", "Ngày đăng ký"],
        ["2024", "BVDK", "Mô hình đăng ký tháng 3", "1", "05/04/2024"],  # moved after the window
        ["2024", "BVDK", "Mô hình mới tháng 3", "1", "30/03/2024"],
    ])
    f.write_text(buf.getvalue(), encoding="utf-8")
    ledger("register", "--from", f, "--update")
    flags = _flags(ledger.db)
    assert flags == {eid: True, "2024-002": False}
    shown = _shown(ledger)
    assert shown["entries"][eid]["gate_late"] is True and shown["entries"]["2024-002"]["gate_late"] is False


def test_a_decided_year_keeps_its_flags_and_later_years_follow_the_new_window(ledger, full_entry, tmp_path):
    late_2024 = _register(ledger, "Mô hình muộn năm 2024", "05/03/2024")
    ledger("recognize", "--year", "2024", "--number", "5")
    late_2025 = _register(ledger, "Mô hình muộn năm 2025", "05/03/2025", "2025")
    march = _criteria(ledger, tmp_path, "thang-3.toml", end="03-31")
    before = ledger_dump(ledger.db)
    res = ledger.fails("criteria", "use", march, "--from-year", "2024")
    assert "Năm 2024 đã có quyết định công nhận" in res.stderr
    assert ledger_dump(ledger.db) == before

    res = ledger("criteria", "use", march, "--from-year", "2025")
    assert f"nay đúng hạn: {late_2025}" in res.stdout and late_2024 not in res.stdout
    assert _flags(ledger.db) == {full_entry: False, late_2024: True, late_2025: False}
    assert json.loads(ledger("show", late_2024, "--json").stdout)["late"] is True
    assert _document_notes(ledger, tmp_path)[late_2024] == "Đăng ký muộn"
    assert "toàn vẹn" in ledger("verify").stdout


def test_register_json_reports_the_flag_the_ledger_stores(ledger):
    out = json.loads(ledger("register", "--year", "2024", "--unit", "CDC", "--title", "Mô hình muộn", "--field",
                            "2", "--date", "01/03/2024", "--json").stdout)
    assert out["late"] is True and _flags(ledger.db)[out["id"]] is True
    eid = out["id"]
    ledger("report", eid, *ASPECTS)
    ledger("confirm", eid, "--by", "Bí thư Trần Văn Bình")
    ledger("score", eid, "--member", "Nguyễn Văn An", *FULL)
    checked = json.loads(ledger("check", eid, "--json").stdout)
    assert checked["late"] is True and not checked["eligible"]
