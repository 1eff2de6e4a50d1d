"""Logins of a PostgreSQL ledger and what each may write, enforced by the database (`dvk users add`).

Three group roles, members of `dvk_writer`:

- `dvk_clerk` — the organisation's clerk: writes every table (recognises, revokes, changes criteria,
  profiles, units, exports);
- `dvk_council` — a council member: writes only its own score sheets (`score.member` is the member the
  login is mapped to: `--member`, else the login itself);
- `dvk_unit` — a unit (CĐCS): writes only its own unit's registrations, reports and confirmations.

Everyone reads. Each login's mapping is a ledger setting `login:<name>` in `meta` (JSON: role, unit,
member, org), written through the history like every setting, and read by the row-level security
policies. The history is append-only for every login: a record is inserted unfinished (`hash = ''`) by
its own login (`user = current_user`), finished once, never changed afterwards, never deleted; a change
is inserted only into its login's unfinished record. The ledger's owner (the administrator who ran
`dvk init`) is not subject to the policies, as PostgreSQL's table owners are not.

`--org CODE` maps a login to one organisation of the ledger's tree: a clerk then writes only that
organisation's rows (its profile, criteria, units, entries and what rests on them, council, decisions,
documents; in `org`, itself and the organisations directly under it) and no ledger-wide setting; a council
member only sheets of its entries; a unit login is its unit's already (a unit belongs to one organisation).
Without `--org` a clerk writes for the whole ledger.

Reading follows the organisation too. A login with an organisation — `--org`, or for a unit login the
organisation its unit belongs to — reads the cycle's rows (entries and what rests on them, council,
decisions, documents, forwards, packages: `READ_SCOPED`) of that organisation and the ones below it, and of
the history's changes only those of rows it can read (so a replay of what it sees matches what it sees).
Of the history's records it reads those it wrote and those with a change it reads (a record's command
line names what it wrote). The tree of organisations, their profiles and criteria, the units and the
ledger's settings every login reads: they are the shared frame of the ledger, and numbering entries
needs them; the history's next id and the hash it chains to come from two SECURITY DEFINER functions. A clerk or council member without `--org` reads
the whole ledger. `dvk verify` recomputes the chain from every change, so it needs such a login (or the
owner). The organisations a login sees come from `dvk_scope(login)`, a SECURITY DEFINER function the owner
makes here (it reads the mapping and the tree without the policies, once per statement).

Updates are limited on both sides: the row before (USING) and after (WITH CHECK) must be the login's own,
so no login moves another's row into its own part or its own row out of it (nor a clerk of one
organisation its organisation elsewhere in the tree). PostgreSQL skips a row an UPDATE or DELETE may not
touch; dvk's `Tx` notices a skipped row it can see and refuses the whole command.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from dvk.errors import InvalidInput, LedgerError

if TYPE_CHECKING:
    from dvk.ledger.history import Tx

ROLES = ("clerk", "council", "unit")
GROUPS = {"clerk": "dvk_clerk", "council": "dvk_council", "unit": "dvk_unit"}
WRITER = "dvk_writer"
LOGIN_KEY = "login:"
ROLE_LABELS = {"clerk": "thư ký", "council": "thành viên hội đồng", "unit": "đơn vị"}

_LOGIN_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_MAPPED = "(SELECT m.value::json->>'{field}' FROM meta m WHERE m.key = 'login:' || current_user)"
UNIT_OF_LOGIN = _MAPPED.format(field="unit")
MEMBER_OF_LOGIN = _MAPPED.format(field="member")
_OWN_ENTRY = f"EXISTS (SELECT 1 FROM entry e WHERE e.id = entry_id AND e.unit_code = {UNIT_OF_LOGIN})"
UNIT_TABLES = {"entry": f"unit_code = {UNIT_OF_LOGIN}", "report": _OWN_ENTRY, "confirmation": _OWN_ENTRY}
ORG_OF_LOGIN = _MAPPED.format(field="org")
_OF_ORG_ENTRY = f"EXISTS (SELECT 1 FROM entry e WHERE e.id = entry_id AND e.org_code = {ORG_OF_LOGIN})"
COUNCIL_TABLES = {"score": f"member = {MEMBER_OF_LOGIN} AND ({ORG_OF_LOGIN} IS NULL OR {_OF_ORG_ENTRY})"}
APPEND_ONLY = ("history", "change")

# The organisations a login reads (None: the whole ledger), computed once per statement (an initplan).
SCOPE = "(SELECT dvk_scope(current_user))"
_SEEN_ENTRY = "EXISTS (SELECT 1 FROM entry e WHERE e.id = {key})"  # entry's own policy decides
_SEEN_DECISION = "EXISTS (SELECT 1 FROM decision d WHERE d.id::text = {key})"
_IN_SCOPE = f"{{col}} = ANY ({SCOPE}::text[])"  # the cast: an array, not ANY over a subquery's rows
# Rows of the cycle a login with an organisation reads only within it: how each table finds its organisation.
READ_SCOPED = {
    "entry": _IN_SCOPE.format(col="org_code"),
    "report": _SEEN_ENTRY.format(key="entry_id"),
    "confirmation": _SEEN_ENTRY.format(key="entry_id"),
    "score": _SEEN_ENTRY.format(key="entry_id"),
    "council_abstention": _SEEN_ENTRY.format(key="entry_id"),
    "council_conflict": _SEEN_ENTRY.format(key="entry_id"),
    "forward": _SEEN_ENTRY.format(key="entry_id"),
    "proposal": _IN_SCOPE.format(col="org_code"),
    "council_member": _IN_SCOPE.format(col="org_code"),
    "council_meeting": _IN_SCOPE.format(col="org_code"),
    "decision": _IN_SCOPE.format(col="org_code"),
    "outcome": "EXISTS (SELECT 1 FROM decision d WHERE d.id = decision_id)",
    "decision_unit": "EXISTS (SELECT 1 FROM decision d WHERE d.id = decision_id)",
    "document": _IN_SCOPE.format(col="org_code"),
    "package": _IN_SCOPE.format(col="org_code"),
}
# A change of the history is read when the row it is about can be read (its key: `ROW_KEYS`, joined by "|").
_PART = "split_part(row_key, '|', {n})"
CHANGE_SEEN = {
    "entry": _SEEN_ENTRY.format(key="row_key"),
    "report": _SEEN_ENTRY.format(key="row_key"),
    "confirmation": _SEEN_ENTRY.format(key="row_key"),
    "forward": _SEEN_ENTRY.format(key="row_key"),
    "score": _SEEN_ENTRY.format(key=_PART.format(n=1)),
    "council_abstention": _SEEN_ENTRY.format(key=_PART.format(n=1)),
    "council_conflict": _SEEN_ENTRY.format(key=_PART.format(n=1)),
    "proposal": _SEEN_ENTRY.format(key=_PART.format(n=2)),
    "council_member": _IN_SCOPE.format(col=_PART.format(n=1)),
    "council_meeting": _IN_SCOPE.format(col=_PART.format(n=1)),
    "decision": _SEEN_DECISION.format(key="row_key"),
    "outcome": _SEEN_DECISION.format(key=_PART.format(n=1)),
    "decision_unit": _SEEN_DECISION.format(key=_PART.format(n=1)),
    "document": "EXISTS (SELECT 1 FROM document x WHERE x.sha256 = row_key)",
    "package": "EXISTS (SELECT 1 FROM package x WHERE x.sha256 = row_key)",
}

# The organisations `login` reads: its mapping's organisation (a unit login: its unit's) and every one
# below it; NULL for the whole ledger (no organisation, or not a login of dvk). SECURITY DEFINER: it reads
# the mapping and the tree as the owner, so the policies that call it do not call themselves.
SCOPE_FUNCTION = """
CREATE OR REPLACE FUNCTION dvk_scope(login text) RETURNS text[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
  WITH RECURSIVE m AS (SELECT value::json AS v FROM meta WHERE key = 'login:' || login),
  root AS (SELECT COALESCE(m.v->>'org', (SELECT u.org_code FROM unit u WHERE u.code = m.v->>'unit')) AS code
           FROM m),
  below(code) AS (SELECT code FROM root WHERE code IS NOT NULL
                  UNION SELECT o.code FROM org o JOIN below b ON o.parent = b.code)
  SELECT CASE WHEN EXISTS (SELECT 1 FROM root WHERE code IS NOT NULL) THEN (SELECT array_agg(code) FROM below)
         END
$fn$
"""
# The parent an organisation has now (for the check that a clerk leaves its own organisation's place alone).
PARENT_FUNCTION = """
CREATE OR REPLACE FUNCTION dvk_org_parent(org_code text) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
  SELECT parent FROM org WHERE code = org_code
$fn$
"""


# The history's head for a writer that reads only part of it: the next record's id and the hash it chains to
# are the whole ledger's (dvk.ledger.history.Tx uses these when they exist).
HEAD_FUNCTIONS = """
CREATE OR REPLACE FUNCTION dvk_history_last_id() RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
  SELECT coalesce(max(id), 0) FROM history
$fn$;
CREATE OR REPLACE FUNCTION dvk_history_hash_before(record integer) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
  SELECT hash FROM history WHERE id < record ORDER BY id DESC LIMIT 1
$fn$
"""
# Whether history record `record` is `login`'s own and unfinished (the check on each change it inserts; a
# function, so the change table's policies and the history's do not call each other).
OPEN_FUNCTION = """
CREATE OR REPLACE FUNCTION dvk_history_open(record integer, login text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
  SELECT EXISTS (SELECT 1 FROM history h WHERE h.id = record AND h.hash = '' AND h."user" = login)
$fn$
"""
FUNCTIONS = ("dvk_scope(text)", "dvk_org_parent(text)", "dvk_history_last_id()", "dvk_history_hash_before(integer)",
             "dvk_history_open(integer, text)")
# A record of the history is read by a login with an organisation when it wrote it or reads one of its changes.
HISTORY_SEEN = (f"{SCOPE} IS NULL OR \"user\" = current_user "
                "OR EXISTS (SELECT 1 FROM change c WHERE c.history_id = history.id)")


def change_seen() -> str:
    """Which changes of the history a login reads (see `CHANGE_SEEN`)."""
    cases = " ".join(f"WHEN '{t}' THEN {expr}" for t, expr in CHANGE_SEEN.items())
    return f"{SCOPE} IS NULL OR CASE table_name {cases} ELSE true END"


def require_whole_ledger(conn, what: str, shown: str) -> None:
    """Refuse `what` (verify, a copy or backup: the chain is recomputed from every change) to a login that
    reads only its organisation's part of the ledger, naming the login and what it reads."""
    scope = scope_of(conn)
    if scope is None:
        return
    login = conn.exec_driver_sql("SELECT current_user").scalar()
    raise LedgerError(
        f"Tài khoản “{login}” chỉ xem được phần sổ của tổ chức {', '.join(sorted(scope))}; {what} tính lại chuỗi "
        "băm từ mọi thay đổi của cả sổ nên cần tài khoản đọc được toàn bộ sổ (chủ sổ, hoặc thư ký tạo không có "
        f"--org). Sổ “{shown}” không bị thay đổi; không có gì được ghi.")


def scope_of(conn) -> list[str] | None:
    """The organisations this connection's login reads (None: the whole ledger)."""
    has = conn.exec_driver_sql("SELECT to_regprocedure('dvk_scope(text)') IS NOT NULL").scalar()
    if not has:
        return None
    return conn.exec_driver_sql("SELECT dvk_scope(current_user)").scalar()


def org_rows(table_name: str, columns) -> str:
    """The rows of `table_name` a clerk mapped to an organisation (`--org`) may write: that organisation's
    own — by its `org_code`, through its entry or its decision; in `org`, the organisation itself and the
    ones directly under it. The ledger's settings (`meta`) only a clerk of the whole ledger (no `--org`),
    and never a login's mapping (`login:…`): those only the ledger's owner writes (`dvk users add`)."""
    if table_name == "meta":
        return f"({ORG_OF_LOGIN} IS NULL AND NOT starts_with(key, 'login:'))"
    if table_name == "org":
        # Itself where the tree has it (its place stays), and the ones directly under it.
        own = (f"((code = {ORG_OF_LOGIN} AND parent IS NOT DISTINCT FROM dvk_org_parent({ORG_OF_LOGIN})) "
               f"OR (parent = {ORG_OF_LOGIN} AND code <> {ORG_OF_LOGIN}))")
    elif "org_code" in columns:
        own = f"org_code = {ORG_OF_LOGIN}"
    elif "entry_id" in columns:
        own = _OF_ORG_ENTRY
    elif "decision_id" in columns:
        own = f"EXISTS (SELECT 1 FROM decision d WHERE d.id = decision_id AND d.org_code = {ORG_OF_LOGIN})"
    else:
        raise ValueError(f"no organisation for the rows of {table_name}")  # a new table must say whose it is
    return f"({ORG_OF_LOGIN} IS NULL OR {own})"


def check_login(login: str) -> str:
    if not _LOGIN_RE.match(login or ""):
        raise InvalidInput(f"Tên đăng nhập “{login}” không hợp lệ: chỉ dùng chữ thường không dấu a–z, chữ số và dấu "
                           "gạch dưới, bắt đầu bằng chữ, tối đa 63 ký tự (ví dụ: cdcs_bvdk).")
    if login.startswith(("dvk_", "pg_")):
        raise InvalidInput(f"Tên đăng nhập “{login}” bắt đầu bằng “dvk_” hoặc “pg_”, dành cho vai trò của hệ thống.")
    return login


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _exec(conn, sql: str) -> None:
    conn.exec_driver_sql(sql)


def ensure_policies(conn) -> None:
    """The group roles, their grants and the row-level security policies (idempotent; run in the
    caller's transaction)."""
    from dvk.ledger.tables import TABLES

    # The roles are the server's, shared by every ledger on it, and each ledger's write lock is its own
    # database's: two ledgers set up at once both find a group role missing and both create it; the
    # second waits for the first and then finds it made (a unique violation of pg_authid, or "already
    # exists"), which here means only that it is there. The same for the groups' membership in WRITER.
    for role in (WRITER, *GROUPS.values()):
        _exec(conn, f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN "
                    f"BEGIN CREATE ROLE {role} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation "
                    f"THEN NULL; END; END IF; END $$")
    for role in GROUPS.values():
        _exec(conn, f"DO $$ BEGIN GRANT {WRITER} TO {role}; EXCEPTION WHEN duplicate_object OR unique_violation "
                    f"THEN NULL; END $$")
    _exec(conn, f"GRANT USAGE ON SCHEMA public TO {WRITER}")
    _exec(conn, f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {WRITER}")
    _exec(conn, f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {GROUPS['clerk']}")
    _exec(conn, f"GRANT INSERT ON history, change TO {WRITER}")
    _exec(conn, f"GRANT UPDATE (summary, n_changes, prev_hash, hash) ON history TO {WRITER}")
    others = [t for t in TABLES if t not in APPEND_ONLY]
    _exec(conn, f"GRANT INSERT, UPDATE, DELETE ON {', '.join(f'{chr(34)}{t}{chr(34)}' for t in others)} "
                f"TO {GROUPS['clerk']}")
    _exec(conn, f"GRANT INSERT, UPDATE, DELETE ON {', '.join(UNIT_TABLES)} TO {GROUPS['unit']}")
    _exec(conn, f"GRANT INSERT, UPDATE, DELETE ON {', '.join(COUNCIL_TABLES)} TO {GROUPS['council']}")

    def policy(table: str, name: str, what: str, to: str, using: str | None, check: str | None) -> None:
        _exec(conn, f'DROP POLICY IF EXISTS {name} ON "{table}"')
        sql = f'CREATE POLICY {name} ON "{table}" FOR {what} TO {to}'
        if using is not None:
            sql += f" USING ({using})"
        if check is not None:
            sql += f" WITH CHECK ({check})"
        _exec(conn, sql)

    _exec(conn, SCOPE_FUNCTION)
    _exec(conn, PARENT_FUNCTION)
    _exec(conn, HEAD_FUNCTIONS)
    _exec(conn, OPEN_FUNCTION)
    for fn in FUNCTIONS:
        _exec(conn, f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC")
        _exec(conn, f"GRANT EXECUTE ON FUNCTION {fn} TO {WRITER}")
    for t, tab in TABLES.items():
        _exec(conn, f'ALTER TABLE "{t}" ENABLE ROW LEVEL SECURITY')
        seen = "true"
        if t in READ_SCOPED:
            seen = f"{SCOPE} IS NULL OR {READ_SCOPED[t]}"
        elif t == "change":
            seen = change_seen()
        elif t == "history":
            seen = HISTORY_SEEN
        policy(t, "dvk_read", "SELECT", WRITER, seen, None)
        if t not in APPEND_ONLY:
            _exec(conn, f'DROP POLICY IF EXISTS dvk_clerk_write ON "{t}"')  # one policy for all, before --org
            own = org_rows(t, tab.columns.keys())
            policy(t, "dvk_clerk_add", "INSERT", GROUPS["clerk"], None, own)
            # Own before and after: nothing moves into or out of the organisation's part.
            policy(t, "dvk_clerk_change", "UPDATE", GROUPS["clerk"], own, own)
            policy(t, "dvk_clerk_remove", "DELETE", GROUPS["clerk"], own, None)
    policy("history", "dvk_history_add", "INSERT", WRITER, None, "\"user\" = current_user AND hash = ''")
    policy("history", "dvk_history_finish", "UPDATE", WRITER, "hash = '' AND \"user\" = current_user",
           "\"user\" = current_user")
    policy("change", "dvk_change_add", "INSERT", WRITER, None, "dvk_history_open(history_id, current_user)")
    for group, tables in (("unit", UNIT_TABLES), ("council", COUNCIL_TABLES)):
        for t, own in tables.items():
            policy(t, f"dvk_{group}_add", "INSERT", GROUPS[group], None, own)
            # Own before and after: no login takes another's row as its own (PostgreSQL skips the row;
            # dvk's Tx refuses a skipped update it can see).
            policy(t, f"dvk_{group}_change", "UPDATE", GROUPS[group], own, own)
            policy(t, f"dvk_{group}_remove", "DELETE", GROUPS[group], own, None)


def add_user(tx: "Tx", login: str, role: str, *, unit: str | None = None, member: str | None = None,
             org: str | None = None, password: str | None = None) -> dict:
    """Create the PostgreSQL login `login` with `role` on this ledger (in `tx`'s transaction, so the
    role, its grants and its mapping in the history commit together)."""
    from sqlalchemy import select
    from sqlalchemy.exc import DBAPIError

    from dvk.ledger.history import table

    conn = tx.conn
    if conn.dialect.name != "postgresql":
        raise LedgerError("Tài khoản đăng nhập chỉ có với sổ trên máy chủ PostgreSQL (--db postgresql://…); sổ tệp "
                          "SQLite thuộc về người giữ tệp.")
    check_login(login)
    if role not in ROLES:
        raise InvalidInput(f"Vai trò “{role}” không có; chọn một trong: {', '.join(ROLES)}.")
    if role == "unit":
        if not unit:
            raise InvalidInput("Vai trò unit cần --unit MÃ_ĐƠN_VỊ (đơn vị mà tài khoản này được ghi).")
        ut = table("unit")
        if conn.execute(select(ut.c.code).where(ut.c.code == unit)).first() is None:
            raise InvalidInput(f"Không có đơn vị “{unit}” trong sổ (--unit). Xem danh sách: dvk units list.")
    elif unit:
        raise InvalidInput("--unit chỉ dùng với --role unit.")
    if member and role != "council":
        raise InvalidInput("--member chỉ dùng với --role council.")
    if org is not None:
        ot = table("org")
        if conn.execute(select(ot.c.code).where(ot.c.code == org)).first() is None:
            raise InvalidInput(f"Không có tổ chức mã “{org}” trong sổ (--org). Xem danh sách: dvk org list.")
        if unit:
            unit_org = conn.execute(select(ut.c.org_code).where(ut.c.code == unit)).scalar()
            if unit_org != org:
                raise InvalidInput(f"Đơn vị “{unit}” (--unit) thuộc tổ chức “{unit_org}”, không thuộc “{org}” (--org).")
    taken = f"Tài khoản “{login}” đã có trên máy chủ; chọn tên khác."
    if conn.exec_driver_sql("SELECT 1 FROM pg_roles WHERE rolname = %(n)s", {"n": login}).first():
        raise InvalidInput(taken)
    ensure_policies(conn)
    pw = f" PASSWORD {_literal(password)}" if password else ""
    try:
        with conn.begin_nested():  # made at the same moment by another ledger of the server: said as above
            _exec(conn, f"CREATE ROLE {login} LOGIN{pw} IN ROLE {GROUPS[role]}")
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) not in ("42710", "23505"):  # duplicate_object, unique_violation
            raise
        raise InvalidInput(taken) from None
    db = conn.exec_driver_sql("SELECT current_database()").scalar()
    _exec(conn, f'REVOKE CONNECT ON DATABASE "{db}" FROM PUBLIC')
    _exec(conn, f'GRANT CONNECT ON DATABASE "{db}" TO {login}')
    mapping = {"role": role, "unit": unit, "member": (member or login) if role == "council" else None, "org": org}
    tx.upsert("meta", {"key": LOGIN_KEY + login, "value": json.dumps(mapping, ensure_ascii=False, sort_keys=True)})
    return mapping


def list_users(conn) -> list[dict]:
    from sqlalchemy import select

    from dvk.ledger.history import table

    mt = table("meta")
    out = []
    for key, value in conn.execute(select(mt.c.key, mt.c.value).where(mt.c.key.like(LOGIN_KEY + "%"))
                                   .order_by(mt.c.key)):
        try:
            m = json.loads(value)
        except ValueError:
            m = {}
        out.append({"login": key[len(LOGIN_KEY):], **m})
    return out


def records_login(conn) -> bool:
    """Whether this connection's login is one `dvk users add` made (a member of dvk_writer): its history
    records are written under its login, whatever --user says (the policies refuse anything else)."""
    groups = ", ".join(f"'{g}'" for g in GROUPS.values())
    return bool(conn.exec_driver_sql(
        "SELECT EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
        f"JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = current_user AND g.rolname IN ({groups}))").scalar())
