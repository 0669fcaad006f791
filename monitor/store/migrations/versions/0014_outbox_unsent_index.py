"""outbox unsent index: the outbox is indexed where its readers look, the messages still to send and the failed ones

Whole-table indexes on status, kind and next attempt made every claim and every sent mark (each a new row version
on PostgreSQL, status being indexed) write an entry in each of them. Two partial indexes take their place, which
a sent message, nearly every row, leaves. On PostgreSQL the message bodies are compressed with lz4 where the
server has it (bodies written from now on), which costs a fraction of pglz's time on insert and on each claim.

Revision ID: 0014
Revises: 0013
"""

from alembic import op
import sqlalchemy as sa

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

WHOLE_TABLE = ('kind', 'status', 'next_attempt_at')
PARTIAL = {'ix_outboxmessage_unsent': "status IN ('pending', 'sending')",
           'ix_outboxmessage_failed': "status = 'failed'"}


def _lz4_available() -> bool:
    return bool(op.get_bind().execute(sa.text(
        "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)")).first())


def upgrade() -> None:
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        for column in WHOLE_TABLE:
            batch_op.drop_index(f'ix_outboxmessage_{column}')
        for name, where in PARTIAL.items():
            batch_op.create_index(name, ['id'], unique=False, sqlite_where=sa.text(where),
                                  postgresql_where=sa.text(where))
    if op.get_bind().dialect.name == 'postgresql' and _lz4_available():
        op.execute("ALTER TABLE outboxmessage ALTER COLUMN raw SET COMPRESSION lz4")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("ALTER TABLE outboxmessage ALTER COLUMN raw SET COMPRESSION default")
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        for name in PARTIAL:
            batch_op.drop_index(name)
        for column in WHOLE_TABLE:
            batch_op.create_index(f'ix_outboxmessage_{column}', [column], unique=False)
