"""an organizer account's own language: organizer.language

The language of the organizer pages for the account, one of LANGUAGES; '' (every existing account) follows the
browser's Accept-Language, as all accounts did before.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('organizer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=10), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('organizer', schema=None) as batch_op:
        batch_op.drop_column('language')
