"""A ledger damaged, tampered with or locked away behind dvk's back, and restores that would undo
what the ledger holds: each is refused with one Vietnamese message, exit 1, every file as it was."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from conftest import ledger_dump
from safety_support import cached_ledger, count, data_dump, dvk_process, integrity

pytestmark = pytest.mark.sqlite_only("a ledger file damaged, truncated or locked behind dvk's back (pages, -wal, file locks)")

REGISTER = ["register", "--year", "2025", "--unit", "BVNHI", "--title", "Mô hình mới", "--field", "2",
            "--date", "12/02/2025"]
DECISION_07 = "Quyết định số 07/QĐ-CĐN ngày 15/10/2024 (năm 2024)"


def sha(p: Path) -> str:
    return hashlib.sha256(Path(p).read_bytes()).hexdigest()


def sql(db: Path, *statements: str) -> None:
    con = sqlite3.connect(db)
    try:
        con.execute("PRAGMA foreign_keys = OFF")
        for s in statements:
            con.execute(s)
        con.commit()
    finally:
        con.close()


def one_line(res) -> str:
    return " ".join((res.stderr + res.stdout).split())  # the console wraps long lines


def clean(res, *fragments: str) -> str:
    out = one_line(res)
    assert "Traceback" not in out and "Lỗi nội bộ" not in out, out
    for f in fragments:
        assert f in out, out
    return out


def backups_of(db: Path) -> list[Path]:
    return sorted(db.with_name(db.name + ".backups").glob("*.sqlite"))


def siblings(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def entry(dvk, tmp_path_factory):
    return dvk, cached_ledger(tmp_path_factory, dvk.db)["eid"]


def _recognized(db: Path) -> dict:
    from conftest import Dvk
    from safety_support import build_entry_ledger

    info = build_entry_ledger(db)
    Dvk(db)("recognize", "--year", "2024", "--number", "7")
    return info


@pytest.fixture
def recognized(dvk, tmp_path_factory):
    """A 2024 entry recognised by decision 07/QĐ-CĐN of 15/10/2024."""
    info = cached_ledger(tmp_path_factory, dvk.db, "recognized", _recognized)
    return dvk, info["eid"]


def _backup(d, dest: Path) -> Path:
    return Path(json.loads(d("backup", str(dest), "--json").stdout)["backup"])


# ---------------------------------------------------------------- point 3: restore erases a decision

def test_restoring_the_backup_from_before_recognize_is_refused_then_forced_and_named(entry):
    d, _ = entry
    d("recognize", "--year", "2024", "--number", "7")
    [auto] = [b for b in backups_of(d.db) if b.name.endswith("-recognize.sqlite")]  # taken just before 07
    assert count(auto, "decision") == 0
    ledger_before, backup_sha, names = ledger_dump(d.db), sha(auto), siblings(d.db.parent)
    n_backups = len(backups_of(d.db))

    res = d.fails("restore", str(auto))
    out = clean(res, "1 quyết định công nhận", "không qua quyết định thu hồi", "--force")
    assert f"{DECISION_07}: không có trong bản sao lưu; năm 2024 sẽ không còn bị khóa" in out
    assert ledger_dump(d.db) == ledger_before and sha(auto) == backup_sha
    assert siblings(d.db.parent) == names and len(backups_of(d.db)) == n_backups
    d.fails(*REGISTER[:2], "2024", *REGISTER[3:-1], "12/02/2024")  # 2024 is still locked

    res = d("restore", str(auto), "--force")
    clean(res, DECISION_07)
    assert count(d.db, "decision") == 0 and sha(auto) == backup_sha
    [last] = json.loads(d("history", "-n", "1", "--json").stdout)
    assert f"{DECISION_07}: không có trong bản sao lưu" in last["summary"]
    assert "(khôi phục với --force)" in last["summary"]
    assert "Sổ toàn vẹn" in d("verify").stdout
    [kept] = [p for p in backups_of(d.db) if p.name.endswith("-replaced.sqlite")]
    assert count(kept, "decision") == 1  # the replaced ledger, decision and all, is kept


def test_restore_json_names_the_decisions_it_dropped(entry):
    d, _ = entry
    d("recognize", "--year", "2024", "--number", "7")
    [auto] = [b for b in backups_of(d.db) if b.name.endswith("-recognize.sqlite")]
    out = json.loads(d("restore", str(auto), "--force", "--json").stdout)
    assert out["decisions_lost"] == [f"{DECISION_07}: không có trong bản sao lưu; năm 2024 sẽ không còn bị khóa"]


def test_a_restore_that_would_undo_a_revocation_is_refused(recognized, tmp_path):
    d, _ = recognized
    b = _backup(d, tmp_path / "con-hieu-luc.sqlite")
    d("recognize", "--revoke", "--year", "2024", "--reason", "Sai số liệu")
    before, b_sha = ledger_dump(d.db), sha(b)
    res = d.fails("restore", str(b))
    clean(res, f"{DECISION_07}: đã thu hồi, bản sao lưu ghi còn hiệu lực")
    assert ledger_dump(d.db) == before and sha(b) == b_sha


def test_a_restore_that_would_change_a_decisions_number_is_refused(entry, tmp_path):
    """A backup of the same ledger whose history went another way: decision #1 is 06 there, 07 here."""
    from conftest import Dvk

    d, _ = entry
    fork = tmp_path / "nhanh-khac.sqlite"
    shutil.copy2(d.db, fork)
    Dvk(fork)("recognize", "--year", "2024", "--number", "6")
    b = _backup(Dvk(fork), tmp_path / "b.sqlite")
    d("recognize", "--year", "2024", "--number", "7")
    before = ledger_dump(d.db)
    res = d.fails("restore", str(b))
    clean(res, f"{DECISION_07}: bản sao lưu ghi thành Quyết định số 06/QĐ-CĐN ngày 15/10/2024 (năm 2024)")
    assert "sẽ không còn bị khóa" not in one_line(res)  # 2024 stays locked, by 06
    assert ledger_dump(d.db) == before


def test_a_restore_that_keeps_every_decision_needs_no_force(recognized, tmp_path):
    d, _ = recognized
    b = _backup(d, tmp_path / "day-du.sqlite")
    d("units", "add", "MOI", "Công đoàn mới")
    res = d("restore", str(b))
    assert "Đã khôi phục sổ" in res.stdout and count(d.db, "unit") == 3 and count(d.db, "decision") == 1


def test_the_restore_record_is_written_with_the_restored_ledger_never_after_it(entry, tmp_path):
    """The ledger is replaced together with its history record: a record that cannot be written (here a
    user name that is not UTF-8) leaves the ledger as it was, not restored and unrecorded."""
    d, _ = entry
    b = _backup(d, tmp_path / "b.sqlite")
    d("units", "add", "MOI", "Công đoàn mới")
    before = ledger_dump(d.db)
    clean(d.fails("restore", str(b), "--user", "th\udcffư ký"), "không phải Unicode UTF-8")
    assert ledger_dump(d.db) == before
    d("restore", str(b))
    [kept] = [p for p in backups_of(d.db) if p.name.endswith("-replaced.sqlite")]
    con = sqlite3.connect(d.db)
    summary = con.execute("SELECT summary FROM history ORDER BY id DESC LIMIT 1").fetchone()[0]
    con.close()
    assert summary == f"Khôi phục sổ từ bản sao lưu “{b}”; sổ bị thay được giữ tại “{kept}”"
    assert "Sổ toàn vẹn" in d("verify").stdout


def test_a_restore_into_a_ledger_that_cannot_be_opened_keeps_it_and_records_it(recognized, tmp_path):
    d, _ = recognized
    b = _backup(d, tmp_path / "b.sqlite")
    d.db.write_bytes(b"\x00hong" * 100)
    res = d("restore", str(b))
    assert "không mở được" in res.stdout and count(d.db, "decision") == 1
    [kept] = [p for p in backups_of(d.db) if p.name.endswith("-replaced.sqlite")]
    [last] = json.loads(d("history", "-n", "1", "--json").stdout)
    assert last["summary"] == f"Khôi phục sổ từ bản sao lưu “{b}”; sổ bị thay được giữ tại “{kept}”"
    assert kept.read_bytes() == b"\x00hong" * 100


# ---------------------------------------------------------------- point 12: the schema

ODD_SCHEMA = {
    "trigger": ("CREATE TRIGGER lén AFTER INSERT ON entry BEGIN UPDATE meta SET value = '1' "
                "WHERE key = 'backup_keep'; END", "Sổ có trigger lạ “lén” trên bảng “entry”, không do dvk tạo"),
    "view": ("CREATE VIEW xem_lén AS SELECT person FROM entry", "Sổ có view lạ “xem_lén”, không do dvk tạo"),
    "index": ("CREATE INDEX ix_lạ ON unit (name)", "Sổ có chỉ mục lạ “ix_lạ” trên bảng “unit”, không do dvk tạo"),
    "table": ("CREATE TABLE ghi_chú (x)", "Sổ có bảng lạ “ghi_chú”, không do dvk tạo"),
    "column": ("ALTER TABLE unit ADD COLUMN phụ TEXT", "Bảng “unit” có cột lạ “phụ”, không do dvk tạo"),
    "dropped-index": ("DROP INDEX ix_entry_year_unit",
                      "Sổ thiếu chỉ mục “ix_entry_year_unit” của bảng “entry” do dvk tạo — bị xóa ngoài dvk"),
    "changed-index": ("DROP INDEX ix_decision_year; CREATE UNIQUE INDEX ix_decision_year ON decision (year)",
                      "Chỉ mục “ix_decision_year” trên bảng “decision” khác với chỉ mục dvk tạo"),
}


@pytest.mark.parametrize("kind", list(ODD_SCHEMA))
def test_verify_compares_the_schema_with_what_the_migrations_make(entry, kind):
    d, _ = entry
    statement, message = ODD_SCHEMA[kind]
    con = sqlite3.connect(d.db)
    con.executescript(statement)
    con.close()
    out = clean(d.fails("verify"), message)
    assert "không khớp với cấu trúc dvk tạo ra (lược đồ)" in out  # not "with the history": the rows all match
    data = json.loads(d("verify", "--json", ok=False).stdout)
    assert data["ok"] is False and [p["kind"] for p in data["problems"]] == ["schema"]


def test_statistics_sqlite_keeps_itself_are_not_a_schema_change(entry):
    d, _ = entry
    sql(d.db, "ANALYZE")
    assert "Sổ toàn vẹn" in d("verify").stdout


def test_a_migrated_ledger_has_the_schema_of_a_new_one(dvk, tmp_path):
    """The expected schema is the migrations' own: a ledger upgraded from the first release matches it."""
    fixture = Path(__file__).parents[1] / "fixtures" / "ledger-0001.sqlite"
    p = tmp_path / "cu.sqlite"
    p.write_bytes(fixture.read_bytes())
    assert "Sổ toàn vẹn" in dvk("verify", "--db", str(p)).stdout
    from dvk.ledger.migrations import SCHEMA_HEAD
    from dvk.ledger.schema import expected_schema, read_schema

    con = sqlite3.connect(p)
    try:
        assert read_schema(con) == expected_schema(SCHEMA_HEAD)
    finally:
        con.close()
    assert expected_schema(SCHEMA_HEAD) is expected_schema(SCHEMA_HEAD)  # built once per process


def test_a_trigger_added_with_sql_stops_every_write_before_it_runs(entry):
    d, eid = entry
    con = sqlite3.connect(d.db)
    con.executescript(ODD_SCHEMA["trigger"][0])
    con.close()
    before = ledger_dump(d.db)
    for args in (REGISTER, ["units", "add", "MOI", "Công đoàn mới"]):
        clean(d.fails(*args), "có trigger hoặc view không do dvk tạo", ODD_SCHEMA["trigger"][1], "dvk verify",
              "dvk restore")
    assert ledger_dump(d.db) == before
    d("list", "--year", "2024")  # reading still works


def test_restore_refuses_a_backup_carrying_a_trigger(entry, tmp_path):
    d, _ = entry
    b = _backup(d, tmp_path / "b.sqlite")
    con = sqlite3.connect(b)
    con.executescript("CREATE TRIGGER chặn BEFORE INSERT ON history BEGIN SELECT RAISE(ABORT, 'chặn'); END")
    con.close()
    d("units", "add", "MOI", "Công đoàn mới")
    before, b_sha, names = ledger_dump(d.db), sha(b), siblings(tmp_path)
    res = d.fails("restore", str(b))
    clean(res, "có lược đồ khác với lược đồ dvk tạo", "Sổ có trigger lạ “chặn” trên bảng “history”, không do dvk tạo",
          "Sổ hiện tại giữ nguyên")
    assert ledger_dump(d.db) == before and sha(b) == b_sha and siblings(tmp_path) == names
    assert not [p for p in backups_of(d.db) if "replaced" in p.name]
    d("units", "add", "MOI2", "Công đoàn mới 2")  # the ledger still takes writes


def test_restore_refuses_an_old_backup_carrying_a_trigger_before_upgrading_it(dvk, tmp_path):
    fixture = Path(__file__).parents[1] / "fixtures" / "ledger-0001.sqlite"
    b = tmp_path / "cu.sqlite"
    b.write_bytes(fixture.read_bytes())
    con = sqlite3.connect(b)
    con.executescript("CREATE TRIGGER chặn BEFORE INSERT ON history BEGIN SELECT RAISE(ABORT, 'chặn'); END")
    con.close()
    b_sha = sha(b)
    res = dvk.fails("restore", str(b))
    clean(res, "có lược đồ khác với lược đồ dvk tạo", "Sổ có trigger lạ “chặn” trên bảng “history”")
    assert not dvk.db.exists() and sha(b) == b_sha and siblings(tmp_path) == ["cu.sqlite"]


# ---------------------------------------------------------------- before a write: what every command relies on

WAY_OUT = ("Lệnh không ghi gì; sổ giữ nguyên", "dvk verify", "dvk restore")


@pytest.mark.parametrize("statements,detail", [
    (["DELETE FROM outcome", "DELETE FROM decision"],
     "Quyết định #1: lịch sử ghi có dòng này nhưng sổ không còn — bị xóa ngoài dvk"),
    (["UPDATE decision SET revoked = 1"], "Quyết định #1 / đã thu hồi: lịch sử ghi không, sổ hiện ghi có"),
    (["UPDATE meta SET value = '1' WHERE key = 'backup_keep'"],
     "Cài đặt backup_keep / giá trị: lịch sử ghi “10”, sổ hiện ghi “1”"),
    (["DELETE FROM meta WHERE key = 'ledger_id'"], "Cài đặt ledger_id: lịch sử ghi có dòng này nhưng sổ không còn"),
], ids=["decision-deleted", "decision-revoked", "setting-changed", "ledger-id-deleted"])
def test_a_write_refuses_a_ledger_whose_decisions_or_settings_were_changed_behind_its_back(recognized, statements,
                                                                                            detail):
    d, eid = recognized
    sql(d.db, *statements)
    before, digest = ledger_dump(d.db), sha(d.db)
    register_2024 = [*REGISTER[:2], "2024", *REGISTER[3:-1], "12/02/2024"]
    for args in (register_2024, ["units", "add", "MOI", "Công đoàn mới"], ["score", eid, "--member", "Lê Văn C",
                                                                          "G1=8"]):
        clean(d.fails(*args), "đã bị sửa ngoài dvk ở phần mọi lệnh ghi dựa vào", detail, *WAY_OUT)
    assert ledger_dump(d.db) == before and sha(d.db) == digest
    d("list", "--year", "2024")  # reading commands still work: the clerk can look, export, back up


def test_the_check_before_a_write_does_not_stop_an_honest_ledger(recognized):
    d, eid = recognized
    d("recognize", "--revoke", "--year", "2024", "--reason", "Sai số")
    d("score", eid, "--member", "Lê Văn Cường", "G1=8", "G2=9", "G3=8", "G4=8.5", "G5=9", "S1=9", "S2=8", "S3=na",
      "S4=9", "S5=8", "S6=9")
    d("recognize", "--year", "2024", "--number", "8")
    d("--db", str(d.db), "settings", "set", "backup_keep", "3")
    d("units", "add", "MOI", "Công đoàn mới")
    assert "Sổ toàn vẹn" in d("verify").stdout


def _page_of(db: Path, table: str) -> int:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    finally:
        con.close()


def _damage_page(db: Path, page: int) -> None:
    with open(db, "r+b") as fh:
        size = 4096
        fh.seek((page - 1) * size)
        fh.write(b"\xde\xad\xbe\xef" * (size // 4))


@pytest.mark.parametrize("table", ["decision", "meta"])
def test_a_damaged_page_under_what_a_write_relies_on_is_one_message_before_any_write(recognized, table):
    """Today a register wrote on happily over a decision table SQLite could no longer read."""
    d, _ = recognized
    _damage_page(d.db, _page_of(d.db, table))
    digest = sha(d.db)
    for args in (REGISTER, ["units", "add", "MOI", "Công đoàn mới"]):
        res = d.fails(*args)
        out = clean(res, "bị hỏng: có trang dữ liệu SQLite không đọc được", *WAY_OUT)
        assert "không phải là sổ dvk" not in out
    assert sha(d.db) == digest


def test_a_damaged_page_a_command_reads_is_called_damaged_not_a_foreign_file(entry):
    d, eid = entry
    _damage_page(d.db, _page_of(d.db, "entry"))
    digest = sha(d.db)
    for args in (["show", eid], ["list", "--year", "2024"], REGISTER):
        out = clean(d.fails(*args), "bị hỏng: có trang dữ liệu SQLite không đọc được", "dvk restore")
        assert "không phải là sổ dvk" not in out
    out = clean(d.fails("verify"), "bị hỏng: có trang dữ liệu SQLite không đọc được", "dvk restore")
    assert "Chạy dvk verify" not in out
    assert sha(d.db) == digest


# ---------------------------------------------------------------- a ledger locked away

def _without_read_rights(*args: str, cwd: Path | None = None):
    """Run dvk in a process that file modes bind (root keeps reading a mode-000 file unless it drops
    CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH)."""
    if os.geteuid() != 0:
        return dvk_process(*args)
    setpriv = shutil.which("setpriv")
    if not setpriv:
        pytest.skip("running as root without setpriv: root reads any file")
    import sys

    from safety_support import ROOT

    env = {k: v for k, v in os.environ.items() if k != "DVK_DEBUG"}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    probe = subprocess.run([setpriv, "--bounding-set", "-dac_override,-dac_read_search", sys.executable, "-c", "1"],
                           capture_output=True)
    if probe.returncode:
        pytest.skip("setpriv cannot drop capabilities here")
    return subprocess.run([setpriv, "--bounding-set", "-dac_override,-dac_read_search", sys.executable, "-m", "dvk",
                           *args], capture_output=True, text=True, env=env, cwd=cwd)


def test_an_unreadable_ledger_is_exit_1_in_vietnamese(entry, tmp_path):
    d, _ = entry
    os.chmod(d.db, 0)
    try:
        for args in (["info"], ["list", "--year", "2024"], ["verify"], REGISTER, ["restore", str(d.db)]):
            res = _without_read_rights(*args, "--db", str(d.db))
            assert res.returncode == 1, (args, res.returncode, res.stderr)
            clean(res, f"Không có quyền đọc sổ “{d.db}”")
            assert "not readable" not in res.stderr
        b = _backup(d, tmp_path / "b.sqlite")
        os.chmod(b, 0)
        res = _without_read_rights("restore", str(b), "--db", str(tmp_path / "moi.sqlite"))
        assert res.returncode == 1 and "not readable" not in res.stderr
        clean(res, f"Không có quyền đọc sổ “{b}”")
        assert not (tmp_path / "moi.sqlite").exists()
    finally:
        os.chmod(d.db, 0o600)


@contextlib.contextmanager
def unwritable_folder(folder: Path):
    """A folder no file can be created in: `chattr +i` as root (root ignores modes), else mode 555."""
    if os.geteuid() != 0:
        os.chmod(folder, 0o555)
        try:
            yield
        finally:
            os.chmod(folder, 0o755)
        return
    if not shutil.which("chattr") or subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode:
        pytest.skip("running as root and `chattr +i` is unavailable here")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_a_ledger_in_a_folder_that_is_not_writable_can_be_read(entry, tmp_path):
    d, eid = entry
    folder = tmp_path / "chi-doc"
    folder.mkdir()
    p = folder / "so.sqlite"
    shutil.copy2(d.db, p)
    digest = sha(p)
    with unwritable_folder(folder):
        assert json.loads(d("list", "--year", "2024", "--json", "--db", str(p)).stdout)[0]["id"] == eid
        assert eid in d("show", eid, "--db", str(p)).stdout
        assert "Sổ toàn vẹn" in d("verify", "--db", str(p)).stdout
        d("info", "--db", str(p))
        d("backup", str(tmp_path / "ban-sao.sqlite"), "--db", str(p))
        for args in (REGISTER, ["units", "add", "MOI", "Công đoàn mới"]):
            clean(d.fails(*args, "--db", str(p)), "chỉ cho phép đọc, không ghi được",
                  "Sổ không bị thay đổi")
        res = dvk_process("list", "--year", "2024", "--db", str(p))
        assert res.returncode == 0 and eid in res.stdout, res.stderr
        assert siblings(folder) == ["so.sqlite"]
    assert sha(p) == digest and integrity(tmp_path / "ban-sao.sqlite") == "ok"
    assert data_dump(tmp_path / "ban-sao.sqlite") == data_dump(p)


def test_a_ledger_with_pending_changes_in_a_folder_that_is_not_writable_is_refused_clearly(entry, tmp_path):
    d, _ = entry
    keep = sqlite3.connect(d.db)  # holds the ledger open, so its -wal is not folded back in on exit
    keep.execute("SELECT 1 FROM unit").fetchone()
    d("units", "add", "MOI", "Công đoàn mới")
    folder = tmp_path / "chi-doc"
    folder.mkdir()
    p = folder / "so.sqlite"
    shutil.copy2(d.db, p)  # the ledger and its pending changes, copied as they are
    shutil.copy2(f"{d.db}-wal", f"{p}-wal")
    keep.close()
    assert Path(f"{p}-wal").stat().st_size > 0
    with unwritable_folder(folder):
        clean(d.fails("list", "--year", "2024", "--db", str(p)), "trong thư mục không ghi được",
              "còn thay đổi chưa gộp trong tệp “so.sqlite-wal”")


def test_a_fifo_given_as_the_ledger_is_refused_without_waiting(dvk, tmp_path):
    fifo = tmp_path / "ong.sqlite"
    os.mkfifo(fifo)
    res = dvk_process("info", "--db", str(fifo), timeout=60)
    assert res.returncode == 1
    clean(res, "không phải là một tệp thường")


# ---------------------------------------------------------------- --db that is not UTF-8

def test_a_ledger_path_that_is_not_utf8_is_refused_before_anything_is_created(dvk, tmp_path):
    bad = str(tmp_path) + "/so-\udcff.sqlite"  # the byte 0xFF as it reaches Python from a shell
    names = siblings(tmp_path)
    for args in (["init", "--db", bad], ["info", "--db", bad], [*REGISTER, "--db", bad]):
        clean(dvk.fails(*args), "so-\\xff.sqlite", "không phải Unicode UTF-8")
    assert siblings(tmp_path) == names
    res = subprocess.run([os.fsencode(__import__("sys").executable), b"-m", b"dvk", b"init", b"--db",
                          os.fsencode(tmp_path) + b"/so-\xff.sqlite"], capture_output=True, text=True,
                         env={**{k: v for k, v in os.environ.items() if k != "DVK_DEBUG"},
                              "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert res.returncode == 1 and "không phải Unicode UTF-8" in one_line(res)
    assert siblings(tmp_path) == names


def test_a_backup_path_that_is_not_utf8_is_refused_before_the_ledger_is_replaced(entry, tmp_path):
    d, _ = entry
    b = Path(str(tmp_path) + "/ban-sao-\udcff.sqlite")
    _backup(d, tmp_path / "b.sqlite").rename(b)
    d("units", "add", "MOI", "Công đoàn mới")
    before = ledger_dump(d.db)
    clean(d.fails("restore", str(b)), "ban-sao-\\xff.sqlite", "không phải Unicode UTF-8")
    assert ledger_dump(d.db) == before and not backups_of(d.db)


def test_a_ledger_name_too_long_for_the_file_system_is_said_in_vietnamese(dvk, tmp_path):
    long = tmp_path / ("s" * 300 + ".sqlite")
    out = clean(dvk.fails("info", "--db", str(long)), "tên tệp hoặc đường dẫn quá dài")
    assert "File name too long" not in out


def test_a_backup_in_a_folder_that_is_not_writable_can_be_restored(entry, tmp_path):
    d, _ = entry
    folder = tmp_path / "usb"
    folder.mkdir()
    b = folder / "ban-sao.sqlite"
    shutil.copy2(d.db, b)  # a copy of the ledger file itself (WAL mode), as a clerk copies it by hand
    b_data = data_dump(d.db)
    d("units", "add", "MOI", "Công đoàn mới")
    with unwritable_folder(folder):
        res = d("restore", str(b))
        assert "Đã khôi phục sổ" in res.stdout
        assert siblings(folder) == ["ban-sao.sqlite"]
    assert data_dump(d.db) == b_data


@pytest.mark.parametrize("args", [
    ["register", "--from", "{f}"], ["score", "--from", "{f}"], ["units", "import", "{f}"],
    ["criteria", "use", "{f}", "--from-year", "2026"], ["report", "2024-001", "--file", "{f}"],
    ["report", "2024-001", "--from-docx", "{f}"], ["verify-doc", "{f}"],
], ids=lambda a: " ".join(a[:2]))
def test_an_unreadable_input_file_is_exit_1_in_vietnamese(entry, tmp_path, args):
    """Not Click's "path … is not readable" usage error (exit 2, English): dvk says it, naming the file."""
    d, _ = entry
    f = tmp_path / "khong-doc-duoc.csv"
    f.write_text("Mã đơn vị\n")
    f.chmod(0)
    before = ledger_dump(d.db)
    res = _without_read_rights(*[a.format(f=f) for a in args], "--db", str(d.db))
    out = one_line(res)
    assert res.returncode == 1, out
    assert "khong-doc-duoc.csv" in out and "không có quyền" in out.lower(), out
    assert "not readable" not in out and "Permission denied" not in out and "Traceback" not in out, out
    assert ledger_dump(d.db) == before
