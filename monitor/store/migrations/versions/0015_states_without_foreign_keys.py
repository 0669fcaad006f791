"""states without foreign keys: the evaluation's own tables (indicatorstate, indicatorstatechange, projectstate)
no longer carry foreign keys to the indicator, the project and the run

They hold what the evaluation derived from rows it had just read, and only the evaluation writes them. On
PostgreSQL each foreign key is a trigger that looks up and share-locks the referenced row for every row written:
in the first evaluation of a province (every state new, every state also a change) those checks were more than
half of the server's work, and in the daily run every rewritten state checked its run again. An indicator or
project the importer removes now takes its states with it (`monitor.store.states.forget`), instead of being
kept because its states pointed at it. States a removal raced past are never read (every reader joins the
indicator or project) and the next run over their project range does not see them either.

Revision ID: 0015
Revises: 0014
"""

from alembic import op
import sqlalchemy as sa

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

# (table, column, referred table)
KEYS = [
    ('indicatorstate', 'indicator_id', 'indicator'),
    ('indicatorstate', 'run_id', 'evaluationrun'),
    ('indicatorstatechange', 'indicator_id', 'indicator'),
    ('indicatorstatechange', 'run_id', 'evaluationrun'),
    ('projectstate', 'project_id', 'project'),
    ('projectstate', 'run_id', 'evaluationrun'),
]
# SQLite's foreign keys have no names: batch mode names them by this convention so they can be dropped.
SQLITE_NAMES = {'fk': 'fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s'}


def _tables() -> list[str]:
    return list(dict.fromkeys(table for table, *_ in KEYS))


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    for table in _tables():
        keys = inspector.get_foreign_keys(table)
        if bind.dialect.name != 'sqlite':
            for key in keys:
                op.drop_constraint(key['name'], table, type_='foreignkey')
            continue
        # unnamed as created by 0001, named once a downgrade has added them back
        names = [key['name'] or f"fk_{table}_{key['constrained_columns'][0]}_{key['referred_table']}" for key in keys]
        with op.batch_alter_table(table, naming_convention=SQLITE_NAMES) as batch_op:
            for name in names:
                batch_op.drop_constraint(name, type_='foreignkey')


def downgrade() -> None:
    for table, column, referred in KEYS:  # a foreign key cannot be added over rows that break it
        op.execute(f"DELETE FROM {table} WHERE {column} IS NOT NULL "
                   f"AND {column} NOT IN (SELECT id FROM {referred})")
    for table in _tables():
        with op.batch_alter_table(table) as batch_op:
            for _, column, referred in (k for k in KEYS if k[0] == table):
                batch_op.create_foreign_key(f'{table}_{column}_fkey', referred, [column], ['id'])
