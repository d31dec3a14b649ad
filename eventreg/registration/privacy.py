"""Personal data: erasing a registration, at the delegate's request or by the purge of past events.

An erased registration keeps its row and everything the totals read (event, status, country, category,
accompanying persons, visa letter, language, times), so dashboards and headcounts stay as they were; a confirmed
one keeps its seat, as erasing is not cancelling. Everything that names or describes the person is replaced by
neutral values, in the row, in its audit entries and in its mails; its private link and ticket stop working.
When the delegate or an organizer erases it, its address gets one last mail saying so; the purge sends none.
The invitation a registration came through is erased with it, and the purge erases every invitation of the event.
"""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select

from .. import audit
from ..extensions import db
from ..mail.queue import ERASURE_NOTICE, forget_addresses, queue_mail
from ..models import (
    AuditEntry,
    DocumentJob,
    Event,
    Invitation,
    OutboxMessage,
    OutboxState,
    Registration,
    new_checkin_code,
    token_digest,
    utcnow,
)
from ..visas.application import erase_visa_data
from .capacity import locked_event

# What a registration holds about the person; audit entries drop these values too.
PERSONAL_FIELDS = (
    "honorific",
    "given_name",
    "family_name",
    "native_name",
    "email",
    "institution",
    "position",
    "dietary",
    "accessibility",
)
# What an invitation holds about the person beyond its address, and what its audit entries may quote of it.
INVITATION_PERSONAL_FIELDS = (
    "honorific",
    "given_name",
    "family_name",
    "native_name",
    "institution",
    "position",
    "decline_reason",
)
INVITATION_AUDITED_PERSONAL = (*INVITATION_PERSONAL_FIELDS, "email", "reason")
# RFC 2606 reserves .invalid: an erased registration's address can never reach anyone.
ERASED_EMAIL_DOMAIN = "erased.invalid"
# Neither a private-link token nor a check-in code ever holds "~": an erased row's values match no link or code.
ERASED_MARK = "~"
PURGE_BATCH = 500  # registrations erased per transaction by the purge


def erased_digest(live_digest: str) -> str:
    """The token_digest an erased registration keeps in place of its live link's: the digest of "~" and the live
    one, which no link's digest can equal (no token holds "~"), so the old link can still say "erased" while the
    token itself is gone (its sealed copy is blanked)."""
    return token_digest(ERASED_MARK + live_digest)


def was_erased(token: str) -> bool:
    """True when `token` is the private link of a registration whose personal data was erased."""
    if not token or len(token) > 64:
        return False
    query = select(Registration.id).where(
        Registration.token_digest == erased_digest(token_digest(token)), Registration.erased_at.is_not(None)
    )
    return db.session.scalar(query) is not None


def erase_registrations(registrations: list[Registration], *, actor: str | None, notify: bool) -> int:
    """Erase the personal data of these registrations inside the caller's transaction (under their event's lock);
    the number erased. Already erased ones are skipped.

    In the row: names, address, institution, position and needs become neutral values, the private token a digest
    and the check-in code one no desk accepts. Audit entries keep their keys but lose these values; mails not yet
    sent are cancelled, and no mail keeps the address, what it reported, or a server's error that may quote the
    address. Each registration gets a "registration.erased" entry without personal data, naming `actor` as
    audit.record() does: audit.DELEGATE, "" for the system (the purge), None for the organizer of the request.
    With `notify`, each address is first sent a last mail saying so (ERASURE_NOTICE), which the worker makes
    forget the address once it is sent or given up on.
    """
    now = utcnow()
    erased = [registration for registration in registrations if registration.erased_at is None]
    by = "delegate" if actor == audit.DELEGATE else "organizers"
    # Queued while the address is still there; composed later from what the erasure leaves.
    notices = [queue_mail(ERASURE_NOTICE, registration, details={"by": by}) for registration in erased if notify]
    for registration in erased:
        registration.token_digest = erased_digest(registration.token_digest)
        registration.token_sealed = ""
        registration.checkin_code = ERASED_MARK + new_checkin_code()[1:]
        for name in PERSONAL_FIELDS:
            setattr(registration, name, "")
        # Unique per registration: the index that refuses a second active registration per address still holds.
        registration.email = f"erased-{registration.id}@{ERASED_EMAIL_DOMAIN}"
        registration.submission_key = None
        registration.erased_at = now
    if not erased:
        return 0
    ids = [registration.id for registration in erased]
    _scrub_audit_entries(ids)
    _scrub_mails(ids, keep=notices)
    erase_invitations(list(db.session.scalars(select(Invitation).where(Invitation.registration_id.in_(ids)))))
    erase_visa_data(ids)  # the passport data, and the holder's name on any letter (now withdrawn)
    # Stored PDFs (badges…) may print the person: the events' jobs go, and their organizers ask again if needed.
    event_ids = {registration.event_id for registration in erased}
    db.session.execute(delete(DocumentJob).where(DocumentJob.event_id.in_(event_ids)))
    for registration in erased:
        audit.record("registration.erased", registration=registration, actor=actor)
    return len(erased)


def erase_invitations(invitations: list[Invitation]) -> int:
    """Erase what these invitations hold about their invitees, in the caller's transaction; the number erased
    (already erased ones are skipped). The status stays (the event's counts of answers hold); the address becomes
    one that reaches no one, the personal link stops working, mails not sent yet are cancelled and no mail keeps
    the address, and the audit entries about them lose the personal values."""
    erased = [invitation for invitation in invitations if not invitation.email.endswith("@" + ERASED_EMAIL_DOMAIN)]
    for invitation in erased:
        invitation.token_digest = erased_digest(invitation.token_digest)
        invitation.token_sealed = ""
        for name in INVITATION_PERSONAL_FIELDS:
            setattr(invitation, name, "")
        # Unique per invitation, as the index of one invitation per address and event asks.
        invitation.email = f"erased-invitation-{invitation.id}@{ERASED_EMAIL_DOMAIN}"
    if not erased:
        return 0
    ids = {invitation.id for invitation in erased}
    mails = select(OutboxMessage).where(OutboxMessage.invitation_id.in_(ids))
    messages = list(db.session.scalars(mails))
    for message in messages:
        if message.state in (OutboxState.QUEUED, OutboxState.FAILED):
            message.state = OutboxState.CANCELLED
    forget_addresses(messages)
    events = {invitation.event_id for invitation in erased}
    entries = select(AuditEntry).where(AuditEntry.event_id.in_(events), AuditEntry.registration_id.is_(None))
    for entry in db.session.scalars(entries):
        if ids & {_invitation_named(entry.before), _invitation_named(entry.after)}:
            entry.before = _without(entry.before, INVITATION_AUDITED_PERSONAL)
            entry.after = _without(entry.after, INVITATION_AUDITED_PERSONAL)
    return len(erased)


def _invitation_named(values: dict | None) -> int | None:
    """The invitation an audit entry's values are about (its id under "invitation_id" or "invitation"), if any."""
    values = values or {}
    named = values.get("invitation_id", values.get("invitation"))
    return named if isinstance(named, int) else None


def _without(values: dict | None, keys: tuple[str, ...]) -> dict | None:
    """`values` with those keys' values dropped (a new dict: JSON columns see a change only when replaced)."""
    if not values:
        return values
    return {key: None if key in keys else value for key, value in values.items()}


def _scrub_audit_entries(registration_ids: list[int]) -> None:
    """Keep what happened and when, not the personal values it recorded."""
    query = select(AuditEntry).where(AuditEntry.registration_id.in_(registration_ids))
    for entry in db.session.scalars(query):
        # New dicts, not changed ones: the JSON columns see a change only when the value is replaced.
        entry.before = _without_personal_values(entry.before)
        entry.after = _without_personal_values(entry.after)


def _without_personal_values(values: dict | None) -> dict | None:
    return _without(values, PERSONAL_FIELDS)


def _scrub_mails(registration_ids: list[int], keep: list[OutboxMessage]) -> None:
    """Cancel the mails not sent yet (failed ones too: a resend must not find them) and blank every mail's
    address, reported details and errors; all but the erasure notices in `keep`, which must still go out."""
    query = select(OutboxMessage).where(OutboxMessage.registration_id.in_(registration_ids))
    messages = [message for message in db.session.scalars(query) if message not in keep]
    for message in messages:
        if message.state in (OutboxState.QUEUED, OutboxState.FAILED):
            message.state = OutboxState.CANCELLED
    forget_addresses(messages)


def erase_registration(registration_id: int, *, actor: str | None) -> bool:
    """Erase one registration's personal data in one transaction under its event's lock, and queue the notice to
    its address; False when it was already erased (a second tap). Totals do not change: see the module's docstring."""
    registration = db.session.get(Registration, registration_id)  # its event, to know which one to lock
    if registration is None:
        raise LookupError(f"no registration {registration_id}")
    with locked_event(registration.event_id):
        query = select(Registration).where(Registration.id == registration_id).execution_options(populate_existing=True)
        erased = erase_registrations([db.session.scalar(query)], actor=actor, notify=True)
    return erased == 1


@dataclass(frozen=True)
class PurgeCandidate:
    """An event that ended long enough ago, and how many of its registrations still hold personal data."""

    event: Event
    registrations: int


def purge_candidates(days: int) -> list[PurgeCandidate]:
    """Events that ended more than `days` days ago with registrations not erased yet, the oldest first."""
    cutoff = utcnow() - timedelta(days=days)
    query = (
        select(Event, func.count(Registration.id))
        .join(Registration, Registration.event_id == Event.id)
        .where(Event.ends_at < cutoff, Registration.erased_at.is_(None))
        .group_by(Event.id)
        .order_by(Event.ends_at, Event.id)
    )
    counts = dict(db.session.execute(query).all())
    # Events whose registrations are all erased but whose invitations (declined, never answered) are not.
    invited = (
        select(Event)
        .join(Invitation, Invitation.event_id == Event.id)
        .where(Event.ends_at < cutoff, Invitation.email_key.not_like(f"%@{ERASED_EMAIL_DOMAIN}"))
        .distinct()
    )
    for event in db.session.scalars(invited):
        counts.setdefault(event, 0)
    candidates = [
        PurgeCandidate(event, count)
        for event, count in sorted(counts.items(), key=lambda item: (item[0].ends_at, item[0].id))
    ]
    db.session.rollback()
    return candidates


def _purge_invitations(event_id: int, batch: int) -> None:
    """Erase every invitation of the event still holding personal data, `batch` per transaction."""
    query = (
        select(Invitation)
        .where(Invitation.event_id == event_id, Invitation.email_key.not_like(f"%@{ERASED_EMAIL_DOMAIN}"))
        .order_by(Invitation.id)
        .limit(batch)
    )
    while True:
        with locked_event(event_id):
            if not erase_invitations(list(db.session.scalars(query))):
                return


def purge_event(event_id: int, batch: int = PURGE_BATCH) -> int:
    """Erase every registration of the event that still holds personal data, `batch` per transaction (each
    under the event's lock, so a crash leaves whole batches done and a second run finishes); the number erased."""
    query = (
        select(Registration)
        .where(Registration.event_id == event_id, Registration.erased_at.is_(None))
        .order_by(Registration.id)
        .limit(batch)
    )
    total = 0
    while True:
        with locked_event(event_id):
            registrations = list(db.session.scalars(query))
            if not registrations:  # all done: then the invitations that led to no registration
                _purge_invitations(event_id, batch)
                return total
            total += erase_registrations(registrations, actor="", notify=False)  # long after the event: no mail
