"""Sessions that end and a login throttle in the store: a per-user session generation, and failed logins counted
per (account name, address) in a table instead of a lock on the user row and a count in one process's memory.

Revision ID: 0004
Revises: 0003
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('loginthrottle',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account', 'address')
    )
    with op.batch_alter_table('loginthrottle', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_loginthrottle_last_failure_at'), ['last_failure_at'], unique=False)
    # The lock on the user row gives way to the throttle table; a lock in force at upgrade simply ends.
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_generation', sa.Integer(), nullable=False, server_default='0'))
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')


def downgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_column('session_generation')
    with op.batch_alter_table('loginthrottle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_loginthrottle_last_failure_at'))
    op.drop_table('loginthrottle')
