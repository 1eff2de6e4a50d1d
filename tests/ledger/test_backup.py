"""`dvk backup`, the automatic backups and their rotation, `dvk restore`, `dvk settings`."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import stat
from pathlib import Path

import pytest

from conftest import backup_folder, ledger_dump
from pg_support import holding_write_lock
from safety_support import cached_ledger, count, data_dump, integrity


@pytest.fixture
def entry(dvk, tmp_path_factory):
    return dvk, cached_ledger(tmp_path_factory, dvk.db)["eid"]


def sha(p: Path) -> str:
    return hashlib.sha256(Path(p).read_bytes()).hexdigest()


def backup(d, *args) -> Path:
    return Path(json.loads(d("backup", *args, "--json").stdout)["backup"])


def settings(d, *args, ok=True):
    return d("--db", str(d.db), "settings", *args, ok=ok)


def backups_of(db: Path) -> list[Path]:
    return sorted(backup_folder(db).glob("*.sqlite"))


# `dvk restore` replaces a ledger file; a server ledger is restored with `dvk copy --from BACKUP --to URL
# --force` (tests/ledger/test_pg_store.py), and `dvk restore` on one is refused there.
restores_a_file = pytest.mark.sqlite_only("dvk restore replaces the ledger file (a server ledger: dvk copy --force)")


# ---------------------------------------------------------------- backup

def test_backup_without_path_goes_beside_the_ledger(entry):
    d, _ = entry
    b = backup(d)
    assert b.parent == backup_folder(d.db) and b.name.endswith("-manual.sqlite")
    assert stat.S_IMODE(b.stat().st_mode) == 0o600 and stat.S_IMODE(b.parent.stat().st_mode) == 0o700
    assert integrity(b) == "ok"
    assert data_dump(b) == data_dump(d.db)
    con = sqlite3.connect(b)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
    con.close()
    listed = json.loads(d("backup", "--list", "--json").stdout)
    assert [x["path"] for x in listed] == [str(b)] and listed[0]["reason"] == "manual"
    assert "sao lưu theo yêu cầu" in d("backup", "--list").stdout


def test_backup_to_a_file_or_a_folder_never_overwrites(entry, tmp_path):
    d, _ = entry
    b = backup(d, str(tmp_path / "sao-luu.sqlite"))
    assert b == tmp_path / "sao-luu.sqlite" and integrity(b) == "ok"
    before = sha(b)
    d("units", "add", "MOI", "Công đoàn mới")
    res = d.fails("backup", str(b))
    assert "đã tồn tại" in res.stderr and sha(b) == before
    folder = tmp_path / "thu-muc"
    folder.mkdir()
    b2 = backup(d, str(folder))
    assert b2.parent == folder and count(b2, "unit") == 4
    res = d.fails("backup", str(tmp_path / "khong-co" / "x.sqlite"))
    assert "không tồn tại" in res.stderr
    assert not list(tmp_path.glob("**/*.tmp"))


def test_backup_does_not_wait_for_a_writer_and_holds_only_committed_data(entry, tmp_path):
    d, _ = entry
    with holding_write_lock(d.db) as other:
        other.execute("INSERT INTO meta VALUES ('chưa-ghi', 'x')")
        b = backup(d, str(tmp_path / "b.sqlite"))
    assert count(b, "meta", "key = 'chưa-ghi'") == 0 and data_dump(b) == data_dump(d.db)


def test_recognize_backs_up_first_and_rotation_keeps_the_newest_n(entry):
    d, _ = entry
    settings(d, "set", "backup_keep", "2")
    manual = backup(d)
    decisions = []
    for n in (1, 2, 3):
        decisions.append(count(d.db, "decision"))
        d("recognize", "--year", "2024", "--number", str(n))
        d("recognize", "--revoke", "--year", "2024", "--reason", f"Lần {n}")
    auto = [b for b in backups_of(d.db) if b.name.endswith("-recognize.sqlite")]
    assert len(auto) == 2, backups_of(d.db)
    assert manual.exists(), "a backup asked for by hand is never rotated away"
    # Each automatic backup holds the state just before its recognize.
    assert [count(b, "decision") for b in auto] == decisions[1:]


def test_settings_are_checked_and_recorded(entry):
    d, _ = entry
    before = ledger_dump(d.db)
    for args, msg in [(("backup_keep", "0"), "từ 1 đến 1000"), (("backup_keep", "mười"), "số nguyên"),
                      (("giu_lai", "3"), "Không có cài đặt “giu_lai”")]:
        res = settings(d, "set", *args, ok=False)
        assert res.exit_code == 1 and msg in res.stderr and "Traceback" not in res.stderr
    assert ledger_dump(d.db) == before
    settings(d, "set", "backup_keep", " 25 ")
    assert json.loads(settings(d, "show", "--json").stdout) == {"backup_keep": "25"}
    [last] = json.loads(d("history", "-n", "1", "--json").stdout)
    assert "settings set backup_keep" in last["command"] and last["summary"] == "Đổi cài đặt backup_keep thành 25"
    d("verify")


def test_backup_before_overwrite_keeps_the_files_it_replaces(entry, tmp_path):
    from dvk.ledger.backup import backup_before_overwrite
    from dvk.ledger.stores import open_ledger

    d, _ = entry
    settings(d, "set", "backup_keep", "1")
    doc = tmp_path / "QĐ-05.docx"
    doc.write_bytes(b"signed decision")
    with open_ledger(d.db) as led:
        first = backup_before_overwrite(led, [doc, tmp_path / "chua-co.xlsx"])
    kept = first.with_suffix(".files")
    assert (kept / "QĐ-05.docx").read_bytes() == b"signed decision"
    assert stat.S_IMODE((kept / "QĐ-05.docx").stat().st_mode) == 0o600 and integrity(first) == "ok"
    with open_ledger(d.db) as led:
        second = backup_before_overwrite(led, [doc])
    assert second.exists() and not first.exists() and not kept.exists()  # rotated together


# ---------------------------------------------------------------- restore

@restores_a_file
def test_restore_brings_back_a_backup_and_keeps_the_replaced_ledger(entry, tmp_path):
    d, eid = entry
    b = backup(d, str(tmp_path / "b.sqlite"))
    b_sha, b_data = sha(b), data_dump(b)
    d("units", "add", "MOI", "Công đoàn mới")
    con = sqlite3.connect(d.db)
    con.execute("UPDATE score SET marks = '{}'")  # a bad edit: the reason to restore
    con.commit()
    con.close()
    d.fails("verify")
    tampered = data_dump(d.db)
    res = d("restore", str(b))
    assert "Đã khôi phục sổ" in res.stdout and "được giữ tại" in res.stdout
    assert data_dump(d.db) == b_data and sha(b) == b_sha  # the backup itself is untouched
    assert "Sổ toàn vẹn" in d("verify").stdout
    [last] = json.loads(d("history", "-n", "1", "--json").stdout)
    assert last["summary"].startswith(f"Khôi phục sổ từ bản sao lưu “{b}”; sổ bị thay được giữ tại")
    [replaced] = [p for p in backups_of(d.db) if p.name.endswith("-replaced.sqlite")]
    assert data_dump(replaced) == tampered
    assert not list(tmp_path.glob("**/*.tmp")) and not list(tmp_path.glob("**/.*restore*"))


def _tamper(p: Path) -> Path:
    con = sqlite3.connect(p)
    con.execute("UPDATE entry SET title = 'sửa lén'")
    con.commit()
    con.close()
    return p


def _truncate(p: Path) -> Path:
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    return p


def _text(p: Path) -> Path:
    p.write_text("Họ và tên;Điểm\nNguyễn Văn An;9\n", encoding="utf-8")
    return p


def _other_db(p: Path) -> Path:
    p.unlink()
    con = sqlite3.connect(p)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    return p


def _newer(p: Path) -> Path:
    con = sqlite3.connect(p)
    con.execute("UPDATE alembic_version SET version_num = '9999'")
    con.commit()
    con.close()
    return p


@restores_a_file
@pytest.mark.parametrize("spoil,message", [
    (_tamper, "không khớp với lịch sử của chính nó"),
    (_truncate, "bị hỏng"),
    (_text, "không phải là sổ dvk"),
    (_other_db, "không phải sổ dvk"),
    (_newer, "phiên bản dvk mới hơn"),
], ids=["tampered", "truncated", "text", "other-sqlite", "newer"])
def test_restore_refuses_a_bad_backup_and_changes_nothing(entry, tmp_path, spoil, message):
    d, _ = entry
    b = spoil(backup(d, str(tmp_path / "b.sqlite")))
    d("units", "add", "MOI", "Công đoàn mới")
    before, before_sha = ledger_dump(d.db), sha(d.db)
    res = d.fails("restore", str(b))
    assert message in res.stderr, res.stderr
    assert sha(d.db) == before_sha and ledger_dump(d.db) == before
    assert not [p for p in backups_of(d.db) if "replaced" in p.name]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@restores_a_file
def test_restore_refuses_another_ledgers_backup_unless_forced(entry, tmp_path):
    from conftest import Dvk

    d, _ = entry
    other = Dvk(tmp_path / "khac.sqlite")
    other("init", "--org", "Công đoàn cơ sở Bệnh viện X")
    b = backup(other, str(tmp_path / "khac-backup.sqlite"))
    before = sha(d.db)
    res = d.fails("restore", str(b))
    assert "của một sổ khác" in res.stderr and "--force" in res.stderr and sha(d.db) == before
    d("restore", str(b), "--force")
    assert count(d.db, "unit") == 0 and count(d.db, "org_profile", "org = 'Công đoàn cơ sở Bệnh viện X'") == 1
    assert "của sổ khác" in json.loads(d("history", "-n", "1", "--json").stdout)[0]["summary"]
    [replaced] = [p for p in backups_of(d.db) if "replaced" in p.name]
    assert count(replaced, "unit") == 3


@restores_a_file
def test_restore_over_a_file_that_is_no_longer_a_ledger(entry, tmp_path):
    d, _ = entry
    b = backup(d, str(tmp_path / "b.sqlite"))
    d.db.write_bytes(b"\x00garbage" * 100)
    res = d("restore", str(b))
    assert "không mở được" in res.stdout
    assert data_dump(d.db) == data_dump(b) and stat.S_IMODE(d.db.stat().st_mode) == 0o600
    [kept] = [p for p in backups_of(d.db) if "replaced" in p.name]
    assert kept.read_bytes() == b"\x00garbage" * 100


@restores_a_file
def test_restore_into_a_missing_ledger_and_from_an_older_schema(dvk, tmp_path):
    """The released-schema fixture is a backup like any other: upgraded on the staged copy, not in place."""
    from dvk.ledger.migrations import SCHEMA_HEAD

    fixture = Path(__file__).parents[1] / "fixtures" / "ledger-0001.sqlite"
    b = tmp_path / "cu.sqlite"
    b.write_bytes(fixture.read_bytes())
    res = dvk("restore", str(b), "--json")
    out = json.loads(res.stdout)
    assert out["replaced"] is None and out["entries"] == 4
    assert sha(b) == sha(fixture)
    assert dvk.db.exists() and stat.S_IMODE(dvk.db.stat().st_mode) == 0o600
    assert json.loads(dvk("info", "--json").stdout)["schema"] == SCHEMA_HEAD
    dvk("verify")


@restores_a_file
def test_restore_of_a_missing_file(entry, tmp_path):
    d, _ = entry
    assert "Không có tệp sao lưu" in d.fails("restore", str(tmp_path / "khong-co.sqlite")).stderr
    assert "chính là sổ đang dùng" in d.fails("restore", str(d.db)).stderr
