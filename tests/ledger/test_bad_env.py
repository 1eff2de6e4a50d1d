"""Bad environments: a missing directory, a read-only ledger or file system, a file that is not a
ledger, a full disk. Each gets one clear Vietnamese message, exit code 1, and no damage."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import os
import resource
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from safety_support import cached_ledger, count, data_dump, dvk_process, integrity, verify_ok

pytestmark = pytest.mark.sqlite_only("the ledger file's environment: missing folder, read-only file or file system, full disk, a file that is not SQLite")

REGISTER = ["register", "--year", "2024", "--unit", "BVNHI", "--title", "Mô hình mới", "--field", "2",
            "--date", "12/02/2024"]


@pytest.fixture
def entry(dvk, tmp_path_factory):
    return dvk, cached_ledger(tmp_path_factory, dvk.db)["eid"]


def sha(p: Path) -> str:
    return hashlib.sha256(Path(p).read_bytes()).hexdigest()


def clean_failure(res, *fragments: str) -> None:
    out = res.stderr + res.stdout
    assert "Traceback" not in out and "Lỗi nội bộ" not in out
    err = " ".join(res.stderr.split())  # the console wraps long lines
    for f in fragments:
        assert f in err, res.stderr


# ---------------------------------------------------------------- missing things

def test_missing_directory(dvk, tmp_path):
    p = tmp_path / "khong-co" / "so.sqlite"
    clean_failure(dvk.fails("init", "--db", str(p)), f"Thư mục “{p.parent}” không tồn tại")
    clean_failure(dvk.fails("list", "--year", "2024", "--db", str(p)), "Chưa có sổ", "dvk init")
    clean_failure(dvk.fails("backup", "--db", str(p)), "Chưa có sổ")
    assert not p.parent.exists()


def test_a_leftover_wal_of_a_deleted_ledger_is_not_replayed_into_a_new_one(entry, tmp_path):
    d, _ = entry
    import sqlite3

    keep = sqlite3.connect(d.db)  # keeps the -wal on disk after the next write
    keep.execute("SELECT 1 FROM unit").fetchone()
    d("units", "add", "MOI", "Công đoàn mới")
    wal = Path(f"{d.db}-wal")
    assert wal.stat().st_size > 0
    leftover = tmp_path / "moi.sqlite-wal"
    leftover.write_bytes(wal.read_bytes())
    keep.close()
    res = d.fails("init", "--db", str(tmp_path / "moi.sqlite"))
    clean_failure(res, "Còn tệp “moi.sqlite-wal”")
    assert not (tmp_path / "moi.sqlite").exists()


def test_a_directory_given_as_the_ledger(dvk, tmp_path):
    clean_failure(dvk.fails("info", "--db", str(tmp_path)), "là một thư mục")
    clean_failure(dvk.fails("init", "--db", str(tmp_path)), "là một thư mục")


def _text(p):
    p.write_text("Mã đơn vị;Tên đơn vị\nBVDK;Công đoàn Bệnh viện Đa khoa\n", encoding="utf-8")


def _binary(p):
    p.write_bytes(bytes(range(256)) * 40)


def _empty(p):
    p.write_bytes(b"")


def _sqlite_header_then_garbage(p):
    p.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 40)


def _truncated_ledger(p, src):
    p.write_bytes(src.read_bytes()[:8192])


@pytest.mark.parametrize("make,message", [
    (_text, "không phải là sổ dvk (không phải cơ sở dữ liệu SQLite)"),
    (_binary, "không phải là sổ dvk (không phải cơ sở dữ liệu SQLite)"),
    (_empty, "trống, chưa phải là sổ dvk"),
    (_sqlite_header_then_garbage, "hoặc đã hỏng"),
    (_truncated_ledger, "hoặc đã hỏng"),
], ids=["text", "binary", "empty", "header-garbage", "truncated"])
def test_a_file_that_is_not_a_ledger_is_refused_untouched(entry, tmp_path, make, message):
    d, eid = entry
    p = tmp_path / "khong-phai-so.sqlite"
    if make is _truncated_ledger:
        make(p, d.db)
    else:
        make(p)
    digest = sha(p)
    names = sorted(x.name for x in tmp_path.iterdir())
    for args in (["info"], ["list", "--year", "2024"], ["verify"], ["backup"], ["score", eid, "--member", "A"],
                 REGISTER):
        clean_failure(d.fails(args[0], "--db", str(p), *args[1:]), message)
    if make is _binary:  # and once in a process of its own, as a clerk runs it
        res = dvk_process(*REGISTER, "--db", str(p))
        assert res.returncode == 1
        clean_failure(res, message)
    if make is not _empty:  # `init` on an empty file is allowed: it is how a ledger starts
        clean_failure(d.fails("init", "--db", str(p)), message)
    assert sha(p) == digest
    assert sorted(x.name for x in tmp_path.iterdir()) == names  # no -wal, -shm or backups left


# ---------------------------------------------------------------- read-only

@contextlib.contextmanager
def read_only_file(p: Path):
    """Make the ledger file unwritable even for root (chattr +i), else by mode for other users."""
    if os.geteuid() != 0:
        os.chmod(p, 0o400)
        try:
            yield "chmod"
        finally:
            os.chmod(p, 0o600)
        return
    if not shutil.which("chattr") or subprocess.run(["chattr", "+i", str(p)], capture_output=True).returncode:
        pytest.skip("running as root and `chattr +i` is unavailable here (root ignores file modes)")
    try:
        yield "chattr"
    finally:
        subprocess.run(["chattr", "-i", str(p)], check=True)


@contextlib.contextmanager
def read_only_mount(folder: Path):
    """A read-only bind mount of `folder` onto itself (needs root and mount rights)."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("a read-only bind mount needs root")
    if subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True).returncode:
        pytest.skip("bind mounts are not allowed in this environment")
    try:
        if subprocess.run(["mount", "-o", "remount,ro,bind", str(folder)], capture_output=True).returncode:
            pytest.skip("read-only remount is not allowed in this environment")
        yield
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_read_only_ledger_can_be_read_but_not_written(entry):
    from conftest import FULL

    d, eid = entry
    before, digest = data_dump(d.db), sha(d.db)
    with read_only_file(d.db):
        d("list", "--year", "2024")
        assert "Sổ toàn vẹn" in d("verify").stdout
        for args in (REGISTER, ["score", eid, "--member", "Lê Văn Cường", *FULL], ["units", "add", "X", "Y"]):
            clean_failure(d.fails(*args), "chỉ cho phép đọc, không ghi được", "Sổ không bị thay đổi")
        res = dvk_process(*REGISTER, "--db", str(d.db))
        assert res.returncode == 1
        clean_failure(res, "chỉ cho phép đọc, không ghi được")
    assert sha(d.db) == digest and data_dump(d.db) == before


def test_a_ledger_on_a_read_only_file_system(entry, tmp_path):
    d, _ = entry
    folder = tmp_path / "o-chi-doc"
    folder.mkdir()
    p = folder / "so.sqlite"
    shutil.copy2(d.db, p)
    digest = sha(p)
    with read_only_mount(folder):
        res = d("list", "--year", "2024", "--json", "--db", str(p))
        assert '"2024-001"' in res.stdout
        clean_failure(d.fails(*REGISTER, "--db", str(p)), "chỉ cho phép đọc")
        clean_failure(d.fails("backup", "--db", str(p)), "Không tạo được thư mục sao lưu", "ổ đĩa chỉ cho phép đọc")
        clean_failure(d.fails("init", "--db", str(folder / "moi.sqlite")), "ổ đĩa chỉ cho phép đọc")
        d("backup", str(tmp_path / "ban-sao.sqlite"), "--db", str(p))
        res = dvk_process(*REGISTER, "--db", str(p))
        assert res.returncode == 1
        clean_failure(res, "chỉ cho phép đọc")
    assert sha(p) == digest and integrity(tmp_path / "ban-sao.sqlite") == "ok"


# ---------------------------------------------------------------- full disk

def _units_csv(path: Path, n: int = 1000) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Mã đơn vị", "Tên đơn vị", "Cấp ủy"])
        for i in range(n):
            w.writerow([f"U{i:04d}", f"Công đoàn cơ sở số {i} của ngành Y tế tỉnh Đồng Nai", f"Chi bộ số {i}"])
    return path


def _file_size_limit(limit: int):
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG instead of being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


# Room for the 32 KiB WAL index (-shm) and a few WAL frames: a big write cannot fit.
SMALL = 32768 + 8 * 4120


def test_full_disk_during_a_big_write_leaves_the_ledger_as_it_was(entry, tmp_path):
    d, _ = entry
    before = data_dump(d.db)
    res = dvk_process("units", "import", str(_units_csv(tmp_path / "units.csv")), "--db", str(d.db),
                      preexec_fn=_file_size_limit(SMALL))
    assert res.returncode == 1
    clean_failure(res, "Không ghi được sổ", "Sổ giữ nguyên như trước lệnh")
    assert integrity(d.db) == "ok" and data_dump(d.db) == before
    verify_ok(d.db)
    # The same command succeeds once there is room again.
    d("units", "import", str(tmp_path / "units.csv"))
    assert count(d.db, "unit") == 1003


def test_full_disk_during_the_automatic_backup_stops_recognize(entry):
    d, _ = entry
    before = data_dump(d.db)
    res = dvk_process("recognize", "--year", "2024", "--number", "5", "--db", str(d.db),
                      preexec_fn=_file_size_limit(SMALL))
    assert res.returncode == 1
    clean_failure(res, "Không tạo được bản sao lưu tự động", "Lệnh chưa thực hiện")
    assert data_dump(d.db) == before and count(d.db, "decision") == 0
    folder = d.db.with_name(d.db.name + ".backups")
    assert not list(folder.glob("*")), "no half-written backup is left behind"
    verify_ok(d.db)


def test_full_disk_during_a_backup_to_a_file(entry, tmp_path):
    d, _ = entry
    dest = tmp_path / "ban-sao.sqlite"
    res = dvk_process("backup", str(dest), "--db", str(d.db), preexec_fn=_file_size_limit(SMALL))
    clean_failure(res, "Không sao lưu được sổ vào", "Sổ không bị thay đổi")
    assert res.returncode == 1 and not dest.exists() and not list(tmp_path.glob("*.tmp"))


@contextlib.contextmanager
def tiny_tmpfs(folder: Path, size: str = "3m"):
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root")
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                      capture_output=True).returncode:
        pytest.skip("mounting tmpfs is not allowed in this environment")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_really_full_disk(entry, tmp_path):
    """A small tmpfs filled to the last block: SQLite reports SQLITE_FULL, the ledger stays as it was."""
    d, _ = entry
    units = _units_csv(tmp_path / "units.csv")
    with tiny_tmpfs(tmp_path / "dia-nho") as disk:
        p = disk / "so.sqlite"
        shutil.copy2(d.db, p)
        before = data_dump(p)
        filler = disk / "filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            for block in (65536, 4096):
                with contextlib.suppress(OSError):
                    while True:
                        os.write(fd, b"\0" * block)
        finally:
            os.close(fd)
        os.truncate(filler, os.path.getsize(filler) - 48 * 1024)  # room for the -shm and a frame or two
        res = dvk_process("units", "import", str(units), "--db", str(p))
        assert res.returncode == 1
        clean_failure(res, "Không ghi được sổ", "Sổ giữ nguyên như trước lệnh")
        assert "ổ đĩa đã đầy" in " ".join(res.stderr.split()), res.stderr  # SQLITE_FULL, not an I/O error
        filler.unlink()
        assert integrity(p) == "ok" and data_dump(p) == before
        verify_ok(p)
