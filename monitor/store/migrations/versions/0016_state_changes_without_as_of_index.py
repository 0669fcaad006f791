"""state changes without as of index: no reader looks changes up by date, and every evaluation wrote an entry for each

A first evaluation records one change for every state (255,454 at a fifth of a province); keeping this index
was about a quarter of the change table's insert time on PostgreSQL (0.85–1.09 s against 0.62–0.79 s for
those rows). Changes are looked up by indicator only (the importer removes a departed indicator's through it),
and that index stays.

Revision ID: 0016
Revises: 0015
"""

from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('indicatorstatechange', schema=None) as batch_op:
        batch_op.drop_index('ix_indicatorstatechange_as_of')


def downgrade() -> None:
    with op.batch_alter_table('indicatorstatechange', schema=None) as batch_op:
        batch_op.create_index('ix_indicatorstatechange_as_of', ['as_of'], unique=False)
