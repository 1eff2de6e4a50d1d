"""The ledger file: where it is, how it opens, migrations, transactions and backups.

SQLite in WAL mode with `synchronous=FULL`, a busy timeout so concurrent writers wait
for each other, and `BEGIN IMMEDIATE` for every write command: a write either commits
whole or leaves the file as it was. All SQL goes through SQLAlchemy so the same
ledger can run on another database later.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from dvk.errors import LedgerError
from dvk.ledger.migrations import MIGRATION_ROWS, SCHEMA_HEAD, refuse_newer
from dvk.ledger.backup import backup_before
from dvk.ledger.settings import BUSY_TIMEOUT_MS
from dvk.ledger.failures import _unencodable, damaged, is_corrupt, os_reason, translate
if TYPE_CHECKING:
    from dvk.ledger.history import Tx

from dvk.ledger.paths import _check_header, _create_private_file, _exists, _folder_writable, _is_regular, _on_read_only_fs, _os_user




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


class Ledger:
    """An open ledger file — the SQLite `dvk.ledger.store.Store`. Use `read()` and `write()` for transactions.

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
        command relies on (`dvk.ledger.verify.check_before_write`: the decisions and settings against their
        history, their pages, no trigger or view dvk did not make) refuses a ledger changed or
        damaged behind dvk's back; `dvk verify` stays the full check.
        """
        from dvk.ledger.history import Tx
        from dvk.ledger.verify import check_before_write

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

    # ------------------------------------------------------------ backups (dvk.ledger.backup)
    def backup_before(self, reason: str, keep: int | None = None) -> Path:
        """An automatic backup beside the ledger (`<ledger>.backups/`), rotated to `keep`."""
        return backup_before(self, reason, keep=keep)

    def backup_to(self, dest: Path) -> Path:
        """A consistent copy to `dest` (a file, or a folder that receives a named file)."""
        from dvk.ledger.backup import backup_to

        return backup_to(self, dest)

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
        refuse_newer(current, self.shown)
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
        from dvk.ledger.migrations.runner import upgrade

        if current is not None and backup:
            backup_before(self, "migrate")
        self.conn.info["begin_mode"] = "IMMEDIATE"
        # A migration may rebuild a table other tables point to (SQLite's way to change a constraint:
        # copy, drop, rename). Foreign keys are off for that, as SQLite's own procedure says — outside the
        # transaction, where the pragma takes effect — and checked whole before the upgrade commits.
        self.raw().execute("PRAGMA foreign_keys=OFF")
        try:
            with self.conn.begin():
                current = _current_revision(self.conn)  # re-read under the write lock
                if current == SCHEMA_HEAD:
                    return  # another process upgraded it meanwhile
                self.conn.info.pop(MIGRATION_ROWS, None)
                upgrade(self.conn)
                broken = self.conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise LedgerError(f"Nâng cấp sổ “{self.shown}” dừng lại: bảng {broken[0][0]} có dòng trỏ tới "
                                      f"{broken[0][2]} không tồn tại. Sổ không bị thay đổi.")
                inserted = self.conn.info.pop(MIGRATION_ROWS, ())
                if current is not None:
                    from dvk.ledger.history import Tx

                    tx = Tx(self.conn, user=_os_user(), command="migrate",
                            summary=f"Nâng cấp lược đồ sổ từ {current} lên {SCHEMA_HEAD}")
                    for table_name, rows, *how in inserted:  # rows a data migration wrote (see MIGRATION_ROWS)
                        tx.record_inserted(table_name, rows, op=how[0] if how else "insert")
                    tx.finish()
        except SQLAlchemyError as exc:
            raise translate(exc, self.shown)
        finally:
            self.conn.info.pop(MIGRATION_ROWS, None)
            self.conn.info["begin_mode"] = "DEFERRED"
            with contextlib.suppress(sqlite3.Error):
                self.raw().execute("PRAGMA foreign_keys=ON")


def _has_table(conn: Connection, name: str) -> bool:
    if conn.dialect.name == "postgresql":  # the same question to a PostgreSQL ledger (dvk.ledger.postgres)
        return conn.exec_driver_sql(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = %(n)s",
            {"n": name}).first() is not None
    return conn.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)
    ).first() is not None


def _current_revision(conn: Connection) -> str | None:
    if not _has_table(conn, "alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
