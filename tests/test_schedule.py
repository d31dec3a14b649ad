"""The scheduler of timed mails (mail/schedule.py): a scheduled mail goes once to each recipient it finds when it
falls due, late when the workers were down, never twice when two workers overlap; cancelled when its kind says it
is too late; taken up again after a worker died halfway; moved with the event's dates; run by the outbox worker."""

import email
import email.policy
from datetime import timedelta

from sqlalchemy import func, insert, select, update

from eventreg.extensions import db
from eventreg.mail import schedule
from eventreg.mail.queue import mail_row
from eventreg.mail.schedule import LEASE, Recipient, ScheduledKind, add_scheduled_kind, reschedule_event, run_due
from eventreg.mail.worker import run_worker
from eventreg.models import Event, OutboxMessage, Registration, ScheduledMail, ScheduledMailRecipient, utcnow
from tests.conftest import create_test_event, register_test_delegate

# A kind for these tests only: the confirmation mail again, to the event's registrations whose address has "@" in
# the audience's "domain" (all of them without one); too late for an event whose title begins with "Past"; a bug
# when the audience says "broken".
TEST_KIND = "test_confirmation_again"


def _recipients(scheduled, after, limit):
    if scheduled.audience.get("broken"):
        raise RuntimeError("a bug in a kind")
    query = (
        select(Registration)
        .where(Registration.event_id == scheduled.event_id, Registration.id > after)
        .where(Registration.email.endswith(scheduled.audience.get("domain", "")))
        .order_by(Registration.id)
        .limit(limit)
    )
    return [
        Recipient(r.id, f"registration:{r.id}", {**mail_row("confirmation", r), "registration_id": r.id})
        for r in db.session.scalars(query)
    ]


def _too_late(scheduled):
    event = db.session.get(Event, scheduled.event_id)
    return "too_late" if event.title.startswith("Past") else None


add_scheduled_kind(TEST_KIND, ScheduledKind(recipients=_recipients, too_late=_too_late))


def schedule_mail(app, event, due_in=timedelta(0), **fields) -> int:
    """A scheduled mail of the test kind for `event`, due `due_in` from now; its id."""
    with app.app_context():
        scheduled = ScheduledMail(event_id=event.id, kind=TEST_KIND, due_at=utcnow() + due_in, **fields)
        db.session.add(scheduled)
        db.session.commit()
        return scheduled.id


def register(app, event, count, prefix="d", make_registration=None):
    """`count` registrations on `event`, their confirmations already sent (so only scheduled mails are queued)."""
    ids = [make_registration(event, email=f"{prefix}{n}@example.org")[0] for n in range(count)]
    with app.app_context():
        db.session.execute(update(OutboxMessage).values(state="sent"))
        db.session.commit()
    return ids


def queued_to(app) -> list[str]:
    """The addresses of the queued mails, sorted."""
    with app.app_context():
        query = select(OutboxMessage.recipient).where(OutboxMessage.state == "queued")
        return sorted(db.session.scalars(query))


def scheduled_row(app, scheduled_id) -> ScheduledMail:
    with app.app_context():
        scheduled = db.session.get(ScheduledMail, scheduled_id)
        db.session.expunge(scheduled)
        return scheduled


def run(app, **kwargs):
    with app.app_context():
        return run_due(**kwargs)


def test_a_due_mail_is_queued_once_to_each_recipient_however_often_the_scheduler_runs(
    app, make_event, make_registration
):
    event = make_event()
    register(app, event, 5, make_registration=make_registration)
    scheduled_id = schedule_mail(app, event)
    report = run(app, batch=2)  # three batches, three transactions
    assert (report.done, report.queued) == (1, 5)
    assert queued_to(app) == [f"d{n}@example.org" for n in range(5)]
    assert run(app).queued == 0
    row = scheduled_row(app, scheduled_id)
    assert (row.state, row.queued) == ("done", 5) and row.finished_at is not None
    with app.app_context():
        recorded = db.session.scalars(select(ScheduledMailRecipient)).all()
        assert len(recorded) == 5 and all(r.outbox_message_id is not None for r in recorded)
        # each record points at the mail queued for its own registration
        for r in recorded:
            assert f"registration:{db.session.get(OutboxMessage, r.outbox_message_id).registration_id}" == (
                r.recipient_key
            )


def test_a_recipient_another_worker_recorded_is_not_queued_again(app, make_event, make_registration):
    event = make_event()
    ids = register(app, event, 3, make_registration=make_registration)
    scheduled_id = schedule_mail(app, event)
    with app.app_context():  # as if another worker had queued this one in its batch
        db.session.execute(
            insert(ScheduledMailRecipient),
            [{"scheduled_mail_id": scheduled_id, "recipient_key": f"registration:{ids[1]}"}],
        )
        db.session.commit()
    assert run(app).queued == 2
    assert queued_to(app) == ["d0@example.org", "d2@example.org"]


def test_recipients_are_found_when_it_is_sent_not_when_it_was_scheduled(app, make_event, make_registration):
    event = make_event()
    register(app, event, 2, make_registration=make_registration)
    schedule_mail(app, event, due_in=timedelta(hours=1), audience={"domain": "@example.org"})
    register(app, event, 1, prefix="late", make_registration=make_registration)
    assert run(app).queued == 0  # not due yet
    assert queued_to(app) == []
    assert run(app, now=utcnow() + timedelta(hours=2)).queued == 3
    assert queued_to(app) == ["d0@example.org", "d1@example.org", "late0@example.org"]


def test_a_mail_that_fell_due_while_the_workers_were_down_goes_out_when_they_are_back(
    app, make_event, make_registration
):
    event = make_event()
    register(app, event, 2, make_registration=make_registration)
    scheduled_id = schedule_mail(app, event, due_in=-timedelta(days=3))
    assert run(app).queued == 2
    assert scheduled_row(app, scheduled_id).state == "done"


def test_a_mail_its_kind_finds_too_late_is_cancelled_with_the_reason(app, make_event, make_registration):
    event = make_event(title="Past ceremony")
    register(app, event, 2, make_registration=make_registration)
    scheduled_id = schedule_mail(app, event, due_in=-timedelta(days=1))
    report = run(app)
    assert (report.cancelled, report.queued) == (1, 0)
    row = scheduled_row(app, scheduled_id)
    assert row.state == "cancelled" and row.details == {"cancelled_reason": "too_late"} and row.queued == 0
    assert queued_to(app) == []


def test_a_mail_whose_worker_died_halfway_is_taken_up_after_the_lease_and_finished(app, make_event, make_registration):
    event = make_event()
    ids = register(app, event, 3, make_registration=make_registration)
    scheduled_id = schedule_mail(app, event)
    with app.app_context():  # a worker claimed it, queued the first recipient, and died
        db.session.execute(
            update(ScheduledMail).where(ScheduledMail.id == scheduled_id).values(state="sending", claimed_at=utcnow())
        )
        registration = db.session.get(Registration, ids[0])
        message = OutboxMessage(registration=registration, **mail_row("confirmation", registration))
        db.session.add(message)
        db.session.flush()
        db.session.add(
            ScheduledMailRecipient(
                scheduled_mail_id=scheduled_id, recipient_key=f"registration:{ids[0]}", outbox_message_id=message.id
            )
        )
        db.session.commit()
    assert run(app).queued == 0  # its worker may still be at it
    with app.app_context():
        db.session.execute(
            update(ScheduledMail)
            .where(ScheduledMail.id == scheduled_id)
            .values(claimed_at=utcnow() - LEASE - timedelta(seconds=1))
        )
        db.session.commit()
    assert run(app).queued == 2
    assert queued_to(app) == ["d0@example.org", "d1@example.org", "d2@example.org"]
    assert scheduled_row(app, scheduled_id).state == "done"


def test_a_failing_kind_leaves_its_mail_claimed_and_the_others_still_go(app, make_event, make_registration, caplog):
    event = make_event()
    register(app, event, 1, make_registration=make_registration)
    broken_id = schedule_mail(app, event, due_in=-timedelta(minutes=1), audience={"broken": True})
    fine_id = schedule_mail(app, event)
    assert run(app).queued == 1
    assert scheduled_row(app, broken_id).state == "sending"
    assert scheduled_row(app, fine_id).state == "done"
    assert f"scheduled mail {broken_id}: failed" in caplog.text


def test_a_kind_nobody_registered_is_left_for_a_worker_that_knows_it(app, make_event):
    event = make_event()
    with app.app_context():
        db.session.add(ScheduledMail(event_id=event.id, kind="unknown_kind", due_at=utcnow()))
        db.session.commit()
    assert run(app).done == 0
    with app.app_context():
        assert db.session.scalar(select(ScheduledMail.state)) == "pending"


def test_rescheduling_moves_pending_mails_set_relative_to_the_events_moments(app, make_event):
    event = make_event(registration_closes_at=utcnow() + timedelta(days=20))
    with app.app_context():
        stored = db.session.get(Event, event.id)
        closes, starts = stored.registration_closes_at, stored.starts_at
        rows = [
            ScheduledMail(event_id=event.id, kind=TEST_KIND, anchor="registration_closes", days_before=3,
                          due_at=closes - timedelta(days=3)),
            ScheduledMail(event_id=event.id, kind=TEST_KIND, anchor="starts", days_before=1,
                          due_at=starts - timedelta(days=1)),
            ScheduledMail(event_id=event.id, kind=TEST_KIND, anchor="starts", days_before=2, state="done",
                          due_at=starts - timedelta(days=2)),
            ScheduledMail(event_id=event.id, kind=TEST_KIND, due_at=closes),  # a one-off: no anchor
        ]  # fmt: skip
        db.session.add_all(rows)
        db.session.commit()
        stored.registration_closes_at = closes + timedelta(days=5)
        stored.starts_at = starts + timedelta(days=7)
        assert reschedule_event(stored) == 2
        db.session.commit()
        due = db.session.scalars(select(ScheduledMail.due_at).order_by(ScheduledMail.id)).all()
    assert due == [
        closes + timedelta(days=2),
        starts + timedelta(days=6),
        starts - timedelta(days=2),
        closes,
    ]


def test_without_a_closing_date_registration_closes_when_the_event_starts(app, make_event):
    event = make_event()
    with app.app_context():
        stored = db.session.get(Event, event.id)
        assert schedule.due_time(stored, "registration_closes", 3) == stored.starts_at - timedelta(days=3)


def test_the_outbox_worker_queues_and_sends_due_scheduled_mails(smtp_app, smtp_server):
    event = create_test_event(smtp_app)
    for n in range(2):
        register_test_delegate(smtp_app, event, email=f"w{n}@example.org")
    with smtp_app.app_context():
        run_worker(once=True)  # the two confirmations
    assert len(smtp_server.envelopes) == 2
    scheduled_id = schedule_mail(smtp_app, event)
    with smtp_app.app_context():
        run_worker(once=True)
    assert len(smtp_server.envelopes) == 4
    again = [email.message_from_bytes(e.content, policy=email.policy.default) for e in smtp_server.envelopes[2:]]
    assert sorted(m["To"].addresses[0].addr_spec for m in again) == ["w0@example.org", "w1@example.org"]
    assert scheduled_row(smtp_app, scheduled_id).state == "done"
    with smtp_app.app_context():
        run_worker(once=True)
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 4
    assert len(smtp_server.envelopes) == 4
