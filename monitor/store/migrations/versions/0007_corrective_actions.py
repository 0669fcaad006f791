"""corrective actions: the bureau's 整改 requirements, the department's answers, acceptance or reopening

Revision ID: 0007
Revises: 0006
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('correctiveaction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=True),
    sa.Column('submission_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=True),
    sa.Column('requirement', sa.Text(), nullable=False),
    sa.Column('due', sa.Date(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('issued_by', sa.Integer(), nullable=True),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_by', sa.Integer(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['answered_by'], ['user.id'], ),
    sa.ForeignKeyConstraint(['decided_by'], ['user.id'], ),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], ),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicator.id'], ),
    sa.ForeignKeyConstraint(['issued_by'], ['user.id'], ),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], ),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], ),
    sa.ForeignKeyConstraint(['submission_id'], ['roundsubmission.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('correctiveaction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_correctiveaction_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_correctiveaction_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_correctiveaction_round_id'), ['round_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('correctiveaction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_correctiveaction_round_id'))
        batch_op.drop_index(batch_op.f('ix_correctiveaction_project_id'))
        batch_op.drop_index(batch_op.f('ix_correctiveaction_department_id'))

    op.drop_table('correctiveaction')
