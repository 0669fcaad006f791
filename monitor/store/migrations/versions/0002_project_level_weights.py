"""project level weights

A project's own 预算执行率 / 产出 / 效益 / 满意度 points, as its table prints them or the finance bureau sets
them; NULL keeps the configured default, so every existing project scores as before.

Revision ID: 0002
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

COLUMNS = ('weight_execution', 'weight_output', 'weight_effect', 'weight_satisfaction')


def upgrade() -> None:
    with op.batch_alter_table('project', schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Numeric(precision=24, scale=6), nullable=True))


def downgrade() -> None:
    # the weights set per project are lost: the defaults in config.toml apply again
    with op.batch_alter_table('project', schema=None) as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
