"""capacity counter and mail details: event.seats_taken, outbox_message.details

Existing events get their counter from their registrations: confirmed and pending ones hold
1 + accompanying seats each.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 22:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seats_taken', sa.Integer(), server_default='0', nullable=False))
    op.execute(
        "UPDATE event SET seats_taken = COALESCE((SELECT SUM(1 + registration.accompanying) FROM registration "
        "WHERE registration.event_id = event.id AND registration.status IN ('confirmed', 'pending')), 0)"
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('details', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('details')
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_column('seats_taken')
