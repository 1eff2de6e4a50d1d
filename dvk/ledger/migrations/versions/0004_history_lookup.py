"""`dvk history ID` looks its rows up through an index instead of reading the whole change table.

- New index `ix_change_key_tail` on `change (substr(row_key, instr(row_key, '|') + 1))`: the row key
  after its first "|" — the whole key of a one-column key ("2024-007", a unit code) and the second
  part of a two-column one ("5|2024-007": an outcome or a decision's unit). With `ix_change_row
  (table_name, row_key)` for the keys that start with the ID ("2024-007|member": a score sheet),
  every change of an entry or a unit is found without a scan.

No row changes: the hash chain and `dvk verify` hold as they were.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX ix_change_key_tail ON change (substr(row_key, instr(row_key, '|') + 1))")


def downgrade() -> None:
    op.execute("DROP INDEX ix_change_key_tail")
