"""private links: the token kept only sealed (registration.token_sealed), replaced links and check-in codes

A database or a backup alone must yield no working private link. registration.token (plain text) goes; its digest
stays for the lookup, and the token is kept encrypted under the data keyring (FLASK_DATA_KEYS, MultiFernet), so the
worker can still put the same link in every later mail. Existing tokens are sealed here, under the first key of the
app that runs the upgrade (set FLASK_DATA_KEYS first; without it the instance folder's generated key is used). An
erased registration keeps no token at all (token_sealed ''), only its erased digest, as before.

replaced_credential remembers the private link (by its digest) and the check-in code that a change of email address
replaced, so the old link says "replaced" and the desk refuses the old ticket as such.

A "changed" mail queued for a former address before this revision carried the private link; it becomes the
"address_changed" notice, which carries neither link nor personal data.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 12:00:00.000000

"""
from alembic import op
from cryptography.fernet import Fernet, MultiFernet
from flask import current_app
import sqlalchemy as sa

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

BATCH_SIZE = 500
ERASED_MARK = '~'  # an erased registration's token was "~" + a digest (0006); no live token holds "~"


def keyring():
    """The app's data keys as this revision sealed with them (Fernet; the first key encrypts, all decrypt), written
    out here rather than imported from eventreg.data_keys, so a later change there does not change this revision.
    DATA_KEYS is a list of keys, or one key; the app filled it in (the instance folder's key when unset)."""
    keys = current_app.config['DATA_KEYS']
    return MultiFernet([Fernet(key) for key in ([keys] if isinstance(keys, str) else keys)])


def seal(ring, text):
    """`text` encrypted and authenticated under the first key."""
    return ring.encrypt(text.encode('utf-8')).decode('ascii')


def unseal(ring, sealed):
    """The text `sealed` holds."""
    return ring.decrypt(sealed.encode('ascii')).decode('utf-8')


registration = sa.table(
    'registration',
    sa.column('id', sa.Integer()),
    sa.column('token', sa.String()),
    sa.column('token_sealed', sa.String()),
)
outbox_message = sa.table(
    'outbox_message',
    sa.column('id', sa.Integer()),
    sa.column('kind', sa.String()),
    sa.column('state', sa.String()),
    sa.column('details', sa.JSON()),
)


def upgrade():
    op.create_table(
        'replaced_credential',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('registration_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('lookup', sa.String(length=43), nullable=False),
        sa.Column('replaced_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('kind', 'lookup', name='uq_replaced_credential_kind_lookup'),
    )
    with op.batch_alter_table('replaced_credential', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_replaced_credential_registration_id'), ['registration_id'], unique=False)

    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token_sealed', sa.String(length=200), nullable=True))
    connection = op.get_bind()
    ring = keyring()
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(registration.c.id, registration.c.token)
            .where(registration.c.id > last_id)
            .order_by(registration.c.id)
            .limit(BATCH_SIZE)
        ).all()
        if not rows:
            break
        connection.execute(
            registration.update().where(registration.c.id == sa.bindparam('row_id')).values(
                token_sealed=sa.bindparam('sealed')
            ),
            [
                {'row_id': row_id, 'sealed': '' if token.startswith(ERASED_MARK) else seal(ring, token)}
                for row_id, token in rows
            ],
        )
        last_id = rows[-1][0]
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.alter_column('token_sealed', existing_type=sa.String(length=200), nullable=False)
        batch_op.drop_column('token')

    queued = connection.execute(
        sa.select(outbox_message.c.id, outbox_message.c.details).where(
            outbox_message.c.kind == 'changed', outbox_message.c.state == 'queued'
        )
    ).all()
    to_former_address = [row_id for row_id, details in queued if (details or {}).get('old_address')]
    if to_former_address:
        connection.execute(
            outbox_message.update().where(outbox_message.c.id.in_(to_former_address)).values(kind='address_changed')
        )


def downgrade():
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token', sa.String(length=64), nullable=True))
    connection = op.get_bind()
    ring = keyring()
    digests = sa.table(
        'registration', sa.column('id', sa.Integer()), sa.column('token_sealed', sa.String()),
        sa.column('token', sa.String()), sa.column('token_digest', sa.String()),
    )
    rows = connection.execute(sa.select(digests.c.id, digests.c.token_sealed, digests.c.token_digest)).all()
    if rows:
        # An erased registration gets back a value no link holds, unique per row, as 0006 kept it.
        connection.execute(
            digests.update().where(digests.c.id == sa.bindparam('row_id')).values(token=sa.bindparam('plain')),
            [
                {'row_id': row_id, 'plain': unseal(ring, sealed) if sealed else ERASED_MARK + digest}
                for row_id, sealed, digest in rows
            ],
        )
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.alter_column('token', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint('uq_registration_token', ['token'])
        batch_op.drop_column('token_sealed')
    connection.execute(
        sa.update(outbox_message).where(outbox_message.c.kind == 'address_changed').values(state='cancelled')
    )
    op.drop_table('replaced_credential')
