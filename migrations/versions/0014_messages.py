"""messages: messages to delegates and event reminders

message: what an organizer wrote to an event's delegates (a default version and one per language, the audience,
the options), or an event reminder scheduled before the event starts; its idempotency key is unique per event.
message_recipient: the delegates a message goes to, fixed when it is confirmed. outbox_message.delegate_message_id:
the message a mail is one of. Expand only: new tables and a new nullable column; existing rows are not touched.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 02:15:52.499297

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('versions', sa.JSON(), nullable=False),
    sa.Column('audience', sa.JSON(), nullable=False),
    sa.Column('attach_ticket', sa.Boolean(), nullable=False),
    sa.Column('reply_to_contact', sa.Boolean(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('recipient_count', sa.Integer(), nullable=False),
    sa.Column('scheduled_mail_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['organizer.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['organizer.id'], ),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], ),
    sa.ForeignKeyConstraint(['scheduled_mail_id'], ['scheduled_mail.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_id', 'idempotency_key', name='uq_message_event_idempotency'),
    sa.UniqueConstraint('scheduled_mail_id', name='uq_message_scheduled_mail')
    )
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.create_index('ix_message_event_kind_created', ['event_id', 'kind', 'created_at'], unique=False)

    op.create_table('message_recipient',
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], ),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], ),
    sa.PrimaryKeyConstraint('message_id', 'registration_id')
    )
    with op.batch_alter_table('message_recipient', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_recipient_registration_id'), ['registration_id'], unique=False)

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delegate_message_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_message_delegate_message_id'), ['delegate_message_id'], unique=False)
        batch_op.create_foreign_key('fk_outbox_message_delegate_message_id', 'message', ['delegate_message_id'], ['id'])


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_constraint('fk_outbox_message_delegate_message_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outbox_message_delegate_message_id'))
        batch_op.drop_column('delegate_message_id')

    with op.batch_alter_table('message_recipient', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_recipient_registration_id'))

    op.drop_table('message_recipient')
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_index('ix_message_event_kind_created')

    op.drop_table('message')
