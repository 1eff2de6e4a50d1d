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
Without `--org` a clerk writes for the whole ledger. Reading is not limited by organisation (yet): every
login reads the whole ledger, as `dvk verify` and the hash chain need.
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


def org_rows(table_name: str, columns) -> str:
    """The rows of `table_name` a clerk mapped to an organisation (`--org`) may write: that organisation's
    own — by its `org_code`, through its entry or its decision; in `org`, the organisation itself and the
    ones directly under it. The ledger's settings (`meta`) only a clerk of the whole ledger (no `--org`),
    and never a login's mapping (`login:…`): those only the ledger's owner writes (`dvk users add`)."""
    if table_name == "meta":
        return f"({ORG_OF_LOGIN} IS NULL AND NOT starts_with(key, 'login:'))"
    if table_name == "org":
        own = f"(code = {ORG_OF_LOGIN} OR parent = {ORG_OF_LOGIN})"
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

    for role in (WRITER, *GROUPS.values()):
        _exec(conn, f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN "
                    f"CREATE ROLE {role} NOLOGIN; END IF; END $$")
    for role in GROUPS.values():
        _exec(conn, f"GRANT {WRITER} TO {role}")
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

    for t, tab in TABLES.items():
        _exec(conn, f'ALTER TABLE "{t}" ENABLE ROW LEVEL SECURITY')
        policy(t, "dvk_read", "SELECT", WRITER, "true", None)
        if t not in APPEND_ONLY:
            _exec(conn, f'DROP POLICY IF EXISTS dvk_clerk_write ON "{t}"')  # one policy for all, before --org
            own = org_rows(t, tab.columns.keys())
            policy(t, "dvk_clerk_add", "INSERT", GROUPS["clerk"], None, own)
            # USING true: an update of another organisation's row is refused with an error, not skipped.
            policy(t, "dvk_clerk_change", "UPDATE", GROUPS["clerk"], "true", own)
            policy(t, "dvk_clerk_remove", "DELETE", GROUPS["clerk"], own, None)
    policy("history", "dvk_history_add", "INSERT", WRITER, None, "\"user\" = current_user AND hash = ''")
    policy("history", "dvk_history_finish", "UPDATE", WRITER, "hash = '' AND \"user\" = current_user",
           "\"user\" = current_user")
    policy("change", "dvk_change_add", "INSERT", WRITER, None,
           "EXISTS (SELECT 1 FROM history h WHERE h.id = history_id AND h.hash = '' AND h.\"user\" = current_user)")
    for group, tables in (("unit", UNIT_TABLES), ("council", COUNCIL_TABLES)):
        for t, own in tables.items():
            policy(t, f"dvk_{group}_add", "INSERT", GROUPS[group], None, own)
            # USING true: an update of another's row is refused with an error (its new state fails the
            # check), not silently skipped.
            policy(t, f"dvk_{group}_change", "UPDATE", GROUPS[group], "true", own)
            policy(t, f"dvk_{group}_remove", "DELETE", GROUPS[group], own, None)


def add_user(tx: "Tx", login: str, role: str, *, unit: str | None = None, member: str | None = None,
             org: str | None = None, password: str | None = None) -> dict:
    """Create the PostgreSQL login `login` with `role` on this ledger (in `tx`'s transaction, so the
    role, its grants and its mapping in the history commit together)."""
    from sqlalchemy import select

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
    exists = conn.exec_driver_sql("SELECT 1 FROM pg_roles WHERE rolname = %(n)s", {"n": login}).first()
    if exists:
        raise InvalidInput(f"Tài khoản “{login}” đã có trên máy chủ; chọn tên khác.")
    ensure_policies(conn)
    pw = f" PASSWORD {_literal(password)}" if password else ""
    _exec(conn, f"CREATE ROLE {login} LOGIN{pw} IN ROLE {GROUPS[role]}")
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
