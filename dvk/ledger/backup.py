"""Backups: consistent copies with SQLite's online backup API, beside the ledger or elsewhere, rotated."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from dvk.errors import LedgerError
from dvk.ledger.failures import os_reason
from dvk.ledger.paths import _create_private_file, _exists, _folder_writable, _fsync_dir, _on_read_only_fs
from dvk.ledger.settings import BUSY_TIMEOUT_MS, _backup_keep

if TYPE_CHECKING:
    from dvk.ledger.sqlite import Ledger


# Automatic backups are named <stem>-<UTC stamp>-<reason>.sqlite in <ledger>.backups/.
# Those made for a reason in KEPT_REASONS (a backup asked for by hand, a ledger replaced by
# `dvk restore`) are never deleted by the rotation; the others keep the newest `backup_keep`.
KEPT_REASONS = frozenset({"manual", "replaced"})


STALE_TMP_SECONDS = 3600


_STAMP = "%Y%m%dT%H%M%S%fZ"


@dataclass
class BackupFile:
    """One backup file in the folder beside the ledger."""

    path: Path
    when: dt.datetime
    reason: str

    @property
    def rotated(self) -> bool:
        return self.reason not in KEPT_REASONS


def backup_dir(ledger: "Ledger | Path") -> Path:
    path = ledger.path if hasattr(ledger, "engine") else Path(ledger)
    return path.with_name(path.name + ".backups")


def list_backups(ledger: "Ledger | Path") -> list[BackupFile]:
    """The backups beside the ledger, oldest first."""
    path = ledger.path if hasattr(ledger, "engine") else Path(ledger)
    folder = backup_dir(path)
    pat = re.compile(rf"^{re.escape(path.stem)}-(\d{{8}}T\d{{12}}Z)-([a-z0-9-]+)\.sqlite$")
    out = []
    with contextlib.suppress(OSError):
        for f in folder.iterdir():
            m = pat.match(f.name)
            if m and f.is_file():
                when = dt.datetime.strptime(m.group(1), _STAMP).replace(tzinfo=dt.timezone.utc)
                out.append(BackupFile(f, when, m.group(2)))
    return sorted(out, key=lambda b: b.path.name)


@dataclass(frozen=True)
class BackupSpace:
    """What the backups beside a ledger take and what is left on their disk (bytes)."""

    count: int
    total: int  # the backups (with the files kept beside a --force backup)
    free: int  # free space on the disk of the backups folder (of the ledger's, while there is none)
    ledger: int  # the ledger file with its -wal: about what one more backup takes

    @property
    def outgrown(self) -> bool:
        """The backups take more than the space left: the next ones may not fit."""
        return self.total > self.free


def _tree_size(path: Path) -> int:
    total = 0
    with contextlib.suppress(OSError):
        if path.is_file():
            return path.stat().st_size
        for f in path.rglob("*"):
            with contextlib.suppress(OSError):
                if f.is_file():
                    total += f.stat().st_size
    return total


def _ledger_size(path: Path) -> int:
    size = 0
    for f in (path, Path(f"{path}-wal")):
        with contextlib.suppress(OSError):
            size += f.stat().st_size
    return size


def backup_space(ledger: "Ledger | Path") -> BackupSpace:
    """The size of every backup beside the ledger, in total, and the free space where they are."""
    path = ledger.path if hasattr(ledger, "engine") else Path(ledger)
    backups = list_backups(path)
    total = sum(_tree_size(b.path) + _tree_size(b.path.with_suffix(".files")) for b in backups)
    folder = backup_dir(path)
    try:
        free = shutil.disk_usage(folder if folder.is_dir() else path.parent).free
    except OSError:
        free = 0
    one = _copy_size(ledger) if hasattr(ledger, "engine") else _ledger_size(path)
    return BackupSpace(len(backups), total, free, one)


def _copy_size(ledger: "Ledger") -> int:
    """About what one more backup of `ledger` takes: the file with its -wal; for a server ledger (which has
    no file) its newest portable copy's size, or, before the first, what its tables take on the server."""
    estimate = getattr(ledger, "data_size", None)
    if estimate is None:
        return _ledger_size(ledger.path)
    made = list_backups(ledger)
    if made:
        with contextlib.suppress(OSError):
            return made[-1].path.stat().st_size
    return estimate()


def _fits(ledger: "Ledger", folder: Path, dest: Path) -> None:
    """Refuse, before copying anything, a backup that the disk cannot hold (the copy is about the size of
    the ledger with its -wal; the rotation frees the oldest ones only once the new one is safe)."""
    from dvk.text.numbers import fmt_bytes

    need = _copy_size(ledger)
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return  # the copy itself will say what is wrong
    if need + _MARGIN > free:
        raise LedgerError(
            f"Không đủ chỗ trống để sao lưu sổ vào “{dest.parent}”: bản sao cần khoảng {fmt_bytes(need)}, ổ đĩa còn "
            f"{fmt_bytes(free)}. Lệnh chưa thực hiện; sổ không bị thay đổi. Hãy giải phóng chỗ trống, hoặc xóa bớt "
            "các bản sao lưu cũ (xem: dvk backup --list) hay giảm số bản giữ lại (dvk settings set backup_keep N).")


_MARGIN = 1 << 20  # what SQLite and the file system need beyond the pages themselves


def _copy_database(src_path: Path, dest: Path, *, src_conn: sqlite3.Connection | None = None) -> None:
    """Copy a SQLite database with the online backup API into a new private file `dest`."""
    tmp = dest.with_name(dest.name + ".tmp")
    for leftover in (tmp, Path(f"{tmp}-journal")):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()
    try:
        _create_private_file(tmp)
        flags = _read_only_flags(Path(src_path))
        src = src_conn or sqlite3.connect(Path(src_path).resolve().as_uri() + flags, uri=True,
                                          timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            dst = sqlite3.connect(str(tmp))
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode=DELETE")  # the copy is one self-contained file
            finally:
                dst.close()
        finally:
            if src_conn is None:
                src.close()
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
        _fsync_dir(dest.parent)
    except BaseException:
        for leftover in (tmp, Path(f"{tmp}-journal")):
            with contextlib.suppress(OSError):
                leftover.unlink()
        raise


def _read_only_flags(path: Path) -> str:
    """URI flags to read a database without writing beside it: `immutable` where no -shm can be made
    (read-only file system, folder not writable) and no -wal holds changes it would miss."""
    wal = Path(f"{path}-wal")
    cannot_share = _on_read_only_fs(path) or (not _folder_writable(path.parent) and not Path(f"{path}-shm").exists())
    if cannot_share and not (wal.exists() and wal.stat().st_size > 0):
        return "?immutable=1"
    return "?mode=ro"


def _idle_raw(ledger: "Ledger") -> sqlite3.Connection | None:
    """The ledger's own connection when it is outside a transaction (it works on a read-only file
    system too); None inside one, so the copy never holds uncommitted changes."""
    return None if ledger.conn.in_transaction() else ledger.raw()


def _copy_store(ledger: "Ledger", dest: Path) -> None:
    """A consistent copy of the ledger at `dest`: SQLite's online backup of the file, or for a store
    that is not a file (PostgreSQL) its portable SQLite copy (`portable_copy`, verified)."""
    portable = getattr(ledger, "portable_copy", None)
    if portable is not None:
        portable(dest)
    else:
        _copy_database(ledger.path, dest, src_conn=_idle_raw(ledger))


def _named(folder: Path, ledger: "Ledger", reason: str) -> Path:
    """The name of a backup of `ledger` made now for `reason`, in `folder` (what `list_backups` reads)."""
    return folder / f"{ledger.path.stem}-{dt.datetime.now(dt.timezone.utc).strftime(_STAMP)}-{reason}.sqlite"


def backup_to(ledger: "Ledger", dest: Path) -> Path:
    """A consistent copy with SQLite's online backup API (other commands may be running).

    The copy is written under a temporary name and renamed, readable by the owner only.
    """
    dest = Path(dest)
    if _exists(dest, dest) and dest.is_dir():
        dest = _named(dest, ledger, "manual")
    if _exists(dest, dest):
        raise LedgerError(f"Tệp “{dest}” đã tồn tại; dvk không ghi đè. Hãy chọn tên khác.")
    if not _exists(dest.parent, dest.parent):
        raise LedgerError(f"Thư mục “{dest.parent}” không tồn tại; hãy tạo thư mục trước.")
    _fits(ledger, dest.parent, dest)
    try:
        _copy_store(ledger, dest)
    except (OSError, sqlite3.Error) as exc:
        raise LedgerError(f"Không sao lưu được sổ vào “{dest}”: {os_reason(exc)}. Sổ không bị thay đổi.")
    return dest


def backup_before(ledger: "Ledger", reason: str, keep: int | None = None, *,
                  dest: Path | None = None) -> Path | None:
    """Automatic backup beside the ledger before a risky command; keeps the newest `keep`.
    `dest`: the name, chosen beforehand by `_aside_name` (default: now's).

    A login of a server ledger that reads only its organisation's part (dvk.ledger.roles) cannot copy the
    whole ledger: its automatic backups are skipped (None; the server's are its administrator's:
    `dvk backup` as the owner, or pg_dump) and `dvk backup` tells it so."""
    partial = getattr(ledger, "partial_reader", None)
    if reason != "manual" and partial is not None and partial() is not None:
        return None
    folder = backup_dir(ledger)
    try:
        if getattr(getattr(ledger, "engine", None), "name", "sqlite") != "sqlite":
            # a server ledger's backups live under $DVK_BACKUPS (or the user data folder): maybe not made yet
            folder.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.mkdir(mode=0o700, exist_ok=True)
    except OSError as exc:
        raise LedgerError(f"Không tạo được thư mục sao lưu “{folder}”: {os_reason(exc)}. Lệnh chưa thực hiện.")
    if dest is None:
        dest = _named(folder, ledger, reason)
    _fits(ledger, folder, dest)
    try:
        _copy_store(ledger, dest)
    except (OSError, sqlite3.Error) as exc:
        raise LedgerError(
            f"Không tạo được bản sao lưu tự động “{dest}”: {os_reason(exc)}. Lệnh chưa thực hiện; sổ không bị "
            "thay đổi."
        )
    rotate_backups(ledger, keep)
    return dest


def rotate_backups(ledger: "Ledger", keep: int | None = None) -> list[Path]:
    """Delete the oldest automatic backups beyond `keep` (setting backup_keep); returns what went."""
    if keep is None:
        keep = _backup_keep(ledger)
    rotating = [b for b in list_backups(ledger) if b.rotated]
    gone = []
    # A backup killed half-way leaves its temporary file (never a file under a final name).
    cutoff = dt.datetime.now().timestamp() - STALE_TMP_SECONDS
    with contextlib.suppress(OSError):
        for tmp in backup_dir(ledger).glob("*.sqlite.tmp*"):
            with contextlib.suppress(OSError):
                if tmp.stat().st_mtime < cutoff:
                    tmp.unlink()
                    gone.append(tmp)
    for old in rotating[: max(0, len(rotating) - keep)]:
        with contextlib.suppress(OSError):
            old.path.unlink()
            gone.append(old.path)
        with contextlib.suppress(OSError):
            shutil.rmtree(old.path.with_suffix(".files"))
    return gone


def backup_before_overwrite(ledger: "Ledger", files: Iterable[Path] = ()) -> Path | None:
    """Before a `--force` overwrite: back up the ledger and keep a copy of each file about to be
    replaced, in `<ledger>.backups/<stem>-<stamp>-force.files/`; rotated like the other automatic
    backups. Returns the ledger backup's path. Call it before writing anything.
    """
    dest = backup_before(ledger, "force")
    existing = [Path(f) for f in files if Path(f).is_file()]
    if existing:
        if dest is None:  # no copy of the ledger for this login (see backup_before): the files still kept
            folder = _named(backup_dir(ledger), ledger, "force").with_suffix(".files")
            try:
                folder.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            except OSError as exc:
                raise LedgerError(f"Không tạo được thư mục sao lưu “{folder.parent}”: {os_reason(exc)}. "
                                  "Chưa ghi đè gì.")
        else:
            folder = dest.with_suffix(".files")
        try:
            folder.mkdir(mode=0o700)
            for i, f in enumerate(existing):
                target = folder / (f.name if i == 0 or not (folder / f.name).exists() else f"{i}-{f.name}")
                fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
                with open(fd, "wb") as out, open(f, "rb") as src:
                    shutil.copyfileobj(src, out)
                    out.flush()
                    os.fsync(out.fileno())
        except OSError as exc:
            raise LedgerError(f"Không sao lưu được tệp sắp bị ghi đè vào “{folder}”: {os_reason(exc)}. "
                              "Chưa ghi đè gì.")
    return dest
