"""The PostgreSQL store itself: connection problems said in one Vietnamese line, what is not a ledger
refused untouched, a newer schema refused, a ledger moved SQLite → PostgreSQL → SQLite with its history
(same last hash, same documents byte for byte), and backups of a server ledger as portable SQLite files."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pytest

import pg_support
from conftest import Dvk, build_demo_ledger, build_units_ledger, copy_template
from safety_support import count, dvk_process, verify_ok

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def empty_db():
    name = pg_support.new_name("store")
    url = pg_support.create_database(name)
    yield url
    pg_support.drop_database(name)


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _one_line(res) -> str:
    assert "Traceback" not in res.stderr + res.stdout
    return res.stderr


def test_server_down_no_database_unknown_login_are_one_clear_line(empty_db, tmp_path):
    down = f"postgresql://postgres@127.0.0.1:{_free_port()}/dvk"
    err = _one_line(Dvk(down).fails("status", "--year", "2025"))
    assert "Không kết nối được máy chủ PostgreSQL 127.0.0.1" in err
    missing = pg_support.url_of("dvk_khong_co_" + pg_support.worker())
    err = _one_line(Dvk(missing).fails("init"))
    assert "chưa có cơ sở dữ liệu" in err and "createdb" in err
    stranger = re.sub(r"//[^@/]*@", "//nguoi_la_khong_co@", empty_db)
    err = _one_line(Dvk(stranger).fails("status", "--year", "2025"))
    assert "từ chối đăng nhập “nguoi_la_khong_co”" in err


def test_what_is_not_a_ledger_is_refused_untouched(empty_db):
    err = _one_line(Dvk(empty_db).fails("status", "--year", "2025"))
    assert "chưa phải là sổ dvk" in err and "dvk init" in err
    pg_support.query(empty_db, "CREATE TABLE khach (x int)")
    err = _one_line(Dvk(empty_db).fails("init"))
    assert "không phải sổ dvk" in err
    assert pg_support.tables(empty_db) == ["khach"]


def test_a_newer_schema_is_refused_and_left_as_it_is(empty_db):
    build_units_ledger(empty_db)
    pg_support.query(empty_db, "UPDATE alembic_version SET version_num = '9999'")
    before = pg_support.query(empty_db, "SELECT count(*) FROM history")
    err = _one_line(Dvk(empty_db).fails("units", "add", "MOI", "Công đoàn mới"))
    assert "phiên bản dvk mới hơn" in err
    assert pg_support.query(empty_db, "SELECT count(*) FROM history") == before


def test_demo_copied_to_postgres_and_back_keeps_its_last_hash_and_documents(tmp_path, tmp_path_factory, empty_db):
    # The demo's ledger as `dvk demo` makes it (dvk.demo.build), built once per session as a file.
    src = tmp_path / "dvk-demo.sqlite"
    copy_template(tmp_path_factory, src, "demo", build_demo_ledger)
    head = re.search(r"#\d+ [0-9a-f]{16}", verify_ok(src)).group(0)
    def copy(*args: str, code: int = 0) -> str:
        res = dvk_process("copy", *args)
        assert res.returncode == code and "Traceback" not in res.stderr, res.stderr
        return res.stdout + res.stderr

    assert head in copy("--from", str(src), "--to", empty_db)
    assert head in Dvk(empty_db)("verify").stdout
    back = tmp_path / "tro-ve.sqlite"
    assert head in copy("--from", empty_db, "--to", str(back))
    assert head in verify_ok(back)
    assert "đã tồn tại" in copy("--from", empty_db, "--to", str(back), code=1)
    assert "không trống" in copy("--from", str(src), "--to", empty_db, code=1)
    for db, out_dir in ((empty_db, tmp_path / "pg"), (back, tmp_path / "sq")):
        Dvk(db)("export", "--year", "2025", "--out", str(out_dir))
    names = sorted(p.name for p in (tmp_path / "sq").iterdir())
    assert names and names == sorted(p.name for p in (tmp_path / "pg").iterdir())
    for name in names:
        assert (tmp_path / "pg" / name).read_bytes() == (tmp_path / "sq" / name).read_bytes(), name


def test_backup_of_a_server_ledger_is_a_verifiable_restorable_file(tmp_path, empty_db):
    build_units_ledger(empty_db)
    d = Dvk(empty_db)
    d("register", "--year", "2025", "--unit", "BVDK", "--title", "Mô hình sao lưu", "--field", "1",
      "--date", "10/02/2025")
    head = re.search(r"#\d+ [0-9a-f]{16}", d("verify").stdout).group(0)
    dest = tmp_path / "sao-luu.sqlite"
    d("backup", str(dest))
    assert head in verify_ok(dest)
    err = _one_line(d.fails("restore", str(dest)))
    assert "dvk copy --from" in err and "--force" in err
    assert head in d("verify").stdout  # the server ledger is untouched
    restored = tmp_path / "khoi-phuc.sqlite"
    Dvk(restored)("restore", str(dest))
    verify_ok(restored)
    assert count(restored, "entry") == 1 and count(restored, "history") == int(head[1:].split()[0]) + 1
    auto = d("backup").stdout
    assert "server-backups" in auto
    assert len(d("backup", "--list", "--json").stdout.strip()) > 2


def test_a_wrong_password_is_one_clear_line_and_a_right_one_works(tmp_path, monkeypatch):
    """On a server that checks passwords: a login made with `dvk users add --password` gets in with its
    password, is refused in one Vietnamese line with a wrong one or none, and the password is nowhere in
    the ledger's history."""
    import psycopg

    with pg_support.password_cluster("mat-khau-quan-tri") as admin:
        monkeypatch.setenv("PGPASSWORD", "mat-khau-quan-tri")
        with psycopg.connect(admin, autocommit=True) as con:
            con.execute("CREATE DATABASE dvk_pw")
        owner = admin.rpartition("/")[0] + "/dvk_pw"
        build_units_ledger(owner)
        monkeypatch.setenv("DVK_NEW_PASSWORD", "Mật-khẩu đúng 1")
        Dvk(owner)("users", "add", "tk_pw", "--role", "clerk", "--password")
        monkeypatch.delenv("DVK_NEW_PASSWORD")
        clerk = owner.replace("//postgres@", "//tk_pw@")
        before = pg_support.query(owner, "SELECT count(*), max(hash) FROM history")
        monkeypatch.setenv("PGPASSWORD", "Mật-khẩu đúng 1")
        assert "Tài khoản" in Dvk(clerk)("users", "list").stdout
        for wrong in ("sai mật khẩu", None):
            if wrong is None:
                monkeypatch.delenv("PGPASSWORD")
            else:
                monkeypatch.setenv("PGPASSWORD", wrong)
            monkeypatch.setenv("PGPASSFILE", str(tmp_path / "khong-co.pgpass"))
            err = _one_line(Dvk(clerk).fails("units", "add", "MOI", "Công đoàn mới"))
            assert "từ chối đăng nhập “tk_pw”" in err and "mật khẩu" in err and "Sổ không bị thay đổi" in err, err
        monkeypatch.setenv("PGPASSWORD", "mat-khau-quan-tri")
        assert pg_support.query(owner, "SELECT count(*), max(hash) FROM history") == before
        dump = pg_support.query(owner, "SELECT string_agg(command || summary, ' ') FROM history")[0][0]
        dump += pg_support.query(owner, "SELECT string_agg(coalesce(data, ''), ' ') FROM change")[0][0]
        assert "đúng 1" not in dump, "the password never reaches the history"
        with psycopg.connect(admin, autocommit=True) as con:
            con.execute("DROP DATABASE dvk_pw WITH (FORCE)")
            con.execute("DROP ROLE tk_pw")


def test_a_server_backup_that_would_not_fit_is_refused_before_anything_is_written(tmp_path, empty_db, monkeypatch):
    """A server ledger has no file to measure: the next backup is estimated from its newest portable copy,
    or before the first from what its tables take on the server — so a disk that cannot hold it is
    refused, in Vietnamese, before anything is written."""
    from collections import namedtuple

    import dvk.ledger.backup as backup
    from dvk.ledger.stores import open_ledger

    build_units_ledger(empty_db)
    d = Dvk(empty_db)
    with open_ledger(empty_db) as led:
        on_server = backup.backup_space(led).ledger
    assert on_server > 100_000, "the tables' size on the server, before any copy"
    usage = namedtuple("Usage", "total used free")
    real = backup.shutil.disk_usage
    monkeypatch.setattr(backup.shutil, "disk_usage", lambda p: usage(10 ** 9, 10 ** 9, backup._MARGIN + 4096))
    err = _one_line(d.fails("backup"))
    assert "Không đủ chỗ trống để sao lưu sổ" in err and "Lệnh chưa thực hiện" in err, err
    folder = tmp_path / "server-backups"
    assert not folder.exists() or not any(folder.rglob("*.sqlite")), "nothing written"
    monkeypatch.setattr(backup.shutil, "disk_usage", real)
    made = Path(json.loads(d("backup", "--json").stdout)["backup"])
    with open_ledger(empty_db) as led:
        assert backup.backup_space(led).ledger == made.stat().st_size, "then: the newest copy's size"


_INTERRUPTED_IMPORT = """
import sys
import psycopg
original = psycopg.Cursor.executemany

def executemany(self, query, params_seq, *args, **kwargs):
    params_seq = list(params_seq)
    if len(params_seq) < 1000:
        return original(self, query, params_seq, *args, **kwargs)

    def part():  # the driver is sending the batch when Ctrl-C comes
        for i, p in enumerate(params_seq):
            if i == 500:
                sys.stdout.write("interrupted\\n")
                raise KeyboardInterrupt
            yield p
    return original(self, query, part(), *args, **kwargs)

psycopg.Cursor.executemany = executemany
from dvk.entry import main
sys.argv = ["dvk", *sys.argv[1:]]
main()
"""


def test_ctrl_c_in_the_middle_of_a_pipelined_write_is_one_vietnamese_line(empty_db, tmp_path):
    """Ctrl-C while psycopg pipelines a batch of an import (in a process of its own, whose stderr is what a
    user sees): the connection is thrown away, not reset — resetting a connection left mid-pipeline failed,
    and psycopg's and SQLAlchemy's logs of that (SQL in English, a traceback) reached the terminal. The user
    reads one Vietnamese line, exit 130, the ledger as it was."""
    import os
    import subprocess
    import sys

    from safety_support import ROOT

    build_units_ledger(empty_db)
    before = pg_support.dump(empty_db)
    rows = "\n".join(f"2024,{('BVDK', 'BVNHI', 'CDC')[i % 3]},Mô hình số {i},,,,,{1 + i % 5},10/02/2024,,"
                     for i in range(3000))
    src = tmp_path / "dang-ky.csv"
    src.write_text("Năm,Mã đơn vị,Tên mô hình điển hình,Loại,Đối tượng,Họ và tên,Chức vụ,Lĩnh vực,Ngày đăng ký,"
                   "Đột xuất,Ghi chú\n" + rows + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "DVK_DEBUG"}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    res = subprocess.run([sys.executable, "-c", _INTERRUPTED_IMPORT, "register", "--from", str(src), "--db", empty_db],
                         env=env, capture_output=True, text=True, timeout=120)
    assert "interrupted" in res.stdout, "the import reached its pipelined batch"
    assert res.returncode == 130, res.stderr
    assert res.stderr.strip() == "Đã dừng (Ctrl-C). Sổ giữ nguyên như trước lệnh.", res.stderr
    assert pg_support.dump(empty_db) == before


_OFF = "SET session_replication_role = replica; "  # an edit behind dvk's back that skips the foreign keys


@pytest.mark.parametrize("statements,expected", [
    ([], []),
    (["INSERT INTO score (entry_id, member, marks) VALUES ('E|Lê', 'Văn', '{}')"], [("extra", "E|Lê|Văn")]),
    (["INSERT INTO score (entry_id, member, marks) VALUES ('E0', 'An', '{}')"], [("extra", "E0|An")]),
    (["DELETE FROM score WHERE entry_id = 'E1' AND member = 'Lê'"], [("missing", "E1|Lê")]),
    (["UPDATE score SET marks = '{\"G1\":7}' WHERE entry_id = 'E' AND member = 'Lê|Văn'"],
     [("differs", "E|Lê|Văn")]),
    (["DELETE FROM outcome WHERE decision_id = 10 AND entry_id = 'E~'",
      "INSERT INTO outcome (decision_id, entry_id, recognized, score, reasons) VALUES (11, 'E~', true, 90, '[]')"],
     [("extra", "11|E~"), ("missing", "10|E~")]),
    (["INSERT INTO council_member (year, member, role, ordinal, org_code) VALUES (998, 'An', 'member', 0, 'CDN')"],
     [("extra", "CDN|998|An")]),
    (["UPDATE change SET row_key = '010|E~' WHERE table_name = 'outcome' AND row_key = '10|E~'"],
     [("extra", "10|E~"), ("missing", "010|E~")]),
    (["UPDATE change SET row_key = 'x|E~' WHERE table_name = 'outcome' AND row_key = '10|E~'"],  # not a number
     [("extra", "10|E~"), ("missing", "x|E~")]),
    (["UPDATE entry SET title = 'Khác' WHERE id = 'E0'", "DELETE FROM entry WHERE id = 'E10'",
      "INSERT INTO unit (code, name, ordinal, org_code) VALUES ('MA', 'Đơn vị ma', 9, 'CDN')"],
     [("differs", "E0"), ("extra", "MA"), ("missing", "E10")]),  # one-column text keys: merged, not joined
], ids=["clean", "spelling-collision", "deleted-then-back", "missing-after-rewrite", "differs", "outcome-moved",
        "three-part-extra", "key-spelled-otherwise", "key-not-a-number", "one-column-keys"])
def test_verify_on_the_server_finds_edits_of_keys_that_order_differently(empty_db, statements, expected):
    """The replay joined to each table through its key on PostgreSQL too (text comparisons there: a row key
    whose part is no number must not fail a cast)."""
    from safety_support import build_odd_keys_ledger

    build_odd_keys_ledger(empty_db)
    for s in statements:
        pg_support.query(empty_db, _OFF + s)
    data = json.loads(Dvk(empty_db)("verify", "--json", ok=not statements).stdout)
    found = sorted((p["kind"], p["key"]) for p in data["problems"] if p["kind"] != "chain")
    assert found == sorted(expected), data["problems"][:5]
    assert data["ok"] is (not statements)
