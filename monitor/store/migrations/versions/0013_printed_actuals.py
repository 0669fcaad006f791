"""printed actuals: the 实际完成值 a department printed beside its score, kept verbatim for 自评复核

An actual kpiwatch cannot read as a report (neither a number nor a grade) is still shown in the review with
the reason it could not be scored. Rows imported before stay NULL and read as before; the downgrade drops the
column, and a re-import of the table fills it again.

Revision ID: 0013
Revises: 0012
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('printedselfevalscore', schema=None) as batch_op:
        batch_op.add_column(sa.Column('actual', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('printedselfevalscore', schema=None) as batch_op:
        batch_op.drop_column('actual')
