"""Database and file-system failures said in Vietnamese, naming the file (LedgerError)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from dvk.errors import InvalidInput, LedgerError, file_reason

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


def translate(exc: BaseException, path: Path | str) -> LedgerError:
    """Turn a database exception into a Vietnamese LedgerError naming the file."""
    orig = getattr(exc, "orig", None) or exc
    name = str(getattr(orig, "sqlite_errorname", "") or "")
    msg = str(orig).lower()
    if name.startswith("SQLITE_READONLY") or "readonly" in msg or "read-only" in msg:
        return LedgerError(f"Sổ “{path}” chỉ cho phép đọc, không ghi được. Kiểm tra quyền ghi của tệp và thư mục "
                           "chứa nó (hoặc ổ đĩa chỉ đọc). Sổ không bị thay đổi.")
    if name == "SQLITE_FULL" or "disk is full" in msg or "no space" in msg:
        return LedgerError(
            f"Không ghi được sổ “{path}”: ổ đĩa đã đầy. Sổ giữ nguyên như trước lệnh; "
            "hãy giải phóng dung lượng rồi chạy lại."
        )
    if name.startswith("SQLITE_IOERR") or "disk i/o" in msg or "file too large" in msg:
        return LedgerError(
            f"Không ghi được sổ “{path}”: lỗi ghi đĩa (ổ đĩa đầy, tệp vượt giới hạn dung lượng hoặc ổ đĩa hỏng). "
            "Sổ giữ nguyên như trước lệnh; hãy giải phóng dung lượng hoặc kiểm tra ổ đĩa rồi chạy lại."
        )
    if name in ("SQLITE_NOTADB",) or name.startswith("SQLITE_CORRUPT") or "not a database" in msg \
            or "malformed" in msg or "file is encrypted" in msg:
        return LedgerError(f"Tệp “{path}” không phải là sổ dvk (không phải cơ sở dữ liệu SQLite hợp lệ) hoặc đã hỏng. "
                           "Có thể khôi phục từ bản sao lưu: dvk restore TỆP_SAO_LƯU.")
    if name.startswith("SQLITE_CANTOPEN") or "unable to open" in msg:
        return LedgerError(f"Không mở được sổ “{path}”: thư mục không tồn tại hoặc không có quyền truy cập "
                           "(sổ cần quyền ghi vào thư mục chứa nó để tạo tệp -wal, -shm).")
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in msg or "busy" in msg:
        return LedgerError(f"Sổ “{path}” đang bận (một lệnh khác đang ghi quá lâu). Hãy thử lại sau.")
    if name.startswith("SQLITE_PERM") or name.startswith("SQLITE_AUTH"):
        return LedgerError(f"Không có quyền truy cập sổ “{path}”.")
    return LedgerError(f"Lỗi cơ sở dữ liệu với sổ “{path}”: {orig}")


def is_corrupt(exc: BaseException) -> bool:
    """SQLite found a page it cannot read (SQLITE_CORRUPT, or SQLITE_NOTADB on a file it opened)."""
    orig = getattr(exc, "orig", None) or exc
    name = str(getattr(orig, "sqlite_errorname", "") or "")
    msg = str(orig).lower()
    return name.startswith("SQLITE_CORRUPT") or name == "SQLITE_NOTADB" or "malformed" in msg \
        or "not a database" in msg


DAMAGED = "bị hỏng: có trang dữ liệu SQLite không đọc được"


def damaged(shown: str | Path, *, checking: bool = False, details: list[str] | None = None) -> LedgerError:
    """The message for a dvk ledger with a damaged page: nothing was written, how to check and recover
    (`checking`: said by `dvk verify` itself)."""
    check = "" if checking else "Chạy dvk verify để kiểm tra, rồi khôi phục"
    return LedgerError(
        f"Sổ “{shown}” {DAMAGED} (tệp bị ghi đè một phần, ổ đĩa lỗi hoặc bị sửa ngoài dvk). Lệnh không ghi gì; sổ "
        f"giữ nguyên. {check or 'Hãy khôi phục'} từ bản sao lưu: dvk restore TỆP_SAO_LƯU (xem các bản sao lưu: "
        "dvk backup --list).", details=details,
    )


def _unencodable(exc: BaseException) -> InvalidInput | None:
    """Text that cannot be stored as UTF-8: bytes of another encoding that reached the command line
    undecoded (a terminal or a script not in UTF-8 — Python keeps them as lone surrogates)."""
    orig = getattr(exc, "orig", None) or exc
    if not isinstance(orig, UnicodeEncodeError):
        return None
    text = orig.object if isinstance(orig.object, str) else ""
    start = max(0, orig.start - 30)
    shown = text[start:orig.end + 30].encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return InvalidInput(
        f"Dữ liệu nhập có ký tự không đọc được (không phải Unicode UTF-8): “{shown}”. Có thể cửa sổ lệnh "
        "hoặc tệp đang dùng bảng mã khác; hãy nhập lại bằng Unicode. Sổ không bị thay đổi."
    )


def os_reason(exc: BaseException) -> str:
    """A short Vietnamese reason for an OS or SQLite error (for messages about files)."""
    if isinstance(exc, OSError):
        return file_reason(exc)
    if isinstance(exc, sqlite3.Error):
        name = str(getattr(exc, "sqlite_errorname", "") or "")
        for prefix, reason in _SQLITE_REASONS:
            if name.startswith(prefix):
                return reason
    return getattr(exc, "strerror", None) or str(exc)


_SQLITE_REASONS = (
    ("SQLITE_FULL", "ổ đĩa đã đầy"),
    ("SQLITE_IOERR", "lỗi ghi đĩa (ổ đĩa đầy, tệp vượt giới hạn dung lượng hoặc ổ đĩa hỏng)"),
    ("SQLITE_READONLY", "không có quyền ghi"),
    ("SQLITE_NOTADB", "không phải cơ sở dữ liệu SQLite hợp lệ"),
    ("SQLITE_CORRUPT", "cơ sở dữ liệu đã hỏng"),
    ("SQLITE_CANTOPEN", "không mở được tệp"),
    ("SQLITE_BUSY", "sổ đang bận"),
)


def tables_sound(conn: "Connection", names: Iterable[str]) -> bool:
    """SQLite's integrity check of these tables and their indexes only (cheap for small tables; SQLite
    3.33+, older versions answer True and leave damage to be found when the pages are read)."""
    if sqlite3.sqlite_version_info < (3, 33, 0):
        return True
    return all([tuple(r) for r in conn.exec_driver_sql(f'PRAGMA integrity_check("{n}")').all()] == [("ok",)]
               for n in names)
