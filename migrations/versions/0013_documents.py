"""documents: document jobs, document settings and their images, visa applications and visa letters

document_job: a run of badges asked for on one host, rendered by a worker, its PDF kept in the row so any host
serves it. stored_image: the letterhead's logo and signature, re-encoded. document_settings: an event's letterhead,
visa letter template(s), letter number prefix and custom label sheet. visa_application: what a consulate needs,
the passport number and date of birth sealed under the data keyring. visa_letter: each issued letter, numbered
per event, with its state for the verification page and its content sealed. Existing rows are not touched.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 23:05:17.319881

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('document_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('lease_until', sa.DateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['organizer.id'], ),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('document_job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_job_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_job_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index('ix_document_job_state_created', ['state', 'created_at'], unique=False)

    op.create_table('stored_image',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('content_type', sa.String(length=20), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=True),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('stored_image', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stored_image_event_id'), ['event_id'], unique=False)

    op.create_table('document_settings',
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('host_organisation', sa.String(length=200), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('signatory_name', sa.String(length=200), nullable=False),
    sa.Column('signatory_title', sa.String(length=200), nullable=False),
    sa.Column('logo_id', sa.Integer(), nullable=True),
    sa.Column('signature_id', sa.Integer(), nullable=True),
    sa.Column('letter_prefix', sa.String(length=30), nullable=False),
    sa.Column('letter_template', sa.Text(), nullable=False),
    sa.Column('second_language', sa.String(length=10), nullable=False),
    sa.Column('second_template', sa.Text(), nullable=False),
    sa.Column('label_sheet', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], ),
    sa.ForeignKeyConstraint(['logo_id'], ['stored_image.id'], ),
    sa.ForeignKeyConstraint(['signature_id'], ['stored_image.id'], ),
    sa.PrimaryKeyConstraint('event_id')
    )
    op.create_table('visa_application',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('passport_name', sa.String(length=200), nullable=False),
    sa.Column('nationality', sa.String(length=2), nullable=False),
    sa.Column('passport_number_sealed', sa.Text(), nullable=False),
    sa.Column('passport_expiry', sa.Date(), nullable=True),
    sa.Column('birth_date_sealed', sa.Text(), nullable=False),
    sa.Column('consulate_city', sa.String(length=100), nullable=False),
    sa.Column('arrival', sa.Date(), nullable=True),
    sa.Column('departure', sa.Date(), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('refusal_reason', sa.String(length=500), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['organizer.id'], ),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], ),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('registration_id')
    )
    with op.batch_alter_table('visa_application', schema=None) as batch_op:
        batch_op.create_index('ix_visa_application_event_state', ['event_id', 'state'], unique=False)

    op.create_table('visa_letter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('verify_digest', sa.String(length=43), nullable=False),
    sa.Column('holder_name', sa.String(length=200), nullable=False),
    sa.Column('passport_tail', sa.String(length=3), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('state_changed_at', sa.DateTime(), nullable=True),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('content_sealed', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], ),
    sa.ForeignKeyConstraint(['issued_by_id'], ['organizer.id'], ),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_id', 'sequence', name='uq_visa_letter_event_sequence'),
    sa.UniqueConstraint('number')
    )
    with op.batch_alter_table('visa_letter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visa_letter_registration_id'), ['registration_id'], unique=False)



def downgrade():
    with op.batch_alter_table('visa_letter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visa_letter_registration_id'))

    op.drop_table('visa_letter')
    with op.batch_alter_table('visa_application', schema=None) as batch_op:
        batch_op.drop_index('ix_visa_application_event_state')

    op.drop_table('visa_application')
    op.drop_table('document_settings')
    with op.batch_alter_table('stored_image', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stored_image_event_id'))

    op.drop_table('stored_image')
    with op.batch_alter_table('document_job', schema=None) as batch_op:
        batch_op.drop_index('ix_document_job_state_created')
        batch_op.drop_index(batch_op.f('ix_document_job_expires_at'))
        batch_op.drop_index(batch_op.f('ix_document_job_event_id'))

    op.drop_table('document_job')
