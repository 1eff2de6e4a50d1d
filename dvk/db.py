"""The ledger file: where it is, how it opens, migrations, transactions and backups.

SQLite in WAL mode with `synchronous=FULL`, a busy timeout so concurrent writers wait
for each other, and `BEGIN IMMEDIATE` for every write command: a write either commits
whole or leaves the file as it was. All SQL goes through SQLAlchemy so the same
ledger can run on another database later.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import re
import shutil
import sqlite3
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from dvk.errors import InvalidInput, LedgerError
from dvk.migrations import MIGRATION_ROWS, SCHEMA_HEAD

BUSY_TIMEOUT_MS = 60_000
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


def tables_sound(conn: Connection, names: Iterable[str]) -> bool:
    """SQLite's integrity check of these tables and their indexes only (cheap for small tables; SQLite
    3.33+, older versions answer True and leave damage to be found when the pages are read)."""
    if sqlite3.sqlite_version_info < (3, 33, 0):
        return True
    return all([tuple(r) for r in conn.exec_driver_sql(f'PRAGMA integrity_check("{n}")').all()] == [("ok",)]
               for n in names)


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


_OS_REASONS = {
    errno.ENOSPC: "ổ đĩa đã đầy",
    errno.EFBIG: "tệp vượt giới hạn dung lượng cho phép",
    errno.EDQUOT: "vượt hạn mức dung lượng của người dùng",
    errno.EROFS: "ổ đĩa chỉ cho phép đọc",
    errno.EACCES: "không có quyền",
    errno.EPERM: "không được phép (tệp bị khóa hoặc không có quyền)",
    errno.ENOENT: "không tồn tại",
    errno.ENOTDIR: "đường dẫn không phải thư mục",
    errno.EISDIR: "là một thư mục",
    errno.EIO: "lỗi đọc/ghi đĩa",
    errno.ENAMETOOLONG: "tên tệp hoặc đường dẫn quá dài",
    errno.ELOOP: "đường dẫn có vòng liên kết tượng trưng",
}


def os_reason(exc: BaseException) -> str:
    """A short Vietnamese reason for an OS or SQLite error (for messages about files)."""
    if isinstance(exc, OSError) and exc.errno in _OS_REASONS:
        return _OS_REASONS[exc.errno]
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


def _make_engine(path: Path, *, immutable: bool = False) -> Engine:
    if immutable:
        # A ledger on a read-only file system: no -shm can be created, so SQLite is told the
        # file cannot change (no locks, no WAL index). Reads work; a write gets SQLITE_READONLY.
        uri = Path(path).resolve().as_uri() + "?immutable=1"
        engine = create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False))
    else:
        engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # pragma: no cover - exercised by every test
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=FULL")
        cur.close()
        # The journal mode (WAL) is set by Ledger.open once the file is known to be a dvk
        # ledger of a schema this version understands: a refused file is never modified.

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # pragma: no cover
        mode = conn.info.get("begin_mode", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


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


class Ledger:
    """An open ledger file. Use `read()` and `write()` for transactions.

    `shown` is the name used in messages (the path, unless the ledger is a staged copy).
    """

    def __init__(self, path: Path, engine: Engine, conn: Connection, shown: str | None = None) -> None:
        self.path = path
        self.engine = engine
        self.conn = conn
        self.shown = shown or str(path)
        self._ready = False  # set once the file is known to be a dvk ledger of this schema

    # ------------------------------------------------------------ opening
    @classmethod
    def open(cls, path: Path, *, create: bool = False, backup_on_migrate: bool = True,
             shown: str | None = None) -> "Ledger":
        """Open (or with `create`, create) a ledger and upgrade its schema if it is older.

        Refused without any change to the file: a missing file (unless `create`), a directory,
        a FIFO or device, an empty file or an empty database (unless `create`), a file that is not
        SQLite, a SQLite database that is not a dvk ledger, a ledger made by a newer dvk. A ledger
        where no -shm can be made (read-only file system, folder not writable) is opened immutable:
        it can be read, a write gets the "chỉ cho phép đọc" message.
        """
        path = Path(path)
        name = shown or str(path)
        if not _exists(path, name):
            if not create:
                raise LedgerError(
                    f"Chưa có sổ tại “{name}”. Hãy tạo sổ bằng lệnh: dvk init --db \"{name}\" "
                    "(hoặc đặt biến môi trường DVK_DB)."
                )
            if not _exists(path.parent, path.parent):
                raise LedgerError(f"Thư mục “{path.parent}” không tồn tại; hãy tạo thư mục trước.")
            stale = [Path(f"{path}{s}") for s in ("-wal", "-journal") if Path(f"{path}{s}").exists()]
            if stale:
                # SQLite would replay them into the new file: pages of the deleted ledger in a new one.
                raise LedgerError(
                    f"Còn tệp “{stale[0].name}” của một sổ “{path.name}” đã bị xóa hoặc chuyển đi. Tệp này thuộc về sổ "
                    "cũ: hãy chuyển nó đi cùng sổ cũ (hoặc xóa nếu chắc chắn không cần) rồi chạy lại."
                )
            try:
                _create_private_file(path)
            except FileExistsError:
                pass
            except OSError as exc:
                raise LedgerError(f"Không tạo được sổ “{name}”: {os_reason(exc)}.")
        elif path.is_dir():
            raise LedgerError(f"“{name}” là một thư mục, không phải tệp sổ.")
        elif not _is_regular(path):
            raise LedgerError(f"“{name}” không phải là một tệp thường (là thiết bị, ống FIFO hoặc socket), "
                              "không thể là sổ dvk.")
        _check_header(path, name, empty_ok=create)
        read_only_fs = _on_read_only_fs(path)
        # A folder that is not writable (permissions, `chattr +i`) cannot take the -shm that WAL needs:
        # read the file as immutable too, unless a -shm is already there to share with a writer.
        immutable = read_only_fs or (not _folder_writable(path.parent) and not _exists(Path(f"{path}-shm"), name))
        if immutable and _exists(Path(f"{path}-wal"), name) and Path(f"{path}-wal").stat().st_size > 0:
            where = "trên ổ đĩa chỉ cho phép đọc" if read_only_fs else "trong thư mục không ghi được"
            raise LedgerError(
                f"Sổ “{name}” nằm {where} và còn thay đổi chưa gộp trong tệp “{path.name}-wal”. "
                "Hãy chép cả hai tệp sang nơi ghi được (hoặc cho phép ghi vào thư mục) rồi mở lại."
            )
        engine = _make_engine(path, immutable=immutable)
        try:
            conn = engine.connect()
        except (DBAPIError, sqlite3.Error) as exc:
            engine.dispose()
            raise translate(exc, name)
        ledger = cls(path, engine, conn, name)
        try:
            ledger._prepare(create=create, backup_on_migrate=backup_on_migrate)
        except BaseException:
            ledger.close()
            raise
        ledger._ready = True
        return ledger

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()
        with contextlib.suppress(Exception):
            self.engine.dispose()

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------ transactions
    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction: a consistent snapshot for the whole block."""
        self.conn.info["begin_mode"] = "DEFERRED"
        try:
            with self.conn.begin():
                yield self.conn
        except SQLAlchemyError as exc:
            raise _unencodable(exc) or self._translate(exc)
        except UnicodeEncodeError as exc:
            raise _unencodable(exc)

    @contextlib.contextmanager
    def write(self, *, user: str, command: str, summary: str = "") -> Iterator["Tx"]:
        """A write transaction recorded in the history; commits whole or not at all.

        Once the write lock is held, and before anything is written, a cheap check of what every
        command relies on (`dvk.verify.check_before_write`: the decisions and settings against their
        history, their pages, no trigger or view dvk did not make) refuses a ledger changed or
        damaged behind dvk's back; `dvk verify` stays the full check.
        """
        from dvk.history import Tx
        from dvk.verify import check_before_write

        self.conn.info["begin_mode"] = "IMMEDIATE"
        try:
            with self.conn.begin():
                check_before_write(self.conn, self.shown)
                tx = Tx(self.conn, user=user, command=command, summary=summary)
                yield tx
                tx.finish()
        except SQLAlchemyError as exc:
            raise _unencodable(exc) or self._translate(exc)
        except UnicodeEncodeError as exc:
            raise _unencodable(exc)
        finally:
            self.conn.info["begin_mode"] = "DEFERRED"

    def _translate(self, exc: BaseException) -> LedgerError:
        """`translate`, except that a known dvk ledger whose pages SQLite cannot read is called damaged
        (not "not a ledger") and the way out is named."""
        if self._ready and is_corrupt(exc):
            return damaged(self.shown)
        return translate(exc, self.shown)

    def raw(self) -> sqlite3.Connection:
        """The underlying sqlite3 connection (for PRAGMAs outside a transaction, backups)."""
        return self.conn.connection.dbapi_connection  # type: ignore[return-value]

    def integrity_errors(self) -> list[str]:
        """`PRAGMA integrity_check` (and foreign keys): an empty list when the file is sound."""
        try:
            with self.read() as conn:
                rows = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check").fetchall()]
                fk = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        except LedgerError as exc:
            return [exc.message]
        out = [] if rows == ["ok"] else [str(r) for r in rows]
        out += [f"khóa ngoại hỏng: bảng {r[0]}, dòng {r[1]} trỏ tới {r[2]} không tồn tại" for r in fk]
        return out

    def setting(self, key: str, default: str | None = None) -> str | None:
        with self.read() as conn:
            if not _has_table(conn, "meta"):
                return default
            v = conn.execute(text("SELECT value FROM meta WHERE key = :k"), {"k": key}).scalar()
        return default if v is None else v

    # ------------------------------------------------------------ schema
    def schema_version(self) -> str | None:
        with self.read() as conn:
            return _current_revision(conn)

    def _prepare(self, *, create: bool, backup_on_migrate: bool) -> None:
        with self.read() as conn:
            current = _current_revision(conn)
            has_tables = bool(
                conn.exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE type='table'").scalar()
            )
        if current is None and has_tables:
            raise LedgerError(f"Tệp “{self.shown}” là cơ sở dữ liệu SQLite nhưng không phải sổ dvk; "
                              "dvk không thay đổi tệp này.")
        if current is None and not create:
            raise LedgerError(f"Tệp “{self.shown}” chưa phải là sổ dvk (cơ sở dữ liệu trống). "
                              f"Hãy tạo sổ bằng lệnh: dvk init --db \"{self.shown}\".")
        if current is not None and current != SCHEMA_HEAD:
            from dvk.migrations.runner import known_revisions

            if current not in known_revisions():
                raise LedgerError(
                    f"Sổ “{self.shown}” được tạo bởi phiên bản dvk mới hơn (lược đồ {current}, phiên bản này "
                    f"chỉ biết đến {SCHEMA_HEAD}). Hãy cập nhật dvk; sổ không bị thay đổi."
                )
        self._ensure_wal()
        if current != SCHEMA_HEAD:
            self._migrate(current, backup=backup_on_migrate)

    def _ensure_wal(self) -> None:
        raw = self.raw()
        try:
            mode = raw.execute("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() != "wal":
                raw.execute("PRAGMA journal_mode=WAL")
        except sqlite3.Error as exc:
            if getattr(exc, "sqlite_errorname", "").startswith("SQLITE_READONLY"):
                return  # a read-only ledger can still be read; writes get a clear message later
            raise translate(exc, self.shown)

    def _migrate(self, current: str | None, *, backup: bool) -> None:
        from dvk.migrations.runner import upgrade

        if current is not None and backup:
            backup_before(self, "migrate")
        self.conn.info["begin_mode"] = "IMMEDIATE"
        try:
            with self.conn.begin():
                current = _current_revision(self.conn)  # re-read under the write lock
                if current == SCHEMA_HEAD:
                    return  # another process upgraded it meanwhile
                self.conn.info.pop(MIGRATION_ROWS, None)
                upgrade(self.conn)
                inserted = self.conn.info.pop(MIGRATION_ROWS, ())
                if current is not None:
                    from dvk.history import Tx

                    tx = Tx(self.conn, user=_os_user(), command="migrate",
                            summary=f"Nâng cấp lược đồ sổ từ {current} lên {SCHEMA_HEAD}")
                    for table_name, rows in inserted:  # rows a data migration added (see MIGRATION_ROWS)
                        tx.record_inserted(table_name, rows)
                    tx.finish()
        except SQLAlchemyError as exc:
            raise translate(exc, self.shown)
        finally:
            self.conn.info.pop(MIGRATION_ROWS, None)
            self.conn.info["begin_mode"] = "DEFERRED"


def _has_table(conn: Connection, name: str) -> bool:
    return conn.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)
    ).first() is not None


def _current_revision(conn: Connection) -> str | None:
    if not _has_table(conn, "alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


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


# ---------------------------------------------------------------- settings

BACKUP_KEEP_DEFAULT = 10
SETTINGS: dict[str, str] = {
    "backup_keep": "Số bản sao lưu tự động giữ lại bên cạnh sổ (1–1000, mặc định 10).",
}


def check_setting(key: str, value: str) -> str:
    """Validate a ledger setting (`dvk settings set`); returns the value to store."""
    if key not in SETTINGS:
        raise InvalidInput(f"Không có cài đặt “{key}” (các cài đặt: {', '.join(SETTINGS)}).")
    if key == "backup_keep":
        try:
            n = int(str(value).strip())
        except ValueError:
            raise InvalidInput(f"backup_keep phải là một số nguyên (nhận được “{value}”).")
        if not 1 <= n <= 1000:
            raise InvalidInput(f"backup_keep phải từ 1 đến 1000 (nhận được {n}).")
        return str(n)
    return value  # pragma: no cover


# ---------------------------------------------------------------- backups

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
    path = ledger.path if isinstance(ledger, Ledger) else Path(ledger)
    return path.with_name(path.name + ".backups")


def list_backups(ledger: "Ledger | Path") -> list[BackupFile]:
    """The backups beside the ledger, oldest first."""
    path = ledger.path if isinstance(ledger, Ledger) else Path(ledger)
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


def _idle_raw(ledger: Ledger) -> sqlite3.Connection | None:
    """The ledger's own connection when it is outside a transaction (it works on a read-only file
    system too); None inside one, so the copy never holds uncommitted changes."""
    return None if ledger.conn.in_transaction() else ledger.raw()


def backup_to(ledger: Ledger, dest: Path) -> Path:
    """A consistent copy with SQLite's online backup API (other commands may be running).

    The copy is written under a temporary name and renamed, readable by the owner only.
    """
    dest = Path(dest)
    if _exists(dest, dest) and dest.is_dir():
        dest = dest / f"{ledger.path.stem}-{dt.datetime.now(dt.timezone.utc).strftime(_STAMP)}-manual.sqlite"
    if _exists(dest, dest):
        raise LedgerError(f"Tệp “{dest}” đã tồn tại; dvk không ghi đè. Hãy chọn tên khác.")
    if not _exists(dest.parent, dest.parent):
        raise LedgerError(f"Thư mục “{dest.parent}” không tồn tại; hãy tạo thư mục trước.")
    try:
        _copy_database(ledger.path, dest, src_conn=_idle_raw(ledger))
    except (OSError, sqlite3.Error) as exc:
        raise LedgerError(f"Không sao lưu được sổ vào “{dest}”: {os_reason(exc)}. Sổ không bị thay đổi.")
    return dest


def backup_before(ledger: Ledger, reason: str, keep: int | None = None, *, dest: Path | None = None) -> Path:
    """Automatic backup beside the ledger before a risky command; keeps the newest `keep`.
    `dest`: the name, chosen beforehand by `_aside_name` (default: now's)."""
    folder = backup_dir(ledger)
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
    except OSError as exc:
        raise LedgerError(f"Không tạo được thư mục sao lưu “{folder}”: {os_reason(exc)}. Lệnh chưa thực hiện.")
    if dest is None:
        stamp = dt.datetime.now(dt.timezone.utc).strftime(_STAMP)
        dest = folder / f"{ledger.path.stem}-{stamp}-{reason}.sqlite"
    try:
        _copy_database(ledger.path, dest, src_conn=_idle_raw(ledger))
    except (OSError, sqlite3.Error) as exc:
        raise LedgerError(
            f"Không tạo được bản sao lưu tự động “{dest}”: {os_reason(exc)}. Lệnh chưa thực hiện; sổ không bị "
            "thay đổi."
        )
    rotate_backups(ledger, keep)
    return dest


def rotate_backups(ledger: Ledger, keep: int | None = None) -> list[Path]:
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


def backup_before_overwrite(ledger: Ledger, files: Iterable[Path] = ()) -> Path:
    """Before a `--force` overwrite: back up the ledger and keep a copy of each file about to be
    replaced, in `<ledger>.backups/<stem>-<stamp>-force.files/`; rotated like the other automatic
    backups. Returns the ledger backup's path. Call it before writing anything.
    """
    dest = backup_before(ledger, "force")
    existing = [Path(f) for f in files if Path(f).is_file()]
    if existing:
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


def _backup_keep(ledger: Ledger) -> int:
    try:
        value = ledger.setting("backup_keep")
        return max(1, int(value)) if value else BACKUP_KEEP_DEFAULT
    except (LedgerError, ValueError):
        return BACKUP_KEEP_DEFAULT


# ---------------------------------------------------------------- restore

@dataclass
class RestoreResult:
    """What `restore` did."""

    source: Path
    ledger: Path
    replaced: Path | None  # where the replaced ledger was kept (None: there was none)
    ledger_id: str | None
    other_ledger: bool  # the backup came from another ledger (allowed by --force)
    migrated_from: str | None
    records: int
    rows: int
    notes: list[str]
    decisions_lost: list[str] = field(default_factory=list)  # decisions dropped or changed (allowed by --force)


def restore(backup: Path, ledger_path: Path, *, force: bool = False, user: str, command: str) -> RestoreResult:
    """Replace the ledger by a checked backup, keeping the replaced ledger beside it.

    The backup is copied to a private staging file next to the ledger (the backup itself is
    never modified), upgraded if it is older, then must pass `PRAGMA integrity_check` and
    `dvk verify` (its history and its schema). Refused unless `force`: a backup of another ledger
    (another ledger id), and a backup that would drop or change a recognition decision the current
    ledger holds (absent, another number, date or year, another revoked state) — restoring must not
    undo a decision without a revocation; with `force` each such decision is named in the history.
    The restore's own history record is written into the staged copy, so the ledger is replaced
    together with it. The current ledger is kept in `<ledger>.backups/` (never rotated away), then
    overwritten through SQLite's backup API (one transaction, other processes wait) — or, when the
    current file cannot be opened at all, moved aside and replaced by a rename.
    """
    from dvk.verify import verify

    backup = Path(backup)
    ledger_path = Path(ledger_path)
    check_path_text(backup, "Tệp sao lưu")
    check_path_text(ledger_path)
    if not _exists(backup, backup):
        raise LedgerError(f"Không có tệp sao lưu “{backup}”.")
    if backup.is_dir():
        raise LedgerError(f"“{backup}” là một thư mục, không phải tệp sao lưu.")
    _check_header(backup, str(backup), empty_ok=False)
    if _exists(ledger_path, ledger_path) and os.path.samefile(backup, ledger_path):
        raise LedgerError(f"Tệp “{backup}” chính là sổ đang dùng; hãy chọn một tệp sao lưu.")
    if not _exists(ledger_path.parent, ledger_path.parent):
        raise LedgerError(f"Thư mục “{ledger_path.parent}” không tồn tại; hãy tạo thư mục trước.")

    staged = ledger_path.with_name(f".{ledger_path.name}.restore-{os.getpid()}.tmp")
    _remove_db_files(staged)
    notes: list[str] = []
    lost: list[str] = []
    try:
        try:
            _copy_database(backup, staged)
        except sqlite3.DatabaseError as exc:
            raise LedgerError(f"Tệp sao lưu “{backup}” bị hỏng hoặc không phải là sổ dvk ({os_reason(exc)}); "
                              "không khôi phục. Sổ hiện tại giữ nguyên.")
        except OSError as exc:
            raise LedgerError(f"Không đọc được tệp sao lưu “{backup}”: {os_reason(exc)}. Sổ hiện tại giữ nguyên.")
        _refuse_odd_schema(staged, backup)  # before an upgrade runs anything a trigger could hook into
        with Ledger.open(staged, backup_on_migrate=False, shown=str(backup)) as st:
            migrated_from = None
            with st.read() as conn:
                last = conn.exec_driver_sql("SELECT command, summary FROM history ORDER BY id DESC LIMIT 1").first()
            if last is not None and last[0] == "migrate":
                migrated_from = last[1]
            problems = st.integrity_errors()
            if problems:
                raise LedgerError(f"Tệp sao lưu “{backup}” bị hỏng (kiểm tra toàn vẹn SQLite không đạt); "
                                  "không khôi phục.", details=problems[:50])
            report = verify(st)
            _refuse_odd_schema(staged, backup, [p.message for p in report.problems if p.kind == "schema"])
            if not report.ok:
                raise LedgerError(f"Tệp sao lưu “{backup}” không khớp với lịch sử của chính nó "
                                  f"({report.n_problems} chỗ sai); không khôi phục.",
                                  details=[p.message for p in report.problems[:50]])
            backup_id = st.setting("ledger_id")
            backup_decisions = _decisions(st)
        st.close()
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{staged}{suffix}").unlink()

        replaced: Path | None = None
        other = False

        def summary(replaced: Path | None) -> str:
            """The restore's history record: from where, where the replaced ledger went, what --force allowed."""
            text = f"Khôi phục sổ từ bản sao lưu “{backup}”"
            if replaced:
                text += f"; sổ bị thay được giữ tại “{replaced}”"
            if other:
                text += f" (bản sao lưu của sổ khác, mã {backup_id}, khôi phục với --force)"
            if lost:
                text += (f"; bỏ hoặc thay đổi {len(lost)} quyết định mà sổ bị thay đang giữ (khôi phục với --force): "
                         + "; ".join(lost))
            return text

        if _exists(ledger_path, ledger_path):
            try:
                cur = Ledger.open(ledger_path)
            except LedgerError as exc:
                cur = None
                notes.append(f"Sổ hiện tại không mở được ({exc.message}); đã chuyển nguyên tệp sang thư mục sao lưu.")
            if cur is not None:
                with cur:
                    cur_id = cur.setting("ledger_id")
                    if cur_id and backup_id and cur_id != backup_id:
                        if not force:
                            raise LedgerError(
                                f"Tệp sao lưu “{backup}” là của một sổ khác (mã sổ {backup_id}, sổ hiện tại "
                                f"{cur_id}); không khôi phục. Nếu chắc chắn, chạy lại với --force "
                                "(sổ hiện tại vẫn được giữ lại)."
                            )
                        other = True
                    lost = decisions_lost(_decisions(cur), backup_decisions)
                    if lost and not force:
                        raise LedgerError(
                            f"Khôi phục bản sao lưu “{backup}” sẽ xóa hoặc thay đổi {len(lost)} quyết định công nhận "
                            "mà sổ hiện tại đang giữ, không qua quyết định thu hồi; không khôi phục. Sổ và bản sao lưu "
                            "giữ nguyên. Muốn sửa một quyết định, hãy thu hồi nó: dvk recognize --revoke. Nếu chắc "
                            "chắn muốn khôi phục, chạy lại với --force (sổ hiện tại vẫn được giữ lại, các quyết định "
                            "được ghi vào lịch sử).", details=lost)
                    aside = _aside_name(ledger_path)
                    _record_restore(staged, str(backup), user, command, summary(aside))
                    replaced = backup_before(cur, "replaced", dest=aside)
                    src = sqlite3.connect(str(staged))
                    try:
                        dst = sqlite3.connect(str(ledger_path), timeout=BUSY_TIMEOUT_MS / 1000)
                        try:
                            dst.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
                            src.backup(dst)
                        finally:
                            dst.close()
                    except sqlite3.Error as exc:
                        raise translate(exc, ledger_path)
                    finally:
                        src.close()
            else:
                aside = _aside_name(ledger_path)
                _record_restore(staged, str(backup), user, command, summary(aside))
                replaced = _move_aside(ledger_path, aside)
                os.replace(staged, ledger_path)
                _fsync_dir(ledger_path.parent)
        else:
            _record_restore(staged, str(backup), user, command, summary(None))
            os.replace(staged, ledger_path)
            _fsync_dir(ledger_path.parent)
    finally:
        _remove_db_files(staged)

    with Ledger.open(ledger_path) as led:
        with led.read() as conn:
            records = conn.exec_driver_sql("SELECT count(*) FROM history").scalar() or 0
            rows = conn.exec_driver_sql("SELECT count(*) FROM entry").scalar() or 0
    if lost:
        notes.append(f"Đã bỏ hoặc thay đổi {len(lost)} quyết định mà sổ bị thay đang giữ (--force): "
                     + "; ".join(lost) + ".")
    return RestoreResult(source=backup, ledger=ledger_path, replaced=replaced, ledger_id=backup_id,
                         other_ledger=other, migrated_from=migrated_from, records=records, rows=rows, notes=notes,
                         decisions_lost=lost)


def _refuse_odd_schema(staged: Path, backup: Path, problems: list[str] | None = None) -> None:
    """Refuse a backup whose tables, columns, indexes, triggers or views are not what the migrations
    of its revision make (read from the staged copy itself when `problems` is not given)."""
    if problems is None:
        from dvk.verify import schema_problems

        try:
            raw = sqlite3.connect(f"{staged.resolve().as_uri()}?mode=ro", uri=True)
            try:
                problems = [p.message for p in schema_problems(raw)]
            finally:
                raw.close()
        except sqlite3.Error:
            return  # not readable as a ledger: opening it says why
    if problems:
        raise LedgerError(f"Tệp sao lưu “{backup}” có lược đồ khác với lược đồ dvk tạo ({len(problems)} chỗ: bảng, "
                          "cột, chỉ mục, trigger hoặc view lạ hay bị xóa); không khôi phục. Sổ hiện tại giữ nguyên.",
                          details=problems[:50])


def _record_restore(staged: Path, shown: str, user: str, command: str, summary: str) -> None:
    """Write the restore's history record into the staged copy (it replaces the ledger with it)."""
    with Ledger.open(staged, backup_on_migrate=False, shown=shown) as st:
        with st.write(user=user, command=command, summary=summary):
            pass
    raw = sqlite3.connect(str(staged))
    try:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the main file: it is copied or renamed
    finally:
        raw.close()
    for suffix in ("-wal", "-shm"):
        side = Path(f"{staged}{suffix}")
        with contextlib.suppress(FileNotFoundError):
            if suffix == "-shm" or side.stat().st_size == 0:
                side.unlink()


@dataclass(frozen=True)
class DecisionRow:
    """A recognition decision as `restore` compares it, with its Vietnamese title."""

    id: int
    year: int
    number: int
    decided_on: str
    revoked: bool
    title: str


def _decisions(ledger: Ledger) -> dict[int, DecisionRow]:
    """The decisions a ledger holds, by id, each titled "Quyết định số 07/QĐ-CĐN ngày 15/10/2026 (năm 2026)"
    with the symbol of the organisation profile of its year."""
    from dvk.dates import fmt_date
    from dvk.ops import profile_for

    out: dict[int, DecisionRow] = {}
    with ledger.read() as conn:
        if not _has_table(conn, "decision"):
            return out
        rows = conn.exec_driver_sql("SELECT id, year, number, decided_on, revoked FROM decision ORDER BY id").all()
        for id_, year, number, decided_on, revoked in rows:
            try:
                symbol = profile_for(conn, int(year))["symbol"]
            except Exception:  # noqa: BLE001 - a damaged profile must not hide the decision
                symbol = "…"
            try:
                day = fmt_date(str(decided_on))
            except Exception:  # noqa: BLE001 - a date edited into nonsense is shown as stored
                day = str(decided_on)
            num = f"{number:02d}" if isinstance(number, int) else str(number)
            title = f"Quyết định số {num}/QĐ-{symbol} ngày {day} (năm {year})"
            out[id_] = DecisionRow(id_, year, number, str(decided_on), bool(revoked), title)
    return out


def decisions_lost(current: dict[int, DecisionRow], backup: dict[int, DecisionRow]) -> list[str]:
    """Each decision of `current` that `backup` lacks or holds otherwise (year, number, date, revoked
    state), named, with the year it would unlock."""
    locked_after = {d.year for d in backup.values() if not d.revoked}
    out = []
    for d in current.values():
        b = backup.get(d.id)
        if b is None:
            why = "không có trong bản sao lưu"
        elif (b.year, b.number, b.decided_on) != (d.year, d.number, d.decided_on):
            why = f"bản sao lưu ghi thành {b.title}"
        elif b.revoked != d.revoked:
            why = "đã thu hồi, bản sao lưu ghi còn hiệu lực" if d.revoked else "bản sao lưu ghi đã thu hồi"
        else:
            continue
        if not d.revoked and d.year not in locked_after:
            why += f"; năm {d.year} sẽ không còn bị khóa"
        out.append(f"{d.title}: {why}")
    return out


def _remove_db_files(path: Path) -> None:
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal"), Path(f"{path}.tmp")):
        with contextlib.suppress(FileNotFoundError, IsADirectoryError):
            p.unlink()


def _aside_name(ledger_path: Path) -> Path:
    stamp = dt.datetime.now(dt.timezone.utc).strftime(_STAMP)
    return backup_dir(ledger_path) / f"{ledger_path.stem}-{stamp}-replaced.sqlite"


def _move_aside(ledger_path: Path, dest: Path) -> Path:
    """Keep a ledger file that cannot be opened (with its -wal/-shm) in the backups folder, as `dest`."""
    folder = dest.parent
    folder.mkdir(mode=0o700, exist_ok=True)
    os.replace(ledger_path, dest)
    for suffix in ("-wal", "-shm"):
        side = Path(f"{ledger_path}{suffix}")
        if side.exists():
            os.replace(side, Path(f"{dest}{suffix}"))
    _fsync_dir(folder)
    return dest
