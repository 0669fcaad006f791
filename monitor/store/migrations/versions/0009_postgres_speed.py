"""PostgreSQL speed: an indicator state no longer carries the run's as-of date (its project's state does, written
once a project per run), so the daily run rewrites only the states that changed.

Revision ID: 0009
Revises: 0006
"""

from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('indicatorstate') as batch_op:
        batch_op.drop_column('as_of')


def downgrade() -> None:
    op.add_column('indicatorstate', sa.Column('as_of', sa.Date(), nullable=True))
    op.execute("UPDATE indicatorstate SET as_of = (SELECT ps.as_of FROM indicator i JOIN projectstate ps "
               "ON ps.project_id = i.project_id WHERE i.id = indicatorstate.indicator_id)")
    op.execute("UPDATE indicatorstate SET as_of = COALESCE(since, CURRENT_DATE) WHERE as_of IS NULL")
    with op.batch_alter_table('indicatorstate') as batch_op:
        batch_op.alter_column('as_of', existing_type=sa.Date(), nullable=False)
