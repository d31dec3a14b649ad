"""privacy: registration.erased_at

A registration whose personal data was erased (by the delegate, or by `flask purge` after the event) keeps its
row, so every total still counts it; erased_at says when. Existing registrations were never erased: NULL.
consent_at needs nothing here: it has been required since 0001, so every row holds the moment of consent.
A downgrade forgets which rows were erased; what was erased stays erased.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 03:45:00.000000

"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
