"""PostgreSQL speed and exact decimals: an indicator state no longer carries the run's as-of date (its project's
state does, written once a project per run), so the daily run rewrites only the states that changed, and on
PostgreSQL those rewrites stay on their page (fillfactor 70); on SQLite money and measured values are kept as
their exact digits (TEXT) instead of a 15-digit REAL.

Revision ID: 0009
Revises: 0008
"""

from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# (table, column, precision, scale, nullable): every column the models type as `ExactDecimal`.
EXACT = [
    *[('project', c, 18, 2, True) for c in (
        'total_funds', 'annual_funds', 'annual_central', 'annual_provincial', 'annual_city_county',
        'annual_self_raised', 'annual_other', 'total_central', 'total_provincial', 'total_city_county',
        'total_self_raised', 'total_other')],
    *[('project', c, 24, 6, True) for c in ('weight_execution', 'weight_output', 'weight_effect',
                                              'weight_satisfaction')],
    ('budgetadjustment', 'amount', 18, 2, False),
    ('indicator', 'target_value', 24, 6, True),
    ('indicator', 'weight', 24, 6, True),
    ('projectstate', 'spent', 18, 2, True),
    ('projectstate', 'forecast_spent', 18, 2, True),
    ('spending', 'amount', 18, 2, False),
    *[('spending', c, 18, 2, True) for c in ('fiscal', 'other', 'carryover')],
    ('report', 'value', 24, 6, True),
    ('report', 'forecast', 24, 6, True),
    ('selfevalentry', 'score', 24, 6, True),
]


def _tables() -> list[str]:
    return list(dict.fromkeys(table for table, *_ in EXACT))


def upgrade() -> None:
    with op.batch_alter_table('indicatorstate') as batch_op:
        batch_op.drop_column('as_of')
    if op.get_bind().dialect.name == 'postgresql':
        # Room on each page for the rows the daily run rewrites (about a sixth): an update whose indexed columns do
        # not change then stays on its page and writes no index entry (HOT). Pages written from now on.
        op.execute("ALTER TABLE indicatorstate SET (fillfactor = 70)")
    if op.get_bind().dialect.name != 'sqlite':
        return  # PostgreSQL's NUMERIC already keeps every digit
    for table in _tables():
        # The copy into the new table converts each REAL to its text, so what the old column held is kept.
        with op.batch_alter_table(table, recreate='always') as batch_op:
            for _, column, precision, scale, nullable in (e for e in EXACT if e[0] == table):
                batch_op.alter_column(column, type_=sa.Text(), existing_type=sa.Numeric(precision, scale),
                                      existing_nullable=nullable)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("ALTER TABLE indicatorstate RESET (fillfactor)")
    if op.get_bind().dialect.name == 'sqlite':
        for table in _tables():
            with op.batch_alter_table(table, recreate='always') as batch_op:
                for _, column, precision, scale, nullable in (e for e in EXACT if e[0] == table):
                    batch_op.alter_column(column, type_=sa.Numeric(precision, scale), existing_type=sa.Text(),
                                          existing_nullable=nullable)
    op.add_column('indicatorstate', sa.Column('as_of', sa.Date(), nullable=True))
    op.execute("UPDATE indicatorstate SET as_of = (SELECT ps.as_of FROM indicator i JOIN projectstate ps "
               "ON ps.project_id = i.project_id WHERE i.id = indicatorstate.indicator_id)")
    op.execute("UPDATE indicatorstate SET as_of = COALESCE(since, CURRENT_DATE) WHERE as_of IS NULL")
    with op.batch_alter_table('indicatorstate') as batch_op:
        batch_op.alter_column('as_of', existing_type=sa.Date(), nullable=False)
