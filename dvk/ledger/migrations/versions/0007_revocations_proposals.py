"""Revocation decisions, years closed without a decision, the phase proposal.

- New column `decision.revocation_number`: the number of the decision that revoked this one (in the
  year's numbering); NULL for a decision in force, or one revoked without a decision sent out.
- New column `decision.kind`: "recognition" (a recognition decision) or "none" (a year closed with
  nothing recognised: no decision, number 0). Every existing decision is a recognition decision.
- New table `proposal(phase, entry_id, award)`: the entries a union proposes for the phase's award
  (`dvk propose`).

No existing row changes (the new columns are NULL or take their default), so no row is recorded in
the history of the upgrade.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('decision', sa.Column('revocation_number', sa.Integer(), nullable=True))
    op.add_column('decision', sa.Column('kind', sa.String(), nullable=False, server_default='recognition'))
    op.create_table('proposal',
    sa.Column('phase', sa.String(), nullable=False),
    sa.Column('entry_id', sa.String(), nullable=False),
    sa.Column('award', sa.String(), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], ),
    sa.PrimaryKeyConstraint('phase', 'entry_id')
    )


def downgrade() -> None:
    op.drop_table('proposal')
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.drop_column('kind')
        batch_op.drop_column('revocation_number')
