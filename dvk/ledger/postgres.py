"""The PostgreSQL store: one ledger in one PostgreSQL database, shared by many clerks at once.

`--db postgresql://user@host:port/dbname` (or `$DVK_DB`) selects it (`dvk.ledger.stores`); the driver is
psycopg 3 through SQLAlchemy's `postgresql+psycopg` dialect. The tables, the history and its hash chain
are the SQLite ledger's, made by the same Alembic migrations.

## The writer-serialisation contract (`dvk.ledger.store`) on PostgreSQL

- A write transaction runs under READ COMMITTED and takes `pg_advisory_xact_lock(LOCK_KEY)` as its very
  first statement, before reading anything. READ COMMITTED alone is not enough: two writers could both
  read `max(seq)` (or the last history hash) and hand out the same entry id or chain two records to one
  predecessor. With the lock taken first, every statement after it starts after the previous writer
  committed (READ COMMITTED takes a new snapshot per statement), so each writer sees every earlier write
  (contract 2) and writers run one at a time across every machine (contract 1). The lock is released by
  the commit or the rollback (contract 3); `lock_timeout` bounds the wait ("đang bận").
- The history's ids are handed out under that lock as `max(id) + 1` (not by the column's sequence, which
  a rolled-back writer would leave with a gap the chain check reports).
- A read transaction is REPEATABLE READ READ ONLY: one snapshot for its whole length, never blocked by a
  writer and never blocking one (contract 4).
- Before the `Tx`, `dvk.ledger.verify.check_before_write` runs as on SQLite (contract 5).

The database login is the user the history records (`current_user`), so a clerk cannot write under
another's name; `--user` is ignored on this store.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from dvk.errors import LedgerError
from dvk.ledger.failures import _unencodable
from dvk.ledger.migrations import MIGRATION_ROWS, SCHEMA_HEAD, refuse_newer
from dvk.ledger.settings import BUSY_TIMEOUT_MS

# After Ctrl-C in the middle of a pipelined executemany, psycopg logs the error it ignores ending the pipeline
# (the server's "canceling statement", its SQL) and SQLAlchemy a failure to reset the connection (with a
# traceback); with no handler of their own, logging's last resort printed both on the terminal. What matters
# is raised as an error dvk says in Vietnamese; a second failure while unwinding is not the user's to read.
for _name in ("psycopg", "sqlalchemy.pool"):
    logging.getLogger(_name).addHandler(logging.NullHandler())

if TYPE_CHECKING:
    from dvk.ledger.history import Tx

LOCK_KEY = 0x64766B_6C656467  # "dvk" "ledg": the advisory lock of a ledger's writers (one per database)
CONNECT_TIMEOUT_S = 10


def _driver_url(url: str) -> str:
    for scheme in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme):]
    return url


def shown_url(url: str) -> str:
    """The URL as it may be printed: the password hidden."""
    try:
        u = make_url(_driver_url(url))
    except Exception:  # noqa: BLE001 - a URL SQLAlchemy cannot read is refused by open()
        return url
    out = u.set(drivername="postgresql").render_as_string(hide_password=True)
    return out


def _parts(url: str) -> tuple[str, str, str]:
    u = make_url(_driver_url(url))
    return (u.host or os.environ.get("PGHOST") or "localhost", str(u.port or os.environ.get("PGPORT") or 5432),
            u.database or os.environ.get("PGDATABASE") or "")


def translate_pg(exc: BaseException, shown: str, url: str | None = None) -> LedgerError:
    """A PostgreSQL or psycopg failure as one Vietnamese LedgerError naming the ledger."""
    orig = getattr(exc, "orig", None) or exc
    state = str(getattr(orig, "sqlstate", "") or "")
    msg = str(orig)
    low = msg.lower()
    host, port, dbname = _parts(url) if url else ("?", "?", "?")
    login = ""
    if url:
        with contextlib.suppress(Exception):
            login = make_url(_driver_url(url)).username or os.environ.get("PGUSER") or ""
    if state == "3D000" or ("database" in low and "does not exist" in low):
        return LedgerError(
            f"Máy chủ PostgreSQL {host}:{port} chưa có cơ sở dữ liệu “{dbname}”. Hãy nhờ quản trị máy chủ tạo "
            f"(createdb -O <tài khoản> \"{dbname}\"), rồi tạo sổ: dvk init --db \"{shown}\".")
    if state in ("28P01", "28000") or "password authentication failed" in low or "no password supplied" in low \
            or ("role" in low and "does not exist" in low) or "no pg_hba.conf entry" in low:
        return LedgerError(
            f"Máy chủ PostgreSQL {host}:{port} từ chối đăng nhập{f' “{login}”' if login else ''}: sai tên đăng nhập "
            "hoặc mật khẩu, hoặc tài khoản chưa được phép vào cơ sở dữ liệu này (mật khẩu đặt trong biến PGPASSWORD "
            "hoặc tệp ~/.pgpass). Sổ không bị thay đổi.")
    if isinstance(orig, _connection_errors()) and not state:
        return LedgerError(
            f"Không kết nối được máy chủ PostgreSQL {host}:{port} (máy chủ chưa chạy, sai địa chỉ hoặc cổng, hoặc "
            "mạng/tường lửa chặn). Sổ không bị thay đổi; hãy kiểm tra máy chủ rồi chạy lại.")
    if state in ("55P03", "40P01") or "lock timeout" in low:
        return LedgerError(f"Sổ “{shown}” đang bận (một lệnh khác đang ghi quá lâu). Hãy thử lại sau.")
    if state == "42501" or "row-level security" in low or "permission denied" in low:
        import re

        from dvk.ledger.labels import TABLE_LABELS

        m = re.search(r'(?:table|relation) "?([a-z_]+)"?', msg)
        what = f" (bảng {TABLE_LABELS.get(m.group(1), m.group(1))})" if m else ""
        return LedgerError(
            f"Tài khoản{f' “{login}”' if login else ''} không có quyền ghi phần này của sổ “{shown}”{what}: máy chủ "
            "PostgreSQL chỉ cho mỗi vai trò ghi phần của mình (đơn vị: đăng ký, báo cáo, xác nhận của đơn vị mình; "
            "hội đồng: phiếu chấm của mình; thư ký: phần còn lại). Lệnh không ghi gì; sổ giữ nguyên.")
    if state == "25006" or "read-only transaction" in low:
        return LedgerError(f"Sổ “{shown}” chỉ cho phép đọc với tài khoản này. Sổ không bị thay đổi.")
    if state.startswith("08") or "server closed the connection" in low or "terminating connection" in low:
        return LedgerError(f"Mất kết nối với máy chủ PostgreSQL {host}:{port} giữa chừng. Lệnh đang chạy không ghi "
                           "gì (giao dịch bị hủy trọn vẹn); hãy chạy lại.")
    if state == "53100" or "disk full" in low or "no space left" in low:
        return LedgerError(f"Máy chủ PostgreSQL {host}:{port} hết chỗ trên đĩa. Sổ giữ nguyên như trước lệnh.")
    first = msg.strip().splitlines()[0] if msg.strip() else type(orig).__name__
    return LedgerError(f"Lỗi cơ sở dữ liệu với sổ “{shown}”: {first}")


def _connection_errors() -> tuple[type, ...]:
    import psycopg

    return (psycopg.OperationalError,)


_ENGINES: dict[str, Engine] = {}


def _make_engine(url: str) -> Engine:
    """One engine per URL and process: SQLAlchemy asks a new server a few questions on the first
    connection (version, settings) only once. No pool: a closed ledger holds no connection (a database
    can then be dropped, renamed or used as a template at once)."""
    engine = _ENGINES.get(url)
    if engine is None:
        engine = _ENGINES[url] = create_engine(
            _driver_url(url), poolclass=NullPool,
            connect_args={"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "dvk"},
        )
    return engine


def _backup_anchor(url: str) -> Path:
    """Where this ledger's automatic backups go: `$DVK_BACKUPS` (else the user data directory's
    `server/`), in `<dbname>_<host>_<port>.backups/` — portable SQLite copies (`dvk backup --list`)."""
    base = os.environ.get("DVK_BACKUPS")
    if base:
        folder = Path(base).expanduser()
    else:
        from platformdirs import user_data_dir

        folder = Path(user_data_dir("dvk", appauthor=False)) / "server"
    host, port, dbname = _parts(url)
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in f"{dbname}_{host}_{port}")  # no "." (a stem)
    return folder / safe


class PgLedger:
    """An open PostgreSQL ledger — the PostgreSQL `dvk.ledger.store.Store`."""

    dialect = "postgresql"

    def __init__(self, url: str, engine: Engine, conn: Connection) -> None:
        self.url = url
        self.engine = engine
        self.conn = conn
        self.shown = shown_url(url)
        self.path = _backup_anchor(url)  # the name backups are kept under (dvk.ledger.backup)
        self._ready = False

    # ------------------------------------------------------------ opening
    @classmethod
    def _connect(cls, url: str) -> tuple[Engine, Connection]:
        try:
            engine = _make_engine(url)
        except Exception as exc:  # noqa: BLE001 - a URL that cannot be read
            raise LedgerError(f"Địa chỉ sổ “{url}” không đúng dạng postgresql://tài_khoản@máy_chủ:cổng/tên_cơ_sở_dữ_liệu "
                              f"({exc}).")
        try:
            conn = engine.connect()
        except (DBAPIError, OSError) as exc:
            raise translate_pg(exc, shown_url(url), url)
        return engine, conn

    @classmethod
    def open(cls, url: str, *, create: bool = False, backup_on_migrate: bool = True) -> "PgLedger":
        """Open (with `create`, create in an empty database) a ledger and upgrade its schema if older.
        Refused without any change: no such database, a database that holds other tables but no
        ledger, an empty one (unless `create`), a ledger made by a newer dvk."""
        engine, conn = cls._connect(url)
        led = cls(url, engine, conn)
        try:
            led._prepare(create=create, backup_on_migrate=backup_on_migrate)
        except BaseException:
            led.close()
            raise
        led._ready = True
        return led

    @classmethod
    def holds_ledger(cls, url: str) -> bool:
        engine, conn = cls._connect(url)
        try:
            with conn.begin():
                return _has_table(conn, "alembic_version")
        except SQLAlchemyError as exc:
            raise translate_pg(exc, shown_url(url), url)
        finally:
            conn.close()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()  # NullPool: the connection itself is closed; the engine stays for the next open

    def _drop(self) -> None:
        """After an interrupt (Ctrl-C, a signal) the driver may be in the middle of its protocol (a pipelined
        executemany): the connection is thrown away, never reset for another use. The server rolls the
        transaction back when the connection goes."""
        with contextlib.suppress(Exception):
            self.conn.invalidate()

    def __enter__(self) -> "PgLedger":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------ transactions
    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """A REPEATABLE READ READ ONLY transaction: one snapshot, never blocked by a writer."""
        with self._said(), self.conn.begin():
            self.conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield self.conn

    @contextlib.contextmanager
    def _said(self) -> Iterator[None]:
        """What goes wrong in a transaction, as dvk says it: the server's errors and text it cannot store in
        Vietnamese (`translate_pg`, `_unencodable`); after an interrupt the connection is dropped (`_drop`)."""
        try:
            yield
        except SQLAlchemyError as exc:
            raise _unencodable(exc) or translate_pg(exc, self.shown, self.url)
        except UnicodeEncodeError as exc:
            raise _unencodable(exc)
        except (KeyboardInterrupt, SystemExit):
            self._drop()
            raise

    def _lock(self) -> None:
        """The writers' lock, first in the transaction (see the module's contract)."""
        self.conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(BUSY_TIMEOUT_MS)}ms'")
        self.conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))

    def _db_user(self) -> str:
        return self.conn.exec_driver_sql("SELECT current_user").scalar()

    def _history_user(self, given: str) -> str:
        """Who the history records: a login made by `dvk users add` always as itself (its policies accept
        nothing else); the ledger's owner, who administers it, as on SQLite (--user, $DVK_USER, the OS login)."""
        from dvk.ledger.roles import records_login

        return self._db_user() if records_login(self.conn) else given

    @contextlib.contextmanager
    def write(self, *, user: str, command: str, summary: str = "") -> Iterator["Tx"]:
        """A write transaction recorded in the history under the database login; whole or nothing."""
        from dvk.ledger.history import Tx
        from dvk.ledger.verify import check_before_write

        with self._said(), self.conn.begin():
            self._lock()
            check_before_write(self.conn, self.shown)
            tx = Tx(self.conn, user=self._history_user(user), command=command, summary=summary)
            yield tx
            tx.finish()

    @contextlib.contextmanager
    def raw_write(self) -> Iterator[Connection]:
        """A transaction under the writers' lock that is not recorded (`dvk copy` filling a new ledger)."""
        with self._said(), self.conn.begin():
            self._lock()
            yield self.conn

    def integrity_errors(self) -> list[str]:
        """PostgreSQL keeps its pages itself (checksums, WAL): what can be checked here is that the
        ledger's tables can be read through."""
        try:
            with self.read() as conn:
                for name in ("history", "change"):
                    conn.exec_driver_sql(f'SELECT count(*) FROM "{name}"').scalar()
        except LedgerError as exc:
            return [exc.message]
        return []

    def setting(self, key: str, default: str | None = None) -> str | None:
        with self.read() as conn:
            if not _has_table(conn, "meta"):
                return default
            v = conn.execute(text("SELECT value FROM meta WHERE key = :k"), {"k": key}).scalar()
        return default if v is None else v

    # ------------------------------------------------------------ backups: portable SQLite copies
    def partial_reader(self) -> list[str] | None:
        """The organisations this login reads when it reads only part of the ledger (dvk.ledger.roles),
        else None: a copy or backup of the ledger must be all of it, to verify."""
        from dvk.ledger.roles import scope_of

        try:
            with self.engine.connect() as c:
                return scope_of(c)
        except (DBAPIError, OSError) as exc:
            raise translate_pg(exc, self.shown, self.url)

    def data_size(self) -> int:
        """What the ledger's tables (with their indexes) take on the server: about the size of a portable
        SQLite copy before one has been made (dvk.ledger.backup)."""
        try:
            with self.engine.connect() as c:
                return int(c.exec_driver_sql(
                    "SELECT coalesce(sum(pg_total_relation_size((quote_ident(table_schema) || '.' || "
                    "quote_ident(table_name))::regclass)), 0) "
                    "FROM information_schema.tables WHERE table_schema = current_schema() "
                    "AND table_type = 'BASE TABLE'").scalar())
        except (DBAPIError, OSError) as exc:
            raise translate_pg(exc, self.shown, self.url)

    def backup_before(self, reason: str, keep: int | None = None) -> Path:
        from dvk.ledger.backup import backup_before, backup_dir

        try:
            backup_dir(self).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            from dvk.ledger.failures import os_reason

            raise LedgerError(f"Không tạo được thư mục sao lưu “{backup_dir(self).parent}”: {os_reason(exc)}. "
                              "Lệnh chưa thực hiện.")
        return backup_before(self, reason, keep=keep)

    def backup_to(self, dest: Path) -> Path:
        from dvk.ledger.backup import backup_to

        return backup_to(self, dest)

    def portable_copy(self, dest: Path) -> None:
        """A verified SQLite copy of this ledger at `dest` (a new file), from one read snapshot."""
        from dvk.ledger.copy import copy_into_sqlite

        # On a connection of its own: the backup before a decision is taken inside the decision's write
        # transaction, and must read the committed ledger (nobody else can write: the lock is held).
        try:
            other = PgLedger(self.url, self.engine, self.engine.connect())
        except (DBAPIError, OSError) as exc:
            raise translate_pg(exc, self.shown, self.url)
        try:
            copy_into_sqlite(other, Path(dest), self_contained=True)  # like a SQLite ledger's backups
        finally:
            with contextlib.suppress(Exception):
                other.conn.close()

    # ------------------------------------------------------------ schema
    def schema_version(self) -> str | None:
        with self.read() as conn:
            return _current_revision(conn)

    def _prepare(self, *, create: bool, backup_on_migrate: bool) -> None:
        with self.read() as conn:
            current = _current_revision(conn)
            n_tables = conn.exec_driver_sql(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()").scalar()
        if current is None and n_tables:
            raise LedgerError(f"Cơ sở dữ liệu “{self.shown}” có bảng nhưng không phải sổ dvk; dvk không thay đổi "
                              "cơ sở dữ liệu này.")
        if current is None and not create:
            raise LedgerError(f"Cơ sở dữ liệu “{self.shown}” chưa phải là sổ dvk (trống). "
                              f"Hãy tạo sổ bằng lệnh: dvk init --db \"{self.shown}\".")
        refuse_newer(current, self.shown)
        if current is None:
            self._check_collation()
        if current != SCHEMA_HEAD:
            self._migrate(current, backup=backup_on_migrate)

    def _check_collation(self) -> None:
        """Lists and documents sort text by code point, as on SQLite: a new ledger needs a database whose
        collation is C (same outputs, byte for byte, on both stores)."""
        with self.read() as conn:
            coll = conn.exec_driver_sql(
                "SELECT datcollate FROM pg_database WHERE datname = current_database()").scalar()
        if str(coll) not in ("C", "POSIX", "C.UTF-8", "C.utf8"):
            raise LedgerError(
                f"Cơ sở dữ liệu “{self.shown}” dùng thứ tự sắp xếp “{coll}”; sổ dvk cần thứ tự “C” để danh sách và văn "
                "bản giống hệt trên mọi máy. Hãy tạo lại cơ sở dữ liệu: createdb --template=template0 --locale=C "
                "--encoding=UTF8 …; không có gì được tạo.")

    def _migrate(self, current: str | None, *, backup: bool) -> None:
        from dvk.ledger.migrations.runner import upgrade

        if current is not None and backup:
            self.backup_before("migrate")
        try:
            with self.conn.begin():
                self._lock()
                current = _current_revision(self.conn)  # re-read under the lock
                if current == SCHEMA_HEAD:
                    return
                self.conn.info.pop(MIGRATION_ROWS, None)
                upgrade(self.conn)
                inserted = self.conn.info.pop(MIGRATION_ROWS, ())
                if current is not None and self.conn.exec_driver_sql(
                        "SELECT 1 FROM pg_roles WHERE rolname = 'dvk_writer'").first():
                    from dvk.ledger.roles import ensure_policies

                    ensure_policies(self.conn)  # a table the upgrade added gets the logins' grants and policies
                if current is not None:
                    from dvk.ledger.history import Tx

                    tx = Tx(self.conn, user=self._db_user(), command="migrate",
                            summary=f"Nâng cấp lược đồ sổ từ {current} lên {SCHEMA_HEAD}")
                    for table_name, rows, *how in inserted:
                        tx.record_inserted(table_name, rows, op=how[0] if how else "insert")
                    tx.finish()
        except SQLAlchemyError as exc:
            raise translate_pg(exc, self.shown, self.url)
        finally:
            self.conn.info.pop(MIGRATION_ROWS, None)

    # ------------------------------------------------------------ a new ledger filled from another
    @classmethod
    def create_filled(cls, url: str, fill: Callable[[Connection], None], *, force: bool = False) -> None:
        """Make the ledger at `url` in one transaction: the schema (migrations), then `fill` writes every
        row. The database must hold no table (with `force`, dvk's tables there are dropped first, in the
        same transaction: a failure leaves them as they were)."""
        from dvk.ledger.migrations.runner import upgrade
        from dvk.ledger.tables import TABLES

        engine, conn = cls._connect(url)
        shown = shown_url(url)
        try:
            with conn.begin():
                conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(BUSY_TIMEOUT_MS)}ms'")
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
                names = [r[0] for r in conn.exec_driver_sql(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")]
                if names and not force:
                    raise LedgerError(f"Cơ sở dữ liệu “{shown}” không trống (có {len(names)} bảng); dvk không ghi đè. "
                                      "Hãy chọn cơ sở dữ liệu trống, hoặc thêm --force để thay sổ đang có ở đó.")
                if names:
                    ours = set(TABLES) | {"alembic_version"}
                    foreign = sorted(set(names) - ours)
                    if foreign:
                        raise LedgerError(f"Cơ sở dữ liệu “{shown}” có bảng không phải của dvk ({', '.join(foreign[:5])}); "
                                          "dvk không ghi đè cơ sở dữ liệu này, kể cả với --force.")
                    conn.exec_driver_sql("DROP TABLE " + ", ".join(f'"{n}"' for n in names) + " CASCADE")
                upgrade(conn)
                fill(conn)
                for name, col in (("history", "id"), ("decision", "id")):
                    conn.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('\"{name}\"', '{col}'), "
                        f"coalesce(max(\"{col}\"), 0) + 1, false) FROM \"{name}\"")
        except SQLAlchemyError as exc:
            raise translate_pg(exc, shown, url)
        finally:
            conn.close()


def _has_table(conn: Connection, name: str) -> bool:
    return conn.exec_driver_sql(
        "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = %(n)s",
        {"n": name}).first() is not None


def _current_revision(conn: Connection) -> str | None:
    if not _has_table(conn, "alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
