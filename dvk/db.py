"""The ledger file: where it is, how it opens, migrations, transactions and backups.

SQLite in WAL mode with `synchronous=FULL`, a busy timeout so concurrent writers wait
for each other, and `BEGIN IMMEDIATE` for every write command: a write either commits
whole or leaves the file as it was. All SQL goes through SQLAlchemy so the same
ledger can run on another database later.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from dvk.errors import LedgerError
from dvk.migrations import SCHEMA_HEAD

BUSY_TIMEOUT_MS = 60_000
DEFAULT_FILENAME = "dvk.sqlite"


def resolve_path(db: str | os.PathLike | None) -> Path:
    """The ledger path: the --db option, else $DVK_DB, else the per-user data directory."""
    if db:
        return Path(db).expanduser()
    env = os.environ.get("DVK_DB")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("dvk", appauthor=False)) / DEFAULT_FILENAME


def translate(exc: BaseException, path: Path | str) -> LedgerError:
    """Turn a database exception into a Vietnamese LedgerError naming the file."""
    orig = getattr(exc, "orig", exc)
    msg = str(orig).lower()
    if "readonly" in msg or "read-only" in msg:
        return LedgerError(f"Sổ “{path}” chỉ cho phép đọc, không ghi được. Kiểm tra quyền ghi của tệp và thư mục.")
    if "disk is full" in msg or "disk i/o" in msg or "no space" in msg or "file too large" in msg:
        return LedgerError(
            f"Không ghi được sổ “{path}”: ổ đĩa đầy hoặc lỗi ghi đĩa. Sổ giữ nguyên như trước lệnh; "
            "hãy giải phóng dung lượng rồi chạy lại."
        )
    if "not a database" in msg or "malformed" in msg or "file is encrypted" in msg:
        return LedgerError(f"Tệp “{path}” không phải là sổ dvk (không phải cơ sở dữ liệu SQLite hợp lệ) hoặc đã hỏng.")
    if "unable to open" in msg:
        return LedgerError(f"Không mở được sổ “{path}”: thư mục không tồn tại hoặc không có quyền truy cập.")
    if "locked" in msg or "busy" in msg:
        return LedgerError(f"Sổ “{path}” đang bận (một lệnh khác đang ghi quá lâu). Hãy thử lại sau.")
    return LedgerError(f"Lỗi cơ sở dữ liệu với sổ “{path}”: {orig}")


def _make_engine(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path}", poolclass=None)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # pragma: no cover - exercised by every test
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=FULL")
        mode = cur.execute("PRAGMA journal_mode").fetchone()[0]
        if str(mode).lower() != "wal":
            cur.execute("PRAGMA journal_mode=WAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # pragma: no cover
        mode = conn.info.get("begin_mode", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _create_private_file(path: Path) -> None:
    """Create an empty file readable by the owner only (the ledger holds people's names)."""
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)


class Ledger:
    """An open ledger file. Use `read()` and `write()` for transactions."""

    def __init__(self, path: Path, engine: Engine, conn: Connection) -> None:
        self.path = path
        self.engine = engine
        self.conn = conn

    # ------------------------------------------------------------ opening
    @classmethod
    def open(cls, path: Path, *, create: bool = False) -> "Ledger":
        path = Path(path)
        if not path.exists():
            if not create:
                raise LedgerError(
                    f"Chưa có sổ tại “{path}”. Hãy tạo sổ bằng lệnh: dvk init --db \"{path}\" "
                    "(hoặc đặt biến môi trường DVK_DB)."
                )
            if not path.parent.exists():
                raise LedgerError(f"Thư mục “{path.parent}” không tồn tại; hãy tạo thư mục trước.")
            try:
                _create_private_file(path)
            except FileExistsError:
                pass
            except OSError as exc:
                raise LedgerError(f"Không tạo được sổ “{path}”: {exc.strerror}.")
        elif path.is_dir():
            raise LedgerError(f"“{path}” là một thư mục, không phải tệp sổ.")
        _check_header(path)
        engine = _make_engine(path)
        try:
            conn = engine.connect()
        except (DBAPIError, sqlite3.Error) as exc:
            engine.dispose()
            raise translate(exc, path)
        ledger = cls(path, engine, conn)
        try:
            ledger._migrate()
        except BaseException:
            ledger.close()
            raise
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
            raise translate(exc, self.path)

    @contextlib.contextmanager
    def write(self, *, user: str, command: str, summary: str = "") -> Iterator["Tx"]:
        """A write transaction recorded in the history; commits whole or not at all."""
        from dvk.history import Tx

        self.conn.info["begin_mode"] = "IMMEDIATE"
        try:
            with self.conn.begin():
                tx = Tx(self.conn, user=user, command=command, summary=summary)
                yield tx
                tx.finish()
        except SQLAlchemyError as exc:
            raise translate(exc, self.path)
        finally:
            self.conn.info["begin_mode"] = "DEFERRED"

    # ------------------------------------------------------------ schema
    def schema_version(self) -> str | None:
        with self.read() as conn:
            return _current_revision(conn)

    def _migrate(self) -> None:
        with self.read() as conn:
            current = _current_revision(conn)
            has_tables = bool(
                conn.exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE type='table'").scalar()
            )
        if current == SCHEMA_HEAD:
            return
        if current is None and has_tables:
            raise LedgerError(f"Tệp “{self.path}” là cơ sở dữ liệu SQLite nhưng không phải sổ dvk.")
        from dvk.migrations.runner import known_revisions, upgrade

        if current is not None and current not in known_revisions():
            raise LedgerError(
                f"Sổ “{self.path}” được tạo bởi phiên bản dvk mới hơn (lược đồ {current}). "
                "Hãy cập nhật dvk; sổ không bị thay đổi."
            )
        if current is not None:
            backup_before(self, "migrate")
        self.conn.info["begin_mode"] = "IMMEDIATE"
        try:
            with self.conn.begin():
                upgrade(self.conn)
                if current is not None:
                    from dvk.history import Tx

                    tx = Tx(self.conn, user=_os_user(), command="migrate",
                            summary=f"Nâng cấp lược đồ sổ từ {current} lên {SCHEMA_HEAD}")
                    tx.finish()
        except SQLAlchemyError as exc:
            raise translate(exc, self.path)
        finally:
            self.conn.info["begin_mode"] = "DEFERRED"


def _current_revision(conn: Connection) -> str | None:
    exists = conn.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'"
    ).first()
    if not exists:
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _check_header(path: Path) -> None:
    """Refuse a non-empty file that is not SQLite before SQLite touches it."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except PermissionError:
        raise LedgerError(f"Không có quyền đọc sổ “{path}”.")
    except OSError as exc:
        raise LedgerError(f"Không đọc được sổ “{path}”: {exc.strerror}.")
    if head and head != b"SQLite format 3\x00":
        raise LedgerError(f"Tệp “{path}” không phải là sổ dvk (không phải cơ sở dữ liệu SQLite).")


def _os_user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "không rõ"


def current_user(option: str | None = None) -> str:
    """Who is writing: --user, else $DVK_USER, else the OS login name."""
    return option or os.environ.get("DVK_USER") or _os_user()


# ---------------------------------------------------------------- backups

def backup_to(ledger: Ledger, dest: Path) -> Path:
    """A consistent copy with SQLite's online backup API (other commands may be running)."""
    dest = Path(dest)
    if dest.exists():
        raise LedgerError(f"Tệp sao lưu “{dest}” đã tồn tại; chọn tên khác.")
    tmp = dest.with_name(dest.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    try:
        _create_private_file(tmp)
        src = sqlite3.connect(str(ledger.path), timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            dst = sqlite3.connect(str(tmp))
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode=DELETE")
            finally:
                dst.close()
        finally:
            src.close()
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    except (OSError, sqlite3.Error) as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise LedgerError(f"Không sao lưu được sổ vào “{dest}”: {exc}.")
    return dest


def backup_dir(ledger: Ledger) -> Path:
    return ledger.path.with_name(ledger.path.name + ".backups")


def backup_before(ledger: Ledger, reason: str, keep: int | None = None) -> Path:
    """Automatic backup beside the ledger before a risky command; keeps the newest `keep`."""
    folder = backup_dir(ledger)
    folder.mkdir(mode=0o700, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    dest = backup_to(ledger, folder / f"{ledger.path.stem}-{stamp}-{reason}.sqlite")
    if keep is None:
        keep = _backup_keep(ledger)
    backups = sorted(folder.glob(f"{ledger.path.stem}-*.sqlite"))
    for old in backups[: max(0, len(backups) - keep)]:
        with contextlib.suppress(OSError):
            old.unlink()
    return dest


def _backup_keep(ledger: Ledger) -> int:
    try:
        with ledger.read() as conn:
            exists = conn.exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'"
            ).first()
            if not exists:
                return 10
            value = conn.execute(text("SELECT value FROM meta WHERE key='backup_keep'")).scalar()
        return max(1, int(value)) if value else 10
    except (LedgerError, ValueError):
        return 10
