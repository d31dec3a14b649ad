"""tickets and delivery: registration.checkin_code and checked_in_by_id, outbox_attempt

Existing registrations get a random check-in code (the alphabet and length of this revision, frozen here).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 01:20:00.000000

"""
import secrets

from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

CHECKIN_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
CHECKIN_CODE_LENGTH = 10


def _new_code():
    return ''.join(secrets.choice(CHECKIN_ALPHABET) for _ in range(CHECKIN_CODE_LENGTH))


def upgrade():
    op.create_table(
        'outbox_attempt',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('attempted_at', sa.DateTime(), nullable=False),
        sa.Column('outcome', sa.String(length=20), nullable=False),
        sa.Column('error', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['message_id'], ['outbox_message.id'], name=op.f('fk_outbox_attempt_message_id_outbox_message')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_attempt')),
    )
    with op.batch_alter_table('outbox_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_attempt_message_id'), ['message_id'], unique=False)

    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checkin_code', sa.String(length=CHECKIN_CODE_LENGTH), nullable=True))
        batch_op.add_column(sa.Column('checked_in_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_registration_checked_in_by_id_organizer'), 'organizer', ['checked_in_by_id'], ['id']
        )
    connection = op.get_bind()
    registration = sa.table('registration', sa.column('id', sa.Integer()), sa.column('checkin_code', sa.String()))
    ids = connection.execute(sa.select(registration.c.id)).scalars().all()
    codes = set()
    while len(codes) < len(ids):
        codes.add(_new_code())
    if ids:
        connection.execute(
            registration.update().where(registration.c.id == sa.bindparam('row_id')).values(checkin_code=sa.bindparam('code')),
            [{'row_id': row_id, 'code': code} for row_id, code in zip(ids, codes)],
        )
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.alter_column('checkin_code', existing_type=sa.String(length=CHECKIN_CODE_LENGTH), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_registration_checkin_code'), ['checkin_code'])


def downgrade():
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_registration_checkin_code'), type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_registration_checked_in_by_id_organizer'), type_='foreignkey')
        batch_op.drop_column('checked_in_by_id')
        batch_op.drop_column('checkin_code')
    with op.batch_alter_table('outbox_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_attempt_message_id'))
    op.drop_table('outbox_attempt')
