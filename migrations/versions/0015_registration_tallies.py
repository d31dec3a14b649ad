"""registration tallies: running counts of each event's registrations, kept by triggers, read by the dashboard

registration_tally: registrations (and their accompanying persons, visa letters, check-ins) per event, kind
(country, category, institution), value and status; registration_arrival: registrations per event and UTC quarter
hour. Triggers on registration keep both in the writing statement (eventreg/stats/tallies.py), so a cache miss of
the dashboard reads a few hundred rows instead of grouping every registration.

Expand only: two new tables and triggers; no existing column changes. The previous release keeps serving during
the deploy and its writes are counted too (the triggers are the database's, not the code's). On PostgreSQL
CREATE TRIGGER locks out writes to registration until this revision commits, so the tallies filled here from the
registrations are exact when the triggers take over (a few seconds per 100,000 registrations).

The triggers and the recount are written out here as this revision made them, not imported from the app: replaying
it later must build what it built then, and a later change to the tallies comes as a migration of its own
(tests/test_stats_tallies.py checks that the migrations build the triggers db.create_all() builds).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 05:53:18.736320

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

# The registration columns the tallies depend on; the statuses that hold a seat; a tally's sums.
TALLIED = (
    'event_id, status, country, category, institution, institution_key, accompanying, visa_letter, checked_in_at,'
    ' created_at'
)
HOLDING = "'confirmed', 'pending'"
SUMS = ('registrations', 'accompanying', 'visa_letters', 'checked_in')
INTO = 'INSERT INTO registration_tally (event_id, kind, key, name, status, ' + ', '.join(SUMS) + ') '
UPSERT = ' ON CONFLICT (event_id, kind, key, name, status) DO UPDATE SET ' + ', '.join(
    f'{column} = registration_tally.{column} + excluded.{column}' for column in SUMS
)
ARRIVAL_UPSERT = (
    ' ON CONFLICT (event_id, slot) DO UPDATE SET registrations = registration_arrival.registrations'
    ' + excluded.registrations'
)


def sqlite_counting(row, sign):
    """The upserts that add (sign '+') or take away ('-') the registration `row` (NEW or OLD) in its tallies."""
    sums = (
        f'{sign}1, {sign}{row}.accompanying, {sign}(CASE WHEN {row}.visa_letter THEN 1 ELSE 0 END),'
        f' {sign}(CASE WHEN {row}.checked_in_at IS NULL THEN 0 ELSE 1 END)'
    )
    holding = f'(CASE WHEN {row}.status IN ({HOLDING}) THEN {sign}1 ELSE 0 END)'
    return [
        f"{INTO}VALUES ({row}.event_id, 'country', {row}.country, '', {row}.status, {sums}){UPSERT}",
        f"{INTO}VALUES ({row}.event_id, 'category', {row}.category, '', {row}.status, {sums}){UPSERT}",
        f"{INTO}VALUES ({row}.event_id, 'institution', {row}.institution_key, {row}.institution, '', {holding},"
        f' 0, 0, 0){UPSERT}',
        f'INSERT INTO registration_arrival (event_id, slot, registrations) VALUES ({row}.event_id,'
        f" CAST(strftime('%s', {row}.created_at) AS INTEGER) / 900, {sign}1){ARRIVAL_UPSERT}",
    ]


def sqlite_triggers():
    """SQLite: a row trigger per operation, each an upsert per tally."""
    bodies = {
        'insert': ('INSERT', sqlite_counting('NEW', '+')),
        'delete': ('DELETE', sqlite_counting('OLD', '-')),
        'update': (f'UPDATE OF {TALLIED}', [*sqlite_counting('OLD', '-'), *sqlite_counting('NEW', '+')]),
    }
    return [
        f"CREATE TRIGGER registration_tally_{operation} AFTER {timing} ON registration"
        f" BEGIN {' '.join(f'{statement};' for statement in body)} END"
        for operation, (timing, body) in bodies.items()
    ]


def postgresql_triggers():
    """PostgreSQL: a function and a statement trigger per operation, over its transition tables; the events locked
    first, in id order (FOR NO KEY UPDATE), then one grouped upsert per tally, rows in key order."""
    sums = (
        'sum(sign), sum(sign * accompanying), sum(sign * CASE WHEN visa_letter THEN 1 ELSE 0 END),'
        ' sum(sign * CASE WHEN checked_in_at IS NULL THEN 0 ELSE 1 END)'
    )
    changed_sums = (
        'HAVING sum(sign) <> 0 OR sum(sign * accompanying) <> 0 OR sum(sign * CASE WHEN visa_letter THEN 1 ELSE 0'
        ' END) <> 0 OR sum(sign * CASE WHEN checked_in_at IS NULL THEN 0 ELSE 1 END) <> 0'
    )
    holding = f'sum(CASE WHEN status IN ({HOLDING}) THEN sign ELSE 0 END)'
    slot = 'floor(extract(epoch FROM changed.created_at) / 900)::bigint'
    operations = {
        'insert': (f'SELECT {TALLIED}, 1 AS sign FROM new_rows', 'REFERENCING NEW TABLE AS new_rows'),
        'delete': (f'SELECT {TALLIED}, -1 AS sign FROM old_rows', 'REFERENCING OLD TABLE AS old_rows'),
        'update': (
            f'SELECT {TALLIED}, 1 AS sign FROM new_rows UNION ALL SELECT {TALLIED}, -1 AS sign FROM old_rows',
            'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows',
        ),
    }
    statements = []
    for operation, (source, transitions) in operations.items():
        changed = f'({source}) AS changed'
        body = [
            f'PERFORM 1 FROM event WHERE id IN (SELECT event_id FROM {changed}) ORDER BY id FOR NO KEY UPDATE',
            f"{INTO}SELECT event_id, 'country', country, '', status, {sums} FROM {changed}"
            f' GROUP BY event_id, country, status {changed_sums} ORDER BY 1, 3, 5{UPSERT}',
            f"{INTO}SELECT event_id, 'category', category, '', status, {sums} FROM {changed}"
            f' GROUP BY event_id, category, status {changed_sums} ORDER BY 1, 3, 5{UPSERT}',
            f"{INTO}SELECT event_id, 'institution', institution_key, institution, '', {holding}, 0, 0, 0"
            f' FROM {changed} GROUP BY event_id, institution_key, institution HAVING {holding} <> 0'
            f' ORDER BY 1, 3, 4{UPSERT}',
            f'INSERT INTO registration_arrival (event_id, slot, registrations) SELECT event_id, {slot}, sum(sign)'
            f' FROM {changed} GROUP BY 1, 2 HAVING sum(sign) <> 0 ORDER BY 1, 2{ARRIVAL_UPSERT}',
        ]
        function = f'registration_tally_{operation}'
        lines = '\n  '.join(f'{statement};' for statement in body)
        statements.append(
            f'CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  {lines}\n'
            '  RETURN NULL;\nEND\n$$'
        )
        statements.append(
            f'CREATE OR REPLACE TRIGGER {function} AFTER {operation.upper()} ON registration'
            f' {transitions} FOR EACH STATEMENT EXECUTE FUNCTION {function}()'
        )
    return statements


def recount(slot):
    """The tallies of every registration already there; `slot` is the arrival quarter hour of created_at (UTC)."""
    sums = (
        'count(*), coalesce(sum(accompanying), 0), coalesce(sum(CASE WHEN visa_letter THEN 1 ELSE 0 END), 0),'
        ' count(checked_in_at)'
    )
    return [
        f"{INTO}SELECT event_id, 'country', country, '', status, {sums} FROM registration"
        ' GROUP BY event_id, country, status',
        f"{INTO}SELECT event_id, 'category', category, '', status, {sums} FROM registration"
        ' GROUP BY event_id, category, status',
        f"{INTO}SELECT event_id, 'institution', institution_key, institution, '', count(*), 0, 0, 0"
        f' FROM registration WHERE status IN ({HOLDING}) GROUP BY event_id, institution_key, institution',
        f'INSERT INTO registration_arrival (event_id, slot, registrations) SELECT event_id, {slot}, count(*)'
        f' FROM registration GROUP BY event_id, {slot}',
    ]


SQLITE_SLOT = "CAST(strftime('%s', created_at) AS INTEGER) / 900"
POSTGRESQL_SLOT = 'CAST(floor(extract(epoch FROM created_at) / 900) AS BIGINT)'


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        # The previous release keeps registering meanwhile: its transactions lock registration, then event; this one
        # locks event (the new tables' foreign keys), then registration (CREATE TRIGGER). Should they cross, this
        # migration gives up after 0.2 s (run `flask db upgrade` again) before a delegate's request waits the second
        # after which PostgreSQL would end one of the two as a deadlock.
        op.execute("SET LOCAL lock_timeout = '200ms'")
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table('registration_arrival',
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('slot', sa.BigInteger(), nullable=False),
    sa.Column('registrations', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', 'slot')
    )
    op.create_table('registration_tally',
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('key', sa.String(length=600), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('registrations', sa.Integer(), nullable=False),
    sa.Column('accompanying', sa.Integer(), nullable=False),
    sa.Column('visa_letters', sa.Integer(), nullable=False),
    sa.Column('checked_in', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', 'kind', 'key', 'name', 'status')
    )
    # ### end Alembic commands ###
    connection = op.get_bind()
    postgresql = connection.dialect.name == 'postgresql'
    # The triggers first: on PostgreSQL CREATE TRIGGER locks out writes, so the count below stays exact.
    for statement in postgresql_triggers() if postgresql else sqlite_triggers():
        connection.exec_driver_sql(statement)
    for statement in recount(POSTGRESQL_SLOT if postgresql else SQLITE_SLOT):
        connection.exec_driver_sql(statement)
    if postgresql:
        op.execute("SET LOCAL lock_timeout = DEFAULT")  # later migrations of the same run wait as usual


def downgrade():
    postgresql = op.get_bind().dialect.name == 'postgresql'
    for operation in ('insert', 'delete', 'update'):
        op.execute(f'DROP TRIGGER IF EXISTS registration_tally_{operation}' + (' ON registration' if postgresql else ''))
        if postgresql:
            op.execute(f'DROP FUNCTION IF EXISTS registration_tally_{operation}()')
    # ### commands auto generated by Alembic - please adjust! ###
    op.drop_table('registration_tally')
    op.drop_table('registration_arrival')
    # ### end Alembic commands ###
