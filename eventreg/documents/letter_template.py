"""The visa letter's text: plain text that organizers write per event (documents settings), with placeholders from
the fixed list below, replaced by eventreg/placeholders.py (never a Jinja template, never str.format).

The default is English, as consulates read it; a second language (e.g. Chinese) can be set beside it, and then
both texts are printed on the same letter. A blank line separates paragraphs.
"""

from flask_babel import lazy_gettext as _l

# Every placeholder a letter's template may use, with what it stands for (shown on the settings page).
LETTER_PLACEHOLDERS = {
    "letter_number": _l("the letter's number, e.g. ANSO-2027-0042"),
    "issue_date": _l("the date the letter is issued"),
    "passport_name": _l("the full name exactly as in the passport"),
    "nationality": _l("the nationality"),
    "passport_number": _l("the passport number"),
    "passport_expiry": _l("the passport's expiry date"),
    "birth_date": _l("the date of birth"),
    "institution": _l("the delegate's institution"),
    "position": _l("the delegate's position"),
    "consulate_city": _l("the city of the consulate"),
    "arrival": _l("the planned arrival date"),
    "departure": _l("the planned departure date"),
    "event_title": _l("the event's title"),
    "event_dates": _l("the event's dates"),
    "venue": _l("the venue"),
    "city": _l("the event's city"),
    "host_organisation": _l("the host organisation"),
    "signatory_name": _l("the signatory's name"),
    "signatory_title": _l("the signatory's title"),
}

# The English letter an event starts with (what consulates expect to read: who invites whom, for what, when, and
# who pays); organizers adapt it in the document settings.
DEFAULT_LETTER_TEMPLATE = """To the Visa Section of the Embassy or Consulate in {consulate_city}

Invitation letter {letter_number}, issued on {issue_date}

{host_organisation} is pleased to invite {passport_name}, national of {nationality}, born on {birth_date}, \
holder of passport number {passport_number} (valid until {passport_expiry}), {position} at {institution}, to \
attend {event_title}, to be held at {venue}, {city}, on {event_dates}.

{passport_name} plans to arrive on {arrival} and to depart on {departure}. We kindly ask you to grant the visa \
needed for this visit.

The authenticity of this letter can be checked with the code printed below it.

{signatory_name}
{signatory_title}
{host_organisation}"""
