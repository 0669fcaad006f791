"""reasons in English: every light's reason is kept in both languages the portal speaks

Revision ID: 0012
Revises: 0011

States written before have no English reason (NULL) until the next evaluation rewrites them; until then an
English page names their status instead.
"""

from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

TABLES = ('indicatorstate', 'indicatorstatechange', 'projectstate')


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('reason_en', sa.Text(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('reason_en')
