"""what the public sees of an event: event.show_seats_left, event.public_min_country_count

Whether the event page and the registration form show the seats left (existing events keep showing them), and the
smallest number of participants a country needs before the public counter names it (1: every country is named).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 11:15:00.000000

"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('show_seats_left', sa.Boolean(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('public_min_country_count', sa.Integer(), server_default='1', nullable=False))


def downgrade():
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_column('public_min_country_count')
        batch_op.drop_column('show_seats_left')
