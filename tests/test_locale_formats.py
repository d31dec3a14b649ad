"""Numbers, plurals, dates and times as each language writes them: counts in sentences through ngettext with the
language's plural rules, digits grouped by Babel (1,234 · 1 234 · 1.234), dates in the locale's own order, event
times in the event's zone.

Translations are read from the catalogs (scripts/messages.py), so a translator's rewording does not break a test;
the .mo files are compiled by `make` (or `pybabel compile -d eventreg/translations`).
"""

import re
from copy import copy
from datetime import UTC, date, datetime

import pytest
from babel import Locale
from babel.dates import format_date, format_skeleton
from flask import render_template_string
from flask_babel import force_locale, format_number, get_locale
from sqlalchemy import func, select

from eventreg import audit
from eventreg.checkin.services import already_message
from eventreg.demo.load import load_demo
from eventreg.extensions import db
from eventreg.languages import LANGUAGE_COOKIE
from eventreg.locale_formats import current_locale, day, fill, whole_number
from eventreg.models import Event, Registration, Status
from eventreg.organizer import charts
from eventreg.registration.counter import headline
from eventreg.templating import percent
from scripts.messages import read_catalog
from tests.conftest import create_test_event, drop_tables, make_app, private_token

NARROW_NBSP = "\u202f"  # French groups thousands with a narrow no-break space
NBSP = "\u00a0"  # Russian with a no-break space


def plural_forms(language: str, singular: str) -> list[str]:
    """The translated forms of a plural message, in the catalog's order."""
    message = read_catalog(language).get(singular)
    assert message is not None and all(message.string), f"{language} has no translation of {singular!r}"
    return list(message.string)


def in_language(client, language: str):
    client.set_cookie(LANGUAGE_COOKIE, language)
    return client


@pytest.fixture
def big_event(app):
    """The demo ceremony with 1,234 registrations (about 3 % cancelled), so totals need a thousands separator."""
    with app.app_context():
        event = load_demo(delegates=1234).event
        confirmed = db.session.scalar(
            select(func.count()).where(Registration.event_id == event.id, Registration.status == Status.CONFIRMED)
        )
        db.session.expunge(event)
    assert 1000 <= confirmed < 1234
    return event, confirmed


def grouped(number: int, separator: str) -> str:
    return f"{number:,}".replace(",", separator)


# ---- counts in sentences


def test_whole_numbers_in_messages_are_grouped_and_nothing_else_is_touched(app):
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        # An int for %(name)d is grouped; "%%" stays a percent sign; a %(name)s value is written as given.
        assert fill("%(num)d seats, 100 %% full, ticket %(code)s", {"num": 1234, "code": 1234}) == (
            f"1{NARROW_NBSP}234 seats, 100 % full, ticket 1234"
        )
        # In templates too, with the other variables still escaped.
        rendered = render_template_string('{{ _("%(num)d from %(name)s", num=12345, name=name) }}', name="<b>")
        assert rendered == f"12{NARROW_NBSP}345 from &lt;b&gt;"


@pytest.mark.parametrize("language", ["en", "zh_Hans", "fr", "es", "ru", "ar"])
def test_remembered_whole_numbers_are_written_as_babel_writes_them_in_each_language(app, language):
    with app.test_request_context(headers={"Accept-Language": language.replace("_", "-")}):
        for number in (0, 7, 1234, 1234, 56789, 1234567, -4321):  # 1234 twice: the second comes from the cache
            assert whole_number(number) == format_number(number), (language, number)
        # The request is in that language: a figure cached by an earlier case in another one would have failed above.
        assert str(get_locale()) == language


def test_the_quick_locale_is_flask_babels_choice_forced_or_not(app):
    """current_locale() reads Flask-Babel's own choice: before anything was chosen, once chosen, under force_locale
    (a mail in the delegate's language inside an English request) and after it, and outside any request."""
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert str(current_locale()) == "fr"  # nothing chosen yet: Flask-Babel chooses
        assert current_locale() == get_locale()
        with force_locale("zh_Hans"):
            assert str(current_locale()) == str(get_locale()) == "zh_Hans"
            assert whole_number(1234) == "1,234" and percent(0.5) == "50.0%"
        assert str(current_locale()) == str(get_locale()) == "fr"
        assert whole_number(1234) == f"1{NARROW_NBSP}234" and percent(0.5) == f"50,0{NBSP}%"
    with app.app_context():
        assert current_locale() == get_locale()
    assert current_locale() is None  # no app at all, as flask_babel.get_locale() says


@pytest.mark.parametrize("language", ["en", "zh_Hans", "fr", "es", "ru", "ar"])
def test_remembered_shares_and_days_are_written_as_babel_writes_them(app, language):
    """percent() and day() remember their texts per language; each equals Babel's own, halves rounded as Babel
    rounds them (the float's shortest form, half to even), and the language in the key keeps two apart."""
    import random

    randomly = random.Random(language)
    shares = [0.0, 1.0, 1 / 3, 2 / 3, 0.0005, 0.0015, 0.0025, 0.1235, 0.99995, 0.00049999]
    shares += [randomly.randint(0, total) / total for total in (randomly.randint(1, 200_000) for _ in range(2000))]
    with app.test_request_context(headers={"Accept-Language": language.replace("_", "-")}):
        locale = get_locale()
        pattern = copy(locale.percent_formats[None])
        pattern.frac_prec = (1, 1)
        for share in shares:
            assert percent(share) == pattern.apply(share, locale), (language, share)
        dates_in = Locale.parse("en_001") if language == "en" else locale
        for moment in (date(2031, 3, 17), date(2031, 12, 1), date(2031, 3, 17)):  # again: from the cache
            assert day(moment) == format_date(moment, "medium", locale=dates_in)
            assert day(moment.isoformat(), "short_month") == format_skeleton("MMMd", moment, locale=dates_in)


def test_russian_counter_sentence_follows_the_plural_rule_and_groups_digits(app):
    participant_forms = plural_forms("ru", "%(num)d confirmed participant")
    country = plural_forms("ru", "%(num)d country or region")[0]
    # Russian: 1 (and 21, 101…) takes one form; 2–4 (and 22–24, 1234…) another; 5–20 (and 0) the third.
    for participants, form in {1: 0, 2: 1, 5: 2, 1234: 1}.items():
        with app.test_request_context(headers={"Accept-Language": "ru"}):
            sentence = headline({"participants": participants, "countries": 1})
        participant = participant_forms[form].replace("%(num)d", grouped(participants, NBSP))
        assert sentence.startswith(participant + " "), (participants, sentence)
        assert sentence.endswith(country.replace("%(num)d", "1")), sentence


def test_arabic_has_six_plural_forms_in_one_sentence(app):
    forms = plural_forms("ar", "%(num)d confirmed participant")
    assert len(set(forms)) > 3  # the translators wrote distinct forms
    # zero, one, two, few (3–10), many (11–99), other (100, 1000…): CLDR's Arabic categories, in the catalog's order.
    expected = {0: 0, 1: 1, 2: 2, 3: 3, 11: 4, 100: 5, 1000: 5}
    for participants, form in expected.items():
        with app.test_request_context(headers={"Accept-Language": "ar"}):
            sentence = headline({"participants": participants, "countries": 1})
        number = "1,000" if participants == 1000 else str(participants)
        assert sentence.startswith(forms[form].replace("%(num)d", number)), (participants, sentence)


def test_counter_json_in_russian_carries_sentences_and_numbers_written_for_the_reader(client, big_event):
    event, confirmed = big_event
    answer = client.get(f"/e/{event.slug}/delegates.json", headers={"Accept-Language": "ru"}).json
    assert answer["participants"] == confirmed  # the numbers themselves stay numbers
    assert grouped(confirmed, NBSP) in answer["headline"]
    biggest = max(answer["by_country"], key=lambda row: row["count"])
    assert biggest["count_text"] == grouped(biggest["count"], NBSP)


def test_checkin_counts_json_in_french_groups_digits(app, logged_in, big_event):
    event, confirmed = big_event
    answer = in_language(logged_in, "fr").get(f"/checkin/{event.slug}/counts.json").json
    assert answer["expected"] == confirmed
    assert grouped(confirmed, NARROW_NBSP) in answer["headline"]
    assert answer["expected_text"] == grouped(confirmed, NARROW_NBSP)
    assert answer["checked_in_text"] == "0"


@pytest.fixture
def one_of_each(tmp_path):
    """An app whose delegates' data is erased 1 day after the event and whose counter refreshes every second."""
    app = make_app(tmp_path, PURGE_AFTER_DAYS=1, COUNTER_REFRESH_SECONDS=1)
    yield app
    drop_tables(app)


def test_the_privacy_text_and_the_counter_hint_count_in_the_singular_too(one_of_each):
    event = create_test_event(one_of_each)
    client = one_of_each.test_client()
    form = client.get(f"/e/{event.slug}/register").text
    assert "erased 1 day after the event" in form and "1 days" not in form
    counter = client.get(f"/e/{event.slug}/delegates").text
    assert "This page updates itself every 1 second." in counter


# ---- figures on the pages


def test_dashboard_in_french_groups_thousands(logged_in, big_event):
    event, confirmed = big_event
    page = in_language(logged_in, "fr").get(f"/organizer/events/{event.slug}").text
    assert f'id="total-registrations">1{NARROW_NBSP}234<' in page
    assert f'id="checked-in-expected">{grouped(confirmed, NARROW_NBSP)}<' in page
    assert f"(1{NARROW_NBSP}234)</a>" in page  # "All registrations (1 234)"
    shares = re.findall(r'<td class="num">([^<]*%)</td>', page)
    assert shares and all(re.fullmatch(r"\d+,\d\xa0%", share) for share in shares), shares[:3]
    days = re.findall(r'<time datetime="(\d{4}-\d\d-\d\d)">([^<]+)</time>', page)
    assert days and all(re.fullmatch(r"\d{1,2} [a-zéû]+\.? \d{4}", text) for _, text in days), days[:3]


def test_dashboard_charts_write_ticks_and_values_for_the_reader(logged_in, big_event):
    event, _ = big_event
    page = in_language(logged_in, "fr").get(f"/organizer/events/{event.slug}").text
    cumulative = re.search(r'<svg[^>]*id="chart-cumulative".*?</svg>', page, re.S).group(0)
    ticks = re.findall(r'class="chart-tick">([^<]+)<', cumulative)
    assert f"2{NARROW_NBSP}000" in ticks and f"1{NARROW_NBSP}000" in ticks
    assert re.search(rf": 1{NARROW_NBSP}234</title>", cumulative)  # the running total's last point
    assert "1234" not in page.replace(event.slug, "")


def test_the_world_map_legend_writes_its_ranges_for_the_reader(app):
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        legend = charts.map_legend([1, 10, 100, 1000], 2500)
    assert legend[-2:] == [(3, "100–999"), (4, f"1{NARROW_NBSP}000–2{NARROW_NBSP}500")]


# ---- dates and times


def test_private_page_writes_dates_the_chinese_way(app, client, make_event, make_registration):
    starts = datetime(2031, 3, 17, 1, 30, tzinfo=UTC)  # Monday 17 March 2031, 09:30 in Beijing
    event = make_event(starts_at=starts, ends_at=starts.replace(hour=4))
    registration_id, _ = make_registration(event)
    page = in_language(client, "zh_Hans").get(f"/r/{private_token(app, registration_id)}").text
    assert "2031年3月17日星期一 09:30 (UTC+08:00)" in page
    assert "2031年3月17日星期一 12:30 (UTC+08:00)" in page


def test_the_desk_says_when_a_delegate_was_checked_in_the_chinese_way(app, make_event, make_registration):
    event = make_event()
    registration_id, _ = make_registration(event)
    catalog = read_catalog("zh_Hans")
    template = catalog.get("Already checked in on %(date)s at %(time)s by %(staff)s.").string
    staff = catalog.get("an unknown account").string  # checked in by no account on record
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        registration = db.session.get(Registration, registration_id)
        registration.checked_in_at = datetime(2030, 1, 2, 1, 30, tzinfo=UTC)  # 09:30 in Beijing, another day
        message = already_message(db.session.get(Event, event.id), registration)
    assert message == template % {"date": "2030年1月2日", "time": "09:30", "staff": staff}, message


def test_an_identifier_in_a_sentence_is_not_grouped_as_a_quantity(app, logged_in, big_event):
    event, _ = big_event
    with app.app_context():
        registration = db.session.get(Registration, 1234)
        audit.record("registration.edited", event=db.session.get(Event, event.id), registration=registration)
        db.session.commit()
    page = logged_in.get("/admin/audit").text
    assert '<span class="hint">registration 1234</span>' in page
