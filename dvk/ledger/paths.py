"""Where the ledger is and what may be opened: the path (option, $DVK_DB, the per-user data
directory), checks on the file before SQLite touches it (a regular file, SQLite's header, a folder
that can hold -wal/-shm), private files, durable renames, and who is writing.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from dvk.errors import InvalidInput, LedgerError
from dvk.ledger.failures import os_reason


DEFAULT_FILENAME = "dvk.sqlite"


def resolve_path(db: str | os.PathLike | None) -> Path:
    """The ledger path: the --db option, else $DVK_DB, else the per-user data directory.

    A path that is not valid UTF-8 is refused here, before anything is created: the history
    records the command line, and a name it cannot store would leave a ledger half made.
    """
    if db:
        return check_path_text(Path(db).expanduser())
    env = os.environ.get("DVK_DB")
    if env:
        return check_path_text(Path(env).expanduser())
    from platformdirs import user_data_dir

    return check_path_text(Path(user_data_dir("dvk", appauthor=False)) / DEFAULT_FILENAME)


def shown_path(path: str | os.PathLike) -> str:
    """A path as it can be printed: bytes that are not UTF-8 as \\xNN, control characters escaped."""
    text = os.fsencode(path).decode("utf-8", "backslashreplace")
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def check_path_text(path: Path, what: str = "Đường dẫn sổ") -> Path:
    """Refuse a path whose name is not valid UTF-8 (bytes of another encoding, kept by Python as lone
    surrogates): it cannot be stored in the history."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(
            f"{what} “{shown_path(path)}” có ký tự không phải Unicode UTF-8 (tên tệp hoặc thư mục theo bảng mã "
            "khác). Hãy đổi tên cho đúng Unicode rồi chạy lại; không có gì được tạo hay thay đổi."
        )
    return path


def _create_private_file(path: Path) -> None:
    """Create an empty file readable by the owner only (the ledger holds people's names)."""
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)


def _is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return True  # let the reading of the header say what is wrong


def _folder_writable(folder: Path) -> bool:
    """Whether files can be created in `folder` (the -wal and -shm beside the ledger)."""
    try:
        return os.access(folder, os.W_OK | os.X_OK)
    except (OSError, ValueError):
        return True


def _on_read_only_fs(path: Path) -> bool:
    try:
        return bool(os.statvfs(path.parent).f_flag & getattr(os, "ST_RDONLY", 1))
    except (OSError, AttributeError):
        return False


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable (POSIX); harmless where directories cannot be opened."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _exists(path: Path, shown: Path | str) -> bool:
    try:
        return path.exists()
    except OSError as exc:
        raise LedgerError(f"Không truy cập được “{shown}”: {os_reason(exc)}.")


SQLITE_MAGIC = b"SQLite format 3\x00"


def _check_header(path: Path, shown: str | None = None, *, empty_ok: bool = True) -> None:
    """Refuse a file that is not SQLite before SQLite touches it."""
    shown = shown or str(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except PermissionError:
        raise LedgerError(f"Không có quyền đọc sổ “{shown}”.")
    except OSError as exc:
        raise LedgerError(f"Không đọc được sổ “{shown}”: {os_reason(exc)}.")
    if not head and not empty_ok:
        raise LedgerError(f"Tệp “{shown}” trống, chưa phải là sổ dvk. "
                          f"Hãy tạo sổ bằng lệnh: dvk init --db \"{shown}\".")
    if head and head != SQLITE_MAGIC:
        raise LedgerError(f"Tệp “{shown}” không phải là sổ dvk (không phải cơ sở dữ liệu SQLite); "
                          "dvk không thay đổi tệp này.")


def _os_user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "không rõ"


def current_user(option: str | None = None) -> str:
    """Who is writing: --user, else $DVK_USER, else the OS login name."""
    return option or os.environ.get("DVK_USER") or _os_user()
