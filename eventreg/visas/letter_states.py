"""What happens to a delegate's visa letters when what they say stops being true: a change of passport data or of
the travel details (consulate, dates), the end of the registration. The letters are withdrawn (the verification
page says so) and the request goes back to pending, so organizers issue a new letter, with a new number, from the
new data."""

from sqlalchemy import select, update

from ..extensions import db
from ..models import LetterState, VisaApplication, VisaLetter, VisaState, utcnow


def withdraw_letters(registration_id: int) -> int:
    """Withdraw the registration's valid letters and put its visa request back to pending, in the caller's
    transaction; the number of letters withdrawn."""
    now = utcnow()
    withdrawn = db.session.execute(
        update(VisaLetter)
        .where(VisaLetter.registration_id == registration_id, VisaLetter.state == LetterState.VALID)
        .values(state=LetterState.WITHDRAWN, state_changed_at=now)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    application = db.session.scalar(select(VisaApplication).where(VisaApplication.registration_id == registration_id))
    if application is not None and application.state == VisaState.ISSUED:
        application.state = VisaState.PENDING
        application.decided_at = None
        application.decided_by_id = None
    return withdrawn
