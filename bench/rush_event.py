"""The event of the registration rush (bench.rush): created with its seats and old registrations, counted and
checked after each run, and put back as it was before the next one."""

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, inspect, select, text, update

from eventreg.events.services import create_event
from eventreg.extensions import db
from eventreg.models import SEAT_HOLDING, AuditEntry, Event, OutboxMessage, Registration, utcnow

from .seed import BATCH, registration_rows


@dataclass(frozen=True)
class RushEvent:
    """The event as prepared: its row (restored after every run) and the last registration id before any run."""

    id: int
    slug: str
    row: dict
    last_id: int


@dataclass
class RunOutcome:
    """What one run left in the database."""

    by_status: dict[str, int]  # every registration the run made, also those answered after wrk stopped
    in_window: int  # registrations created while wrk ran
    problems: list[str]


def has_column(table: str, column: str) -> bool:
    """True when the database's table has this column (e.g. event.seats_taken from migration 0003)."""
    return any(info["name"] == column for info in inspect(db.engine).get_columns(table))


def prepare_event(app, existing: int, free_seats: int) -> RushEvent:
    """Create the rush event with `existing` registrations (bench.seed's data) and `free_seats` seats free."""
    with app.app_context():
        now = utcnow()
        starts = (now + timedelta(days=30)).replace(microsecond=0)
        event = create_event(
            title="Registration Rush",
            venue="Great Hall",
            city="Beijing",
            timezone="Asia/Shanghai",
            starts_at=starts,
            ends_at=starts + timedelta(hours=4),
            registration_opens_at=now - timedelta(days=61),
            registration_closes_at=starts - timedelta(days=1),
            contact_email="office@example.org",
            capacity=max(1, free_seats),  # the real capacity is set below, after the old registrations
        )
        slug, event_id = event.slug, event.id
        db.session.commit()
        events, registrations = Event.__table__, Registration.__table__
        with db.engine.begin() as connection:
            batch = []
            for row in registration_rows(event_id, existing, now, seed=11):
                batch.append(row)
                if len(batch) == BATCH:
                    connection.execute(insert(registrations), batch)
                    batch = []
            if batch:
                connection.execute(insert(registrations), batch)
            seats = connection.scalar(seats_held(event_id))
            # Core inserts pass the ORM's hooks by: move the stats version (and the seat counter) on as they would.
            values = {"stats_version": events.c.stats_version + 1, "capacity": seats + free_seats}
            if has_column("event", "seats_taken"):
                values["seats_taken"] = seats
            if has_column("event", "waitlisted"):
                values["waitlisted"] = connection.scalar(waitlisted(event_id))
            connection.execute(update(events).where(events.c.id == event_id).values(**values))
        vacuum()
        with db.engine.connect() as connection:
            row = dict(connection.execute(select(events).where(events.c.id == event_id)).mappings().one())
            last_id = connection.scalar(select(func.coalesce(func.max(registrations.c.id), 0)))
    return RushEvent(event_id, slug, row, last_id)


def seats_held(event_id: int):
    """SELECT of the seats held in the event: confirmed and pending registrations with their accompanying persons."""
    table = Registration.__table__
    return select(func.coalesce(func.sum(1 + table.c.accompanying), 0)).where(
        table.c.event_id == event_id, table.c.status.in_(SEAT_HOLDING)
    )


def waitlisted(event_id: int):
    """SELECT of how many of the event's registrations are on the waiting list."""
    table = Registration.__table__
    return select(func.count()).where(table.c.event_id == event_id, table.c.status == "waitlisted")


def backend_pids(app) -> list[int]:
    """Process ids of the PostgreSQL backends connected to the database, other than this one."""
    with app.app_context(), db.engine.connect() as connection:
        query = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        return list(connection.scalars(text(query)))


def vacuum() -> None:
    """VACUUM ANALYZE the tables a registration writes, as autovacuum would soon after a bulk change."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in ("event", "registration", "outbox_message"):
            connection.execute(text(f"VACUUM ANALYZE {table}"))


def new_rows(event: RushEvent):
    """SELECT of the ids of the registrations made since the event was prepared."""
    table = Registration.__table__
    return select(table.c.id).where(table.c.event_id == event.id, table.c.id > event.last_id)


def settle(app, event: RushEvent, quiet_seconds: float = 1.5, limit: float = 120) -> None:
    """Wait until no registration has been added for `quiet_seconds`: gunicorn still answers the requests
    queued in its listen backlog after wrk has closed their connections."""
    deadline = time.monotonic() + limit
    with app.app_context(), db.engine.connect() as connection:
        count = -1
        while time.monotonic() < deadline:
            now = connection.scalar(select(func.count()).select_from(new_rows(event).subquery()))
            connection.rollback()
            if now == count:
                return
            count = now
            time.sleep(quiet_seconds)
    raise SystemExit("The servers kept registering for two minutes after wrk stopped.")


def outcome(app, event: RushEvent, started: datetime, ended: datetime) -> RunOutcome:
    """Registrations made in the run by status, those made while wrk ran, and every broken rule in the event."""
    registrations, events = Registration.__table__, Event.__table__
    made = registrations.c.id.in_(new_rows(event))
    with app.app_context(), db.engine.connect() as connection:
        by_status = dict(
            connection.execute(
                select(registrations.c.status, func.count()).where(made).group_by(registrations.c.status)
            ).all()
        )
        in_window = connection.scalar(
            select(func.count()).where(made, registrations.c.created_at.between(started, ended))
        )
        mails = connection.scalar(
            select(func.count(func.distinct(OutboxMessage.__table__.c.registration_id))).where(
                OutboxMessage.__table__.c.registration_id.in_(new_rows(event))
            )
        )
        audited = connection.scalar(
            select(func.count(func.distinct(AuditEntry.__table__.c.registration_id))).where(
                AuditEntry.__table__.c.registration_id.in_(new_rows(event)),
                AuditEntry.__table__.c.action == "registration.created",
            )
        )
        held = connection.scalar(seats_held(event.id))
        row = connection.execute(select(events).where(events.c.id == event.id)).mappings().one()
        problems = []
        if held > row["capacity"]:
            problems.append(f"overbooked: {held} seats held, capacity {row['capacity']}")
        if mails < sum(by_status.values()):
            problems.append(f"{sum(by_status.values())} registrations but only {mails} with an outbox mail")
        if audited < sum(by_status.values()):
            problems.append(f"{sum(by_status.values())} registrations but only {audited} audited as created")
        if "seats_taken" in row and row["seats_taken"] != held:
            problems.append(f"event.seats_taken is {row['seats_taken']}, the rows hold {held}")
        waiting = connection.scalar(waitlisted(event.id))
        if "waitlisted" in row and row["waitlisted"] != waiting:
            problems.append(f"event.waitlisted is {row['waitlisted']}, the rows have {waiting} waitlisted")
        if "waitlist_position" in registrations.c:
            positions = connection.scalars(
                select(registrations.c.waitlist_position)
                .where(made, registrations.c.status == "waitlisted")
                .order_by(registrations.c.waitlist_position)
            ).all()
            if positions and positions != list(range(positions[0], positions[0] + len(positions))):
                problems.append("the waiting-list positions of the run are not consecutive")
    return RunOutcome(by_status, in_window, problems)


def reset(app, event: RushEvent) -> None:
    """Delete the run's registrations (and the rows that point at them) and put the event row back as it was."""
    registrations, events = Registration.__table__, Event.__table__
    with app.app_context():
        with db.engine.begin() as connection:
            # Under the event's lock, as the app registers: nothing can be added to the event meanwhile.
            connection.execute(select(events.c.id).where(events.c.id == event.id).with_for_update())
            for table in reversed(db.metadata.sorted_tables):
                for key in table.foreign_keys:
                    if key.column.table is registrations:
                        connection.execute(delete(table).where(key.parent.in_(new_rows(event))))
            connection.execute(delete(registrations).where(registrations.c.id.in_(new_rows(event))))
            values = {name: value for name, value in event.row.items() if name != "id"}
            connection.execute(update(events).where(events.c.id == event.id).values(**values))
        vacuum()
