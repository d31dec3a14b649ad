"""private links found by digest: registration.token_digest

A private link is looked up by the SHA-256 of its token (URL-safe base 64, no padding), then the tokens are compared
in constant time. Existing registrations get the digest of their token (the formula of this revision, frozen here).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 04:10:00.000000

"""
import base64
import hashlib

from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def _digest(token):
    return base64.urlsafe_b64encode(hashlib.sha256(token.encode('utf-8')).digest()).decode('ascii').rstrip('=')


def upgrade():
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token_digest', sa.String(length=43), nullable=True))
    connection = op.get_bind()
    registration = sa.table(
        'registration', sa.column('id', sa.Integer()), sa.column('token', sa.String()), sa.column('token_digest', sa.String())
    )
    rows = connection.execute(sa.select(registration.c.id, registration.c.token)).all()
    if rows:
        connection.execute(
            registration.update().where(registration.c.id == sa.bindparam('row_id')).values(token_digest=sa.bindparam('digest')),
            [{'row_id': row_id, 'digest': _digest(token)} for row_id, token in rows],
        )
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.alter_column('token_digest', existing_type=sa.String(length=43), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_registration_token_digest'), ['token_digest'])


def downgrade():
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_registration_token_digest'), type_='unique')
        batch_op.drop_column('token_digest')
