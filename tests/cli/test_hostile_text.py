"""Hostile text and numbers (issue 9): control characters are refused at input and never printed raw;
every text field has a length limit; huge integers, broken pipes and long values end in one clear
Vietnamese line. Everything through the CLI, on real ledgers and files."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ASPECTS, FULL, UNITS, ledger_dump
from pg_support import PG

ROOT = Path(__file__).resolve().parents[2]

# What must never reach a terminal raw: ESC, BEL, NUL, DEL, a C1 control (CSI) and a bidi override.
RAW = ("\x1b", "\x07", "\x00", "\x7f", "\x9b", "\u202e", "\u2066")
OSC_TITLE = "\x1b]0;pwned\x07"
CLEAR = "\x1b[2J"


def assert_no_raw(text: str) -> None:
    bad = [hex(ord(c)) for c in RAW if c in text]
    assert not bad, (bad, text[:2000])


@pytest.fixture
def reported(ledger):
    """2024-001 (BVDK) registered and reported: ready for confirm and score."""
    eid = ledger("register", "--year", "2024", "--unit", "BVDK", "--title", "Chăm lo đoàn viên", "--field", "1",
                 "--date", "10/02/2024").stdout.strip()
    ledger("report", eid, *ASPECTS)
    return ledger


def refused(dvk, *args, code: int = 1):
    """Run a command that must be refused: exit code, ledger untouched, no raw control character."""
    before = ledger_dump(dvk.db) if dvk.db.exists() else None
    res = dvk.fails(*args, code=code)
    after = ledger_dump(dvk.db) if dvk.db.exists() else None
    assert before == after
    assert "Lỗi nội bộ" not in res.stderr
    assert_no_raw(res.stdout + res.stderr)
    return res


REG = ["register", "--year", "2024", "--unit", "BVDK", "--field", "1", "--date", "10/02/2024"]
IND = [*REG, "--title", "Điều dưỡng tận tâm", "--exemplar"]


# ---------------------------------------------------------------- point 7: control characters typed

TYPED = [
    ([*REG, "--title", f"Tủ sách {OSC_TITLE} pháp luật"], "--title"),
    ([*IND, "--individual", f"Nguyễn {CLEAR}Văn An"], "--individual"),
    ([*IND, "--individual", "Nguyễn Văn An", "--position", "Điều dưỡng\x07"], "--position"),
    ([*REG, "--title", "Tủ sách", "--note", "ghi\x00chú"], "--note"),
    ([*REG, "--title", "Tủ sách", "--note", "ghi\u202echú"], "--note"),
    (["units", "add", "X\x1bY", "Công đoàn X"], "Mã đơn vị"),
    (["units", "add", "XY", f"Công đoàn {CLEAR}X"], "Tên đơn vị"),
    (["units", "add", "XY", "Công đoàn X", "--committee", "Chi bộ\x9b X"], "--committee"),
    (["report", "2024-001", "--approach", f"Cách làm {CLEAR}mới"], "--approach"),
    (["confirm", "2024-001", "--by", "Bí thư\x1b[31m Bình"], "--by"),
    (["confirm", "2024-001", "--by", "Bí thư Bình", "--comment", "Tốt\x7f"], "--comment"),
    (["confirm", "2024-001", "--by", "Bí thư Bình", "--committee", "Đảng ủy\u2066"], "--committee"),
    (["confirm", "2024-001", "--by", "Bí thư Bình", "--reject", "--reason", "Chưa\x1b đủ"], "--reason"),
    (["score", "2024-001", "--member", f"Nguyễn {OSC_TITLE}An", *FULL], "--member"),
    (["org", "set", "--from-year", "2026", "--org", "Công đoàn\x1b[2J"], "--org"),
    (["org", "set", "--from-year", "2026", "--recipient", "Lưu: VT\x9b"], "--recipient"),
    (["recognize", "--year", "2024", "--revoke", "--reason", "Sai\x1b sót"], "--reason"),
    ([*REG, "--title", "Tủ sách", "--user", f"kẻ xấu{CLEAR}"], "--user"),
    (["template", "scores", "--out", "phieu.xlsx", "--year", "2024", "--member", "Nguyễn\x1b An"], "--member"),
]


@pytest.mark.parametrize("args,option", TYPED, ids=[f"{a[0]}{o}-{i}" for i, (a, o) in enumerate(TYPED)])
def test_typed_control_characters_are_refused_naming_the_option(reported, args, option, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = refused(reported, *args)
    assert option in res.stderr
    assert "ký tự điều khiển" in res.stderr
    assert not (tmp_path / "phieu.xlsx").exists()


def test_control_characters_in_dvk_user_are_refused_naming_the_variable(ledger, monkeypatch):
    monkeypatch.setenv("DVK_USER", f"kẻ xấu{OSC_TITLE}")
    res = refused(ledger, *REG, "--title", "Tủ sách")
    assert "DVK_USER" in res.stderr and "ký tự điều khiển" in res.stderr


def test_control_characters_in_the_root_user_option_are_refused(ledger):
    res = refused(ledger, "--user", f"kẻ xấu{CLEAR}", "--db", ledger.db, *REG, "--title", "Tủ sách")
    assert "--user" in res.stderr and "ký tự điều khiển" in res.stderr


def test_init_refuses_control_characters_before_creating_the_ledger(dvk):
    res = dvk.fails("init", "--org", f"Công đoàn{CLEAR}")
    assert "--org" in res.stderr and "ký tự điều khiển" in res.stderr
    assert_no_raw(res.stderr)
    assert not dvk.db.exists()


def test_tabs_and_line_breaks_stay_allowed(reported):
    reported("report", "2024-001", "--approach", "Dòng một\nDòng hai\tcó tab\r\nDòng ba")
    show = json.loads(reported("show", "2024-001", "--json").stdout)
    assert show["report"]["approach"] == "Dòng một\nDòng hai có tab\nDòng ba"
    reported(*REG, "--title", "Tủ sách\tpháp\nluật")
    assert json.loads(reported("show", "2024-002", "--json").stdout)["title"] == "Tủ sách pháp luật"


# ---------------------------------------------------------------- point 7: control characters imported

def write_csv(path: Path, rows) -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


REG_HEAD = ["Năm", "Mã đơn vị", "Tên mô hình, điển hình", "Loại", "Đối tượng", "Họ và tên", "Chức vụ", "Lĩnh vực",
            "Ngày đăng ký", "Đột xuất", "Ghi chú"]


def test_imported_registrations_with_control_characters_are_row_problems(ledger, tmp_path):
    f = write_csv(tmp_path / "dk.csv", [
        REG_HEAD,
        ["2024", "BVDK", f"Tủ sách {OSC_TITLE}", "", "", "", "", "1", "10/02/2024", "", ""],
        ["2024", "BVNHI", "Điều dưỡng", "Điển hình", "Cá nhân", f"Trần {CLEAR}Thị Thuỷ", "Điều dưỡng\x9b", "5",
         "20/02/2024", "", ""],
        ["2024", "CDC", "Phòng dịch", "", "", "", "", "4", "15/02/2024", "", "ghi\u202echú"],
        ["2024", "CDC", "Một dòng tốt", "", "", "", "", "4", "15/02/2024", "", ""],
    ])
    res = refused(ledger, "register", "--from", f)
    err = res.stderr
    assert "dk.csv, dòng 2, cột “Tên mô hình, điển hình”" in err
    assert "dk.csv, dòng 3, cột “Họ và tên”" in err
    assert "dk.csv, dòng 3, cột “Chức vụ”" in err
    assert "dk.csv, dòng 4, cột “Ghi chú”" in err
    assert err.count("ký tự điều khiển") >= 4


def test_imported_json_registration_with_escapes_is_refused(ledger, tmp_path):
    f = tmp_path / "dk.json"
    f.write_text(json.dumps([{"Năm": 2024, "Mã đơn vị": "BVDK", "Tên mô hình, điển hình": "Tủ sách\u001b[2J",
                              "Lĩnh vực": 1}]), encoding="utf-8")
    res = refused(ledger, "register", "--from", f)
    assert "dk.json" in res.stderr and "Tên mô hình, điển hình" in res.stderr and "ký tự điều khiển" in res.stderr


def test_imported_reports_confirmations_and_scores_with_control_characters(reported, tmp_path):
    rep = write_csv(tmp_path / "bc.csv", [["Mã", "Cách làm", "Kinh nghiệm"], ["2024-001", f"Mới {CLEAR}", "Tốt"]])
    res = refused(reported, "report", "--from", rep)
    assert "bc.csv, dòng 2, cột “Cách làm”" in res.stderr and "ký tự điều khiển" in res.stderr
    conf = write_csv(tmp_path / "xn.csv", [["Mã", "Người xác nhận", "Nhận xét"], ["2024-001", "Bí thư\x1b", "Tốt"]])
    res = refused(reported, "confirm", "--from", conf)
    assert "xn.csv, dòng 2, cột “Người xác nhận”" in res.stderr and "ký tự điều khiển" in res.stderr
    codes = [c.split("=")[0] for c in FULL]
    marks = [c.split("=")[1] for c in FULL]
    sc = write_csv(tmp_path / "cd.csv", [["Mã", "Thành viên", *codes], ["2024-001", f"Nguyễn {OSC_TITLE}An", *marks]])
    res = refused(reported, "score", "--from", sc)
    assert "cd.csv, dòng 2, cột “Thành viên”" in res.stderr and "ký tự điều khiển" in res.stderr


def test_imported_units_with_control_characters_are_refused(ledger, tmp_path):
    f = write_csv(tmp_path / "dv.csv", [["Mã đơn vị", "Tên đơn vị", "Cấp ủy"], ["TTYT", f"Trung tâm{CLEAR}", "Chi bộ"]])
    res = refused(ledger, "units", "import", f)
    assert "dv.csv, dòng 2, cột “Tên đơn vị”" in res.stderr and "ký tự điều khiển" in res.stderr


# ---------------------------------------------------------------- point 7: never printed raw

# A NUL in stored text: a SQLite file can hold one; PostgreSQL's text cannot (that edit cannot happen there).
NOTE = "ghi\u202echú" if PG else "ghi\u202echú\x00"


def _tamper(db: Path) -> None:
    """What an old ledger or an SQL edit may hold: control characters in every kind of text."""
    con = sqlite3.connect(db)
    with con:
        con.execute("UPDATE entry SET title = ?, person = ?, position = ?, note = ?",
                    (f"Tủ sách {OSC_TITLE}", f"Nguyễn {CLEAR}An", "Trưởng\x9bkhoa", NOTE))
        con.execute("UPDATE unit SET name = ?, committee = ? WHERE code = 'BVDK'",
                    (f"Bệnh viện {CLEAR}", "Đảng ủy\x07"))
        con.execute("UPDATE report SET approach = ?", (f"Cách làm\x1b[1mđậm\x7f",))
        con.execute("UPDATE confirmation SET comment = ?, confirmed_by = ?", ("Tốt\u2066", f"Bí thư {OSC_TITLE}"))
        con.execute("UPDATE score SET member = ?", (f"Nguyễn {CLEAR}An",))
        con.execute('UPDATE history SET "user" = ?, command = ?, summary = ?',
                    (f"kẻ xấu{CLEAR}", f"dvk {OSC_TITLE}", f"Đăng ký \x1b[2J"))
    con.close()


VIEWS = [
    ["show", "2024-001"],
    ["list", "--year", "2024"],
    ["list", "--year", "2024", "--status", "scored"],
    ["check", "2024-001"],
    ["check", "--year", "2024"],
    ["status", "--year", "2024", "--missing"],
    ["units", "list"],
    ["history"],
    ["history", "--changes"],
    ["history", "2024-001"],
    ["recognize", "--year", "2024", "--number", "5", "--dry-run"],
]


@pytest.mark.parametrize("args", VIEWS, ids=[" ".join(a) for a in VIEWS])
def test_stored_control_characters_are_printed_visibly(full_entry, ledger, args):
    _tamper(ledger.db)
    res = ledger(*args, ok=False)
    assert "Lỗi nội bộ" not in res.stderr
    assert_no_raw(res.stdout + res.stderr)
    assert "\\x1b" in res.stdout + res.stderr


@pytest.mark.parametrize("args", [["show", "2024-001", "--json"], ["list", "--year", "2024", "--json"],
                                  ["history", "--json"], ["check", "--year", "2024", "--json"]])
def test_json_output_escapes_control_and_bidi_characters(full_entry, ledger, args):
    _tamper(ledger.db)
    res = ledger(*args)
    assert_no_raw(res.stdout)
    values = set(_strings(json.loads(res.stdout)))
    # the values themselves are kept exactly
    assert {f"Tủ sách {OSC_TITLE}", f"kẻ xấu{CLEAR}"} & values
    assert {"Trưởng\x9bkhoa", NOTE, "Tốt\u2066"} & values or "history" in args


def _strings(data):
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for v in data.values():
            yield from _strings(v)
    elif isinstance(data, list):
        for v in data:
            yield from _strings(v)


def test_error_messages_show_control_characters_visibly(ledger):
    res = refused(ledger, "show", f"2024-{CLEAR}")
    assert "\\x1b[2J" in res.stderr
    res = refused(ledger, f"lệnh{OSC_TITLE}", code=2)
    assert "\\x1b]0;pwned\\x07" in res.stderr


def test_rich_markup_in_data_is_printed_as_text(ledger):
    ledger(*REG, "--title", "Quỹ [bold]vàng[/] và [/] lẻ :smile:")
    res = ledger("list", "--year", "2024")
    assert "Quỹ [bold]vàng[/] và [/] lẻ :smile:" in res.stdout.replace("\n", "")
    res = refused(ledger, "show", "[/]")
    assert "“[/]”" in res.stderr


# ---------------------------------------------------------------- point 8: length limits

LONG = [
    ([*REG, "--title", "T" * 501], "--title", 500),
    ([*IND, "--individual", "Nguyễn " + "A" * 194], "--individual", 200),
    ([*IND, "--individual", "Nguyễn Văn An", "--position", "P" * 201], "--position", 200),
    ([*REG, "--title", "Tủ sách", "--note", "N" * 2001], "--note", 2000),
    (["units", "add", "C" * 41, "Công đoàn X"], "Mã đơn vị", 40),
    (["units", "add", "XY", "N" * 301], "Tên đơn vị", 300),
    (["units", "add", "XY", "Công đoàn X", "--committee", "C" * 301], "--committee", 300),
    (["report", "2024-001", "--approach", "A" * 20001], "--approach", 20000),
    (["confirm", "2024-001", "--by", "B" * 201], "--by", 200),
    (["confirm", "2024-001", "--by", "Bí thư Bình", "--comment", "C" * 5001], "--comment", 5000),
    (["confirm", "2024-001", "--by", "Bí thư Bình", "--reject", "--reason", "R" * 2001], "--reason", 2000),
    (["score", "2024-001", "--member", "M" * 201, *FULL], "--member", 200),
    (["org", "set", "--from-year", "2026", "--org", "O" * 301], "--org", 300),
    (["org", "set", "--from-year", "2026", "--recipient", "R" * 301], "--recipient", 300),
    (["recognize", "--year", "2024", "--revoke", "--reason", "R" * 2001], "--reason", 2000),
    ([*REG, "--title", "Tủ sách", "--user", "U" * 201], "--user", 200),
    (["template", "scores", "--out", "phieu.xlsx", "--year", "2024", "--member", "M" * 201], "--member", 200),
]


@pytest.mark.parametrize("args,option,limit", LONG, ids=[f"{a[0]}{o}" for a, o, _ in LONG])
def test_typed_text_over_its_limit_is_refused_naming_field_and_limit(reported, args, option, limit, tmp_path,
                                                                     monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = refused(reported, *args)
    assert option in res.stderr
    assert f"tối đa {limit}" in res.stderr


def test_texts_at_their_limit_are_accepted(reported):
    reported(*IND, "--individual", "Nguyễn " + "A" * 193, "--position", "P" * 200, "--note", "N" * 2000)
    e = json.loads(reported("show", "2024-002", "--json").stdout)
    assert len(e["person"]) == 200 and len(e["position"]) == 200 and len(e["note"]) == 2000


def test_megabyte_values_are_refused_and_not_echoed(reported):
    res = refused(reported, *IND, "--individual", "Nguyễn " + "A" * 1_000_000)
    assert "tối đa 200" in res.stderr
    assert len(res.stderr) < 2000


def test_dvk_user_over_its_limit_is_refused(ledger, monkeypatch):
    monkeypatch.setenv("DVK_USER", "U" * 201)
    res = refused(ledger, *REG, "--title", "Tủ sách")
    assert "DVK_USER" in res.stderr and "tối đa 200" in res.stderr


def test_imported_texts_over_their_limits_are_row_problems(ledger, tmp_path):
    f = write_csv(tmp_path / "dk.csv", [
        REG_HEAD,
        ["2024", "BVNHI", "Điều dưỡng", "Điển hình", "Cá nhân", "Trần Thị " + "T" * 200, "C" * 201, "5",
         "20/02/2024", "", "N" * 2001],
    ])
    res = refused(ledger, "register", "--from", f)
    err = res.stderr
    assert "dk.csv, dòng 2, cột “Họ và tên”" in err and "tối đa 200" in err
    assert "dk.csv, dòng 2, cột “Chức vụ”" in err
    assert "dk.csv, dòng 2, cột “Ghi chú”" in err and "tối đa 2000" in err
    assert len(err) < 3000  # the values are cut in the message


# ---------------------------------------------------------------- huge integers

HUGE = "99999999999999999999"


def _int_options() -> list[tuple[list[str], str]]:
    import typer

    from dvk.cli import app

    out: list[tuple[list[str], str]] = []

    def walk(group, path):
        for name, sub in group.commands.items():
            if hasattr(sub, "commands"):
                walk(sub, [*path, name])
                continue
            for p in sub.params:
                if getattr(p, "type_descriptor", None) is not None and p.type_descriptor.annotation is int:
                    out.append(([*path, name], p.opts[0]))

    walk(typer.main.get_command(app), [])
    return out


INT_OPTIONS = _int_options()


def test_the_int_options_are_found():
    found = {(" ".join(p), o) for p, o in INT_OPTIONS}
    assert {("history", "--limit"), ("recognize", "--number"), ("recognize", "--year"), ("list", "--year"),
            ("register", "--field"), ("org set", "--from-year")} <= found


@pytest.mark.parametrize("value", [HUGE, "-" + HUGE])
@pytest.mark.parametrize("path,option", INT_OPTIONS, ids=[f"{' '.join(p)} {o}" for p, o in INT_OPTIONS])
def test_every_int_option_refuses_huge_values_with_its_range(full_entry, ledger, path, option, value):
    res = refused(ledger, *path, option, value)
    assert option in res.stderr
    assert "trong khoảng" in res.stderr


def test_int_options_keep_working_in_range(full_entry, ledger):
    assert len(json.loads(ledger("history", "-n", "2", "--json").stdout)) == 2
    ledger("recognize", "--year", "2024", "--number", "7", "--dry-run")


def test_an_integer_too_long_to_parse_is_a_vietnamese_usage_error(ledger):
    res = refused(ledger, "list", "--year", "9" * 5000, code=2)
    assert "--year" in res.stderr and "quá lớn" in res.stderr
    assert "Unable" not in res.stderr and len(res.stderr) < 1000


# ---------------------------------------------------------------- small ones

def test_unit_codes_are_unique_folded(ledger):
    res = refused(ledger, "units", "add", "bvdk", "Một đơn vị khác")
    assert "“BVDK”" in res.stderr
    res = refused(ledger, "units", "add", " Bvdk ", "Một đơn vị khác")
    assert "“BVDK”" in res.stderr


def test_confirm_reason_without_reject_is_refused(reported):
    res = refused(reported, "confirm", "2024-001", "--by", "Bí thư Bình", "--reason", "Chưa đủ hồ sơ")
    assert "--reason" in res.stderr and "--reject" in res.stderr


def test_recognize_reason_without_revoke_is_refused(full_entry, ledger):
    res = refused(ledger, "recognize", "--year", "2024", "--number", "5", "--reason", "Lý do")
    assert "--reason" in res.stderr and "--revoke" in res.stderr


def test_long_values_are_cut_in_messages(ledger, tmp_path):
    res = refused(ledger, "show", "2024-" + "7" * 100_000)
    assert "…" in res.stderr and len(res.stderr) < 1000
    f = write_csv(tmp_path / "dk.csv", [REG_HEAD, ["2024", "U" * 100_000, "Tủ sách", "", "", "", "", "1", "", "", ""]])
    res = refused(ledger, "register", "--from", f)
    assert "dk.csv, dòng 2, cột “Mã đơn vị”" in res.stderr
    assert "…" in res.stderr and len(res.stderr) < 2000


@pytest.mark.parametrize("args", [
    ["register", "--year", "1999", "--unit", "BVDK", "--title", "Tủ sách", "--field", "1"],
    ["register", "--year", "2024", "--unit", "KHONGCO", "--title", "Tủ sách", "--field", "9"],
    ["list", "--year", "1999"],
    ["units", "add", "XY", "N" * 301],
    ["show", "2024-999"],
])
def test_no_double_period_in_messages(ledger, args):
    res = refused(ledger, *args)
    assert ".." not in res.stderr.replace("...", "")


# ---------------------------------------------------------------- broken pipe

def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DVK_DEBUG"}
    env["PYTHONPATH"] = str(ROOT)
    return env


def _closed_pipe_run(args: list[str]) -> subprocess.CompletedProcess:
    """Run dvk with stdout on a pipe nobody reads: every write fails with EPIPE, deterministically."""
    r, w = os.pipe()
    os.close(r)
    try:
        proc = subprocess.run([sys.executable, "-m", "dvk", *args], stdout=w, stderr=subprocess.PIPE, env=_env(),
                              timeout=120)
    finally:
        os.close(w)
    return proc


@pytest.mark.slow
@pytest.mark.parametrize("args", [["list", "--year", "2024", "--json"], ["units", "list"], ["history", "--json"],
                                  ["show", "2024-001"]])
def test_a_closed_pipe_exits_quietly(full_entry, ledger, args):
    proc = _closed_pipe_run([*args, "--db", str(ledger.db)])
    assert proc.stderr == b""
    assert proc.returncode == 141


@pytest.mark.slow
def test_list_json_into_head_exits_quietly(ledger, tmp_path):
    rows = [REG_HEAD] + [["2024", "BVDK", f"Mô hình số {i} " + "chữ " * 60, "", "", "", "", "1", "10/02/2024", "",
                          "ghi chú " * 20] for i in range(300)]
    ledger("register", "--from", write_csv(tmp_path / "dk.csv", rows))
    dvk = subprocess.Popen([sys.executable, "-m", "dvk", "list", "--year", "2024", "--json", "--db", str(ledger.db)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    head = subprocess.Popen(["head", "-1"], stdin=dvk.stdout, stdout=subprocess.PIPE)
    dvk.stdout.close()
    out, _ = head.communicate(timeout=120)
    err = dvk.stderr.read()
    dvk.stderr.close()
    rc = dvk.wait(timeout=120)
    assert out == b"[\n"
    assert err == b""
    assert rc in (0, 141)


def test_init_refuses_text_that_is_not_utf8_before_creating_the_ledger(dvk):
    """Bytes of another encoding (Python keeps them as lone surrogates) in --org: refused by name, and no
    schema-only file is left behind (the ledger used to be created first, then the history write failed)."""
    res = dvk.fails("init", "--org", "C\udcffông đoàn")
    assert "--org" in res.stderr and "không phải Unicode UTF-8" in res.stderr
    assert not dvk.db.exists()


def test_revoke_refuses_dry_run(full_entry, ledger):
    ledger("recognize", "--year", "2024", "--number", "3")
    before = ledger_dump(ledger.db)
    res = ledger.fails("recognize", "--year", "2024", "--revoke", "--reason", "Sai sót", "--dry-run")
    assert "--dry-run" in res.stderr and "--revoke" in res.stderr
    assert ledger_dump(ledger.db) == before
