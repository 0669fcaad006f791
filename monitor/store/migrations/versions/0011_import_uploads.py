"""import uploads: a document previewed in the portal waits in the store for its confirmation, on any replica

Revision ID: 0011
Revises: 0010
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('importupload',
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('uploaded_by', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['uploaded_by'], ['user.id'], ),
    sa.PrimaryKeyConstraint('sha256')
    )
    op.create_index('ix_importupload_uploaded_at', 'importupload', ['uploaded_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_importupload_uploaded_at', table_name='importupload')
    op.drop_table('importupload')
