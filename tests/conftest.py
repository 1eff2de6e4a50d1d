"""Shared fixtures: every test gets its own ledger file on disk; no test touches a real one.

Ledgers that many tests start from (`ledger`: init and three units; the demo's) are built once per
test run (per worker process) and copied for each test: a closed ledger is a single file (the WAL is
checkpointed and removed when the last connection closes), so a copy is a fresh, isolated ledger with
the same history — and the same `meta.ledger_id`. A test that needs two different ledgers runs its
own `init` for the second one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Callable

import pytest
from typer.testing import CliRunner

from pg_support import PG, create_database, db_name, drop_database, new_name, worker

os.environ.pop("DVK_DB", None)
# Wide enough that a message naming two temporary paths stays on one line (Rich wraps at the terminal's
# width; pytest-xdist's paths are longer: …/popen-gw0/…). Set for the whole session, not per test: dvk's
# console is made once per process, and a module-scoped fixture's command can be the one that makes it.
os.environ["COLUMNS"] = "400"

if PG:
    import pg_support as _pg_support

    _pg_support.patch_sqlite3_connect()
    _pg_support.patch_store_open()


def _memoize_command_tree() -> None:
    """Build the Click command tree of the Typer app once per session, not once per invoke (~75 ms)."""
    import typer.testing as typer_testing

    original = typer_testing._get_command
    cache: dict[int, object] = {}

    def cached(app):
        cmd = cache.get(id(app))
        if cmd is None:
            cmd = cache[id(app)] = original(app)
        return cmd

    typer_testing._get_command = cached


_memoize_command_tree()

# Tests that aim kills at a moment or time several processes against each other: under pytest-xdist
# they all run on one worker, one after another (`--dist loadgroup` in pyproject.toml).
TIMING_MODULES = {"test_crash", "test_concurrency"}


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only(reason): about the SQLite file itself (WAL, file modes, "
                            "a damaged file …); skipped when the suite runs on PostgreSQL")
    config.addinivalue_line("markers", "postgres_only: needs the PostgreSQL server of the tests (DVK_TEST_PG_URL)")


# The fixtures through which a test reaches the store under test: with DVK_TEST_STORE=postgres each is a
# database on the tests' server. A test whose fixtures include none of them (nor the postgres_only mark)
# touches no store under test: it reads texts, templates or files, or builds its own SQLite file.
STORE_FIXTURES = {"db", "demo_ledger", "ledger_copy"}

# When tools/test-both runs both stores, each test runs where it says something:
#   DVK_TEST_SERVER_LATER=1 (the SQLite pass): the server's own tests are left to the PostgreSQL pass;
#   DVK_TEST_STORE_ONLY=1 (the PostgreSQL pass): the tests that touch no store under test are left out,
#     as the SQLite pass has just run them exactly as they would run again.
SERVER_LATER = os.environ.get("DVK_TEST_SERVER_LATER") == "1"
STORE_ONLY = os.environ.get("DVK_TEST_STORE_ONLY") == "1"


def touches_store(item) -> bool:
    return bool(STORE_FIXTURES & set(getattr(item, "fixturenames", ()))) \
        or item.get_closest_marker("postgres_only") is not None


def pytest_collection_modifyitems(config, items):
    import pg_support

    if SERVER_LATER or (STORE_ONLY and PG):
        def elsewhere(item) -> bool:  # run by the other pass
            server = item.get_closest_marker("postgres_only") is not None
            return (SERVER_LATER and server) or (STORE_ONLY and PG and not touches_store(item))

        keep = [item for item in items if not elsewhere(item)]
        left = [item for item in items if elsewhere(item)]
        if left:
            config.hook.pytest_deselected(items=left)
            items[:] = keep
    for item in items:
        if item.module is not None and item.module.__name__.rsplit(".", 1)[-1] in TIMING_MODULES:
            item.add_marker(pytest.mark.xdist_group("timing"))
        mark = item.get_closest_marker("sqlite_only")
        if PG and mark is not None:
            reason = (mark.args[0] if mark.args else mark.kwargs.get("reason")) or "about the SQLite file"
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {reason}"))
        if item.get_closest_marker("postgres_only") is not None and not pg_support.PG_URL:
            item.add_marker(pytest.mark.skip(reason="no PostgreSQL server for the tests (DVK_TEST_PG_URL)"))


def pytest_report_header(config):
    if SERVER_LATER:
        return "SQLite pass of two: the server's own tests (postgres_only) are left to the PostgreSQL pass"
    if STORE_ONLY and PG:
        return ("PostgreSQL pass of two: only the tests that touch the store under test (fixtures "
                f"{', '.join(sorted(STORE_FIXTURES))}, or postgres_only); the SQLite pass has run the others")
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """On PostgreSQL, a test that touches no store under test is held to it (pg_support.UNSTORED_TEST)."""
    if PG and not touches_store(item):
        _pg_support.UNSTORED_TEST[:] = [item.nodeid]
    try:
        yield
    finally:
        if PG:
            _pg_support.UNSTORED_TEST.clear()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item):
    """On PostgreSQL, every database the test's fixtures asked for exists before its body runs (they are
    made lazily only while the fixtures are set up: see pg_support.PENDING)."""
    if PG:
        _pg_support.ensure_all()


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path, monkeypatch):
    """Point the default ledger and user data dir at a temp dir; internal errors re-raise."""
    monkeypatch.setenv("DVK_DB", str(tmp_path / "default-ledger.sqlite"))
    monkeypatch.setenv("DVK_USER", "thư ký kiểm thử")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("DVK_BACKUPS", str(tmp_path / "server-backups"))  # a PostgreSQL ledger's backups
    monkeypatch.setenv("DVK_DEBUG", "1")
    monkeypatch.setenv("COLUMNS", "400")  # as the session's (above), should a test have changed it
    yield


@pytest.fixture
def db(tmp_path) -> Path:
    """The test's ledger: a file in its temp dir, or with DVK_TEST_STORE=postgres a database of its own on
    the tests' PostgreSQL server (a URL, dropped afterwards)."""
    if not PG:
        yield tmp_path / "so-dvk.sqlite"
        return
    import pg_support
    from pg_support import ServerDb

    name = new_name()
    url = ServerDb(pg_support.url_of(name), tmp_path)
    pg_support.want(name)  # made on first use, from the last template a fixture asks for
    yield url
    pg_support.forget(name)


class Dvk:
    """Runs `dvk` commands in-process through Typer's CliRunner against one ledger file."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.runner = CliRunner()

    def __call__(self, *args: str, ok: bool = True, input: str | None = None):
        from dvk.cli import app

        argv = [str(a) for a in args]
        if "--db" not in argv and argv and argv[0] not in ("demo", "--help", "--version"):
            argv = self._with_db(argv)
        if PG:
            _pg_support.ensure_all()
        res = self.runner.invoke(app, argv, input=input, catch_exceptions=False)
        if ok and res.exit_code != 0:
            raise AssertionError(f"dvk {' '.join(argv)} exited {res.exit_code}\nstdout:\n{res.stdout}\n"
                                 f"stderr:\n{res.stderr}")
        return res

    def _with_db(self, argv: list[str]) -> list[str]:
        # --db goes after the (sub)command names: find the first option or positional after them.
        groups = {"org", "units", "criteria", "council", "users"}
        n = 2 if argv[0] in groups and len(argv) > 1 else 1
        return argv[:n] + ["--db", str(self.db)] + argv[n:]

    def fails(self, *args: str, code: int = 1):
        import os as _os

        old = _os.environ.pop("DVK_DEBUG", None)
        try:
            res = self(*args, ok=False)
        finally:
            if old is not None:
                _os.environ["DVK_DEBUG"] = old
        assert res.exit_code == code, (res.exit_code, res.stdout, res.stderr)
        assert "Traceback" not in res.stderr + res.stdout
        return res


@pytest.fixture
def dvk(db) -> Dvk:
    return Dvk(db)


UNITS = [
    ("BVDK", "Công đoàn Bệnh viện Đa khoa Đồng Nai", "Đảng ủy Bệnh viện Đa khoa Đồng Nai"),
    ("BVNHI", "Công đoàn Bệnh viện Nhi đồng Đồng Nai", "Chi bộ Bệnh viện Nhi đồng Đồng Nai"),
    ("CDC", "Công đoàn Trung tâm Kiểm soát bệnh tật tỉnh", "Chi bộ Trung tâm Kiểm soát bệnh tật"),
]
FULL = ["G1=8", "G2=9", "G3=8", "G4=8.5", "G5=9", "S1=9", "S2=8", "S3=na", "S4=9", "S5=8", "S6=9"]
ASPECTS = ["--approach", "Cách làm sáng tạo", "--experience", "Kinh nghiệm rút ra", "--spread",
           "Lan tỏa đến 12 khoa", "--effectiveness", "Tiết kiệm 120 triệu đồng", "--sustainability",
           "Duy trì 3 năm liên tục"]


_TEMPLATES: dict[str, tuple[Path, object]] = {}


def copy_template(tmp_path_factory, dest: Path, name: str, build: Callable[[Path], object]):
    """Copy to `dest` the ledger `build(path)` made once per session under `name` (built on first use);
    returns what `build` returned. The copy is a private file (0600), as `dvk init` makes it."""
    if PG and isinstance(dest, str):
        return _copy_pg_template(dest, name, build)
    if name not in _TEMPLATES:
        src = tmp_path_factory.mktemp(f"tpl-{name}") / "so-dvk.sqlite"
        info = build(src)
        assert not Path(f"{src}-wal").exists(), "a template ledger must be closed (one file) to be copied"
        _TEMPLATES[name] = (src, info)
    src, info = _TEMPLATES[name]
    shutil.copyfile(src, dest)
    os.chmod(dest, 0o600)
    return info


def _copy_pg_template(dest: str, name: str, build: Callable[[str], object]):
    """The PostgreSQL `copy_template`: the ledger built once per worker as a template database, and the
    test's database re-created from it (CREATE DATABASE … TEMPLATE …)."""
    key = f"pg-{name}"
    if key not in _TEMPLATES:
        tpl = f"dvk_tpl_{name}_{worker()}_{os.getpid()}"
        url = create_database(tpl)
        info = build(url)
        _TEMPLATES[key] = (tpl, info)
    tpl, info = _TEMPLATES[key]
    import pg_support

    if db_name(dest) in pg_support.PENDING or db_name(dest) in pg_support.CREATED:
        pg_support.want(db_name(dest), tpl)  # a test's own database: made from it on first use
    else:
        create_database(db_name(dest), template=tpl)
    return info


def build_units_ledger(db: Path) -> None:
    """`dvk init` and the three units, through the CLI (what the `ledger` fixture starts from)."""
    d = Dvk(db)
    d("init")
    for code, name, committee in UNITS:
        d("units", "add", code, name, "--committee", committee)


@pytest.fixture
def ledger(dvk, tmp_path_factory):
    """An initialised ledger with three units (a copy of one built once per session)."""
    copy_template(tmp_path_factory, dvk.db, "units", build_units_ledger)
    return dvk


def build_demo_ledger(db: Path) -> dict:
    from dvk import demo

    return demo.build(db, user="kiểm thử", echo=lambda _msg: None)


@pytest.fixture
def demo_ledger(tmp_path, tmp_path_factory) -> tuple[Path, dict]:
    """(path, summary) of a copy of the demo ledger (`demo.build`, seeded), built once per session."""
    import copy

    if PG:  # the demo is built as a file (as `dvk demo` does) and copied onto the server once per worker
        name = new_name("demo")
        url = create_database(name)
        summary = copy_template(tmp_path_factory, url, "demo", _build_demo_on_server)
        yield url, copy.deepcopy(summary)
        drop_database(name)
        return
    path = tmp_path / "demo.sqlite"
    summary = copy_template(tmp_path_factory, path, "demo", build_demo_ledger)
    yield path, copy.deepcopy(summary)


def _build_demo_on_server(url: str) -> dict:
    import tempfile

    from dvk.ledger.stores import copy_ledger

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "demo.sqlite"
        summary = build_demo_ledger(path)
        copy_ledger(path, url, force=True)
    return summary


def build_entry_ledger(db: Path) -> dict:
    """Three units and one 2024 entry taken through report, confirmation and a passing score."""
    d = Dvk(db)
    build_units_ledger(db)
    eid = d("register", "--year", "2024", "--unit", "BVDK", "--title", "Chăm lo đoàn viên khó khăn",
            "--field", "1", "--date", "10/02/2024").stdout.strip()
    d("report", eid, *ASPECTS)
    d("confirm", eid, "--by", "Bí thư Trần Văn Bình")
    d("score", eid, "--member", "Nguyễn Văn An", *FULL)
    return {"eid": eid}


@pytest.fixture
def full_entry(ledger, tmp_path_factory):
    """One 2024 entry taken through report, confirmation and a passing score (the `ledger` it is in is
    replaced by a copy of that ledger, built once per session)."""
    return copy_template(tmp_path_factory, ledger.db, "entry", build_entry_ledger)["eid"]


def clone_ledger(src, dest) -> None:
    """Make the test's ledger `dest` a copy of the closed ledger `src`: a file copied byte for byte (a
    private file, 0600, as `dvk init` makes it), or on PostgreSQL the test's database re-created from the
    database `src` (CREATE DATABASE … TEMPLATE …) or filled from the ledger file `src` (`dvk copy`)."""
    import pg_support

    if pg_support.is_url(dest):
        pg_support.ensure_all()
        if pg_support.is_url(src):
            create_database(db_name(dest), template=db_name(src))
        else:
            from dvk.ledger.stores import copy_ledger

            copy_ledger(src, str(dest), force=True)
        return
    shutil.copyfile(src, dest)
    os.chmod(dest, 0o600)


@pytest.fixture
def ledger_copy(tmp_path):
    """A factory: `ledger_copy(src, name)` is a new ledger, a copy of the closed ledger `src` — the file
    `name` in the test's folder, or on PostgreSQL a database of its own (from `src` as its template,
    dropped afterwards)."""
    made: list[str] = []

    def make(src, name: str):
        if PG:
            from pg_support import ServerDb

            import pg_support

            pg_support.ensure_all()
            made.append(new_name("copy"))
            return ServerDb(create_database(made[-1], template=db_name(src)), tmp_path)
        dest = tmp_path / name
        shutil.copyfile(src, dest)
        os.chmod(dest, 0o600)
        return dest

    yield make
    for name in made:
        drop_database(name)


def server_template(path: Path, prefix: str = "mod"):
    """On PostgreSQL, the ledger file `path` copied once onto a database of its own (for `clone_ledger` to
    re-create test databases from); yields its URL, dropped afterwards. On SQLite, yields `path`."""
    if not PG:
        yield path
        return
    from dvk.ledger.stores import copy_ledger

    name = new_name(prefix)
    url = create_database(name)
    copy_ledger(path, url, force=True)
    yield url
    drop_database(name)


def backup_folder(db) -> Path:
    """Where the automatic backups of the ledger `db` go: beside a ledger file, or for a PostgreSQL ledger
    under `$DVK_BACKUPS` (a folder of the test's own)."""
    from dvk.ledger.backup import backup_dir
    from dvk.ledger.stores import open_ledger

    import pg_support

    if pg_support.is_url(db):
        with open_ledger(str(db)) as led:
            return backup_dir(led)
    return backup_dir(Path(db))


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def ledger_dump(path: Path) -> str:
    """Every row of every table, to compare a ledger before and after a refused command."""
    import pg_support

    if pg_support.is_url(path):
        return pg_support.dump(path)
    con = sqlite3.connect(path)
    try:
        out = []
        for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"):
            out.append(f"## {name}")
            out.extend(sorted(repr(r) for r in con.execute(f'SELECT * FROM "{name}"')))
        return "\n".join(out)
    finally:
        con.close()
