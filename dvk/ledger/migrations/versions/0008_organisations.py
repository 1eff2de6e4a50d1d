"""Every level of the union: organisations as a tree in one ledger, entries proposed upward, packages.

- New table `org(code, name, parent, level, committee, ordinal)`: the organisations of the ledger.
- Entries numbered per organisation and year (`uq_entry_org_year_seq` replaces `uq_entry_year_seq`).
- New column `org_code` on what belongs to an organisation: `unit`, `entry`, `decision`, `proposal`,
  `document` (a plain column, always set by dvk).
- `org_profile`, `criteria_set`, `council_member`, `council_meeting` are keyed by organisation too:
  their primary key gains `org_code` (the table is rebuilt).
- New column `org_profile.award`: what the organisation's recognition gives (NULL: the decision's list).
- New tables `forward` (an entry proposed to the parent, linked to the original) and `package` (a
  package received from a lower ledger).

An existing ledger becomes a one-organisation tree: the organisation's code comes from the symbol of
its newest profile (CĐN → CDN: marks folded away, ASCII upper case), its name from that profile, level
"sector". Every row given an `org_code` is recorded in the history of the upgrade with its full new
state (see `MIGRATION_ROWS`); a row whose natural key changed ("2024" → "CDN|2024") is recorded as the
old key deleted and the new one inserted, so `dvk verify` replays the old history to the same state.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

import datetime as dt
import json
import re
import unicodedata
import warnings

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

_ROWS_KEY = "dvk.migration_rows"  # dvk.ledger.migrations.MIGRATION_ROWS, spelled here: a migration never changes
_PLAIN = ("unit", "entry", "decision", "proposal", "document")
_KEYED = {"org_profile": ("from_year",), "criteria_set": ("from_year",),
          "council_member": ("year", "member"), "council_meeting": ("year",)}
_NATURAL = {"unit": ("code",), "entry": ("id",), "decision": ("id",), "proposal": ("phase", "entry_id"),
            "document": ("sha256",)}


def _code(symbol: str) -> str:
    s = unicodedata.normalize("NFD", symbol or "").replace("đ", "d").replace("Đ", "D")
    s = "".join(c for c in s if not unicodedata.combining(c)).upper()
    s = re.sub(r"[^A-Z0-9]+", "_", s).strip("_")
    return s[:30] or "ORG"


def _iso(v):
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    raise TypeError(type(v).__name__)


def _canonical(row: dict) -> str:
    """dvk.ledger.history.canonical (sorted keys, no spaces, text as is, dates ISO)."""
    return json.dumps(row, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_iso)


def upgrade() -> None:
    conn = op.get_bind()
    op.create_table('org',
    sa.Column('code', sa.String(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('parent', sa.String(), nullable=True),
    sa.Column('level', sa.String(), nullable=False),
    sa.Column('committee', sa.String(), nullable=True),
    sa.Column('ordinal', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('forward',
    sa.Column('entry_id', sa.String(), nullable=False),
    sa.Column('from_org', sa.String(), nullable=False),
    sa.Column('from_entry', sa.String(), nullable=False),
    sa.Column('from_ledger', sa.String(), nullable=True),
    sa.Column('from_decision', sa.String(), nullable=False),
    sa.Column('from_score', sa.Float(), nullable=True),
    sa.Column('package', sa.String(), nullable=True),
    sa.Column('data_sha256', sa.String(), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], ),
    sa.PrimaryKeyConstraint('entry_id')
    )
    op.create_table('package',
    sa.Column('sha256', sa.String(), nullable=False),
    sa.Column('org_code', sa.String(), nullable=False),
    sa.Column('from_org', sa.String(), nullable=False),
    sa.Column('from_ledger', sa.String(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('sender_last_hash', sa.String(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('entries', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('sha256')
    )
    for name in _PLAIN:
        op.add_column(name, sa.Column('org_code', sa.String(), nullable=True))
    # Each organisation numbers its own entries of a year (2026-001, CDCS_A-2026-001): seq is unique by
    # organisation and year, no longer by year alone.
    with op.batch_alter_table("entry") as batch_op:
        batch_op.drop_constraint("uq_entry_year_seq", type_="unique")
        batch_op.create_unique_constraint("uq_entry_org_year_seq", ["org_code", "year", "seq"])
    for name, key in _KEYED.items():
        # Rebuilt with org_code first in the primary key (a fresh ledger gets the same table).
        with warnings.catch_warnings(), op.batch_alter_table(name, recreate="always") as batch_op:
            warnings.simplefilter("ignore", sa.exc.SAWarning)  # "primary key columns changed": that is the point
            batch_op.add_column(sa.Column('org_code', sa.String(), nullable=False, server_default=""))
            if conn.dialect.name != "sqlite":
                batch_op.drop_constraint(f"{name}_pkey", type_="primary")
            batch_op.create_primary_key(f"pk_{name}", ["org_code", *key])
            if name == "org_profile":
                batch_op.add_column(sa.Column('award', sa.String(), nullable=True))
        with op.batch_alter_table(name, recreate="always") as batch_op:
            batch_op.alter_column('org_code', server_default=None, existing_type=sa.String(), existing_nullable=False)

    meta = sa.MetaData()
    profile = sa.Table("org_profile", meta, autoload_with=conn)
    newest = conn.execute(sa.select(profile.c.org, profile.c.symbol)
                          .order_by(profile.c.from_year.desc()).limit(1)).first()
    if newest is None:
        return  # a new ledger: `dvk init` makes its first organisation
    code = _code(newest.symbol)
    org = sa.Table("org", meta, autoload_with=conn)
    row = {"code": code, "name": newest.org, "parent": None, "level": "sector", "committee": None, "ordinal": 0}
    conn.execute(sa.insert(org).values(**row))
    recorded = [("org", [(code, _canonical(row))], "insert")]
    for name in (*_PLAIN, *_KEYED):
        t = sa.Table(name, meta, autoload_with=conn)
        conn.execute(sa.update(t).values(org_code=code))
        keys = _NATURAL.get(name) or ("org_code", *_KEYED[name])
        rows = [dict(r) for r in conn.execute(sa.select(t).order_by(*[t.c[k] for k in keys])).mappings()]
        if not rows:
            continue
        if name in _KEYED:
            old = [("|".join(str(r[k]) for k in _KEYED[name]), None) for r in rows]
            recorded.append((name, old, "delete"))
            recorded.append((name, [("|".join(str(r[k]) for k in keys), _canonical(r)) for r in rows], "insert"))
        else:
            recorded.append((name, [("|".join(str(r[k]) for k in keys), _canonical(r)) for r in rows], "update"))
    conn.info.setdefault(_ROWS_KEY, []).extend(recorded)


def downgrade() -> None:
    with op.batch_alter_table("entry") as batch_op:
        batch_op.drop_constraint("uq_entry_org_year_seq", type_="unique")
        batch_op.create_unique_constraint("uq_entry_year_seq", ["year", "seq"])
    for name, key in _KEYED.items():
        with op.batch_alter_table(name, recreate="always") as batch_op:
            batch_op.drop_column('org_code')
            batch_op.create_primary_key(f"pk_{name}", list(key))
    for name in _PLAIN:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_column('org_code')
    op.drop_table('package')
    op.drop_table('forward')
    op.drop_table('org')
