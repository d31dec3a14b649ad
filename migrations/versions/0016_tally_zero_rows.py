"""tally rows of all zeros go: a registration_tally row whose sums all fall to 0 is deleted in the same statement

An erased delegate's institution (free text, as they typed it) stayed as the key and name of a tally row counting 0,
and after `flask purge` every institution of the event did: personal data kept after its erasure. A trigger on
registration_tally now deletes a row once an update leaves all its sums at 0 (the WHEN clause keeps every other
update off it), and on SQLite a second one skips the upsert of a change of nothing (a registration that holds no
seat, to its institution's row; PostgreSQL's statement triggers never write one). The rows of all zeros already
there are deleted. The readers skip a zero row as they skip a missing one, so no page changes.

Expand only: new triggers and a delete of rows that count no one; the previous release's writes are kept by the same
triggers. On PostgreSQL CREATE TRIGGER locks out writes to the tallies until this revision commits, so no row falls
to zero between it and the delete. The SQL is written out here as this revision made it (see 0015), not imported
from eventreg/stats/tallies.py.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 09:40:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

EMPTY = 'NEW.registrations = 0 AND NEW.accompanying = 0 AND NEW.visa_letters = 0 AND NEW.checked_in = 0'
DELETE_ROW = (
    'DELETE FROM registration_tally WHERE event_id = NEW.event_id AND kind = NEW.kind AND key = NEW.key'
    ' AND name = NEW.name AND status = NEW.status'
)
POSTGRESQL = [
    'CREATE OR REPLACE FUNCTION registration_tally_drop_zero() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n'
    f'  {DELETE_ROW};\n  RETURN NULL;\nEND\n$$',
    'CREATE OR REPLACE TRIGGER registration_tally_drop_zero AFTER UPDATE ON registration_tally FOR EACH ROW'
    f' WHEN ({EMPTY}) EXECUTE FUNCTION registration_tally_drop_zero()',
]
SQLITE = [
    f'CREATE TRIGGER registration_tally_skip_zero BEFORE INSERT ON registration_tally WHEN {EMPTY}'
    ' BEGIN SELECT RAISE(IGNORE); END',
    f'CREATE TRIGGER registration_tally_drop_zero AFTER UPDATE ON registration_tally WHEN {EMPTY}'
    f' BEGIN {DELETE_ROW}; END',
]


def upgrade():
    connection = op.get_bind()
    postgresql = connection.dialect.name == 'postgresql'
    if postgresql:
        # As in 0015: rather than keep the previous release's writers queued behind this lock while a long
        # transaction finishes, give up after 0.2 s (run `flask db upgrade` again).
        op.execute("SET LOCAL lock_timeout = '200ms'")
    for statement in POSTGRESQL if postgresql else SQLITE:  # first: no row falls to zero unseen after this
        connection.exec_driver_sql(statement)
    connection.exec_driver_sql(
        'DELETE FROM registration_tally WHERE registrations = 0 AND accompanying = 0 AND visa_letters = 0'
        ' AND checked_in = 0'
    )
    if postgresql:
        op.execute("SET LOCAL lock_timeout = DEFAULT")  # later migrations of the same run wait as usual


def downgrade():
    # The rows deleted stay deleted: the tallies of 0015 read a missing row as a row of zeros.
    postgresql = op.get_bind().dialect.name == 'postgresql'
    if postgresql:
        op.execute('DROP TRIGGER IF EXISTS registration_tally_drop_zero ON registration_tally')
        op.execute('DROP FUNCTION IF EXISTS registration_tally_drop_zero()')
    else:
        op.execute('DROP TRIGGER IF EXISTS registration_tally_skip_zero')
        op.execute('DROP TRIGGER IF EXISTS registration_tally_drop_zero')
