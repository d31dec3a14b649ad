"""The rules of changing a registration's details, shared by the organizer's edit and the delegate's own edit:
one address per active registration, seats for more accompanying persons, the waiting list moving up into seats
that fewer free, the audit entry, and the "changed" mail that lists what changed."""

from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l

from .. import audit
from ..categories.services import category_setter
from ..forms import column_length
from ..geo.countries import country_name
from ..languages import language_name
from ..mail.queue import queue_mail
from ..models import ACTIVE, HONORIFIC_LABELS, CategorySetter, Event, Registration, casefold_key
from ..templating import category_label, status_label
from ..visas.application import save_visa_details
from .capacity import growth_shortfall, promote_waitlisted
from .credentials import renew_credentials
from .services import (
    CategoryNotOffered,
    DelegateDetails,
    DuplicateRegistration,
    EventFull,
    active_registration,
    group_too_big,
)

# Every field of a registration that an edit can change; the delegate's own edit leaves the email out (a new
# address is confirmed from that address first). The visa request is not a column of the registration: apply_edit
# saves it with visa_letter.
EDITABLE_FIELDS = tuple(name for name in DelegateDetails.__dataclass_fields__ if name != "visa")
OWN_EDITABLE_FIELDS = tuple(name for name in EDITABLE_FIELDS if name != "email")

ORGANIZER = "organizer"


def apply_edit(
    event: Event, registration: Registration, details: DelegateDetails, fields, *, by: str, language: str | None = None
) -> dict:
    """Apply `details` to the `fields` of a registration, inside the caller's transaction under the event lock;
    `language` (the organizer's edit) is the language of the delegate's mails from now on.

    Refuses (raising, before anything is changed) an address another active registration of the event uses and
    more accompanying persons than there are free seats. With "visa_letter" in `fields`, the visa application
    follows (visas.application.save_visa_details): the audit entry and the mail then say only that the passport data
    or the travel details changed, never their values. When something changed it records the audit entry, queues
    the "changed" mail (and a notice to the old address, when the email changed: the registration then gets a new
    private link and check-in code) and, if seats were freed, promotes the waiting list. `by` is audit.DELEGATE or
    ORGANIZER. Returns {field: (before, after)}, empty when nothing changed.
    """
    if "email" in fields:
        check_email(event, registration, details.email)
    if "accompanying" in fields:
        check_seats(event, registration, details.accompanying)
    recorded = (*fields, "language") if language is not None else tuple(fields)
    before = audit.snapshot(registration, recorded)
    seats_before = registration.accompanying
    for name in fields:
        if getattr(registration, name) != getattr(details, name):
            setattr(registration, name, getattr(details, name))
    if language is not None:
        registration.language = language
    old, new = audit.changes(before, audit.snapshot(registration, recorded))
    visa_said = {}
    if "visa_letter" in fields and (details.visa is not None or not details.visa_letter):
        visa_said = save_visa_details(registration.id, event.id, details.visa_letter, details.visa)
    if not new and not visa_said:
        return {}
    if "email" in new:
        renew_credentials(registration)  # the old address's owner keeps no link and no ticket that admits
    entry = audit.record(
        "registration.edited",
        event=event,
        registration=registration,
        before=old,
        after={**new, **visa_said},
        actor=audit.DELEGATE if by == audit.DELEGATE else None,
    )
    changed = {name: (old[name], new[name]) for name in new}
    messages = queue_changed_mail(registration, changed, by=by, visa_said=visa_said)
    changed.update({key: (None, said) for key, said in visa_said.items()})
    audit.same_moment(entry, *messages)
    if registration.accompanying < seats_before:
        promote_waitlisted(event)
    return changed


def assigned_category(registration: Registration) -> str | None:
    """The registration's category when the organizers set it (the delegate sees it, fixed), else None."""
    setter = category_setter(registration.event_id, registration.category)
    return registration.category if setter != CategorySetter.DELEGATES else None


def check_own_category(registration: Registration, category: str) -> None:
    """The delegate's own edit moves only between categories delegates choose: never into or out of one the
    organizers set (or one the event does not have)."""
    if category == registration.category:
        return
    if assigned_category(registration) is not None:
        raise CategoryNotOffered(_l("The organizers set your category; please ask them to change it."))
    if category_setter(registration.event_id, category) != CategorySetter.DELEGATES:
        raise CategoryNotOffered(
            _l("This category is assigned by the organizers; please choose one of the categories offered.")
        )


def queue_changed_mail(registration: Registration, changed: dict, *, by: str, visa_said: dict | None = None) -> list:
    """Queue the "changed" mail listing `changed` ({field: (before, after)}) for an active registration, and saying
    (without values) that the passport data or the visa travel details changed (`visa_said`). When the
    email changed, the old address gets only a notice that it did ("address_changed": no name, no link, no ticket,
    nothing of the registration), so its owner learns of the change and keeps nothing that opens it."""
    if registration.status not in ACTIVE:
        return []  # a correction to a cancelled or rejected registration is no news to the delegate
    rows = [{"field": name, "before": before, "after": after} for name, (before, after) in changed.items()]
    messages = [queue_mail("changed", registration, details={"by": by, "changes": rows, **(visa_said or {})})]
    if "email" in changed and changed["email"][0]:
        messages.append(queue_mail("address_changed", registration, recipient=changed["email"][0], details={"by": by}))
    return messages


def check_email(event: Event, registration: Registration, email: str) -> None:
    """One active registration per email per event: refuse an address another active registration holds."""
    if registration.status not in ACTIVE:
        return  # a cancelled or rejected registration blocks no one, and is blocked by no one
    other = active_registration(event.id, casefold_key(email, column_length(Registration.email_key)))
    if other is not None and other.id != registration.id:
        raise email_taken()


def email_taken() -> DuplicateRegistration:
    """The refusal of an address that another active registration of the event uses."""
    return DuplicateRegistration(_l("Another active registration for this event already uses this email address."))


def check_seats(event: Event, registration: Registration, accompanying: int) -> None:
    """Refuse more accompanying persons than capacity.growth_shortfall() lets the registration have."""
    shortfall = growth_shortfall(event, registration, accompanying)
    if shortfall is None:
        return
    if shortfall.outgrows_event:
        raise group_too_big(shortfall.capacity, shortfall.seats)
    raise not_enough_seats(shortfall.free, shortfall.more)


def not_enough_seats(seats_left: int, more: int) -> EventFull:
    """The refusal of `more` accompanying persons when only `seats_left` seats are free."""
    if seats_left <= 0:
        message = gettext("No seat is left, so you cannot add accompanying persons.")
    else:
        # Two numbers, each with its own plural: the sentence is put together from two pieces.
        message = gettext(
            "%(seats_left)s, so %(more)s.",
            seats_left=ngettext("Only %(num)d seat is left", "Only %(num)d seats are left", seats_left),
            more=ngettext(
                "%(num)d more accompanying person does not fit",
                "%(num)d more accompanying persons do not fit",
                more,
            ),
        )
    refusal = EventFull(message)
    refusal.field = "accompanying"
    return refusal


def changed_rows(details: dict, event_id: int | None = None) -> list[tuple[str, str, str]]:
    """The changes a "changed" mail lists, as (label, before, after) in the reader's language (categories by the
    labels of the event `event_id`)."""
    return [
        (
            audit.key_label(row["field"]),
            _shown(row["field"], row["before"], event_id),
            _shown(row["field"], row["after"], event_id),
        )
        for row in details.get("changes", [])
    ]


def _shown(field: str, value, event_id: int | None = None) -> str:
    """A field's value as the registration page shows it."""
    if value is None or value == "":
        return gettext("(none)") if field == "honorific" else gettext("(empty)")
    if field == "honorific":
        return str(HONORIFIC_LABELS.get(value, value))
    if field == "country":
        return country_name(value)
    if field == "category":
        return category_label(value, event_id)
    if field == "status":
        return status_label(value)
    if field == "language":
        return language_name(value)
    if field == "visa_letter":
        return gettext("Requested") if value else gettext("Not needed")
    return str(value)
