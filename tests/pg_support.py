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
    return isinstance(db, str) and db.startswith("postgresql")


def tables(url: str) -> list[str]:
    return [r[0] for r in query(url, "SELECT table_name FROM information_schema.tables "
                                     "WHERE table_schema = current_schema() ORDER BY table_name")]


def rows(url: str, sql: str, params=()) -> list[tuple]:
    """`sql` written for SQLite's qmark placeholders, run on the PostgreSQL ledger."""
    return query(url, sql.replace("?", "%s"), params)
