"""Exports never leave unrecorded files.

The invariant: no file appears under its final name unless the ledger records it.  Whatever stops an
export — a read-only ledger, an out folder whose name is not UTF-8, a template that breaks on the
second document, a full disk, a kill — afterwards either no final file exists, or every final file
is recorded and `dvk verify-doc` says it matches.  Files are written under a hidden staging folder in
the out folder and renamed only after the ledger recorded them; a staging folder left by a killed
export is removed by the next export.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from conftest import backup_folder, ledger_dump
from safety_support import ROOT, build_year, cached_ledger, count, data_dump
from test_bad_env import read_only_file, tiny_tmpfs

YEAR_FILES = ["bao-cao-ket-qua-2024.docx", "danh-sach-dang-ky-2024.docx", "phieu-cham-diem-2024.docx",
              "tong-hop-2024.xlsx"]


@pytest.fixture
def led(dvk, tmp_path_factory):
    cached_ledger(tmp_path_factory, dvk.db)
    return dvk


def listing(folder: Path) -> list[str]:
    """Every name under `folder`, hidden ones included."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def clean(res, *fragments: str) -> str:
    out = res.stdout + res.stderr
    assert "Lỗi nội bộ" not in out and "Traceback" not in out, out
    err = " ".join(res.stderr.split())
    for f in fragments:
        assert f in err, res.stderr
    return err


def break_template(folder: Path, name: str, old: str, new: str) -> None:
    from dvk.reports.sandbox import find_template

    folder.mkdir(exist_ok=True)
    with zipfile.ZipFile(find_template(name)) as zin, \
            zipfile.ZipFile(folder / name, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "word/document.xml":
                text = data.decode("utf-8")
                assert old in text
                data = text.replace(old, escape(new), 1).encode("utf-8")
            zout.writestr(info, data)


def recorded_and_matching(d, folder: Path) -> None:
    """Every final file in `folder` is recorded and matches the ledger."""
    for f in folder.iterdir():
        if f.name.startswith("."):
            continue
        res = d("verify-doc", f, ok=False)
        assert res.exit_code == 0, (f.name, res.stderr)


# ---------------------------------------------------------------- refused before the first file


@pytest.mark.parametrize("pdf", [[], ["--pdf"]], ids=["word", "pdf"])
def test_a_read_only_ledger_gets_no_file(led, tmp_path, pdf):
    out = tmp_path / "van-ban"
    before = ledger_dump(led.db)
    with read_only_file(led.db):
        res = led.fails("export", "--year", "2024", "--out", out, *pdf)
    clean(res, "chỉ cho phép đọc", "Chưa ghi văn bản nào")
    assert listing(out) == []
    assert ledger_dump(led.db) == before
    led("export", "--year", "2024", "--out", out)  # writable again: no --force needed
    assert listing(out) == YEAR_FILES


def test_an_out_folder_name_that_is_not_utf8_gets_no_file(led, tmp_path):
    """Bytes from a Latin-1 terminal: the path works on disk, but the ledger cannot record it."""
    out = os.fsencode(tmp_path) + b"/v\xe0n-b\xe1n"
    names = listing(tmp_path)
    before = ledger_dump(led.db)
    res = subprocess.run([sys.executable, "-m", "dvk", "export", "--year", "2024", "--out", out,
                          "--db", str(led.db)], capture_output=True, text=True,
                         env={**{k: v for k, v in os.environ.items() if k != "DVK_DEBUG"},
                              "PYTHONPATH": str(ROOT)})
    assert res.returncode == 1
    err = clean(res, "thư mục ghi văn bản", "không phải chữ Unicode (UTF-8)", "Chưa ghi văn bản nào")
    assert "v�n-b�n" in err
    assert listing(tmp_path) == names and not os.path.exists(out)
    assert ledger_dump(led.db) == before


@pytest.mark.parametrize("pdf", [[], ["--pdf"]], ids=["word", "pdf"])
@pytest.mark.parametrize("broken", ["when-checked", "while-rendering"])
def test_the_second_template_broken_publishes_nothing(led, tmp_path, broken, pdf):
    """The registration list is written first, the score sheets second: a broken score-sheet
    template must not leave the registration list behind (neither published nor recorded)."""
    folder = tmp_path / "mau"
    if broken == "when-checked":
        break_template(folder, "phieu-cham-diem.docx", "{{ dots }}", "{{ s.diem }}")
    else:  # passes every check, fails only when rendered: there is no 100th sheet
        break_template(folder, "phieu-cham-diem.docx", "{{ dots }}", "{{ sheets[99].code }}")
    out = tmp_path / "van-ban"
    before = ledger_dump(led.db)
    res = led.fails("export", "--year", "2024", "--out", out, "--templates", folder, *pdf)
    clean(res, "phieu-cham-diem.docx", "Chưa ghi văn bản nào")
    assert not out.exists()  # not even the folder the export would have created
    assert ledger_dump(led.db) == before


def test_a_full_disk_names_the_file_and_leaves_nothing(led, tmp_path):
    before = ledger_dump(led.db)
    with tiny_tmpfs(tmp_path / "dia-nho", "1m") as disk:
        filler = disk / "filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            for block in (65536, 4096):
                with contextlib.suppress(OSError):
                    while True:
                        os.write(fd, b"\0" * block)
        finally:
            os.close(fd)
        os.truncate(filler, os.path.getsize(filler) - 12 * 1024)  # room for less than one document
        out = disk / "van-ban"
        res = led.fails("export", "--year", "2024", "--out", out)
        err = clean(res, "Không ghi được tệp", "ổ đĩa đã đầy", "Chưa ghi văn bản nào")
        assert any(f"“{out / name}”" in err for name in YEAR_FILES), err
        assert listing(out) == []
        assert ledger_dump(led.db) == before
        filler.unlink()
        led("export", "--year", "2024", "--out", out)
        assert listing(out) == YEAR_FILES
        recorded_and_matching(led, out)


# ---------------------------------------------------------------- temporaries


def test_a_killed_exports_staging_folder_is_removed_and_a_live_one_kept(led, tmp_path):
    import fcntl

    out = tmp_path / "van-ban"
    out.mkdir()
    dead = out / ".dvk-export-abc123.tmp"
    dead.mkdir()
    (dead / ".lock").write_bytes(b"")
    (dead / "danh-sach-dang-ky-2024.docx").write_bytes(b"PK half-written")
    live = out / ".dvk-export-def456.tmp"
    live.mkdir()
    fd = os.open(live / ".lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running export holds it
        led("export", "--year", "2024", "--out", out)
        assert not dead.exists() and live.exists()
    finally:
        os.close(fd)
    assert [n for n in listing(out) if not n.startswith(".")] == YEAR_FILES
    recorded_and_matching(led, out)


def test_force_still_backs_up_what_it_replaces(led, tmp_path):
    out = tmp_path / "van-ban"
    led("export", "--year", "2024", "--out", out)
    old = (out / "danh-sach-dang-ky-2024.docx").read_bytes()
    res = led("export", "--year", "2024", "--out", out, "--force", "--date", "01/03/2024")
    assert "Đã sao lưu sổ và 4 tệp" in " ".join(res.stdout.split())
    kept = list(backup_folder(led.db).glob("*-force.files/danh-sach-dang-ky-2024.docx"))
    assert len(kept) == 1 and kept[0].read_bytes() == old
    assert listing(out) == YEAR_FILES
    recorded_and_matching(led, out)


# ---------------------------------------------------------------- kills


def _env() -> dict:
    e = {k: v for k, v in os.environ.items() if k != "DVK_DEBUG"}
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    return e


def _staged(out: Path, n: int):
    """True once the staging folder holds `n` finished files."""
    def check() -> bool:
        try:
            return any(len([f for f in s.iterdir() if not f.name.startswith(".")]) >= n
                       for s in out.glob(".dvk-export-*.tmp"))
        except OSError:
            return False
    return check


def _wal_grows(db: Path):
    wal = Path(f"{db}-wal")

    def check() -> bool:
        try:
            return wal.stat().st_size > 0
        except OSError:
            return False
    return check


def _run_and_kill(argv: list[str], when, timeout: float = 120) -> str:
    proc = subprocess.Popen(argv, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    end = time.monotonic() + timeout
    try:
        while time.monotonic() < end:
            if proc.poll() is not None:
                return f"finished ({proc.returncode}): {proc.stderr.read().decode()[-300:]}"
            if when():
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                return "killed"
            time.sleep(0.0005)
        raise AssertionError("the export neither finished nor reached the kill point")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()


@pytest.mark.slow
def test_a_kill_mid_export_leaves_no_unrecorded_file(dvk, tmp_path):
    db = dvk.db
    build_year(db, 150)
    dvk("recognize", "--year", "2024", "--number", "7")
    out = tmp_path / "van-ban"
    argv = [sys.executable, "-m", "dvk", "export", "--year", "2024", "--out", str(out), "--db", str(db)]
    outcomes = []
    # once the first file is staged; once four are (the workbook still to come); while recording
    for when in (_staged(out, 1), _staged(out, 4), _wal_grows(db)):
        before, records = data_dump(db), count(db, "history")
        ended = _run_and_kill(argv, when)
        assert ended == "killed" or ended.startswith("finished (0)"), ended
        outcomes.append(ended)
        finals = [f for f in out.iterdir() if not f.name.startswith(".")] if out.exists() else []
        if count(db, "history") == records:
            assert data_dump(db) == before
            assert finals == [], f"unrecorded files under their final names: {finals}"
        else:  # recorded (the kill came after the commit): whatever is there matches the ledger
            assert count(db, "history") == records + 1
            recorded_and_matching(dvk, out)
        # the next export needs no --force when nothing was published, and sweeps the leftovers
        args = ["export", "--year", "2024", "--out", out] + (["--force"] if finals else [])
        dvk(*args)
        assert not list(out.glob(".dvk-export-*")), listing(out)
        recorded_and_matching(dvk, out)
        shutil.rmtree(out)
    assert "killed" in outcomes, outcomes
