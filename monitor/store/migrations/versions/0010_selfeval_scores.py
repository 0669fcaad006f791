"""selfeval scores: the scores a department printed in its own 自评表, kept beside kpiwatch's for 自评复核

Revision ID: 0010
Revises: 0009
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # exact decimals are TEXT on SQLite and NUMERIC on PostgreSQL, as 0009 made every other one
    exact = sa.Text() if op.get_bind().dialect.name == 'sqlite' else sa.Numeric(24, 6)
    op.create_table('printedselfevalscore',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=True),
    sa.Column('row', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('points', exact, nullable=True),
    sa.Column('score', exact, nullable=True),
    sa.Column('rate', exact, nullable=True),
    sa.Column('source_file', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('line', sa.Integer(), nullable=True),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicator.id'], ),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_printedselfevalscore_project_id', 'printedselfevalscore', ['project_id'], unique=False)
    op.create_index('ix_printedselfevalscore_indicator_id', 'printedselfevalscore', ['indicator_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_printedselfevalscore_indicator_id', table_name='printedselfevalscore')
    op.drop_index('ix_printedselfevalscore_project_id', table_name='printedselfevalscore')
    op.drop_table('printedselfevalscore')
