"""The languages the app speaks, and which one each reader gets.

LANGUAGES (FLASK_LANGUAGES, a JSON list) names the offered languages as Babel writes them (`zh_Hans`), each with a
catalog under eventreg/translations/ (English, the language of the code, needs none); BABEL_DEFAULT_LOCALE is one of
them. A request's language is, in this order:

1. on the pages behind the login, the logged-in organizer's own language (Organizer.language; empty: none);
2. the visitor's choice from the switcher, kept in a cookie of its own (the session is cleared at login and logout);
3. Accept-Language, negotiated with script subtags understood (negotiation.py);
4. BABEL_DEFAULT_LOCALE.

Outside a request (the outbox worker, commands) the default applies, and mails force the registration's language
(`mail_language()`). Pages write a language as BCP 47 (`bcp47()`: zh-Hans, never zh_Hans) with its direction
(`text_direction()`); the switcher names each language in its own script (`language_name()`).
"""

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.core import get_locale_identifier
from flask import Flask, current_app, has_request_context, request, url_for
from flask_login import current_user
from wtforms import SelectChoice

from ..locale_formats import current_locale
from ..private_paths import mask_private_paths
from ..security import cookie_secure, is_public_endpoint, is_static
from .negotiation import negotiate

LANGUAGE_COOKIE = "eventreg_language"
LANGUAGE_COOKIE_MAX_AGE = timedelta(days=365)
# The language of the msgids: it reads the code's own strings and needs no catalog.
SOURCE_LANGUAGE = "en"


def offered_languages() -> list[str]:
    """The offered languages, as configured (Babel identifiers such as zh_Hans)."""
    return current_app.config["LANGUAGES"]


def default_language() -> str:
    """The language of a reader who asks for none that is offered (BABEL_DEFAULT_LOCALE)."""
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def mail_language(language: str | None) -> str:
    """The language to write to someone who chose `language`: it, while it is offered; else the default."""
    return language if language in offered_languages() else default_language()


def current_language() -> str:
    """The language of this request (or of the mail being written), as one of the offered identifiers."""
    locale = current_locale()
    return str(locale) if locale is not None else default_language()


@lru_cache(maxsize=64)
def _locale(language: str) -> Locale | None:
    try:
        return Locale.parse(language)
    except (ValueError, TypeError, UnknownLocaleError):
        return None


def bcp47(language) -> str:
    """The BCP 47 tag of a Babel identifier or Locale, for lang and hreflang attributes: zh_Hans → zh-Hans."""
    locale = _locale(str(language))
    if locale is None:
        return str(language).replace("_", "-")
    return get_locale_identifier((locale.language, locale.territory, locale.script, locale.variant), sep="-")


def text_direction(language) -> str:
    """The dir attribute beside lang: "rtl" for a language written right to left (Arabic), else "ltr"."""
    locale = _locale(str(language))
    return "rtl" if locale is not None and locale.text_direction == "rtl" else "ltr"


def language_name(language) -> str:
    """A language named in its own script and capitalised as a list of languages writes it: English, 简体中文,
    Français, Español, Русский, العربية (CLDR's name of the identifier, zh_Hans included; the unknown as given)."""
    locale = _locale(str(language))
    if locale is None:
        return str(language)
    name = locale.languages.get(str(locale)) or locale.display_name
    # CLDR capitalises language names at the start of a menu item (its uiListOrMenu context); Babel does not ship
    # those rules. Upper-casing the first letter is what they say for the offered languages, and changes nothing in
    # scripts without case.
    return name[:1].upper() + name[1:]


def language_choices(*, blank: str | None = None, keep: str | None = None) -> list[SelectChoice]:
    """The offered languages for a select, each named in its own language with its lang attribute; `blank` labels
    an empty first choice, and `keep` (a stored value no longer offered) stays choosable."""
    languages = list(offered_languages())
    if keep and keep not in languages:
        languages.append(keep)
    choices = [SelectChoice("", blank)] if blank is not None else []
    choices += [SelectChoice(code, language_name(code), render_kw={"lang": bcp47(code)}) for code in languages]
    return choices


def select_locale() -> str:
    """Flask-Babel's locale selector: the organizer's own language behind the login, the visitor's cookie, the
    browser's Accept-Language, the default; always one of the offered languages."""
    if not has_request_context():
        return default_language()
    offered = offered_languages()
    if not is_public_endpoint(current_app, request.endpoint) and current_user.is_authenticated:
        own = getattr(current_user, "language", "")
        if own in offered:
            return own
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in offered:
        return chosen
    return negotiate(request.headers.get("Accept-Language", ""), tuple(offered)) or default_language()


def remember_choice(response, language: str):
    """Keep the visitor's choice in its own long-lived cookie (Secure where the session cookie is)."""
    response.set_cookie(
        LANGUAGE_COOKIE,
        language,
        max_age=LANGUAGE_COOKIE_MAX_AGE,
        secure=cookie_secure(),
        httponly=True,
        samesite="Lax",
    )
    return response


@dataclass(frozen=True)
class SwitcherEntry:
    """One language of the switcher."""

    code: str
    name: str
    tag: str
    url: str
    current: bool


@dataclass(frozen=True)
class Switcher:
    """The switcher of the page being rendered: links, or one POST form where the choice must be saved to the
    account or the page's address holds a secret (a private link: it must not travel in a logged query string)."""

    entries: list[SwitcherEntry]
    back_to: str
    post: bool

    @property
    def action(self) -> str:
        """The form's own action (each button has its formaction): the current language's, a harmless default."""
        return next((entry.url for entry in self.entries if entry.current), self.entries[0].url)


def language_switcher() -> Switcher:
    """What the switcher of the current page shows (templates/_language_switcher.html)."""
    back_to = request.full_path.rstrip("?") if request.query_string else request.path
    post = current_user.is_authenticated or mask_private_paths(back_to) != back_to
    here = current_language()
    entries = [
        SwitcherEntry(
            code=code,
            name=language_name(code),
            tag=bcp47(code),
            url=url_for("languages.switch", code=code, **({} if post else {"next": back_to})),
            current=code == here,
        )
        for code in offered_languages()
    ]
    return Switcher(entries, back_to, post)


def check_languages(app: Flask) -> None:
    """Refuse at start-up what would silently serve English: a language Babel does not know, one spelled otherwise
    than its catalog folder, one without a catalog, or a default that is not offered."""
    languages = app.config["LANGUAGES"]
    if not isinstance(languages, list | tuple) or not languages or not all(isinstance(c, str) for c in languages):
        raise ValueError('LANGUAGES must be a JSON list of language codes, e.g. ["en", "zh_Hans", "fr"]')
    if len(set(languages)) != len(languages):
        raise ValueError(f"LANGUAGES names a language twice: {languages}")
    folders = [Path(folder) for folder in app.extensions["babel"].translation_directories]
    for code in languages:
        locale = _locale(code)
        if locale is None or str(locale) != code:
            spelled = f" (Babel writes it {locale})" if locale is not None else ""
            raise ValueError(f"LANGUAGES: {code!r} is not a language code as Babel writes it{spelled}, e.g. zh_Hans")
        has_catalog = any(
            (folder / code / "LC_MESSAGES" / f"messages.{ext}").is_file() for folder in folders for ext in ("po", "mo")
        )
        if code != SOURCE_LANGUAGE and not has_catalog:
            where = ", ".join(str(folder) for folder in folders)
            raise ValueError(f"LANGUAGES: {code!r} has no catalog ({code}/LC_MESSAGES/messages.po under {where})")
    if app.config["BABEL_DEFAULT_LOCALE"] not in languages:
        raise ValueError(
            f"BABEL_DEFAULT_LOCALE {app.config['BABEL_DEFAULT_LOCALE']!r} is not among LANGUAGES {list(languages)}"
        )


def _vary(response):
    """Pages depend on the language cookie and Accept-Language: shared caches must keep one copy per language."""
    if not is_static(request.endpoint):
        response.vary.add("Cookie")
        response.vary.add("Accept-Language")
    return response


def init_app(app: Flask) -> None:
    """Check the offered languages and give templates the helpers (call after Flask-Babel's init_app)."""
    check_languages(app)
    app.after_request(_vary)
    app.jinja_env.globals.update(
        bcp47=bcp47,
        text_direction=text_direction,
        language_name=language_name,
        language_switcher=language_switcher,
    )
