"""The whole cycle through the real CLI (Typer's CliRunner) on a real SQLite file."""

from __future__ import annotations

import json
import sqlite3

import pytest

from conftest import ASPECTS, FULL, backup_folder, ledger_dump
from pg_support import PG


def reg(dvk, *extra, year="2024", unit="BVDK", title="Mô hình chăm lo", field="1", date="10/02/2024"):
    return dvk("register", "--year", year, "--unit", unit, "--title", title, "--field", field,
               "--date", date, *extra).stdout.strip()


def complete(dvk, eid, member="Nguyễn Văn An", scores=FULL):
    dvk("report", eid, *ASPECTS)
    dvk("confirm", eid, "--by", "Bí thư")
    dvk("score", eid, "--member", member, *scores)


# ---------------------------------------------------------------- init, info, org

def test_init_creates_once_and_second_init_changes_nothing(dvk):
    assert "Đã tạo sổ" in dvk("init").stdout
    before = ledger_dump(dvk.db)
    res = dvk("init", "--org", "Khác")
    assert "không thay đổi gì" in res.stdout
    assert ledger_dump(dvk.db) == before
    info = json.loads(dvk("info", "--json").stdout)
    from dvk.ledger.migrations import SCHEMA_HEAD

    assert info["schema"] == SCHEMA_HEAD and info["path"] == str(dvk.db) and info["counts"]["history"] == 1


def test_default_path_from_env(dvk, tmp_path, monkeypatch):
    p = tmp_path / "env-ledger.sqlite"
    monkeypatch.setenv("DVK_DB", str(p))
    from typer.testing import CliRunner

    from dvk.cli import app

    r = CliRunner().invoke(app, ["init"])
    assert r.exit_code == 0 and p.exists()
    r = CliRunner().invoke(app, ["info", "--json"])
    assert json.loads(r.stdout)["path"] == str(p)


def test_global_db_option_before_the_command(dvk, tmp_path):
    from typer.testing import CliRunner

    from dvk.cli import app

    p = tmp_path / "global.sqlite"
    assert CliRunner().invoke(app, ["--db", str(p), "init"]).exit_code == 0
    assert p.exists()


def test_init_with_custom_profile(dvk):
    dvk("init", "--org", "Công đoàn cơ sở Bệnh viện X", "--parent-org", "Công đoàn ngành Y tế tỉnh Đồng Nai",
        "--symbol", "CĐCS", "--signer", "Lê Văn Tám", "--signer-title", "CHỦ TỊCH", "--place", "Biên Hòa")
    prof = json.loads(dvk("org", "show", "--json").stdout)[0]
    assert prof["org"] == "Công đoàn cơ sở Bệnh viện X" and prof["symbol"] == "CĐCS" and prof["place"] == "Biên Hòa"


def test_default_profile_comes_from_the_seed_letter(dvk):
    dvk("init")
    prof = json.loads(dvk("org", "show", "--year", "2024", "--json").stdout)[0]
    assert prof["org"] == "Công đoàn ngành Y tế tỉnh Đồng Nai"
    assert prof["parent_org"] == "Liên đoàn Lao động tỉnh Đồng Nai"
    assert (prof["place"], prof["symbol"], prof["on_behalf"], prof["signer_title"]) == (
        "Đồng Nai", "CĐN", "TM. BAN THƯỜNG VỤ", "CHỦ TỊCH")


def test_profile_changes_from_a_year_and_earlier_years_keep_theirs(ledger):
    ledger("org", "set", "--from-year", "2026", "--signer", "Trần Thị Hoa", "--parent-org",
           "Liên đoàn Lao động tỉnh Đồng Nai (mới)")
    p25 = json.loads(ledger("org", "show", "--year", "2025", "--json").stdout)[0]
    p26 = json.loads(ledger("org", "show", "--year", "2026", "--json").stdout)[0]
    p30 = json.loads(ledger("org", "show", "--year", "2030", "--json").stdout)[0]
    assert p25["signer"] == "Đàm Đức Chính" and p26["signer"] == "Trần Thị Hoa" == p30["signer"]
    assert p26["org"] == p25["org"]  # unchanged fields carried over
    # a later change from 2028 leaves 2026–2027 alone
    ledger("org", "set", "--from-year", "2028", "--symbol", "CĐYT")
    assert json.loads(ledger("org", "show", "--year", "2027", "--json").stdout)[0]["symbol"] == "CĐN"
    assert json.loads(ledger("org", "show", "--year", "2028", "--json").stdout)[0]["symbol"] == "CĐYT"


def test_profile_change_refused_for_a_decided_year(ledger, full_entry):
    ledger("recognize", "--year", "2024", "--number", "5")
    before = ledger_dump(ledger.db)
    res = ledger.fails("org", "set", "--from-year", "2024", "--signer", "X Y")
    assert "đã có quyết định" in res.stderr
    assert ledger_dump(ledger.db) == before
    ledger("org", "set", "--from-year", "2025", "--signer", "X Y")


# ---------------------------------------------------------------- units

def test_units_add_list_and_duplicate(ledger):
    units = json.loads(ledger("units", "list", "--json").stdout)
    assert [u["code"] for u in units] == ["BVDK", "BVNHI", "CDC"]
    assert units[0]["committee"] == "Đảng ủy Bệnh viện Đa khoa Đồng Nai"
    res = ledger.fails("units", "add", "BVDK", "Trùng")
    assert "đã có trong sổ" in res.stderr


# ---------------------------------------------------------------- register

def test_register_prints_sequential_ids(ledger):
    assert reg(ledger) == "2024-001"
    assert reg(ledger, title="Mô hình khác") == "2024-002"
    assert reg(ledger, year="2025", date="01/02/2025") == "2025-001"


def test_register_defaults_and_individual(ledger):
    eid = reg(ledger, "--exemplar", "--individual", "Nguyễn Thị Ánh", "--position", "Điều dưỡng trưởng",
              title="Gương sáng")
    e = json.loads(ledger("show", eid, "--json").stdout)
    assert (e["kind"], e["subject"], e["person"], e["position"]) == (
        "exemplar", "individual", "Nguyễn Thị Ánh", "Điều dưỡng trưởng")
    eid2 = reg(ledger, title="Tập thể khoa Nội")
    e2 = json.loads(ledger("show", eid2, "--json").stdout)
    assert (e2["kind"], e2["subject"], e2["person"]) == ("model", "collective", None)


def test_register_late_and_sudden(ledger):
    late = ledger("register", "--year", "2024", "--unit", "BVDK", "--title", "Muộn", "--field", "2",
                  "--date", "2024-03-01")
    assert late.stdout.strip() == "2024-001" and "đăng ký muộn" in late.stderr
    sudden = reg(ledger, "--sudden", title="Đột xuất", date="20/07/2024")
    rows = {r["id"]: r for r in json.loads(ledger("list", "--year", "2024", "--json").stdout)}
    assert rows["2024-001"]["late"] is True and rows["2024-001"]["sudden"] is False
    assert rows[sudden]["late"] is False and rows[sudden]["sudden"] is True


def test_register_normalises_nfd_text(ledger):
    import unicodedata

    title = unicodedata.normalize("NFD", "Mô hình “Chăm lo đoàn viên”")
    eid = reg(ledger, title=title)
    e = json.loads(ledger("show", eid, "--json").stdout)
    assert e["title"] == unicodedata.normalize("NFC", title)


def test_register_refuses_duplicates_after_folding(ledger):
    reg(ledger, title="Mô hình Hoà nhập")
    before = ledger_dump(ledger.db)
    res = ledger.fails("register", "--year", "2024", "--unit", "BVDK", "--title", "mô  hình hòa nhập", "--field",
                       "1", "--date", "10/02/2024")
    assert "đã đăng ký năm 2024 (mã 2024-001)" in res.stderr
    assert ledger_dump(ledger.db) == before


@pytest.mark.parametrize("args,fragment", [
    (["--unit", "KHONGCO"], "Không có đơn vị mã “KHONGCO”"),
    (["--field", "6"], "lĩnh vực “6” không hợp lệ"),
    (["--field", "0"], "Lĩnh vực “0” không hợp lệ (--field/-f phải trong khoảng 1–99)"),
    (["--date", "31/02/2024"], "31/02/2024"),
    (["--date", "hôm qua"], "Ngày không hợp lệ"),
    (["--year", "1999"], "Năm “1999” không hợp lệ"),
    (["--title", "   "], "thiếu tên mô hình"),
    (["--individual", "An"], "phải có ít nhất họ và tên"),
    (["--position", "Trưởng khoa"], "tập thể không có họ tên, chức vụ"),
])
def test_register_errors_leave_the_ledger_unchanged(ledger, args, fragment):
    base = {"--year": "2024", "--unit": "BVDK", "--title": "Tên", "--field": "1", "--date": "10/02/2024"}
    extra = []
    it = iter(args)
    for k in it:
        v = next(it)
        if k in base:
            base[k] = v
        else:
            extra += [k, v]
    before = ledger_dump(ledger.db)
    res = ledger.fails("register", *[x for kv in base.items() for x in kv], *extra)
    assert fragment in res.stderr, res.stderr
    assert ledger_dump(ledger.db) == before


def test_usage_errors_keep_exit_code_2(ledger):
    res = ledger("register", "--year", "2024", ok=False)
    assert res.exit_code == 2
    res = ledger("register", "--year", "abc", "--unit", "BVDK", "--title", "x", "--field", "1", ok=False)
    assert res.exit_code == 2


def test_missing_ledger_is_a_clear_error(dvk, tmp_path):
    res = dvk.fails("list", "--year", "2024")
    # no ledger file yet; on a server, an empty database (created by its administrator) is not yet a ledger
    missing = "chưa phải là sổ dvk (trống)" if PG else "Chưa có sổ"
    assert missing in res.stderr and "dvk init" in res.stderr
    assert not dvk.db.exists()


@pytest.mark.sqlite_only("a ledger file holding text (the server's counterpart: tests/ledger/test_pg_store.py)")
def test_not_a_database_is_a_clear_error(dvk):
    dvk.db.write_text("đây không phải là sổ")
    res = dvk.fails("info")
    assert "không phải là sổ dvk" in res.stderr
    assert dvk.db.read_text() == "đây không phải là sổ"


# ---------------------------------------------------------------- report, confirm, score

def test_report_partial_then_complete_and_file_hash(ledger, tmp_path):
    eid = reg(ledger)
    res = ledger("report", eid, "--approach", "Cách làm", "--spread", "Lan tỏa")
    assert "còn thiếu: Kinh nghiệm, Hiệu quả, Sự bền vững" in res.stderr
    f = tmp_path / "bao-cao.pdf"
    f.write_bytes(b"%PDF-1.4 bao cao")
    ledger("report", eid, "--experience", "KN", "--effectiveness", "HQ", "--sustainability", "BV", "--file", str(f),
           "--date", "05/08/2024")
    e = json.loads(ledger("show", eid, "--json").stdout)
    import hashlib

    assert e["report"]["approach"] == "Cách làm" and e["report"]["sustainability"] == "BV"
    assert e["report"]["file_sha256"] == hashlib.sha256(f.read_bytes()).hexdigest()
    assert e["report"]["reported_on"] == "2024-08-05"
    assert e["status"] == "reported"


def test_report_errors(ledger):
    ledger.fails("report", "2024-999", "--approach", "x")
    eid = reg(ledger)
    res = ledger.fails("report", eid, "--file", "/khong/co/tep.pdf")
    assert "Không tìm thấy tệp báo cáo" in res.stderr
    res = ledger.fails("report", eid)
    assert "Báo cáo thành tích trống" in res.stderr


def test_confirm_needs_a_report_and_uses_the_unit_committee(ledger):
    eid = reg(ledger)
    res = ledger.fails("confirm", eid, "--by", "Bí thư")
    assert "chưa có báo cáo thành tích" in res.stderr
    ledger("report", eid, *ASPECTS)
    ledger("confirm", eid, "--by", "Bí thư", "--comment", "Tốt")
    e = json.loads(ledger("show", eid, "--json").stdout)
    assert e["confirmation"]["committee"] == "Đảng ủy Bệnh viện Đa khoa Đồng Nai"
    assert e["status"] == "confirmed"


def test_confirm_reject_needs_a_reason_and_fails_the_gate(ledger):
    eid = reg(ledger)
    ledger("report", eid, *ASPECTS)
    res = ledger.fails("confirm", eid, "--by", "Bí thư", "--reject")
    assert "phải nêu lý do" in res.stderr
    ledger("confirm", eid, "--by", "Bí thư", "--reject", "--reason", "Chưa lan tỏa")
    ledger("score", eid, "--member", "A B", *FULL)
    e = json.loads(ledger("check", eid, "--json").stdout)
    assert e["eligible"] is False
    assert any("không xác nhận: Chưa lan tỏa" in r for r in e["reasons"])


def test_score_replaces_the_same_members_scores(ledger, full_entry):
    first = json.loads(ledger("show", full_entry, "--json").stdout)["score"]
    low = [s.split("=")[0] + "=5" if not s.endswith("na") else s for s in FULL]
    res = ledger("score", full_entry, "--member", "Nguyễn Văn An", *low)
    assert "Đã thay điểm" in res.stdout
    e = json.loads(ledger("show", full_entry, "--json").stdout)
    assert list(e["scores"]) == ["Nguyễn Văn An"] and e["score"] == 50.0 != first
    hist = json.loads(ledger("history", full_entry, "--json").stdout)
    assert [c["op"] for c in hist[0]["changes"]] == ["update"]
    assert json.loads(hist[0]["changes"][0]["data"])["marks"].startswith('{"G1":5,')


def test_several_members_mean(ledger, full_entry):
    ledger("score", full_entry, "--member", "Trần Thị Mai", *[s.split("=")[0] + "=10" if not s.endswith("na")
                                                              else s for s in FULL])
    e = json.loads(ledger("check", full_entry, "--json").stdout)
    a, b = e["member_totals"]["Nguyễn Văn An"], e["member_totals"]["Trần Thị Mai"]
    assert b == 100.0 and e["score"] == round((a + b) / 2, 2)


@pytest.mark.parametrize("scores,fragment", [
    (["G1=11"], "ngoài thang 0–10"),
    (["G1=-0.5"], "ngoài thang"),
    (["G1=na"], "tiêu chí chung"),
    (["Z1=5"], "không có trong bộ tiêu chí"),
    ([], "chưa chấm các tiêu chí"),
])
def test_score_errors_leave_the_ledger_unchanged(ledger, full_entry, scores, fragment):
    before = ledger_dump(ledger.db)
    rest = [s for s in FULL if s.split("=")[0] not in {x.split("=")[0] for x in scores}] if scores else []
    res = ledger.fails("score", full_entry, "--member", "Lê Minh Tuấn", *scores, *rest)
    assert fragment in res.stderr
    assert ledger_dump(ledger.db) == before


def test_score_unknown_entry_and_missing_member(ledger):
    res = ledger.fails("score", "2024-404", "--member", "A", *FULL)
    assert "Không có mô hình, điển hình mã “2024-404”" in res.stderr
    res = ledger.fails("score", "2024-404", *FULL)
    assert "--member" in res.stderr


# ---------------------------------------------------------------- check, recognize, lock

def test_check_year_explains_each_entry(ledger, full_entry):
    reg(ledger, title="Chưa làm gì")
    rows = json.loads(ledger("check", "--year", "2024", "--json").stdout)
    assert [r["eligible"] for r in rows] == [True, False]
    assert rows[1]["status"] == "registered"
    assert {g["code"] for g in rows[1]["gates"] if not g["ok"]} == {"report", "confirmation", "scores", "pass_mark"}
    text = ledger("check", "--year", "2024").stdout
    assert "1/2 mô hình, điển hình đủ điều kiện" in text


def test_recognize_dry_run_writes_nothing(ledger, full_entry):
    before = ledger_dump(ledger.db)
    out = json.loads(ledger("recognize", "--year", "2024", "--number", "5", "--dry-run", "--json").stdout)
    assert out["recognized"] == [full_entry] and out["dry_run"] is True
    assert ledger_dump(ledger.db) == before


def test_recognize_locks_and_revoke_unlocks(ledger, full_entry):
    failing = reg(ledger, title="Chưa đủ")
    res = ledger("recognize", "--year", "2024", "--number", "5")
    assert "Quyết định số 05/QĐ-CĐN ngày 15/10/2024" in res.stdout
    rows = {r["id"]: r for r in json.loads(ledger("list", "--year", "2024", "--json").stdout)}
    assert rows[full_entry]["status"] == "recognized" and rows[failing]["status"] == "not_recognized"
    assert rows[failing]["reasons"] and rows[failing]["eligible"] is False
    assert json.loads(ledger("list", "--year", "2024", "--status", "recognized", "--json").stdout)[0]["id"] == full_entry
    # locked: every change to the year is refused, ledger unchanged
    before = ledger_dump(ledger.db)
    for args in (["score", full_entry, "--member", "X Y", *FULL], ["report", failing, *ASPECTS],
                 ["confirm", full_entry, "--by", "B"],
                 ["register", "--year", "2024", "--unit", "BVDK", "--title", "Mới", "--field", "1"],
                 ["recognize", "--year", "2024", "--number", "6"]):
        res = ledger.fails(*args)
        assert "Quyết định công nhận số 05/QĐ-CĐN" in res.stderr, args
        assert "--revoke" in res.stderr
    assert ledger_dump(ledger.db) == before
    # backup taken before recognize
    backups = list(backup_folder(ledger.db).glob("*-recognize.sqlite"))
    assert len(backups) == 1
    # revoke needs a reason, then unlocks
    ledger.fails("recognize", "--revoke", "--year", "2024")
    ledger("recognize", "--revoke", "--year", "2024", "--reason", "Sai sót số liệu")
    ledger("score", failing, "--member", "X Y", *FULL, ok=True) if False else None
    ledger("report", failing, *ASPECTS)
    rows = {r["id"]: r for r in json.loads(ledger("list", "--year", "2024", "--json").stdout)}
    assert rows[full_entry]["status"] == "scored"
    # the old number cannot be reused; a new decision can be made
    res = ledger.fails("recognize", "--year", "2024", "--number", "5")
    assert "đã được dùng" in res.stderr
    ledger("recognize", "--year", "2024", "--number", "7", "--date", "20/10/2024")
    hist = json.loads(ledger("history", "--json", "--limit", "100").stdout)
    cmds = [h["command"] for h in hist]
    assert any("--revoke" in c for c in cmds) and any("--number 7" in c for c in cmds)


def test_recognize_refuses_when_nothing_passes(ledger):
    reg(ledger)
    before = ledger_dump(ledger.db)
    res = ledger.fails("recognize", "--year", "2024", "--number", "1")
    assert "Không có mô hình, điển hình nào năm 2024 đạt" in res.stderr
    assert ledger_dump(ledger.db) == before
    res = ledger.fails("recognize", "--year", "2023", "--number", "1")
    assert "chưa có mô hình" in res.stderr
    res = ledger.fails("recognize", "--year", "2024", "--number", "1", "--date", "15/10/2030")
    assert "phải thuộc năm 2024" in res.stderr


def test_recognition_uses_the_year_own_rules(ledger, full_entry, tmp_path):
    strict = tmp_path / "strict.toml"
    from dvk.criteria import default_text

    strict.write_text(default_text().replace("pass_mark = 80", "pass_mark = 95"), encoding="utf-8")
    ledger("criteria", "use", str(strict), "--from-year", "2025")
    assert json.loads(ledger("check", full_entry, "--json").stdout)["eligible"] is True
    e25 = reg(ledger, year="2025", date="02/02/2025")
    complete(ledger, e25)
    e = json.loads(ledger("check", e25, "--json").stdout)
    assert e["eligible"] is False and e["pass_mark"] == 95.0
    shown = json.loads(ledger("criteria", "show", "--year", "2025", "--json").stdout)
    assert shown["pass_mark"] == 95.0
    assert json.loads(ledger("criteria", "show", "--year", "2024", "--json").stdout)["pass_mark"] == 80.0


def test_criteria_show_without_a_ledger_prints_the_default(dvk):
    from typer.testing import CliRunner

    from dvk.cli import app

    res = CliRunner().invoke(app, ["criteria", "show"])
    assert res.exit_code == 0 and "G5" in res.stdout and "mặc định" in res.stdout
    raw = CliRunner().invoke(app, ["criteria", "show", "--raw"])
    assert raw.stdout.startswith("# Tiêu chí")


def test_criteria_use_bad_file(ledger, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("phase = \n", encoding="utf-8")
    before = ledger_dump(ledger.db)
    res = ledger.fails("criteria", "use", str(bad), "--from-year", "2025")
    assert "không đọc được TOML" in res.stderr
    assert ledger_dump(ledger.db) == before


# ---------------------------------------------------------------- views

def test_list_json_shape(ledger, full_entry):
    rows = json.loads(ledger("list", "--year", "2024", "--json").stdout)
    keys = {"id", "year", "unit", "title", "kind", "subject", "person", "position", "field", "registered_on", "late",
            "sudden", "status", "score", "eligible", "reasons"}
    assert keys <= set(rows[0])
    assert rows[0]["registered_on"] == "2024-02-10" and rows[0]["status"] == "scored"
    res = ledger.fails("list", "--year", "2024", "--status", "xong")
    assert "Trạng thái “xong” không có" in res.stderr


def test_list_and_show_for_people(ledger, full_entry):
    out = ledger("list", "--year", "2024").stdout
    assert "2024-001" in out and "10/02/2024" in out and "Đã chấm điểm" in out
    out = ledger("show", full_entry).stdout
    assert "Cách làm sáng tạo" in out and "Nguyễn Văn An" in out and "ĐẠT" in out


def test_status_counts_and_missing(ledger, full_entry):
    reg(ledger, unit="CDC", title="Thiếu hồ sơ", field="3")
    s = json.loads(ledger("status", "--year", "2024", "--json", "--missing").stdout)
    assert s["counts"]["registered"] == 2 and s["counts"]["scored"] == 1 and s["counts"]["recognized"] == 0
    assert list(s["by_unit"]) == ["BVDK", "CDC"]
    assert s["by_field"]["3"]["registered"] == 1
    assert s["missing"]["CDC"][0]["missing"][:2] == ["báo cáo thành tích", "xác nhận của cấp ủy"]
    assert "BVDK" not in s["missing"]
    text = ledger("status", "--year", "2024", "--missing").stdout
    assert "CDC" in text and "còn thiếu báo cáo thành tích" in text


# ---------------------------------------------------------------- history

def test_every_change_is_in_the_history(ledger, full_entry):
    hist = json.loads(ledger("history", "--json", "--limit", "100").stdout)
    assert all(h["user"] == "thư ký kiểm thử" for h in hist)
    cmds = [h["command"].split()[1] for h in reversed(hist)]
    assert cmds == ["init", "units", "units", "units", "register", "report", "confirm", "score"]
    assert all(len(h["hash"]) == 64 for h in hist)
    assert [h["prev_hash"] for h in hist[:-1]] == [h["hash"] for h in hist[1:]]
    own = json.loads(ledger("history", full_entry, "--json").stdout)
    assert len(own) == 4
    score = own[0]["changes"]
    assert [c["row_key"] for c in score] == [f"{full_entry}|Nguyễn Văn An"]
    data = json.loads(score[0]["data"])
    assert data["member"] == "Nguyễn Văn An"
    assert json.loads(data["marks"]) == {"G1": 8, "G2": 9, "G3": 8, "G4": 8.5, "G5": 9, "S1": 9, "S2": 8, "S3": None,
                                         "S4": 9, "S5": 8, "S6": 9}


def test_user_option_is_recorded(ledger):
    ledger("units", "add", "X1", "Đơn vị X", "--user", "Chị Hoa")
    assert json.loads(ledger("history", "--json", "-n", "1").stdout)[0]["user"] == "Chị Hoa"


def test_history_for_people(ledger, full_entry):
    out = ledger("history", "--changes").stdout
    assert "dvk register" in out and "insert entry 2024-001" in out


@pytest.mark.sqlite_only("the ledger file's journal mode and PRAGMA integrity_check")
def test_ledger_file_is_a_plain_sqlite_in_wal_mode(ledger, full_entry):
    con = sqlite3.connect(ledger.db)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert con.execute("SELECT count(*) FROM entry").fetchone()[0] == 1
    con.close()


# ---------------------------------------------------------------- demo data

def test_demo_ledger_has_the_cases_the_clerk_meets(demo_ledger):
    path, summary = demo_ledger  # demo.build(path, user="kiểm thử", echo=lambda _: None), built once
    assert summary[2025]["entries"] == 60 and set(summary) == {2021, 2022, 2023, 2024, 2025, 2026}  # 2026: next phase
    from conftest import Dvk

    d = Dvk(path)
    assert len(json.loads(d("units", "list", "--json").stdout)) == 30
    rows = json.loads(d("list", "--year", "2025", "--json").stdout)
    reasons = " ".join(r for row in rows for r in row["reasons"])
    assert any(r["late"] for r in rows) and any(r["sudden"] and r["status"] == "recognized" for r in rows)
    for fragment in ("ngoài thời hạn", "không xác nhận", "thấp hơn điểm đạt", "Chưa có báo cáo",
                     "còn thiếu", "không phải cấp ủy cùng cấp", "thành viên Hội đồng chấm điểm"):
        assert fragment in reasons, fragment
    assert sum(r["status"] == "recognized" for r in rows) == summary[2025]["recognized"] > 40
    d("verify")


def test_demo_refuses_to_replace_an_existing_demo_without_force(tmp_path):
    from typer.testing import CliRunner

    from dvk.cli import app

    out = tmp_path / "demo"
    out.mkdir()
    (out / "dvk-demo.sqlite").write_bytes(b"")
    import os

    os.environ.pop("DVK_DEBUG", None)
    res = CliRunner().invoke(app, ["demo", "--out", str(out)])
    assert res.exit_code == 1 and "--force" in res.stderr


def test_status_counts_from_the_database_are_the_streamed_ones_in_every_demo_year(demo_ledger):
    """`dvk status` counts with one GROUP BY (dvk.cycle.status.stage_counts); with --missing it streams every
    entry (`reached`). Both give the same counts in every year of the demo: decided and undecided, late and
    sudden entries, rejected confirmations, sheets of non-members, revoked and none decisions."""
    from conftest import Dvk

    path, summary = demo_ledger
    d = Dvk(path)
    for year in sorted(summary):
        counted = json.loads(d("status", "--year", str(year), "--json").stdout)
        streamed = json.loads(d("status", "--year", str(year), "--json", "--missing").stdout)
        streamed.pop("missing")
        assert counted == streamed, year
        assert counted["total"] == summary[year]["entries"]
    tree = json.loads(d("status", "--year", "2025", "--tree", "--json").stdout)
    assert tree[0]["counts"] == json.loads(d("status", "--year", "2025", "--json").stdout)["counts"]
