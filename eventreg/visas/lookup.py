"""What the public side reads of visa letters: a letter as its verification page shows it (found by number and
code, the code compared by digest in constant time), and a delegate's own request and letter."""

import hmac
from dataclasses import dataclass

from sqlalchemy import select

from ..extensions import db
from ..models import Event, LetterState, Registration, VisaApplication, VisaLetter, VisaState
from ..models.common import token_digest
from .letters import is_complete

MAX_NUMBER_LENGTH = 40  # VisaLetter.number's column
MAX_CODE_LENGTH = 40
# Compared against when no letter has the number, so an unknown number costs what a wrong code costs.
_NO_DIGEST = token_digest("no letter has this number")
# The letters a reader may type for the digits the code prints (its alphabet has 0 and 1, never O, I or L).
_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def typed_code(code: str) -> str:
    """A verification code as typed, in the form it was issued: upper case, look-alike letters read as digits."""
    return code.strip().upper().translate(_LOOK_ALIKES)


@dataclass(frozen=True)
class VerifiedLetter:
    """What the verification page shows: nothing more than this."""

    number: str
    holder_name: str  # "" once the holder's data was erased
    passport_tail: str
    state: str
    event: Event


def verified_letter(number: str, code: str) -> VerifiedLetter | None:
    """The letter `number` if `code` is its verification code; None for an unknown number or a wrong code alike."""
    if len(number) > MAX_NUMBER_LENGTH or len(code) > MAX_CODE_LENGTH:
        return None
    letter = db.session.scalar(select(VisaLetter).where(VisaLetter.number == number))
    expected = letter.verify_digest if letter is not None else _NO_DIGEST
    if not hmac.compare_digest(expected, token_digest(typed_code(code))) or letter is None:
        return None
    erased = not letter.holder_name
    return VerifiedLetter(
        number=letter.number,
        holder_name=letter.holder_name,
        passport_tail="" if erased else letter.passport_tail,
        state=LetterState.WITHDRAWN if erased else letter.state,
        event=db.session.get(Event, letter.event_id),
    )


def own_valid_letter(registration: Registration) -> VisaLetter | None:
    """The registration's current valid letter, if one was issued."""
    return db.session.scalar(
        select(VisaLetter).where(VisaLetter.registration_id == registration.id, VisaLetter.state == LetterState.VALID)
    )


@dataclass(frozen=True)
class OwnVisaRequest:
    """The delegate's visa request as their private page shows it."""

    state: str  # VisaState, or "" while details the letter needs are missing
    letter: VisaLetter | None


def visa_request_of(registration: Registration) -> OwnVisaRequest | None:
    """The registration's visa request and valid letter for its private page; None when it asked for none."""
    if not registration.visa_letter:
        return None
    application = db.session.scalar(select(VisaApplication).where(VisaApplication.registration_id == registration.id))
    letter = own_valid_letter(registration)
    state = application.state if application is not None else ""
    if state == VisaState.ISSUED and letter is None:
        state = VisaState.PENDING
    if state == VisaState.PENDING and not is_complete(application):
        state = ""
    return OwnVisaRequest(state=state, letter=letter)
