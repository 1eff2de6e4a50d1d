"""Which store a ledger location names, and the one factory that opens it.

A location is a file path (the embedded SQLite ledger, `dvk.ledger.sqlite.Ledger`) or a PostgreSQL
URL `postgresql://user@host:port/dbname` (the shared ledger of a province, `dvk.ledger.postgres.PgLedger`).
`--db` and `$DVK_DB` take either; everything that opens a ledger goes through `open_ledger`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    from dvk.ledger.copy import CopyResult
    from dvk.ledger.store import Store

SERVER_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")

Location = Union[Path, str]


def _text(db: str | os.PathLike) -> str:
    s = os.fspath(db)
    if isinstance(s, bytes):  # pragma: no cover - paths are str on every platform dvk runs on
        s = os.fsdecode(s)
    return s


def is_server(db: str | os.PathLike | None) -> bool:
    """Whether `db` names a PostgreSQL ledger. A URL given to a Path option has lost one slash of
    "//" (`Path("postgresql://h/db")` is "postgresql:/h/db"): that spelling counts too."""
    if db is None:
        return False
    s = _text(db)
    return s.startswith(SERVER_SCHEMES) or s.startswith(tuple(p[:-1] for p in SERVER_SCHEMES))


def server_url(db: str | os.PathLike) -> str:
    """The URL as typed, with the "//" a Path option collapsed put back."""
    s = _text(db)
    if not s.startswith(SERVER_SCHEMES):
        scheme, rest = s.split(":", 1)
        s = f"{scheme}://{rest.lstrip('/')}"
    return s


def resolve_location(db: str | os.PathLike | None) -> Location:
    """The ledger: the --db option, else $DVK_DB, else the per-user data directory's file — a Path,
    or a PostgreSQL URL (a str)."""
    if db and is_server(db):
        return server_url(db)
    if not db:
        env = os.environ.get("DVK_DB")
        if env and is_server(env):
            return server_url(env)
    from dvk.ledger.paths import resolve_path

    return resolve_path(db)


def open_ledger(where: Location | str | os.PathLike, *, create: bool = False, backup_on_migrate: bool = True,
                shown: str | None = None) -> "Store":
    """Open (with `create`, create) the ledger at `where`: the SQLite file or the PostgreSQL database."""
    if is_server(where):
        from dvk.ledger.postgres import PgLedger

        return PgLedger.open(server_url(where), create=create, backup_on_migrate=backup_on_migrate)
    from dvk.ledger.sqlite import Ledger

    return Ledger.open(Path(where), create=create, backup_on_migrate=backup_on_migrate, shown=shown)


def ledger_exists(where: Location) -> bool:
    """Whether a ledger is there (a file; a PostgreSQL database that holds a dvk ledger)."""
    if is_server(where):
        from dvk.ledger.postgres import PgLedger

        return PgLedger.holds_ledger(server_url(where))
    return Path(where).exists()


def copy_ledger(src_where, dst_where, *, force: bool = False) -> "CopyResult":
    """`dvk copy --from SRC --to DST`: either a file path or a postgresql:// URL. DST must be new (a file
    that does not exist, an empty database); with `force` a ledger there is replaced — for a file only
    once the copy is complete and verified (the old file goes to its backups folder first)."""
    import contextlib

    from sqlalchemy import func, select
    from sqlalchemy.engine import Connection

    from dvk.errors import LedgerError
    from dvk.ledger.copy import CopyResult, _fill, _head, copy_into_sqlite
    from dvk.ledger.tables import TABLES
    from dvk.ledger.verify import verify

    src = open_ledger(src_where)
    try:
        with src.read() as conn:
            head = _head(conn)
            records = conn.execute(select(func.count()).select_from(TABLES["history"])).scalar() or 0
        if is_server(dst_where):
            from dvk.ledger.postgres import PgLedger, shown_url

            url = server_url(dst_where)
            if is_server(src_where) and server_url(src_where) == url:
                raise LedgerError("Sổ nguồn và sổ đích là một; không có gì để chép.")
            counted: list[int] = []

            def fill(dconn: Connection) -> None:
                with src.read() as sconn:
                    if _head(sconn) != head:
                        raise LedgerError(f"Sổ nguồn “{src.shown}” vừa thay đổi trong khi chép; hãy chạy lại.")
                    counted.append(_fill(sconn, dconn))

            PgLedger.create_filled(url, fill, force=force)
            shown = shown_url(url)
            with open_ledger(url) as dst:
                report = verify(dst)
            if not report.ok or (report.head_id, report.head_hash) != head:
                raise LedgerError(f"Bản sao “{shown}” không khớp với sổ gốc sau khi chép ({report.summary()}).",
                                  details=report.details()[:20])
            return CopyResult(src.shown, shown, records, counted[0], *head)
        dest = Path(dst_where)
        from dvk.ledger.paths import _exists, check_path_text

        check_path_text(dest)
        if _exists(dest, dest) and dest.is_dir():
            raise LedgerError(f"“{dest}” là một thư mục; hãy ghi tên tệp sổ đích (ví dụ {dest / 'dvk.sqlite'}).")
        if not _exists(dest.parent, dest.parent):
            raise LedgerError(f"Thư mục “{dest.parent}” không tồn tại; hãy tạo thư mục trước.")
        if _exists(dest, dest):
            if not force:
                raise LedgerError(f"Tệp “{dest}” đã tồn tại; dvk không ghi đè. Hãy chọn tên khác, hoặc thêm --force "
                                  "để thay sổ đó (sổ cũ được sao lưu trước).")
            if not is_server(src_where) and os.path.samefile(Path(src_where), dest):
                raise LedgerError("Sổ nguồn và sổ đích là một; không có gì để chép.")
        staged = dest.with_name(f".{dest.name}.copy-{os.getpid()}.sqlite")
        try:
            n = copy_into_sqlite(src, staged)
            if _exists(dest, dest):
                with open_ledger(dest) as old:
                    old.backup_before("replaced")
            os.replace(staged, dest)
        finally:
            with contextlib.suppress(FileNotFoundError):
                staged.unlink()
        return CopyResult(src.shown, str(dest), records, n, *head)
    finally:
        src.close()
