"""Running tallies of each event's registrations, kept by database triggers, so the report reads a few hundred rows
instead of grouping every registration.

Each registration counts, while it exists, in four rows: its (country, status) and (category, status) rows of
`registration_tally`, its (institution key, spelling) row there while it holds a seat, and its arrival quarter hour
(UTC) in `registration_arrival`. Triggers on `registration` subtract a row's old values and add its new ones in the
writing statement itself, so every way of writing counts, and none can be forgotten: the registration hot path's
Core INSERT, ORM flushes, bulk UPDATE and DELETE statements, erasure, a purge, a migration. A tally is never stale
against the registrations it is read with (same transaction, same snapshot). A row whose sums all fall to zero is
deleted in the same statement (a trigger on the tally table: an institution's row holds what a delegate typed, which
must not outlive its erasure); readers skip zero rows all the same, so a zero row and a missing one read alike.

On PostgreSQL two transactions writing the same tally rows must not deadlock: the trigger first locks the event
rows, in id order (FOR NO KEY UPDATE, the lock an UPDATE of its counters takes, which an INSERT elsewhere that
refers to the event does not wait for). Every write in the app already holds it (capacity.lock_event, the flush
hook's counter UPDATE, cache._mark_bulk_writes), so writers of one event queue there, and tally rows are only ever
taken by the holder of their event's lock. A statement trigger runs after its statement has locked the registration
rows, so SQL typed outside the app must lock the event first (SELECT … FROM event WHERE id = … FOR NO KEY UPDATE), or
it may deadlock with the app.
"""

from sqlalchemy import BigInteger, ForeignKey, Integer, String, case, cast, delete, event, func, insert, literal, select
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models import KEY_EXPANSION, SEAT_HOLDING, Registration
from . import aggregates

_HOLDING_SQL = ", ".join(f"'{status.value}'" for status in SEAT_HOLDING)
QUARTER_HOUR = 900  # seconds: every UTC offset in use is a whole number of quarter hours (report._daily)

# The registration columns the tallies depend on: an UPDATE that sets none of them leaves the tallies alone.
TALLIED_COLUMNS = (
    "event_id",
    "status",
    "country",
    "category",
    "institution",
    "institution_key",
    "accompanying",
    "visa_letter",
    "checked_in_at",
    "created_at",
)


class RegistrationTally(db.Model):
    """How many registrations of one event have one value of a dimension in one status, with their sums."""

    __tablename__ = "registration_tally"

    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), primary_key=True)
    # "country", "category" or "institution".
    kind: Mapped[str] = mapped_column(String(12), primary_key=True)
    # The country code, the category code, or the institution key (institutions are grouped by it).
    key: Mapped[str] = mapped_column(String(200 * KEY_EXPANSION), primary_key=True)
    # An institution's spelling (the report names a key by its first spelling); "" for the other kinds.
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    registrations: Mapped[int] = mapped_column(Integer)
    accompanying: Mapped[int] = mapped_column(Integer)
    visa_letters: Mapped[int] = mapped_column(Integer)
    checked_in: Mapped[int] = mapped_column(Integer)


class RegistrationArrival(db.Model):
    """How many registrations of one event (every status) were received in one UTC quarter hour."""

    __tablename__ = "registration_arrival"

    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), primary_key=True)
    # Quarter hours since the Unix epoch, UTC: each falls on one local day in every timezone.
    slot: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    registrations: Mapped[int] = mapped_column(Integer)


def _slot(dialect: str, row: str) -> str:
    """SQL for the arrival quarter hour of `row` (NEW or OLD); created_at is naive UTC on both engines."""
    if dialect == "postgresql":
        return f"floor(extract(epoch FROM {row}.created_at) / {QUARTER_HOUR})::bigint"
    return f"CAST(strftime('%s', {row}.created_at) AS INTEGER) / {QUARTER_HOUR}"


def _counting(dialect: str, row: str, sign: str) -> list[str]:
    """The upserts that add (`sign` "+") or take away ("-") the registration `row` in its tallies."""
    sums = (
        f"{sign}1, {sign}{row}.accompanying, {sign}(CASE WHEN {row}.visa_letter THEN 1 ELSE 0 END),"
        f" {sign}(CASE WHEN {row}.checked_in_at IS NULL THEN 0 ELSE 1 END)"
    )
    # Institutions are only ever counted among seat holders: one row per spelling, whatever the status, is a
    # quarter of the rows the report's top ten would otherwise group.
    holding = f"(CASE WHEN {row}.status IN ({_HOLDING_SQL}) THEN {sign}1 ELSE 0 END)"
    add = ", ".join(f"{column} = registration_tally.{column} + excluded.{column}" for column in _SUMS)
    tally = (
        "INSERT INTO registration_tally (event_id, kind, key, name, status, registrations, accompanying,"
        " visa_letters, checked_in) VALUES ({row}.event_id, '{kind}', {key}, {name}, {status}, {sums})"
        " ON CONFLICT (event_id, kind, key, name, status) DO UPDATE SET {add}"
    )
    status = f"{row}.status"
    # Made of this module's constants and NEW/OLD only: nothing from outside reaches the SQL.
    return [
        tally.format(row=row, kind="country", key=f"{row}.country", name="''", status=status, sums=sums, add=add),
        tally.format(row=row, kind="category", key=f"{row}.category", name="''", status=status, sums=sums, add=add),
        tally.format(
            row=row,
            kind="institution",
            key=f"{row}.institution_key",
            name=f"{row}.institution",
            status="''",
            sums=f"{holding}, 0, 0, 0",
            add=add,
        ),
        f"INSERT INTO registration_arrival (event_id, slot, registrations) VALUES ({row}.event_id,"  # noqa: S608
        f" {_slot(dialect, row)}, {sign}1) ON CONFLICT (event_id, slot) DO UPDATE SET"
        " registrations = registration_arrival.registrations + excluded.registrations",
    ]


_SUMS = ("registrations", "accompanying", "visa_letters", "checked_in")


def trigger_ddl(dialect: str) -> list[str]:
    """The statements that create the triggers keeping the tallies (replacing older ones of the same names)."""
    columns = ", ".join(TALLIED_COLUMNS)
    if dialect == "postgresql":
        return _postgresql_ddl()
    # SQLite: one trigger per operation. Its write lock is the database's, so writers never meet on a tally row.
    body = {
        "insert": _counting(dialect, "NEW", "+"),
        "delete": _counting(dialect, "OLD", "-"),
        "update": [*_counting(dialect, "OLD", "-"), *_counting(dialect, "NEW", "+")],
    }
    timing = {"insert": "INSERT", "delete": "DELETE", "update": f"UPDATE OF {columns}"}
    statements = []
    for operation, counting in body.items():
        statements.append(f"DROP TRIGGER IF EXISTS registration_tally_{operation}")
        statements.append(
            f"CREATE TRIGGER registration_tally_{operation} AFTER {timing[operation]} ON registration"
            f" BEGIN {' '.join(f'{statement};' for statement in counting)} END"
        )
    return statements


# On PostgreSQL the triggers run once per statement, over its transition tables: a bulk statement adds each tally
# row's change once (row by row, a transaction updating one tally row 100,000 times walks an ever longer chain of
# its versions, minutes instead of a second), and a statement that changes nothing tallied writes nothing.
_CHANGED = {
    "insert": "SELECT {columns}, 1 AS sign FROM new_rows",
    "delete": "SELECT {columns}, -1 AS sign FROM old_rows",
    "update": "SELECT {columns}, 1 AS sign FROM new_rows UNION ALL SELECT {columns}, -1 AS sign FROM old_rows",
}
_TRANSITIONS = {
    "insert": "REFERENCING NEW TABLE AS new_rows",
    "delete": "REFERENCING OLD TABLE AS old_rows",
    "update": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
}


def _postgresql_ddl() -> list[str]:
    """A function and a statement trigger per operation (transition tables allow one operation per trigger)."""
    columns = ", ".join(TALLIED_COLUMNS)
    sums = (
        "sum(sign), sum(sign * accompanying), sum(sign * CASE WHEN visa_letter THEN 1 ELSE 0 END),"
        " sum(sign * CASE WHEN checked_in_at IS NULL THEN 0 ELSE 1 END)"
    )
    changed_sums = "HAVING sum(sign) <> 0 OR sum(sign * accompanying) <> 0 OR sum(sign * CASE WHEN visa_letter"
    changed_sums += " THEN 1 ELSE 0 END) <> 0 OR sum(sign * CASE WHEN checked_in_at IS NULL THEN 0 ELSE 1 END) <> 0"
    holding = f"sum(CASE WHEN status IN ({_HOLDING_SQL}) THEN sign ELSE 0 END)"
    add = ", ".join(f"{column} = registration_tally.{column} + excluded.{column}" for column in _SUMS)
    upsert = " ON CONFLICT (event_id, kind, key, name, status) DO UPDATE SET " + add
    into = "INSERT INTO registration_tally (event_id, kind, key, name, status, " + ", ".join(_SUMS) + ") "
    slot = _slot("postgresql", "changed")
    statements = []
    for operation, source in _CHANGED.items():
        changed = f"({source.format(columns=columns)}) AS changed"
        # Rows in key order, so two statements take the tally rows they share in the same order.
        body = [
            # The events first, in id order: their writers queue there, and never wait on each other's tally rows.
            f"PERFORM 1 FROM event WHERE id IN (SELECT event_id FROM {changed}) ORDER BY id FOR NO KEY UPDATE",  # noqa: S608 - constants only
            f"{into}SELECT event_id, 'country', country, '', status, {sums} FROM {changed}"  # noqa: S608 - constants only
            f" GROUP BY event_id, country, status {changed_sums} ORDER BY 1, 3, 5{upsert}",
            f"{into}SELECT event_id, 'category', category, '', status, {sums} FROM {changed}"  # noqa: S608 - constants only
            f" GROUP BY event_id, category, status {changed_sums} ORDER BY 1, 3, 5{upsert}",
            f"{into}SELECT event_id, 'institution', institution_key, institution, '', {holding}, 0, 0, 0"  # noqa: S608 - constants only
            f" FROM {changed} GROUP BY event_id, institution_key, institution HAVING {holding} <> 0"
            f" ORDER BY 1, 3, 4{upsert}",
            f"INSERT INTO registration_arrival (event_id, slot, registrations) SELECT event_id, {slot}, sum(sign)"  # noqa: S608 - constants only
            f" FROM {changed} GROUP BY 1, 2 HAVING sum(sign) <> 0 ORDER BY 1, 2 ON CONFLICT (event_id, slot)"
            " DO UPDATE SET registrations = registration_arrival.registrations + excluded.registrations",
        ]
        function = f"registration_tally_{operation}"
        lines = "\n  ".join(f"{statement};" for statement in body)
        statements.append(
            f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  {lines}\n"
            "  RETURN NULL;\nEND\n$$"
        )
        statements.append(
            f"CREATE OR REPLACE TRIGGER {function} AFTER {operation.upper()} ON registration"
            f" {_TRANSITIONS[operation]} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )
    return statements


# A tally row whose sums are all 0 counts no one: it goes in the statement that empties it (its institution's name
# may be all that is left of an erased delegate). The WHEN clause keeps every other write of a tally row off it.
_EMPTY = "NEW.registrations = 0 AND NEW.accompanying = 0 AND NEW.visa_letters = 0 AND NEW.checked_in = 0"
_THIS_ROW = "event_id = NEW.event_id AND kind = NEW.kind AND key = NEW.key AND name = NEW.name AND status = NEW.status"


def empty_row_ddl(dialect: str) -> list[str]:
    """The statements that create the triggers on registration_tally that keep no row of all zeros (migration 0016)."""
    delete_row = f"DELETE FROM registration_tally WHERE {_THIS_ROW}"  # noqa: S608 - constants only
    if dialect == "postgresql":  # its triggers never insert a change of nothing (HAVING … <> 0)
        return [
            "CREATE OR REPLACE FUNCTION registration_tally_drop_zero() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n"
            f"  {delete_row};\n  RETURN NULL;\nEND\n$$",
            "CREATE OR REPLACE TRIGGER registration_tally_drop_zero AFTER UPDATE ON registration_tally FOR EACH ROW"
            f" WHEN ({_EMPTY}) EXECUTE FUNCTION registration_tally_drop_zero()",
        ]
    # SQLite's row triggers also upsert a change of nothing (a registration that holds no seat, to its institution's
    # row): RAISE(IGNORE) skips that one upsert, and the registration's trigger goes on with its next statement.
    return [
        "DROP TRIGGER IF EXISTS registration_tally_skip_zero",
        f"CREATE TRIGGER registration_tally_skip_zero BEFORE INSERT ON registration_tally WHEN {_EMPTY}"
        " BEGIN SELECT RAISE(IGNORE); END",
        "DROP TRIGGER IF EXISTS registration_tally_drop_zero",
        f"CREATE TRIGGER registration_tally_drop_zero AFTER UPDATE ON registration_tally WHEN {_EMPTY}"
        f" BEGIN {delete_row}; END",
    ]


def create_triggers(connection) -> None:
    """Create the triggers that keep the tallies, on the connection's engine."""
    for statement in trigger_ddl(connection.dialect.name):
        connection.exec_driver_sql(statement)


def recount_tallies(connection, event_id: int | None = None) -> None:
    """Rebuild the tallies from the registrations (one event's, or every event's when `event_id` is None): what
    migration 0015 did (with its own copy of this SQL), and a repair should they ever be doubted. Run it where no
    registration of those events is written meanwhile (the migration held the lock its CREATE TRIGGER took)."""
    registrations = Registration.__table__.c
    chosen = () if event_id is None else (registrations.event_id == event_id,)
    for table in (RegistrationTally.__table__, RegistrationArrival.__table__):
        connection.execute(delete(table).where(*(() if event_id is None else (table.c.event_id == event_id,))))
    sums = (
        func.count(),
        func.coalesce(func.sum(registrations.accompanying), 0),
        func.coalesce(func.sum(case((registrations.visa_letter, 1), else_=0)), 0),
        func.count(registrations.checked_in_at),
    )
    columns = ["event_id", "kind", "key", "name", "status", *_SUMS]
    for kind, key in (("country", registrations.country), ("category", registrations.category)):
        query = (
            select(registrations.event_id, literal(kind), key, literal(""), registrations.status, *sums)
            .where(*chosen)
            .group_by(registrations.event_id, key, registrations.status)
        )
        connection.execute(insert(RegistrationTally.__table__).from_select(columns, query))
    none = literal(0)
    query = (
        select(registrations.event_id, literal("institution"), registrations.institution_key)
        .add_columns(registrations.institution, literal(""), func.count(), none, none, none)
        .where(*chosen, registrations.status.in_(SEAT_HOLDING))
        .group_by(registrations.event_id, registrations.institution_key, registrations.institution)
    )
    connection.execute(insert(RegistrationTally.__table__).from_select(columns, query))
    if connection.dialect.name == "postgresql":
        slot = cast(func.floor(func.extract("epoch", registrations.created_at) / QUARTER_HOUR), BigInteger)
    else:
        slot = cast(func.strftime("%s", registrations.created_at), Integer) // QUARTER_HOUR
    query = select(registrations.event_id, slot, func.count()).where(*chosen).group_by(registrations.event_id, slot)
    connection.execute(insert(RegistrationArrival.__table__).from_select(["event_id", "slot", "registrations"], query))


@event.listens_for(Registration.__table__, "after_create")
def _create_triggers_with_the_table(table, connection, **kw) -> None:
    """db.create_all() (tests, a fresh install) creates the triggers with the registration table. They name the
    tally tables only in their bodies, which both engines resolve when a trigger runs, not when it is created."""
    create_triggers(connection)


@event.listens_for(RegistrationTally.__table__, "after_create")
def _create_empty_row_triggers_with_the_table(table, connection, **kw) -> None:
    """db.create_all() creates the triggers on registration_tally with it (they name the table they are on)."""
    for statement in empty_row_ddl(connection.dialect.name):
        connection.exec_driver_sql(statement)


def counts_by_country_and_status(event_id: int, status: str | None = None) -> list[aggregates.CountryStatusCount]:
    """What aggregates.counts_by_country_and_status() counts, from the tallies; only `status`'s rows when given
    (the check-in counts read the confirmed fifth)."""
    query = select(
        RegistrationTally.key,
        RegistrationTally.status,
        RegistrationTally.registrations,
        RegistrationTally.accompanying,
        RegistrationTally.visa_letters,
        RegistrationTally.checked_in,
    ).where(*_live(event_id, "country"))
    if status is not None:
        query = query.where(RegistrationTally.status == status)
    return [aggregates.CountryStatusCount(*row) for row in db.session.execute(query).all()]


def delegates_per_category(event_id: int) -> dict[str, int]:
    """What aggregates.delegates_per_category() counts (largest first, then by code), from the tallies."""
    count = func.sum(RegistrationTally.registrations)
    query = (
        select(RegistrationTally.key, count)
        .where(*_live(event_id, "category"), RegistrationTally.status.in_(SEAT_HOLDING))
        .group_by(RegistrationTally.key)
        .order_by(count.desc(), RegistrationTally.key)
    )
    return {key: int(n) for key, n in db.session.execute(query).all()}


def top_institutions(event_id: int, limit: int = 10) -> list[tuple[str, int]]:
    """What aggregates.top_institutions() counts (each key named by its first spelling), from the tallies."""
    holding = _live(event_id, "institution")  # seat holders only: see _counting()
    count = func.sum(RegistrationTally.registrations)
    counted = (
        select(RegistrationTally.key, count)
        .where(*holding, RegistrationTally.key != "")  # "": erased, no institution to name
        .group_by(RegistrationTally.key)
        .order_by(count.desc(), RegistrationTally.key)
        .limit(limit)
    )
    top = db.session.execute(counted).all()
    if not top:
        return []
    named = (
        select(RegistrationTally.key, func.min(RegistrationTally.name))
        .where(*holding, RegistrationTally.key.in_([key for key, _ in top]))
        .group_by(RegistrationTally.key)
    )
    names = dict(db.session.execute(named).all())
    return [(names[key], int(n)) for key, n in top]


def arrivals_per_slot(event_id: int, slot_seconds: int) -> list[tuple[int, int]]:
    """What aggregates.arrivals_per_slot() counts (slots of an hour or a quarter hour), from the tallies."""
    per = slot_seconds // QUARTER_HOUR
    # Grouped by the database: it sends 1 row in 4 for a zone of whole hours (faster than merging them here).
    slot = (RegistrationArrival.slot // per if per > 1 else RegistrationArrival.slot).label("slot")
    query = (
        select(slot, func.sum(RegistrationArrival.registrations))
        .where(RegistrationArrival.event_id == event_id, RegistrationArrival.registrations > 0)
        .group_by(slot)
        .order_by(slot)
    )
    return [(int(number), int(count)) for number, count in db.session.execute(query).all()]


def _live(event_id: int, kind: str) -> tuple:
    """The WHERE clause for one event's tally rows of one kind that still count someone."""
    return (
        RegistrationTally.event_id == event_id,
        RegistrationTally.kind == kind,
        RegistrationTally.registrations > 0,
    )
