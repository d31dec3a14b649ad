"""the guest list: event categories, admission, delegations, invitations, their imports, scheduled mails

event_category: each event's own categories (code, labels per language, colour, order, who sets it). Every existing
event gets the five it used to have, in the same order, Delegate and Observer chosen by delegates, Speaker, Guest
and Press assigned by organizers; registrations keep their category codes untouched.
event.admission ('open' for existing events) and event.invitation_note; delegation, invitation (with its sealed
token and digest), invitation_import (an import's parsed rows between preview and confirmation), scheduled_mail
and scheduled_mail_recipient (timed mails, once per recipient); registration.delegation_id and is_focal_point;
outbox_message.invitation_id (mails about an invitation, not a registration).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 20:01:23.917975

"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

# The categories every event had before this revision, as models.guests.DEFAULT_CATEGORIES names them.
DEFAULT_CATEGORIES = (
    ('delegate', '#1f5fa8', 'delegates'),
    ('observer', '#5a6b7b', 'delegates'),
    ('speaker', '#b3261e', 'organizers'),
    ('guest', '#7b3fa0', 'organizers'),
    ('press', '#1e7b4f', 'organizers'),
)
event = sa.table('event', sa.column('id', sa.Integer()))
event_category = sa.table(
    'event_category',
    sa.column('event_id', sa.Integer()),
    sa.column('code', sa.String()),
    sa.column('labels', sa.JSON()),
    sa.column('colour', sa.String()),
    sa.column('position', sa.Integer()),
    sa.column('set_by', sa.String()),
)


def upgrade():
    op.create_table('delegation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_key', sa.String(length=600), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('quota', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_id', 'name_key', name='uq_delegation_event_name')
    )
    with op.batch_alter_table('delegation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delegation_event_id'), ['event_id'], unique=False)

    op.create_table('event_category',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('labels', sa.JSON(), nullable=False),
    sa.Column('colour', sa.String(length=7), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('set_by', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_id', 'code', name='uq_event_category_code')
    )
    with op.batch_alter_table('event_category', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_category_event_id'), ['event_id'], unique=False)

    op.create_table('invitation_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('organizer_id', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('rows', sa.JSON(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('applied', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], ),
    sa.ForeignKeyConstraint(['organizer_id'], ['organizer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('invitation_import', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitation_import_event_id'), ['event_id'], unique=False)

    op.create_table('scheduled_mail',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('anchor', sa.String(length=30), nullable=False),
    sa.Column('days_before', sa.Integer(), nullable=True),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('audience', sa.JSON(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('claimed_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('queued', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['organizer.id'], ),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('scheduled_mail', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scheduled_mail_event_id'), ['event_id'], unique=False)
        batch_op.create_index('ix_scheduled_mail_state_due', ['state', 'due_at'], unique=False)

    op.create_table('invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('token_sealed', sa.String(length=200), nullable=False),
    sa.Column('token_digest', sa.String(length=43), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('email_key', sa.String(length=762), nullable=False),
    sa.Column('honorific', sa.String(length=10), nullable=False),
    sa.Column('given_name', sa.String(length=100), nullable=False),
    sa.Column('family_name', sa.String(length=100), nullable=False),
    sa.Column('native_name', sa.String(length=200), nullable=False),
    sa.Column('name_key', sa.String(length=1206), nullable=False),
    sa.Column('institution', sa.String(length=200), nullable=False),
    sa.Column('position', sa.String(length=200), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('language', sa.String(length=10), nullable=False),
    sa.Column('delegation_id', sa.Integer(), nullable=True),
    sa.Column('is_focal_point', sa.Boolean(), nullable=False),
    sa.Column('skip_approval', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('decline_reason', sa.Text(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('opened_at', sa.DateTime(), nullable=True),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['delegation_id'], ['delegation.id'], ),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], ),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_id', 'email_key', name='uq_invitation_event_email'),
    sa.UniqueConstraint('token_digest')
    )
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitation_delegation_id'), ['delegation_id'], unique=False)
        batch_op.create_index('ix_invitation_event_name', ['event_id', 'name_key'], unique=False)
        batch_op.create_index('ix_invitation_event_status', ['event_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitation_registration_id'), ['registration_id'], unique=False)

    op.create_table('scheduled_mail_recipient',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scheduled_mail_id', sa.Integer(), nullable=False),
    sa.Column('recipient_key', sa.String(length=40), nullable=False),
    sa.Column('outbox_message_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['outbox_message_id'], ['outbox_message.id'], ),
    sa.ForeignKeyConstraint(['scheduled_mail_id'], ['scheduled_mail.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('scheduled_mail_id', 'recipient_key', name='uq_scheduled_mail_recipient')
    )
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('admission', sa.String(length=20), server_default='open', nullable=False))
        batch_op.add_column(sa.Column('invitation_note', sa.Text(), server_default='', nullable=False))

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invitation_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_message_invitation_id'), ['invitation_id'], unique=False)
        batch_op.create_foreign_key('fk_outbox_message_invitation_id', 'invitation', ['invitation_id'], ['id'])

    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delegation_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('is_focal_point', sa.Boolean(), server_default='0', nullable=False))
        batch_op.create_index(batch_op.f('ix_registration_delegation_id'), ['delegation_id'], unique=False)
        batch_op.create_foreign_key('fk_registration_delegation_id', 'delegation', ['delegation_id'], ['id'])

    connection = op.get_bind()
    event_ids = connection.execute(sa.select(event.c.id).order_by(event.c.id)).scalars().all()
    rows = [
        {'event_id': event_id, 'code': code, 'labels': {}, 'colour': colour, 'position': position, 'set_by': set_by}
        for event_id in event_ids
        for position, (code, colour, set_by) in enumerate(DEFAULT_CATEGORIES)
    ]
    if rows:
        connection.execute(event_category.insert(), rows)



def downgrade():
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.drop_constraint('fk_registration_delegation_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_registration_delegation_id'))
        batch_op.drop_column('is_focal_point')
        batch_op.drop_column('delegation_id')

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_constraint('fk_outbox_message_invitation_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outbox_message_invitation_id'))
        batch_op.drop_column('invitation_id')

    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_column('invitation_note')
        batch_op.drop_column('admission')

    op.drop_table('scheduled_mail_recipient')
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitation_registration_id'))
        batch_op.drop_index('ix_invitation_event_status')
        batch_op.drop_index('ix_invitation_event_name')
        batch_op.drop_index(batch_op.f('ix_invitation_delegation_id'))

    op.drop_table('invitation')
    with op.batch_alter_table('scheduled_mail', schema=None) as batch_op:
        batch_op.drop_index('ix_scheduled_mail_state_due')
        batch_op.drop_index(batch_op.f('ix_scheduled_mail_event_id'))

    op.drop_table('scheduled_mail')
    with op.batch_alter_table('invitation_import', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitation_import_event_id'))

    op.drop_table('invitation_import')
    with op.batch_alter_table('event_category', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_category_event_id'))

    op.drop_table('event_category')
    with op.batch_alter_table('delegation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delegation_event_id'))

    op.drop_table('delegation')
