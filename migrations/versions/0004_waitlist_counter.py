"""waiting-list counter: event.waitlisted

Existing events get it from their registrations: how many are waitlisted.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 01:10:00.000000

"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('waitlisted', sa.Integer(), server_default='0', nullable=False))
    op.execute(
        "UPDATE event SET waitlisted = (SELECT COUNT(*) FROM registration "
        "WHERE registration.event_id = event.id AND registration.status = 'waitlisted')"
    )


def downgrade():
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_column('waitlisted')
