"""An event's categories of participants: which exist, what each is called in a language, who may set it, and the
organizers' changes to them (labels, colours, order, new ones, deleting unused ones)."""

import re
from dataclasses import dataclass, field

from flask import g, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from .. import audit
from ..extensions import db
from ..languages import current_language
from ..models import CATEGORY_LABELS, CategorySetter, Event, EventCategory, Invitation, Organizer, Registration

CODE_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")
COLOUR_PATTERN = re.compile(r"#[0-9a-fA-F]{6}\Z")
MAX_CODE_LENGTH = 20  # EventCategory.code's width
MAX_LABEL_LENGTH = 100
SOURCE_LANGUAGE = "en"


class CategoryRefused(Exception):
    """A change to an event's categories that the rules do not allow; `message` is shown to the organizer, beside
    `field` when it names one."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


@dataclass(frozen=True)
class CategoryInfo:
    """One category as pages and exports read it: plain values, safe to keep after the session closes."""

    code: str
    labels: dict = field(default_factory=dict)
    colour: str = "#1f5fa8"
    position: int = 0
    set_by: str = CategorySetter.DELEGATES

    @property
    def chosen_by_delegates(self) -> bool:
        """Whether the public form offers it."""
        return self.set_by == CategorySetter.DELEGATES


@dataclass(frozen=True)
class CategoryChange:
    """What the organizers ask of one category on the settings page: `id` None adds one with `code`."""

    id: int | None
    code: str
    labels: dict
    colour: str
    position: int
    set_by: str
    delete: bool = False


def event_categories(event_id: int) -> list[EventCategory]:
    """The event's categories, in their order."""
    query = (
        select(EventCategory)
        .where(EventCategory.event_id == event_id)
        .order_by(EventCategory.position, EventCategory.id)
    )
    return list(db.session.scalars(query))


def category_infos(event_id: int) -> list[CategoryInfo]:
    """The event's categories as plain values, in their order; read once per request (pages show many rows)."""
    cache = g.setdefault("event_categories", {}) if has_request_context() else {}
    if event_id not in cache:
        cache[event_id] = [
            CategoryInfo(c.code, dict(c.labels or {}), c.colour, c.position, c.set_by)
            for c in event_categories(event_id)
        ]
    return cache[event_id]


def forget_cached(event_id: int) -> None:
    """Drop this request's copy of the event's categories (after a change)."""
    if has_request_context():
        g.setdefault("event_categories", {}).pop(event_id, None)


def label(category: EventCategory | CategoryInfo, language: str | None = None) -> str:
    """What a category is called in `language` (by default the reader's): the organizers' label for it, else the
    catalog's label of a default code, else the organizers' English label, else the code."""
    language = language or current_language()
    labels = category.labels or {}
    if labels.get(language):
        return labels[language]
    if category.code in CATEGORY_LABELS:
        return str(CATEGORY_LABELS[category.code])
    return labels.get(SOURCE_LANGUAGE) or category.code


def category_labels(event_id: int, language: str | None = None) -> dict[str, str]:
    """{code: label} of the event's categories in `language` (by default the reader's), in their order."""
    return {info.code: label(info, language) for info in category_infos(event_id)}


def category_label_of(event_id: int | None, code: str, language: str | None = None) -> str:
    """The label of one code of an event (a code the event no longer has: its catalog label, else itself)."""
    if event_id is not None:
        for info in category_infos(event_id):
            if info.code == code:
                return label(info, language)
    return str(CATEGORY_LABELS.get(code, code))


def delegate_codes(event_id: int) -> list[str]:
    """The codes delegates may choose themselves (those the public form offers), in order."""
    return [info.code for info in category_infos(event_id) if info.chosen_by_delegates]


def category_setter(event_id: int, code: str) -> str | None:
    """Who sets this category of the event (CategorySetter), or None when the event has no such category. On the
    registration's hot path the form has read the event's categories in the same request already: no query."""
    return next((category.set_by for category in category_infos(event_id) if category.code == code), None)


def carried_codes(event_id: int) -> set[str]:
    """The codes that a registration or an invitation of the event carries (those cannot be deleted)."""
    registrations = select(Registration.category).where(Registration.event_id == event_id).distinct()
    invitations = select(Invitation.category).where(Invitation.event_id == event_id).distinct()
    return set(db.session.scalars(registrations)) | set(db.session.scalars(invitations))


def check_change(change: CategoryChange) -> None:
    """Refuse a malformed code, colour, order or label (the form checks them too; this keeps the rule here)."""
    if change.id is None and not (len(change.code) <= MAX_CODE_LENGTH and CODE_PATTERN.match(change.code)):
        raise CategoryRefused(
            _l(
                "A code is made of lower-case letters, digits and hyphens (at most %(max)d), e.g. keynote-speaker.",
                max=MAX_CODE_LENGTH,
            ),
            "code",
        )
    if not COLOUR_PATTERN.match(change.colour or ""):
        raise CategoryRefused(_l("Please give a colour as #rrggbb, e.g. #1f5fa8."), "colour")
    if change.set_by not in {setter.value for setter in CategorySetter}:
        raise CategoryRefused(_l("Please choose who sets this category."), "set_by")
    if any(len(text) > MAX_LABEL_LENGTH for text in change.labels.values()):
        raise CategoryRefused(_l("A label is at most %(max)d characters long.", max=MAX_LABEL_LENGTH), "labels")


def save_categories(event: Event, changes: list[CategoryChange], organizer: Organizer | None) -> None:
    """Apply the organizers' changes to an event's categories in ONE transaction, with one audit entry (the
    categories before and after). Raises CategoryRefused (nothing written): a malformed value, a code the event
    already has, a category of another event, deleting one that a registration or an invitation carries, or
    deleting them all."""
    try:
        current = {category.id: category for category in event_categories(event.id)}
        before = _snapshot(current.values())
        carried = carried_codes(event.id) if any(change.delete for change in changes) else set()
        codes = {category.code for category in current.values()}
        for change in changes:
            if change.delete:
                category = _own(current, change)
                if category.code in carried:
                    raise CategoryRefused(
                        _l(
                            "The category %(label)s cannot be deleted: registrations or invitations carry it. "
                            "Move them to another category first.",
                            label=label(category),
                        )
                    )
                db.session.delete(category)
                del current[category.id]
                continue
            check_change(change)
            if change.id is None:
                if change.code in codes:
                    raise CategoryRefused(_l("This event already has a category with this code."), "code")
                codes.add(change.code)
                category = EventCategory(event_id=event.id, code=change.code)
                db.session.add(category)
            else:
                category = _own(current, change)
            # Labels in languages the form did not show (no longer offered) are kept.
            kept = {lang: text for lang, text in (category.labels or {}).items() if lang not in change.labels}
            category.labels = kept | {lang: text for lang, text in change.labels.items() if text}
            category.colour = change.colour.lower()
            category.position = change.position
            category.set_by = change.set_by
        db.session.flush()
        remaining = event_categories(event.id)
        if not remaining:
            raise CategoryRefused(_l("An event needs at least one category."))
        after = _snapshot(remaining)
        # A deleted category is recorded as gone (None after): changes() looks only at the keys of the new state.
        old, new = audit.changes(before, after | {key: None for key in before if key not in after})
        if old or new:
            audit.record("event.categories_changed", event=event, organizer=organizer, before=old, after=new)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        forget_cached(event.id)


def _own(current: dict[int, EventCategory], change: CategoryChange) -> EventCategory:
    """The event's category that a change names; refused when it names another event's or a deleted one."""
    category = current.get(change.id)
    if category is None:
        raise CategoryRefused(_l("This category no longer exists. Please reload the page."))
    return category


def _snapshot(categories) -> dict[str, str]:
    """The categories as the audit log shows them: one line per code ("category speaker": "en: Keynote speaker;
    fr: Orateur principal · #b3261e · 2 · organizers")."""
    return {
        f"category {category.code}": " · ".join(
            [
                "; ".join(f"{lang}: {text}" for lang, text in sorted((category.labels or {}).items())) or "—",
                category.colour,
                str(category.position),
                category.set_by,
            ]
        )
        for category in categories
    }


def usage_counts(event_id: int) -> dict[str, int]:
    """{code: how many registrations and invitations of the event carry it}."""
    counts: dict[str, int] = {}
    for model in (Registration, Invitation):
        query = select(model.category, func.count()).where(model.event_id == event_id).group_by(model.category)
        for code, count in db.session.execute(query):
            counts[code] = counts.get(code, 0) + count
    return counts


def next_position(event_id: int) -> int:
    """The place after the event's last category."""
    last = db.session.scalar(select(func.max(EventCategory.position)).where(EventCategory.event_id == event_id))
    return 0 if last is None else last + 1
