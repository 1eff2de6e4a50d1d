"""Decided years keep their units; a report changed after its confirmation says so.

- New table `decision_unit(decision_id, code, name, committee, ordinal)`: the units (name, Party
  committee, order) a recognition decision was taken with. Every reader of a decided year uses them,
  so a later `units import` no longer rewrites a signed decision.
- New column `report.confirmation_cleared_on`: the day a change to a confirmed report cleared the
  Party committee's confirmation.

Existing decisions get their units filled in here, as well as can be known: for each decision, the
units are replayed from the ledger's own history (it holds every unit row's full state after each
change) up to the first export of the decision's documents — the paper that was signed — or, when
none was recorded, up to the change that recorded the decision. A unit renamed afterwards (which
the 0002 release let `units import` do to decided years) gets back the name that was printed.
Where the history does not say (no recorded insert of the decision, or a unit row the replay lacks
for an entry of the year), the unit as it is now is used — the best available. The rows are recorded in the history record of the upgrade (see `MIGRATION_ROWS`), so
`dvk verify` holds afterwards.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import json

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

_ROWS_KEY = "dvk.migration_rows"  # dvk.ledger.migrations.MIGRATION_ROWS, spelled here: a migration never changes


def upgrade() -> None:
    op.create_table('decision_unit',
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('committee', sa.String(), nullable=True),
    sa.Column('ordinal', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['decision_id'], ['decision.id'], ),
    sa.PrimaryKeyConstraint('decision_id', 'code')
    )
    op.add_column('report', sa.Column('confirmation_cleared_on', sa.Date(), nullable=True))
    _fill_decision_units(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_column('confirmation_cleared_on')
    op.drop_table('decision_unit')


def _canonical(row: dict) -> str:
    """dvk.ledger.history.canonical for a row of plain values (sorted keys, no spaces, text as is)."""
    return json.dumps(row, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _fill_decision_units(conn) -> None:
    sql = conn.exec_driver_sql
    decisions = sql("SELECT id, year FROM decision ORDER BY id").fetchall()
    if not decisions:
        return
    current = {r[0]: {"code": r[0], "name": r[1], "committee": r[2], "ordinal": r[3]}
               for r in sql("SELECT code, name, committee, ordinal FROM unit")}
    recorded_at: dict[str, tuple[int, int]] = {}
    for hid, seq, key in sql("SELECT history_id, seq, row_key FROM change "
                             "WHERE table_name = 'decision' AND op = 'insert' ORDER BY history_id, seq"):
        recorded_at.setdefault(str(key), (hid, seq))
    printed_at: dict[str, tuple[int, int]] = {}
    for hid, seq, data in sql("SELECT history_id, seq, data FROM change "
                              "WHERE table_name = 'document' AND op = 'insert' ORDER BY history_id, seq"):
        try:
            dec = json.loads(data).get("decision_id")
        except (TypeError, ValueError, AttributeError):
            continue
        if dec is not None:
            printed_at.setdefault(str(dec), (hid, seq))
    unit_changes = sql("SELECT history_id, seq, row_key, op, data FROM change WHERE table_name = 'unit' "
                       "ORDER BY history_id, seq").fetchall()
    used: dict[int, set[str]] = {}
    for year, code in sql("SELECT DISTINCT year, unit_code FROM entry"):
        used.setdefault(year, set()).add(code)

    params: list[tuple] = []
    recorded: list[tuple[str, str]] = []
    for dec_id, year in decisions:
        units = _replayed(unit_changes, printed_at.get(str(dec_id)) or recorded_at.get(str(dec_id)))
        if units is None:
            units = dict(current)
        for code in sorted(used.get(year, set()) - set(units)):
            if code in current:
                units[code] = current[code]
        for code in sorted(units):
            u = units[code]
            row = {"decision_id": dec_id, "code": code, "name": u["name"], "committee": u.get("committee"),
                   "ordinal": int(u.get("ordinal") or 0)}
            params.append((dec_id, code, row["name"], row["committee"], row["ordinal"]))
            recorded.append((f"{dec_id}|{code}", _canonical(row)))
    if params:
        sql("INSERT INTO decision_unit (decision_id, code, name, committee, ordinal) VALUES (?, ?, ?, ?, ?)", params)
        conn.info.setdefault(_ROWS_KEY, []).append(("decision_unit", recorded))


def _replayed(changes, until: tuple[int, int] | None) -> dict[str, dict] | None:
    """The unit rows as the history says they stood just before the change at `until`; None when the
    history cannot say (no position, or a row it recorded that cannot be read)."""
    if until is None:
        return None
    state: dict[str, dict] = {}
    for hid, seq, key, change_op, data in changes:
        if (hid, seq) >= until:
            break
        if change_op == "delete":
            state.pop(str(key), None)
            continue
        try:
            row = json.loads(data)
        except (TypeError, ValueError):
            return None
        if not isinstance(row, dict) or not isinstance(row.get("name"), str):
            return None
        state[str(key)] = row
    return {code: {"code": code, "name": r["name"], "committee": r.get("committee"),
                   "ordinal": r.get("ordinal") if isinstance(r.get("ordinal"), int) else 0}
            for code, r in state.items()}
