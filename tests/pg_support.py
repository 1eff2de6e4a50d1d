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


_FILE_COPY: list[str] = []


# The test running now when it touches no store under test (tests/conftest.py, STORE_FIXTURES): on the
# PostgreSQL run such a test must not reach the server, or the two-pass run, which leaves it to the SQLite
# pass, would never run its server side.
UNSTORED_TEST: list[str] = []


def _not_unstored() -> None:
    if UNSTORED_TEST:
        raise RuntimeError(f"{UNSTORED_TEST[0]} reaches the tests' PostgreSQL server but has none of the store "
                           "fixtures (tests/conftest.py, STORE_FIXTURES): use one, or mark it postgres_only")


def create_database(name: str, template: str = "template0") -> str:
    """A database of its own, copied from `template`: with FILE_COPY on PostgreSQL 15 and later (a copy of
    the files and one checkpoint, a third of the default WAL_LOG's time for the tests' small ledgers)."""
    _not_unstored()
    with _admin() as con:
        if not _FILE_COPY:
            _FILE_COPY.append(" STRATEGY FILE_COPY" if con.info.server_version >= 150000 else "")
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        con.execute(f"CREATE DATABASE \"{name}\" TEMPLATE \"{template}\" ENCODING 'UTF8' LC_COLLATE 'C' "
                    f"LC_CTYPE 'C'{_FILE_COPY[0]}")
    return url_of(name)


# A test's own database is made when it is first used, from the last template asked for: the `db` fixture
# asks for an empty one, `ledger` then for a copy of the units ledger, `full_entry` for one of the entry
# ledger — one CREATE DATABASE instead of three (each ≈ 90 ms of server CPU). Anything that reaches the
# server first calls `ensure_all` (the in-process commands, `python -m dvk` processes, the store's open,
# the helpers here).
PENDING: dict[str, str] = {}  # database name -> the template it is to be made from
CREATED: set[str] = set()  # the tests' own databases made so far (dropped at the end of their test)


def want(name: str, template: str = "template0") -> None:
    """The test's database `name` is to be a copy of `template`: now, if it was made already; else when
    first used."""
    if name in CREATED:
        create_database(name, template=template)
    else:
        PENDING[name] = template


def ensure_all() -> None:
    """Make every database a test asked for and has not used yet."""
    while PENDING:
        name, template = PENDING.popitem()
        create_database(name, template=template)
        CREATED.add(name)


def forget(name: str) -> None:
    """The end of a test's database: dropped if it was made."""
    PENDING.pop(name, None)
    if name in CREATED:
        CREATED.discard(name)
        drop_database(name)


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

    ensure_all()
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


def dump(url: str) -> str:
    """Every row of every table of the ledger at `url` (one connection), as `ledger_dump` gives a file's."""
    import psycopg

    ensure_all()
    out = []
    with psycopg.connect(str(url), autocommit=True) as con:
        names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                           "WHERE table_schema = current_schema() ORDER BY table_name")]
        for name in names:
            out.append(f"## {name}")
            out.extend(sorted(repr(r) for r in con.execute(f'SELECT * FROM "{name}"')))
    return "\n".join(out)


def rows(url: str, sql: str, params=()) -> list[tuple]:
    """`sql` written for SQLite's qmark placeholders, run on the PostgreSQL ledger."""
    return query(url, sql.replace("?", "%s"), params)


class ServerDb(str):
    """A test's PostgreSQL ledger URL, answering the few questions tests ask of a ledger file's Path
    (`exists()`: a ledger was made there; `name`: its database name; `parent`: the test's own folder,
    where a file ledger would have been)."""

    def __new__(cls, url: str, folder=None):
        obj = super().__new__(cls, url)
        obj._folder = folder
        return obj

    @property
    def parent(self):
        from pathlib import Path

        return Path(self._folder) if self._folder is not None else Path.cwd()

    def exists(self) -> bool:
        """Whether a ledger is there (as a file exists once `dvk init` made it): the database has tables."""
        if db_name(self) in PENDING and PENDING[db_name(self)] == "template0":
            return False  # to be made empty, and not used yet
        return bool(tables(self))

    @property
    def name(self) -> str:
        return db_name(self)


def _as_sqlite(v):
    """A value as sqlite3 reads it from a dvk ledger file: dates as ISO text, booleans as 0/1."""
    import datetime as dt

    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    return v


class _Rows:
    """A cursor's rows as sqlite3 gives them (tuples, or name-indexed rows with `row_factory`)."""

    def __init__(self, cur, named: bool) -> None:
        self._cur, self._named = cur, named
        self.rowcount = cur.rowcount
        self.description = cur.description

    def _row(self, r):
        values = tuple(_as_sqlite(v) for v in r)
        if not self._named:
            return values
        names = [d.name for d in self._cur.description]
        return _Named(names, values)

    def __iter__(self):
        if self._cur.description is None:
            return iter(())
        return (self._row(r) for r in self._cur)

    def fetchone(self):
        r = self._cur.fetchone() if self._cur.description is not None else None
        return None if r is None else self._row(r)

    def fetchall(self):
        return list(self)


class _Named(tuple):
    """sqlite3.Row's behaviour: by position or by name, keys(), dict(row)."""

    def __new__(cls, names, values):
        obj = super().__new__(cls, values)
        obj._names = names
        return obj

    def keys(self):
        return list(self._names)

    def __getitem__(self, k):
        if isinstance(k, str):
            return tuple.__getitem__(self, self._names.index(k))
        return tuple.__getitem__(self, k)


class _Compat:
    """What a test does to a ledger with `sqlite3.connect(ledger)` — read it, or edit it behind dvk's back
    — done to the test's PostgreSQL ledger: the same SQL (qmark placeholders) on a real connection."""

    def __init__(self, url: str) -> None:
        import psycopg

        ensure_all()
        self._con = psycopg.connect(str(url))
        self.isolation_level = ""
        self.row_factory = None

    @staticmethod
    def _sql(sql: str, params) -> str:
        return sql.replace("%", "%%").replace("?", "%s") if params else sql

    def execute(self, sql: str, params=()):
        cur = self._con.cursor()
        cur.execute(self._sql(sql, params), tuple(params) if params else None)
        return _Rows(cur, self.row_factory is not None)

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


def patch_store_open() -> None:
    """On the PostgreSQL run, dvk's own opening of a server ledger in this process first makes the test
    databases asked for (`ensure_all`)."""
    from dvk.ledger import postgres

    original = postgres.PgLedger.open.__func__
    if getattr(original, "_dvk_lazy", False):
        return

    def open_(cls, url, *args, **kwargs):
        _not_unstored()
        ensure_all()
        return original(cls, url, *args, **kwargs)

    open_._dvk_lazy = True
    postgres.PgLedger.open = classmethod(open_)


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


class _HeldWriter:
    """A second connection inside a write transaction of the ledger, holding its writers' lock."""

    def __init__(self, con, pg: bool) -> None:
        self._con, self._pg = con, pg

    def execute(self, sql: str, params=()):
        if self._pg:
            return self._con.execute(sql.replace("?", "%s") if params else sql, tuple(params) or None)
        return self._con.execute(sql, params)


def holding_write_lock(db):
    """A context manager: another writer in the middle of a transaction on the ledger `db` (yields it, to
    write rows that stay uncommitted; rolled back at the end). On SQLite `BEGIN IMMEDIATE` (the file's
    RESERVED lock); on PostgreSQL a transaction that took `pg_advisory_xact_lock` with the key dvk's writers
    take (dvk.ledger.postgres.LOCK_KEY)."""
    import contextlib
    import sqlite3

    @contextlib.contextmanager
    def held():
        if is_url(db):
            import psycopg

            ensure_all()
            from dvk.ledger.postgres import LOCK_KEY

            con = psycopg.connect(str(db))
            try:
                con.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
                yield _HeldWriter(con, True)
            finally:
                con.rollback()
                con.close()
            return
        con = sqlite3.connect(db, isolation_level=None)
        try:
            con.execute("BEGIN IMMEDIATE")
            yield _HeldWriter(con, False)
        finally:
            con.execute("ROLLBACK")
            con.close()

    return held()


def server_bindir() -> str | None:
    """PostgreSQL's server programs (initdb, pg_ctl) on this machine, as tools/test-both finds them."""
    import glob
    import shutil
    import subprocess

    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip()
        if out and os.path.exists(os.path.join(out, "initdb")):
            return out
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: [int(x) for x in re.findall(r"\d+", d)])
    return dirs[-1] if dirs and os.path.exists(os.path.join(dirs[-1], "initdb")) else None


def password_cluster(password: str):
    """A context manager: a second throw-away cluster on 127.0.0.1 that checks passwords (scram-sha-256),
    its superuser `postgres` with `password`; yields its admin URL without the password."""
    import contextlib
    import shutil
    import socket
    import subprocess
    import tempfile

    @contextlib.contextmanager
    def cluster():
        bindir = server_bindir()
        if bindir is None:
            import pytest

            pytest.skip("PostgreSQL's server programs are not installed")
        folder = tempfile.mkdtemp(prefix="dvk-pg-pw-")
        as_pg: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres")
            as_pg = ["runuser", "-u", "postgres", "--"]
        pwfile = os.path.join(folder, "pw")
        with open(pwfile, "w") as f:
            f.write(password + "\n")
        if as_pg:
            shutil.chown(pwfile, "postgres")
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        data = os.path.join(folder, "data")
        try:
            subprocess.run([*as_pg, f"{bindir}/initdb", "-D", data, "-A", "scram-sha-256", "-U", "postgres",
                            f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C.UTF-8"], check=True, capture_output=True)
            subprocess.run([*as_pg, f"{bindir}/pg_ctl", "-D", data, "-l", os.path.join(folder, "log"), "-w", "start",
                            "-o", f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off"],
                           check=True, capture_output=True)
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run([*as_pg, f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True)
            shutil.rmtree(folder, ignore_errors=True)

    return cluster()
