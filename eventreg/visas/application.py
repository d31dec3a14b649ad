"""What a consulate needs for a delegate's visa invitation letter: the rules that check it against the event, and
saving or erasing the delegate's VisaApplication inside the caller's transaction. The passport number and the
date of birth are sealed by the model; nothing here logs, audits or mails their values."""

import re
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from ..audit import CHANGED
from ..extensions import db
from ..models import Event, LetterState, VisaApplication, VisaLetter, VisaState, utcnow
from .letter_states import withdraw_letters

# The passport's own data: a change to any of it makes an issued letter untrue, so the letter is withdrawn.
PASSPORT_FIELDS = ("passport_name", "nationality", "passport_number", "passport_expiry", "birth_date")
# The rest of the request: where the delegate applies and when they travel.
TRAVEL_FIELDS = ("consulate_city", "arrival", "departure")
VISA_FIELDS = PASSPORT_FIELDS + TRAVEL_FIELDS
# Audit and mail keys that say "this changed" and never carry a value.
PASSPORT_DATA = "passport_data"
VISA_TRAVEL = "visa_travel"

PASSPORT_NUMBER = re.compile(r"[A-Z0-9]{5,20}")
OLDEST_AGE_YEARS = 120


@dataclass(frozen=True)
class VisaDetails:
    """What a delegate gives for their visa letter, as the form read it (the number normalized)."""

    passport_name: str
    nationality: str
    passport_number: str
    passport_expiry: date | None
    birth_date: date | None
    consulate_city: str
    arrival: date | None
    departure: date | None


def normalized_passport_number(text: str | None) -> str:
    """The passport number as stored: spaces removed, upper case."""
    return "".join((text or "").split()).upper()


def event_dates(event: Event) -> tuple[date, date]:
    """The event's first and last day, in its own time zone (the dates a delegate's travel is checked against)."""
    return event.local(event.starts_at).date(), event.local(event.ends_at).date()


def visa_problems(details: VisaDetails, period: tuple[date, date] | None, today: date, *, new: bool) -> dict:
    """The rules a consulate's request must meet, as {field: message} (empty when it meets them). `period` is the
    event's first and last day (None: the dates are checked against each other only); `new` data may not arrive in
    the past, while data kept from before (an arrival that has passed) stays acceptable."""
    problems = {}
    number = normalized_passport_number(details.passport_number)
    if number and not PASSPORT_NUMBER.fullmatch(number):
        problems["passport_number"] = _l("A passport number has 5 to 20 letters and digits.")
    if details.birth_date is not None:
        if details.birth_date >= today:
            problems["birth_date"] = _l("Your date of birth must be in the past.")
        elif details.birth_date < _years_before(today, OLDEST_AGE_YEARS):
            problems["birth_date"] = _l("Please check your date of birth: it is more than 120 years ago.")
    if details.arrival is not None:
        if period is not None and details.arrival > period[0]:
            problems["arrival"] = _l("Please arrive by the first day of the event.")
        elif new and details.arrival < today:
            problems["arrival"] = _l("Your arrival date is in the past.")
    if details.departure is not None:
        if details.arrival is not None and details.departure <= details.arrival:
            problems["departure"] = _l("Your departure must be after your arrival.")
        elif period is not None and details.departure < period[1]:
            problems["departure"] = _l("Please leave no earlier than the last day of the event.")
    if details.passport_expiry is not None:
        last_day = details.departure or (period[1] if period else today)
        if details.passport_expiry <= last_day:
            problems["passport_expiry"] = _l("Your passport must be valid after your departure.")
    return problems


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def visa_application(registration_id: int) -> VisaApplication | None:
    """The registration's visa application, if it has one."""
    return db.session.scalar(select(VisaApplication).where(VisaApplication.registration_id == registration_id))


def new_application_row(event_id: int, details: VisaDetails) -> dict:
    """A new application as a row for a Core insert (the registration's hot path), its personal values sealed;
    the caller adds the registration's id."""
    application = VisaApplication(event_id=event_id)
    _copy(application, details)
    now = utcnow()
    row = {name: getattr(application, name) for name in _COLUMNS}
    return {**row, "event_id": event_id, "state": VisaState.PENDING, "created_at": now, "updated_at": now}


_COLUMNS = (
    "passport_name",
    "nationality",
    "passport_number_sealed",
    "passport_expiry",
    "birth_date_sealed",
    "consulate_city",
    "arrival",
    "departure",
)


def _copy(application: VisaApplication, details: VisaDetails) -> None:
    for name in VISA_FIELDS:
        value = details.__dict__[name]
        if name == "passport_number":
            value = normalized_passport_number(value)
        # Only what differs: sealing the same value again gives new bytes, and an UPDATE for nothing.
        if getattr(application, name) != value:
            setattr(application, name, value)


def save_visa_details(registration_id: int, event_id: int, wanted: bool, details: VisaDetails | None) -> dict:
    """Bring the registration's visa application in line with the delegate's answer, in the caller's transaction:
    created or updated when `wanted`, removed (its letters withdrawn) when not. A change to the passport data, the
    consulate or the travel dates withdraws issued letters (a new one gets a new number). Returns what the audit and
    the "changed" mail may say, never a value: {"passport_data": "changed"} and/or {"visa_travel": "changed"}."""
    application = visa_application(registration_id)
    if not wanted or details is None:
        if application is None:
            return {}
        withdraw_letters(registration_id)
        db.session.delete(application)
        return {PASSPORT_DATA: CHANGED}
    if application is None:
        application = VisaApplication(registration_id=registration_id, event_id=event_id)
        db.session.add(application)
        _copy(application, details)
        return {PASSPORT_DATA: CHANGED}
    before = {name: getattr(application, name) for name in VISA_FIELDS}
    _copy(application, details)
    changed = {name for name in VISA_FIELDS if getattr(application, name) != before[name]}
    if changed & {*PASSPORT_FIELDS, *TRAVEL_FIELDS}:
        # The letter prints both (the consulate's city, the arrival and departure): it no longer says what is so.
        withdraw_letters(registration_id)
    said = {}
    if changed & set(PASSPORT_FIELDS):
        said[PASSPORT_DATA] = CHANGED
    if changed & set(TRAVEL_FIELDS):
        said[VISA_TRAVEL] = CHANGED
    return said


def erase_visa_data(registration_ids: list[int]) -> None:
    """Erase what these registrations gave for their visa letters, in the caller's transaction: the application's
    personal values blanked, valid letters withdrawn, and every letter's holder name and sealed content cleared
    (the verification page then says "withdrawn" and names no one)."""
    if not registration_ids:
        return
    for registration_id in registration_ids:
        withdraw_letters(registration_id)
    # The row stays (the queue's counts keep it); what it says of the person goes.
    db.session.execute(
        update(VisaApplication)
        .where(VisaApplication.registration_id.in_(registration_ids))
        .values(passport_name="", nationality="", consulate_city="", passport_number_sealed="", birth_date_sealed="")
        .values(passport_expiry=None, arrival=None, departure=None)
        .execution_options(synchronize_session="fetch")
    )
    for letter in db.session.scalars(select(VisaLetter).where(VisaLetter.registration_id.in_(registration_ids))):
        letter.holder_name = ""
        letter.passport_tail = ""
        letter.content_sealed = ""
        if letter.state == LetterState.VALID:
            letter.state = LetterState.WITHDRAWN
