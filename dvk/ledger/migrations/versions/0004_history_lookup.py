"""`dvk history ID` through an index; each score sheet keeps its exact total.

- New index `ix_change_key_tail` on `change (substr(row_key, instr(row_key, '|') + 1))`: the row key
  after its first "|" — the whole key of a one-column key ("2024-007", a unit code) and the second
  part of a two-column one ("5|2024-007": an outcome or a decision's unit). With `ix_change_row
  (table_name, row_key)` for the keys that start with the ID ("2024-007|member": a score sheet),
  every change of an entry or a unit is found without a scan.
- New column `score.total`: the sheet's exact total ("p/q TAG", or "na TAG" when no criterion
  applies; TAG ties it to the criteria file and the marks, see `dvk.scoring.total_text`), so a
  whole-year read judges without decoding every sheet. The marks stay for `show` and documents.

Existing sheets get their total here, under the criteria set of their entry's year (as
`dvk.cycle.config.criteria_for` chooses it); each changed row is recorded as an update in the
history record of the upgrade (see `MIGRATION_ROWS`), so `dvk verify` holds afterwards. A sheet whose
marks cannot be read keeps NULL (the marks decide, and `dvk check` names the damaged row as before).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

import json

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

_ROWS_KEY = "dvk.migration_rows"  # dvk.ledger.migrations.MIGRATION_ROWS, spelled here: a migration never changes
_BATCH = 5000


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":  # no instr(); strpos() answers the same (0: no "|")
        op.execute("CREATE INDEX ix_change_key_tail ON change (substr(row_key, strpos(row_key, '|') + 1))")
    else:
        op.execute("CREATE INDEX ix_change_key_tail ON change (substr(row_key, instr(row_key, '|') + 1))")
    op.add_column('score', sa.Column('total', sa.String(), nullable=True))
    _fill_totals(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table('score', schema=None) as batch_op:
        batch_op.drop_column('total')
    op.execute("DROP INDEX ix_change_key_tail")


def _canonical(row: dict) -> str:
    """dvk.ledger.history.canonical for a row of plain values (sorted keys, no spaces, text as is)."""
    return json.dumps(row, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _fill_totals(conn) -> None:
    from dvk.criteria import load_text
    from dvk.errors import DvkError
    from dvk.scoring import total_text

    sets = conn.exec_driver_sql("SELECT from_year, text FROM criteria_set ORDER BY from_year").fetchall()
    if not sets:
        return
    crits: dict[int, object] = {}

    def crit_for(year: int):
        # criteria_for: the newest set from a year not after this one, else the first one.
        if year not in crits:
            chosen = [t for y, t in sets if y <= year]
            text = chosen[-1] if chosen else sets[0][1]
            try:
                crits[year] = load_text(text, source="Bộ tiêu chí lưu trong sổ", stored=True)
            except DvkError:
                crits[year] = None
        return crits[year]

    recorded: list[tuple[str, str]] = []
    params: list[tuple] = []
    rows = conn.exec_driver_sql(
        "SELECT s.entry_id, s.member, s.marks, e.year FROM score s JOIN entry e ON e.id = s.entry_id "
        "ORDER BY s.entry_id, s.member")
    for entry_id, member, marks, year in rows:
        crit = crit_for(year)
        try:
            scores = json.loads(marks)
            if crit is None or type(scores) is not dict:
                continue
            total = total_text(marks, scores, crit)
        except (TypeError, ValueError, AttributeError, ArithmeticError, RecursionError):
            continue  # damaged marks: NULL, the marks decide (and are reported where they are read)
        params.append((total, entry_id, member))
        recorded.append((f"{entry_id}|{member}", _canonical({"entry_id": entry_id, "member": member,
                                                             "marks": marks, "total": total})))
    for i in range(0, len(params), _BATCH):
        conn.exec_driver_sql("UPDATE score SET total = ? WHERE entry_id = ? AND member = ?", params[i:i + _BATCH])
    if recorded:
        conn.info.setdefault(_ROWS_KEY, []).append(("score", recorded, "update"))
