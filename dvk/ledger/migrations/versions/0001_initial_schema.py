"""Initial schema: units, entries, reports, confirmations, scores, decisions, hash-chained history.

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 (release 0.1.0)
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('criteria_set',
    sa.Column('from_year', sa.Integer(), nullable=False),
    sa.Column('phase', sa.String(), nullable=False),
    sa.Column('text', sa.String(), nullable=False),
    sa.Column('sha256', sa.String(), nullable=False),
    sa.PrimaryKeyConstraint('from_year')
    )
    op.create_table('decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=False),
    sa.Column('revoked', sa.Boolean(), nullable=False),
    sa.Column('revoked_reason', sa.String(), nullable=True),
    sa.Column('revoked_on', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.create_index('ix_decision_year', ['year'], unique=False)

    op.create_table('history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.String(), nullable=False),
    sa.Column('user', sa.String(), nullable=False),
    sa.Column('command', sa.String(), nullable=False),
    sa.Column('summary', sa.String(), nullable=False),
    sa.Column('n_changes', sa.Integer(), nullable=False),
    sa.Column('prev_hash', sa.String(), nullable=False),
    sa.Column('hash', sa.String(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('meta',
    sa.Column('key', sa.String(), nullable=False),
    sa.Column('value', sa.String(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('org_profile',
    sa.Column('from_year', sa.Integer(), nullable=False),
    sa.Column('org', sa.String(), nullable=False),
    sa.Column('parent_org', sa.String(), nullable=False),
    sa.Column('place', sa.String(), nullable=False),
    sa.Column('symbol', sa.String(), nullable=False),
    sa.Column('signer', sa.String(), nullable=False),
    sa.Column('signer_title', sa.String(), nullable=False),
    sa.Column('on_behalf', sa.String(), nullable=False),
    sa.Column('recipients', sa.String(), nullable=False),
    sa.PrimaryKeyConstraint('from_year')
    )
    op.create_table('unit',
    sa.Column('code', sa.String(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('committee', sa.String(), nullable=True),
    sa.Column('ordinal', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('change',
    sa.Column('history_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('table_name', sa.String(), nullable=False),
    sa.Column('row_key', sa.String(), nullable=False),
    sa.Column('op', sa.String(), nullable=False),
    sa.Column('data', sa.String(), nullable=True),
    sa.ForeignKeyConstraint(['history_id'], ['history.id'], ),
    sa.PrimaryKeyConstraint('history_id', 'seq')
    )
    with op.batch_alter_table('change', schema=None) as batch_op:
        batch_op.create_index('ix_change_row', ['table_name', 'row_key'], unique=False)

    op.create_table('entry',
    sa.Column('id', sa.String(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('unit_code', sa.String(), nullable=False),
    sa.Column('title', sa.String(), nullable=False),
    sa.Column('kind', sa.String(), nullable=False),
    sa.Column('subject', sa.String(), nullable=False),
    sa.Column('person', sa.String(), nullable=True),
    sa.Column('position', sa.String(), nullable=True),
    sa.Column('field', sa.Integer(), nullable=False),
    sa.Column('registered_on', sa.Date(), nullable=True),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('sudden', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(), nullable=True),
    sa.Column('match_key', sa.String(), nullable=False),
    sa.ForeignKeyConstraint(['unit_code'], ['unit.code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('year', 'seq', name='uq_entry_year_seq')
    )
    with op.batch_alter_table('entry', schema=None) as batch_op:
        batch_op.create_index('ix_entry_year_match', ['year', 'match_key'], unique=False)
        batch_op.create_index('ix_entry_year_unit', ['year', 'unit_code'], unique=False)

    op.create_table('confirmation',
    sa.Column('entry_id', sa.String(), nullable=False),
    sa.Column('committee', sa.String(), nullable=False),
    sa.Column('confirmed_by', sa.String(), nullable=False),
    sa.Column('confirmed_on', sa.Date(), nullable=True),
    sa.Column('comment', sa.String(), nullable=True),
    sa.Column('rejected', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.String(), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], ),
    sa.PrimaryKeyConstraint('entry_id')
    )
    op.create_table('outcome',
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.String(), nullable=False),
    sa.Column('recognized', sa.Boolean(), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('reasons', sa.String(), nullable=False),
    sa.ForeignKeyConstraint(['decision_id'], ['decision.id'], ),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], ),
    sa.PrimaryKeyConstraint('decision_id', 'entry_id')
    )
    op.create_table('report',
    sa.Column('entry_id', sa.String(), nullable=False),
    sa.Column('approach', sa.String(), nullable=True),
    sa.Column('experience', sa.String(), nullable=True),
    sa.Column('spread', sa.String(), nullable=True),
    sa.Column('effectiveness', sa.String(), nullable=True),
    sa.Column('sustainability', sa.String(), nullable=True),
    sa.Column('reported_on', sa.Date(), nullable=True),
    sa.Column('file_path', sa.String(), nullable=True),
    sa.Column('file_sha256', sa.String(), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], ),
    sa.PrimaryKeyConstraint('entry_id')
    )
    op.create_table('score',
    sa.Column('entry_id', sa.String(), nullable=False),
    sa.Column('member', sa.String(), nullable=False),
    sa.Column('marks', sa.String(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], ),
    sa.PrimaryKeyConstraint('entry_id', 'member')
    )


def downgrade() -> None:
    op.drop_table('score')
    op.drop_table('report')
    op.drop_table('outcome')
    op.drop_table('confirmation')
    with op.batch_alter_table('entry', schema=None) as batch_op:
        batch_op.drop_index('ix_entry_year_unit')
        batch_op.drop_index('ix_entry_year_match')

    op.drop_table('entry')
    with op.batch_alter_table('change', schema=None) as batch_op:
        batch_op.drop_index('ix_change_row')

    op.drop_table('change')
    op.drop_table('unit')
    op.drop_table('org_profile')
    op.drop_table('meta')
    op.drop_table('history')
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.drop_index('ix_decision_year')

    op.drop_table('decision')
    op.drop_table('criteria_set')
