"""The visa queue's rules: issuing letters (numbered under the event's write lock, the delegate's previous letter
replaced, the mail queued), refusing with a reason, withdrawing a letter. One transaction per use case; refusals are
VisaRefused, never an HTTP answer. What the queue reads is in queue_queries.py."""

from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import audit
from ..extensions import db
from ..mail.queue import queue_mail
from ..models import (
    Event,
    LetterState,
    Organizer,
    Registration,
    Status,
    VisaApplication,
    VisaLetter,
    VisaState,
    utcnow,
)
from ..models.common import token_digest
from ..registration.capacity import lock_event
from . import mails
from .letter_states import withdraw_letters
from .letters import (
    is_complete,
    letter_content,
    letter_number,
    letter_prefix,
    letter_settings,
    new_verify_code,
    seal_content,
    unknown_in_templates,
)
from .queue_queries import pending_ids, requests_of

REFUSAL_REASON_MAX = 500


class VisaRefused(ValueError):
    """A visa queue action that cannot be done, with the message to show."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def issue_pending(event: Event, organizer: Organizer | None) -> list[VisaLetter]:
    """Issue a letter to every complete pending request of a confirmed registration, read under the event's lock
    (a request issued or refused meanwhile is left alone); none when there is none."""
    lock_event(event.id)  # first: it starts the write transaction
    ids = pending_ids(event)
    if not ids:
        db.session.rollback()
        return []
    return _issue_locked(event, ids, organizer)


def issue_letters(event: Event, application_ids: list[int], organizer: Organizer | None) -> list[VisaLetter]:
    """Issue a letter to each of these requests of `event`, in one transaction under the event's write lock (so
    two organizers issuing at once never get the same number); a previous valid letter is marked replaced, the
    letter is mailed through the outbox. Refuses all when the template has an unknown placeholder or a request
    cannot be issued."""
    if not application_ids:
        raise VisaRefused(_("Select at least one request to issue."))
    lock_event(event.id)  # first: it starts the write transaction
    return _issue_locked(event, application_ids, organizer)


def _issue_locked(event: Event, application_ids: list[int], organizer: Organizer | None) -> list[VisaLetter]:
    settings = letter_settings(event)
    unknown = unknown_in_templates(settings)
    if unknown:
        db.session.rollback()
        raise VisaRefused(
            _(
                "The letter's template uses unknown placeholders: %(names)s. Correct it in the document settings.",
                names=", ".join("{" + name + "}" for name in unknown),
            )
        )
    # Pending only: a request issued or refused since the page was loaded is not in the queue any more.
    rows = db.session.execute(
        requests_of(event.id)
        .where(VisaApplication.id.in_(application_ids), VisaApplication.state == VisaState.PENDING)
        .add_columns(Registration)
    ).all()
    if len(rows) != len(set(application_ids)):
        db.session.rollback()
        raise VisaRefused(_("Some of the selected requests are no longer in the queue. Reload the page and try again."))
    sequence = db.session.scalar(select(func.max(VisaLetter.sequence)).where(VisaLetter.event_id == event.id)) or 0
    prefix = letter_prefix(event, settings)
    numbers = [letter_number(prefix, sequence + offset) for offset in range(1, len(rows) + 1)]
    if db.session.scalar(select(VisaLetter.id).where(VisaLetter.number.in_(numbers)).limit(1)) is not None:
        # Another event numbered its letters with the same prefix: numbers name letters site-wide (/verify/…).
        db.session.rollback()
        raise VisaRefused(
            _(
                "Another event numbers its letters with %(prefix)s: choose another prefix in the document settings.",
                prefix=prefix,
            )
        )
    today = utcnow().date()
    issued = []
    for application, registration in rows:
        if not is_complete(application):
            db.session.rollback()
            raise VisaRefused(
                _("The request of %(name)s misses details: it cannot be issued yet.", name=registration.display_name)
            )
        if registration.status != Status.CONFIRMED:
            # A letter invites to the event: a delegate on the waiting list or awaiting approval has no place yet.
            db.session.rollback()
            raise VisaRefused(
                _(
                    "The registration of %(name)s is not confirmed: its letter cannot be issued yet.",
                    name=registration.display_name,
                )
            )
        sequence += 1
        issued.append(
            _issue_one(
                event, registration, application, settings, letter_number(prefix, sequence), sequence, today, organizer
            )
        )
    db.session.commit()
    return issued


def _issue_one(event, registration, application, settings, number, sequence, today, organizer) -> VisaLetter:
    now = utcnow()
    previous = db.session.scalars(
        select(VisaLetter).where(VisaLetter.registration_id == registration.id, VisaLetter.state == LetterState.VALID)
    ).all()
    for old in previous:
        old.state = LetterState.REPLACED
        old.state_changed_at = now
    code = new_verify_code()
    content = letter_content(event, registration, application, settings, number, code, today)
    letter = VisaLetter(
        event_id=event.id,
        registration_id=registration.id,
        sequence=sequence,
        number=number,
        verify_digest=token_digest(code),
        holder_name=application.passport_name,
        passport_tail=application.passport_number[-3:],
        state=LetterState.VALID,
        issued_at=now,
        issued_by_id=organizer.id if organizer else None,
        content_sealed=seal_content(content),
    )
    db.session.add(letter)
    db.session.flush()  # the letter's id, for the mail that renders it at send time
    application.state = VisaState.ISSUED
    application.refusal_reason = ""
    application.decided_at = now
    application.decided_by_id = organizer.id if organizer else None
    queue_mail(mails.VISA_LETTER, registration, details={"letter_id": letter.id, "number": number})
    audit.record("visa.issued", event=event, registration=registration, after={"number": number}, organizer=organizer)
    return letter


def refuse_request(event: Event, application_id: int, reason: str, organizer: Organizer | None) -> VisaApplication:
    """Refuse a pending request with a reason (shown to organizers; the delegate's page says it was declined)."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise VisaRefused(_("Give the reason for the refusal."))
    if len(reason) > REFUSAL_REASON_MAX:
        raise VisaRefused(_("The reason is too long: at most %(max)d characters.", max=REFUSAL_REASON_MAX))
    lock_event(event.id)  # an issue of the same request at the same moment waits, then sees the refusal
    application, registration = _application_of(event, application_id)
    if application.state != VisaState.PENDING:
        db.session.rollback()
        raise VisaRefused(_("Only a pending request can be refused; withdraw its letter first."))
    application.state = VisaState.REFUSED
    application.refusal_reason = reason
    application.decided_at = utcnow()
    application.decided_by_id = organizer.id if organizer else None
    audit.record(
        "visa.refused",
        event=event,
        registration=registration,
        after={"reason": reason},
        organizer=organizer,
    )
    db.session.commit()
    return application


def withdraw_letter(event: Event, letter_id: int, organizer: Organizer | None) -> VisaLetter:
    """Withdraw a valid letter by hand: the verification page says withdrawn, the request is pending again."""
    lock_event(event.id)
    letter = db.session.scalar(select(VisaLetter).where(VisaLetter.id == letter_id, VisaLetter.event_id == event.id))
    if letter is None or letter.state != LetterState.VALID:
        db.session.rollback()
        raise VisaRefused(_("This letter is not valid any more: there is nothing to withdraw."))
    withdraw_letters(letter.registration_id)  # its only valid letter: issuing replaces the previous one
    registration = db.session.get(Registration, letter.registration_id)
    audit.record(
        "visa.withdrawn", event=event, registration=registration, before={"number": letter.number}, organizer=organizer
    )
    db.session.commit()
    return letter


def _application_of(event: Event, application_id: int) -> tuple[VisaApplication, Registration]:
    row = db.session.execute(
        requests_of(event.id).where(VisaApplication.id == application_id).add_columns(Registration)
    ).first()
    if row is None:
        db.session.rollback()
        raise VisaRefused(_("This request is no longer in the queue."))
    application, registration = row
    return application, registration
