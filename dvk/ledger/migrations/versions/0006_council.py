"""The council of a year as data: its members, their declared conflicts of interest, their abstentions.

- `council_member(year, member, position, unit_code, role, ordinal)`: a year's council (Hội đồng Thi
  đua - Khen thưởng). A year without rows keeps the behaviour before this revision (any name scores).
- `council_conflict(entry_id, member, reason, declared_on)`: a conflict of interest declared on an entry
  (one with the member's own unit needs no row).
- `council_abstention(entry_id, member, reason, abstained_on)`: a member who does not score an entry.
- `council_meeting(year, held_on, place, absent)`: the council's meeting of the year (its minutes and
  the decision's "Xét đề nghị …" line cite it); `absent` a JSON list of members' names.

No data is moved: the tables start empty.

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('council_member',
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('member', sa.String(), nullable=False),
    sa.Column('position', sa.String(), nullable=True),
    sa.Column('unit_code', sa.String(), nullable=True),
    sa.Column('role', sa.String(), nullable=False),
    sa.Column('ordinal', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['unit_code'], ['unit.code'], ),
    sa.PrimaryKeyConstraint('year', 'member')
    )
    op.create_table('council_conflict',
    sa.Column('entry_id', sa.String(), nullable=False),
    sa.Column('member', sa.String(), nullable=False),
    sa.Column('reason', sa.String(), nullable=True),
    sa.Column('declared_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], ),
    sa.PrimaryKeyConstraint('entry_id', 'member')
    )
    op.create_table('council_abstention',
    sa.Column('entry_id', sa.String(), nullable=False),
    sa.Column('member', sa.String(), nullable=False),
    sa.Column('reason', sa.String(), nullable=True),
    sa.Column('abstained_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], ),
    sa.PrimaryKeyConstraint('entry_id', 'member')
    )
    op.create_table('council_meeting',
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('place', sa.String(), nullable=True),
    sa.Column('absent', sa.String(), nullable=False),
    sa.PrimaryKeyConstraint('year')
    )


def downgrade() -> None:
    op.drop_table('council_meeting')
    op.drop_table('council_abstention')
    op.drop_table('council_conflict')
    op.drop_table('council_member')
