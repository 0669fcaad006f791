"""Leases that expire: job leases are renewed and finished, an evaluation run keeps a heartbeat, and at most one
evaluation runs at a time.

Revision ID: 0006
Revises: 0005
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

ONE_RUNNING = "status = 'running'"


def upgrade() -> None:
    op.add_column('joblease', sa.Column('renewed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('joblease', sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('joblease', sa.Column('attempts', sa.Integer(), nullable=False, server_default='1'))
    # Leases written before this revision had no way to say they ended: taken as finished, so nothing old re-runs.
    op.execute("UPDATE joblease SET finished_at = acquired_at")
    op.add_column('evaluationrun', sa.Column('host', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
    op.add_column('evaluationrun', sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))
    # A run left `running` by a killed process never finished: it is closed as failed before the index that allows
    # one running run at a time is built.
    op.execute("UPDATE evaluationrun SET status = 'failed', error = '升级时仍为运行中：进程已中断 "
               "(still running at upgrade: the process was interrupted)' WHERE status = 'running'")
    op.create_index('uq_evaluationrun_one_running', 'evaluationrun', ['status'], unique=True,
                    sqlite_where=sa.text(ONE_RUNNING), postgresql_where=sa.text(ONE_RUNNING))


def downgrade() -> None:
    op.drop_index('uq_evaluationrun_one_running', table_name='evaluationrun')
    with op.batch_alter_table('evaluationrun') as batch_op:
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('host')
    with op.batch_alter_table('joblease') as batch_op:
        batch_op.drop_column('attempts')
        batch_op.drop_column('finished_at')
        batch_op.drop_column('renewed_at')
