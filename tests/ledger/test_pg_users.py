"""Each login writes only where it belongs, enforced by PostgreSQL itself: through dvk (a clear message,
exit 1) and through raw SQL as that login (the server refuses), and the ledger is unchanged either way.
The history is append-only for every login and records the login as the user."""

from __future__ import annotations

import re

import psycopg
import pytest

import pg_support
from conftest import ASPECTS, FULL, Dvk, build_units_ledger
from safety_support import dvk_env, dvk_process

pytestmark = pytest.mark.postgres_only

# Roles are the server's, not the database's: each run names its own logins.
TAG = f"{pg_support.worker()}_{__import__('os').getpid()}"
UNIT_A, UNIT_B, COUNCIL, CLERK = (f"u_bvdk_{TAG}", f"u_bvnhi_{TAG}", f"hd_an_{TAG}", f"tk_so_{TAG}")


def _as(url: str, login: str) -> str:
    return re.sub(r"//[^@/]*@", f"//{login}@", url)


def _dump(url: str) -> list:
    out = []
    for (name,) in pg_support.query(url, "SELECT table_name FROM information_schema.tables "
                                         "WHERE table_schema = 'public' ORDER BY table_name"):
        out.append((name, sorted(map(repr, pg_support.query(url, f'SELECT * FROM "{name}"')))))
    return out


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    """A ledger with three units, one entry of BVNHI, and the three kinds of login."""
    name = pg_support.new_name("users")
    url = pg_support.create_database(name)
    build_units_ledger(url)
    d = Dvk(url)
    d("users", "add", UNIT_A, "--role", "unit", "--unit", "BVDK")
    d("users", "add", UNIT_B, "--role", "unit", "--unit", "BVNHI")
    d("users", "add", COUNCIL, "--role", "council", "--member", "Nguyễn Văn An")
    d("users", "add", CLERK, "--role", "clerk")
    other = d("register", "--db", _as(url, UNIT_B), "--year", "2025", "--unit", "BVNHI", "--title",
              "Mô hình của Nhi đồng", "--field", "2", "--date", "10/02/2025").stdout.strip()
    d("report", "--db", _as(url, UNIT_B), other, *ASPECTS)
    yield url, other
    pg_support.drop_database(name)
    for login in (UNIT_A, UNIT_B, COUNCIL, CLERK):
        pg_support.query(pg_support.admin_url(), f"DROP ROLE IF EXISTS {login}")


def _refused(url: str, login: str, *args: str) -> str:
    before = _dump(url)
    res = Dvk(_as(url, login)).fails(*args)
    assert "không có quyền" in res.stderr and login in res.stderr, res.stderr
    assert _dump(url) == before, "a refused write changes nothing"
    return res.stderr


def _raw_refused(url: str, login: str, sql: str, params=()) -> None:
    before = _dump(url)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        pg_support.query(url, sql, params, login=login)
    assert _dump(url) == before


def _raw_noop(url: str, login: str, sql: str, params=()) -> None:
    """A statement the policies make touch no row (a DELETE's USING): nothing changes."""
    before = _dump(url)
    assert pg_support.query(url, sql, params, login=login) == 0
    assert _dump(url) == before


def test_a_unit_writes_its_own_registrations_reports_and_confirmations(province):
    url, _ = province
    d = Dvk(_as(url, UNIT_A))
    eid = d("register", "--year", "2025", "--unit", "BVDK", "--title", "Chăm lo đoàn viên", "--field", "1",
            "--date", "11/02/2025").stdout.strip()
    d("report", eid, *ASPECTS)
    d("confirm", eid, "--by", "Bí thư Trần Văn Bình")
    users = pg_support.query(url, "SELECT DISTINCT \"user\" FROM history WHERE command LIKE 'dvk register%%' "
                                  "OR command LIKE 'dvk report%%' OR command LIKE 'dvk confirm%%'")
    assert {u for (u,) in users} == {UNIT_A, UNIT_B}, "the history records the database login"
    assert "Sổ toàn vẹn" in Dvk(url)("verify").stdout


def test_a_unit_cannot_write_for_another_unit_through_dvk(province):
    url, other = province
    _refused(url, UNIT_A, "register", "--year", "2025", "--unit", "CDC", "--title", "Không phải của mình",
             "--field", "1", "--date", "11/02/2025")
    _refused(url, UNIT_A, "report", other, "--approach", "Cách làm do đơn vị khác ghi")
    _refused(url, UNIT_A, "confirm", other, "--by", "Bí thư khác")
    _refused(url, UNIT_A, "score", other, "--member", "Nguyễn Văn An", *FULL)
    _refused(url, UNIT_A, "units", "add", "MOI", "Công đoàn mới")
    _refused(url, UNIT_A, "org", "set", "--from-year", "2026", "--signer", "Người khác")


def test_a_unit_cannot_write_for_another_unit_through_raw_sql(province):
    url, other = province
    # Another unit's row of the same organisation: seen, but an UPDATE may not touch it (skipped), nor take
    # it as its own.
    _raw_noop(url, UNIT_A, "UPDATE entry SET title = 'sửa trộm' WHERE id = %s", (other,))
    _raw_noop(url, UNIT_A, "UPDATE entry SET unit_code = 'BVDK' WHERE id = %s", (other,))
    _raw_noop(url, UNIT_A, "UPDATE report SET entry_id = entry_id WHERE entry_id = %s", (other,))
    _raw_refused(url, UNIT_A, "INSERT INTO report (entry_id, approach) VALUES (%s, 'x')", (other,))
    _raw_refused(url, UNIT_A, "UPDATE unit SET name = 'x'")
    _raw_refused(url, UNIT_A, "INSERT INTO decision (year, number, decided_on, revoked, kind) "
                                "VALUES (2025, 1, '2025-10-15', false, 'recognition')")
    _raw_refused(url, UNIT_A, "UPDATE meta SET value = '{\"role\": \"unit\", \"unit\": \"BVNHI\"}' "
                                "WHERE key = %s", (f"login:{UNIT_A}",))
    _raw_noop(url, UNIT_A, "DELETE FROM entry WHERE id = %s", (other,))


def test_council_writes_only_its_own_score_sheets(province):
    url, other = province
    d = Dvk(_as(url, COUNCIL))
    d("score", other, "--member", "Nguyễn Văn An", *FULL)
    _refused(url, COUNCIL, "score", other, "--member", "Lê Thị Bình", *FULL)
    _refused(url, COUNCIL, "register", "--year", "2025", "--unit", "BVDK", "--title", "Hội đồng không đăng ký",
             "--field", "1", "--date", "11/02/2025")
    _raw_refused(url, COUNCIL, "INSERT INTO score (entry_id, member, marks) VALUES (%s, 'Lê Thị Bình', '{}')",
                 (other,))
    _raw_refused(url, COUNCIL, "UPDATE entry SET title = 'x'")


def test_only_the_clerk_recognises_and_changes_criteria_profiles_units(province):
    url, _ = province
    _refused(url, UNIT_B, "recognize", "--year", "2025", "--none", "--date", "15/10/2025")
    _refused(url, COUNCIL, "units", "add", "MOI", "Công đoàn mới")
    Dvk(_as(url, CLERK))("units", "add", "MOI", "Công đoàn mới")
    Dvk(_as(url, CLERK))("org", "set", "--from-year", "2027", "--signer", "Phạm Văn Công")
    assert pg_support.query(url, "SELECT \"user\" FROM history ORDER BY id DESC LIMIT 1") == [(CLERK,)]


@pytest.mark.parametrize("role", ["unit", "council", "clerk"])
def test_the_history_is_append_only_for_every_login(province, role):
    url, _ = province
    login = {"unit": UNIT_A, "council": COUNCIL, "clerk": CLERK}[role]
    _raw_refused(url, login, "DELETE FROM change")
    _raw_refused(url, login, "UPDATE history SET \"user\" = 'ai đó' WHERE id = 1")
    _raw_refused(url, login, "UPDATE change SET data = NULL")
    _raw_refused(url, login, "INSERT INTO history (id, at, \"user\", command, summary, n_changes, prev_hash, hash) "
                             "VALUES (99999, 'x', 'người khác', 'x', 'x', 0, '', '')")
    _raw_noop(url, login, "UPDATE history SET summary = 'sửa' WHERE id = 1")  # finished: no row to change
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        pg_support.query(url, "DELETE FROM history", login=login)
    assert "Sổ toàn vẹn" in Dvk(url)("verify").stdout


def test_users_are_refused_clearly(province):
    url, _ = province
    d = Dvk(url)
    assert "đã có" in d.fails("users", "add", UNIT_A, "--role", "unit", "--unit", "BVDK").stderr
    assert "--unit" in d.fails("users", "add", "u_x", "--role", "unit").stderr
    assert "Không có đơn vị" in d.fails("users", "add", "u_x", "--role", "unit", "--unit", "KHONG").stderr
    assert "Vai trò" in d.fails("users", "add", "u_x", "--role", "admin").stderr
    assert "không hợp lệ" in d.fails("users", "add", "Người Dùng", "--role", "clerk").stderr
    assert "không có quyền" in Dvk(_as(url, UNIT_A)).fails("users", "add", "u_y", "--role", "clerk").stderr


# ---------------------------------------------------------------- logins of one organisation (--org)

ORG_CLERK, WIDE_CLERK, ORG_COUNCIL, GROUP = f"tk_cdcs_{TAG}", f"tk_toan_{TAG}", f"hd_cdcs_{TAG}", f"u_to1_{TAG}"


@pytest.fixture(scope="module")
def two_levels(tmp_path_factory):
    """The sector union CDN with its units and a CĐCS (CDCS_A) under it with one group; a clerk and a council
    member of the CĐCS only, and a clerk of the whole ledger."""
    name = pg_support.new_name("orgs")
    url = pg_support.create_database(name)
    build_units_ledger(url)
    d = Dvk(url)
    d("org", "add", "CDCS_A", "--name", "Công đoàn cơ sở Bệnh viện A", "--parent", "CDN", "--level", "grassroots")
    d("units", "add", "--org", "CDCS_A", "TO1", "Tổ công đoàn Khoa Nội")
    d("users", "add", ORG_CLERK, "--role", "clerk", "--org", "CDCS_A")
    d("users", "add", ORG_COUNCIL, "--role", "council", "--member", "Trần Văn Tổ", "--org", "CDCS_A")
    d("users", "add", WIDE_CLERK, "--role", "clerk")
    d("users", "add", GROUP, "--role", "unit", "--unit", "TO1")
    sector = d("register", "--org", "CDN", "--year", "2025", "--unit", "BVDK", "--title", "Mô hình của ngành",
               "--field", "1", "--date", "10/02/2025").stdout.strip()
    yield url, sector
    pg_support.drop_database(name)
    for login in (ORG_CLERK, WIDE_CLERK, ORG_COUNCIL, GROUP):
        pg_support.query(pg_support.admin_url(), f"DROP ROLE IF EXISTS {login}")


def test_a_clerk_of_one_organisation_runs_its_own_cycle(two_levels):
    url, _ = two_levels
    d = Dvk(_as(url, ORG_CLERK))
    d("units", "add", "--org", "CDCS_A", "TO2", "Tổ công đoàn Khoa Ngoại")
    eid = d("register", "--org", "CDCS_A", "--year", "2025", "--unit", "TO2", "--title", "Tổ tự quản",
            "--field", "1", "--date", "10/02/2025").stdout.strip()
    d("report", eid, *ASPECTS)
    Dvk(_as(url, ORG_COUNCIL))("score", eid, "--member", "Trần Văn Tổ", *FULL)
    d("recognize", "--org", "CDCS_A", "--year", "2025", "--none", "--date", "15/10/2025")
    assert pg_support.query(url, "SELECT org_code FROM decision") == [("CDCS_A",)]
    assert "Sổ toàn vẹn" in Dvk(url)("verify").stdout


def _unseen(url: str, login: str, *args: str, what: str) -> None:
    """A command about a row the login cannot read: told it is not there (nothing about it leaks), exit 1,
    nothing changed."""
    before = _dump(url)
    res = Dvk(_as(url, login)).fails(*args)
    assert what in res.stderr and "Traceback" not in res.stderr, res.stderr
    assert _dump(url) == before


def test_a_clerk_of_one_organisation_cannot_write_for_another(two_levels):
    url, sector = two_levels
    _refused(url, ORG_CLERK, "units", "add", "--org", "CDN", "MOI", "Công đoàn mới")
    _refused(url, ORG_CLERK, "register", "--org", "CDN", "--year", "2025", "--unit", "BVDK", "--title",
             "Không phải của mình", "--field", "1", "--date", "11/02/2025")
    _refused(url, ORG_CLERK, "org", "set", "--org", "CDN", "--from-year", "2026", "--signer", "Người khác")
    # The sector's entries it does not see: for it the sector's year has nothing to decide.
    _unseen(url, ORG_CLERK, "recognize", "--org", "CDN", "--year", "2025", "--none", "--date", "15/10/2025",
            what="chưa có mô hình")
    _refused(url, ORG_CLERK, "settings", "set", "--db", _as(url, ORG_CLERK), "backup_keep", "3")
    # The sector's entry is not the CĐCS's to read: for its logins it is not there.
    _unseen(url, ORG_CLERK, "report", sector, "--approach", "Cách làm do cấp dưới ghi", what=sector)
    _unseen(url, ORG_COUNCIL, "score", sector, "--member", "Trần Văn Tổ", *FULL, what=sector)
    _raw_refused(url, ORG_CLERK, "INSERT INTO decision (year, number, decided_on, revoked, kind, org_code) "
                                 "VALUES (2025, 1, '2025-10-15', false, 'recognition', 'CDN')")
    _raw_refused(url, ORG_CLERK, "INSERT INTO report (entry_id, approach) VALUES (%s, 'x')", (sector,))
    _raw_noop(url, ORG_CLERK, "UPDATE unit SET name = 'x' WHERE code = 'BVDK'")
    _raw_noop(url, ORG_CLERK, "UPDATE entry SET title = 'sửa trộm' WHERE id = %s", (sector,))
    _raw_noop(url, ORG_CLERK, "UPDATE entry SET org_code = 'CDCS_A' WHERE id = %s", (sector,))
    _raw_noop(url, ORG_CLERK, "UPDATE org SET name = 'x' WHERE code = 'CDN'")
    _raw_noop(url, ORG_CLERK, "DELETE FROM entry WHERE id = %s", (sector,))


def test_a_clerk_of_one_organisation_leaves_the_tree_where_it_is(two_levels):
    """Its own organisation keeps its place (no clerk moves it out from under its parent), and no
    organisation elsewhere is taken in under it."""
    url, _ = two_levels
    _raw_refused(url, ORG_CLERK, "UPDATE org SET parent = NULL WHERE code = 'CDCS_A'")
    _raw_refused(url, ORG_CLERK, "UPDATE org SET parent = 'BVDK' WHERE code = 'CDCS_A'")
    _raw_noop(url, ORG_CLERK, "UPDATE org SET parent = 'CDCS_A' WHERE code = 'CDN'")
    before = _dump(url)
    assert pg_support.query(url, "UPDATE org SET name = 'Công đoàn cơ sở Bệnh viện A (đổi tên)' "
                                 "WHERE code = 'CDCS_A'", login=ORG_CLERK) == 1, "its own name it may change"
    pg_support.query(url, "UPDATE org SET name = 'Công đoàn cơ sở Bệnh viện A' WHERE code = 'CDCS_A'")
    assert _dump(url) == before


def _count(url: str, login: str, sql: str) -> int:
    return pg_support.query(url, sql, login=login)[0][0]


def test_each_login_reads_what_its_organisation_may_see(two_levels, tmp_path):
    """The cycle's rows of the sector union are not the CĐCS's to read — through dvk or raw SQL — while the
    shared frame (the tree, units, the history's records) is; the whole-ledger clerk reads everything."""
    url, sector = two_levels
    cdcs = Dvk(_as(url, ORG_CLERK))("register", "--org", "CDCS_A", "--year", "2026", "--unit", "TO1", "--title",
                                      "Tổ đọc được", "--field", "1", "--date", "10/02/2026").stdout.strip()
    for login in (ORG_CLERK, ORG_COUNCIL, GROUP):  # GROUP: a unit login reads its unit's organisation's part
        assert _count(url, login, "SELECT count(*) FROM entry WHERE org_code = 'CDN'") == 0
        assert _count(url, login, f"SELECT count(*) FROM change WHERE row_key = '{sector}'") == 0
        assert _count(url, login, f"SELECT count(*) FROM entry WHERE id = '{cdcs}'") == 1
        assert _count(url, login, f"SELECT count(*) FROM change WHERE row_key = '{cdcs}'") >= 1
    assert _count(url, WIDE_CLERK, "SELECT count(*) FROM entry WHERE org_code = 'CDN'") >= 1
    assert _count(url, WIDE_CLERK, f"SELECT count(*) FROM change WHERE row_key = '{sector}'") >= 1
    everyone = _count(url, "postgres", "SELECT count(*) FROM history")
    sector_record = "SELECT count(*) FROM history WHERE command LIKE '%%Mô hình của ngành%%'"
    for login in (ORG_CLERK, ORG_COUNCIL, GROUP):  # its command line names what it wrote
        assert _count(url, login, sector_record) == 0
        assert 0 < _count(url, login, "SELECT count(*) FROM history") < everyone
        assert _count(url, login, "SELECT count(*) FROM org") == 2, "the tree is the shared frame"
    assert _count(url, WIDE_CLERK, sector_record) == 1
    assert _count(url, WIDE_CLERK, "SELECT count(*) FROM history") == everyone
    d = Dvk(_as(url, ORG_CLERK))
    listed = d("list", "--org", "CDN", "--year", "2025", "--json").stdout
    assert sector not in listed and "Mô hình của ngành" not in listed
    assert cdcs in d("list", "--org", "CDCS_A", "--year", "2026", "--json").stdout
    _unseen(url, ORG_CLERK, "show", sector, what=sector)
    assert "Mô hình của ngành" not in d("history", "--limit", "500").stdout
    assert "Mô hình của ngành" in Dvk(_as(url, WIDE_CLERK))("show", sector).stdout
    res = d.fails("verify")
    assert "cần tài khoản đọc được toàn bộ sổ" in res.stderr and ORG_CLERK in res.stderr, res.stderr
    # A copy of part of the ledger would not verify: backup and copy are refused too.
    res = d.fails("backup", str(tmp_path / "mot-phan.sqlite"))
    assert "cần tài khoản đọc được toàn bộ sổ" in res.stderr and ORG_CLERK in res.stderr, res.stderr
    res = dvk_process("copy", "--from", _as(url, ORG_CLERK), "--to", str(tmp_path / "mot-phan.sqlite"))
    assert res.returncode == 1 and "Traceback" not in res.stderr, res.stderr
    assert "cần tài khoản đọc được toàn bộ sổ" in res.stderr and ORG_CLERK in res.stderr, res.stderr
    assert [p.name for p in tmp_path.iterdir() if p.name != "xdg"] == [], "nothing written"
    assert "Sổ toàn vẹn" in Dvk(_as(url, WIDE_CLERK))("verify").stdout


def test_no_clerk_changes_what_a_login_may_do(two_levels):
    url, _ = two_levels
    for login in (ORG_CLERK, WIDE_CLERK):
        _raw_noop(url, login, "UPDATE meta SET value = '{\"role\": \"clerk\", \"org\": null}' WHERE key = %s",
                  (f"login:{ORG_CLERK}",))
        _raw_refused(url, login, "INSERT INTO meta (key, value) VALUES (%s, '{\"role\": \"clerk\"}')",
                     (f"login:ke_khac_{TAG}",))
    assert "Không có tổ chức" in Dvk(url).fails("users", "add", f"u_z_{TAG}", "--role", "clerk", "--org", "KHONG").stderr
    res = Dvk(url).fails("users", "add", f"u_z_{TAG}", "--role", "unit", "--unit", "BVDK", "--org", "CDCS_A")
    assert "thuộc tổ chức “CDN”" in res.stderr


def _waits_on_a_lock(database: str, running) -> bool:
    """Whether a session of `database` comes to wait on a lock while `running()` holds (up to 20 s)."""
    import time

    for _ in range(400):
        if pg_support.query(pg_support.admin_url(), "SELECT 1 FROM pg_stat_activity WHERE datname = %s "
                            "AND wait_event_type = 'Lock'", (database,)):
            return True
        if not running():
            return False
        time.sleep(0.05)
    return False


def test_two_ledgers_of_one_server_set_up_their_logins_at_the_same_moment(monkeypatch):
    """The group roles are the server's, and each ledger's write lock its own database's: the first `users add`
    of two ledgers at once both create the groups. The second waits for the first, then goes on (CI once
    failed here with a unique violation of pg_authid). Fresh group names, so that the groups are missing."""
    import threading

    import sqlalchemy as sa

    from dvk.ledger import roles

    tag = f"{pg_support.worker()}_{__import__('os').getpid()}_race"
    groups = {k: f"{v}_{tag}" for k, v in roles.GROUPS.items()}
    writer = f"dvk_writer_{tag}"
    monkeypatch.setattr(roles, "GROUPS", groups)
    monkeypatch.setattr(roles, "WRITER", writer)
    names = [pg_support.new_name("race"), pg_support.new_name("race")]
    engines = []
    try:
        for name in names:
            url = pg_support.create_database(name)
            build_units_ledger(url)
            engines.append(sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"),
                                            poolclass=sa.pool.NullPool))
        failed: list[BaseException] = []

        def second() -> None:
            try:
                with engines[1].begin() as conn:
                    roles.ensure_policies(conn)
            except BaseException as exc:  # noqa: BLE001 - reported by the test below
                failed.append(exc)

        with engines[0].connect() as first:
            with first.begin():
                roles.ensure_policies(first)  # the groups made, not committed yet
                thread = threading.Thread(target=second)
                thread.start()
                # the second set-up waits on the first's new roles
                assert _waits_on_a_lock(names[1], thread.is_alive), f"the second set-up did not wait: {failed}"
            thread.join(60)
        assert not thread.is_alive()
        assert not failed, failed
        members = pg_support.query(pg_support.admin_url(),
                                   "SELECT m.rolname FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid "
                                   "JOIN pg_roles m ON m.oid = a.member WHERE r.rolname = %s ORDER BY 1", (writer,))
        assert [m for (m,) in members] == sorted(groups.values())
    finally:
        for e in engines:
            e.dispose()
        for name in names:
            pg_support.drop_database(name)
        for role in (*groups.values(), writer):
            pg_support.query(pg_support.admin_url(), f"DROP ROLE IF EXISTS {role}")


def test_a_login_made_at_the_same_moment_by_another_ledger_is_refused_clearly(tmp_path):
    """Two clerks of one server pick the same login at once: the second `users add` waits for the first,
    then says the login is taken (exit 1) and its ledger is as it was."""
    import subprocess
    import sys

    name = pg_support.new_name("samelogin")
    url = pg_support.create_database(name)
    build_units_ledger(url)
    Dvk(url)("users", "add", f"tk_first_{TAG}", "--role", "clerk")  # the groups exist: only the login races
    login = f"tk_same_{TAG}"
    before = _dump(url)
    other = psycopg.connect(pg_support.admin_url())  # the other ledger's `users add`, not committed yet
    try:
        other.execute(f"CREATE ROLE {login} LOGIN")
        proc = subprocess.Popen([sys.executable, "-m", "dvk", "users", "add", "--db", url, login, "--role", "clerk"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dvk_env())
        assert _waits_on_a_lock(name, lambda: proc.poll() is None), \
            f"dvk users add did not wait for the other transaction's login: {proc.communicate()}"
        other.commit()
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 1, (out, err)
        assert f"Tài khoản “{login}” đã có trên máy chủ" in err and "Traceback" not in err, err
        assert _dump(url) == before
    finally:
        other.close()
        pg_support.drop_database(name)
        for role in (login, f"tk_first_{TAG}"):
            pg_support.query(pg_support.admin_url(), f"DROP ROLE IF EXISTS {role}")
