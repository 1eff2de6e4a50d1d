"""The PostgreSQL side of the test suite: `DVK_TEST_STORE=postgres` with `DVK_TEST_PG_URL` (a login that may
create databases, e.g. postgresql://postgres@127.0.0.1:55432/postgres) makes every test ledger a database
of its own on that server. Prebuilt ledgers are built once per worker as template databases and each
test gets `CREATE DATABASE … TEMPLATE …` of one (milliseconds). Nothing is mocked: the same commands
run against a real server.
"""

from __future__ import annotations

import itertools
import os
import re

STORE = os.environ.get("DVK_TEST_STORE", "sqlite").strip().lower() or "sqlite"
PG = STORE in ("postgres", "postgresql", "pg")
PG_URL = os.environ.get("DVK_TEST_PG_URL", "")

_counter = itertools.count(1)


def worker() -> str:
    return re.sub(r"[^a-z0-9]", "", os.environ.get("PYTEST_XDIST_WORKER", "gw").lower()) or "gw"


def admin_url() -> str:
    if not PG_URL:
        raise RuntimeError("DVK_TEST_PG_URL is not set (e.g. postgresql://postgres@127.0.0.1:55432/postgres)")
    return PG_URL


def url_of(name: str) -> str:
    """The URL of database `name` on the tests' server (the admin URL with its database replaced)."""
    base = admin_url()
    head, _, _db = base.rpartition("/")
    return f"{head}/{name}"


def _admin():
    import psycopg

    return psycopg.connect(admin_url().replace("postgresql+psycopg://", "postgresql://"), autocommit=True)


def create_database(name: str, template: str = "template0") -> str:
    with _admin() as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        con.execute(f"CREATE DATABASE \"{name}\" TEMPLATE \"{template}\" ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'")
    return url_of(name)


def drop_database(name: str) -> None:
    with _admin() as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def new_name(prefix: str = "t") -> str:
    return f"dvk_{prefix}_{worker()}_{os.getpid()}_{next(_counter)}"


def db_name(url: str) -> str:
    return str(url).rpartition("/")[2]


def query(url: str, sql: str, params=(), *, login: str | None = None):
    """Rows of `sql` on the ledger database at `url` (as `login`, when given, through SET ROLE-free
    connection as that login)."""
    import psycopg

    target = str(url)
    if login is not None:
        target = re.sub(r"//[^@/]*@", f"//{login}@", target)
    with psycopg.connect(target, autocommit=True) as con:
        cur = con.execute(sql, params or None)
        return cur.fetchall() if cur.description else cur.rowcount


def is_url(db) -> bool:
    return isinstance(db, str) and db.startswith("postgresql")  # a URL or a ServerDb


def tables(url: str) -> list[str]:
    return [r[0] for r in query(url, "SELECT table_name FROM information_schema.tables "
                                     "WHERE table_schema = current_schema() ORDER BY table_name")]


def rows(url: str, sql: str, params=()) -> list[tuple]:
    """`sql` written for SQLite's qmark placeholders, run on the PostgreSQL ledger."""
    return query(url, sql.replace("?", "%s"), params)


class ServerDb(str):
    """A test's PostgreSQL ledger URL, answering the few questions tests ask of a ledger file's Path
    (`exists()`: a ledger was made there; `name`: its database name)."""

    def exists(self) -> bool:
        """Whether a ledger is there (as a file exists once `dvk init` made it): the database has tables."""
        return bool(tables(self))

    @property
    def name(self) -> str:
        return db_name(self)


class _Compat:
    """What a test does to a ledger with `sqlite3.connect(ledger)` — read it, or edit it behind dvk's back
    — done to the test's PostgreSQL ledger: the same SQL (qmark placeholders) on a real connection."""

    def __init__(self, url: str) -> None:
        import psycopg

        self._con = psycopg.connect(str(url))
        self.isolation_level = ""
        self.row_factory = None

    @staticmethod
    def _sql(sql: str, params) -> str:
        return sql.replace("%", "%%").replace("?", "%s") if params else sql

    def execute(self, sql: str, params=()):
        cur = self._con.cursor()
        cur.execute(self._sql(sql, params), tuple(params) if params else None)
        return cur

    def executemany(self, sql: str, seq):
        cur = self._con.cursor()
        cur.executemany(self._sql(sql, True), [tuple(p) for p in seq])
        return cur

    def executescript(self, script: str):
        cur = self._con.cursor()
        cur.execute(script)
        self._con.commit()
        return cur

    def commit(self) -> None:
        self._con.commit()

    def rollback(self) -> None:
        self._con.rollback()

    def close(self) -> None:
        self._con.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *_):
        if exc_type is None:
            self._con.commit()
        else:
            self._con.rollback()
        return False


def patch_sqlite3_connect() -> None:
    """On the PostgreSQL run, `sqlite3.connect(<a test ledger's URL>)` reaches that database."""
    import sqlite3

    original = sqlite3.connect
    if getattr(original, "_dvk_pg", False):
        return

    def connect(database, *args, **kwargs):
        target = str(database)
        if target.startswith("file:postgresql"):
            target = target[5:].split("?mode=")[0]
        if target.startswith("postgresql"):
            return _Compat(target)
        return original(database, *args, **kwargs)

    connect._dvk_pg = True
    sqlite3.connect = connect
