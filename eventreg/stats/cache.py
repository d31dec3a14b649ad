"""The in-process cache of an event's numbers, keyed by its stats_version: the one way they are cached (the report,
the check-in counts), through `cached_numbers()`, on a cachetools LRU cache.

Correctness rests on one rule from models/registration.py: every change to an event's registrations bumps
`Event.stats_version` in the same transaction. A key therefore names one committed state of the data, and a
cached value can never be stale against it. These would break that, and are guarded against here:

- a session that has flushed registration changes but not committed them sees a version that a rollback may
  hand to a different change later, so such a session neither reads nor fills the cache (see `unsettled`);
- bulk INSERT/UPDATE/DELETE statements on registrations skip the flush hook, so they move every event's version
  on here;
- on PostgreSQL (READ COMMITTED) each statement sees the latest commit, so numbers computed while a commit landed
  are half before it and half after: a value is only stored when the version read after computing it is the one
  read before.
"""

import threading
from collections.abc import Callable, Hashable
from typing import TypeVar

from cachetools import LRUCache
from flask import current_app
from sqlalchemy import event as sa_event
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import Event, Registration

CACHE_SIZE = 128  # entries; each is a few kilobytes, one per (kind, event, version, variant) recently read
_EXTENSION_KEY = "eventreg.stats_cache"
_UNSETTLED_KEY = "eventreg.stats_unsettled"
EVERY_EVENT = "*"  # a bulk statement touched registrations of events we cannot name
# cachetools' caches are not thread-safe, and a get reorders the LRU list: every access holds this (microseconds).
_cache_lock = threading.Lock()

Numbers = TypeVar("Numbers")


def app_cache() -> LRUCache:
    """The cache of the current app (one per app, so test apps on fresh databases never share entries)."""
    return current_app.extensions.setdefault(_EXTENSION_KEY, LRUCache(maxsize=CACHE_SIZE))


def stats_version(event_id: int) -> int | None:
    """The event's stats_version as the database holds it now (not as a loaded Event object remembers it)."""
    return db.session.scalar(select(Event.stats_version).where(Event.id == event_id))


def cached_numbers(kind: str, event_id: int, compute: Callable[[], Numbers], *variant: Hashable) -> Numbers:
    """`compute()`, the numbers of one event for the data this session sees, from the cache when that committed
    state was computed before. `kind` and `variant` tell apart what is kept per version (the report in a timezone,
    the check-in counts); a cached value is shared, so it must be immutable."""
    if unsettled(db.session(), event_id):  # uncommitted changes: count them, but share the result with no one
        return compute()
    version = stats_version(event_id)
    cache = app_cache()
    with _cache_lock:
        cached = cache.get((kind, event_id, version, *variant))
    if cached is not None:
        return cached
    result = compute()
    settled = stats_version(event_id)
    # Stored for the state read after computing, and only if it is the one read before: a commit that landed
    # meanwhile (PostgreSQL reads each statement afresh) would leave numbers half of each state under it.
    if settled is not None and settled == version:
        with _cache_lock:
            cache[(kind, event_id, settled, *variant)] = result
    return result


def unsettled(session: Session, event_id: int) -> bool:
    """True when this session holds flushed, uncommitted changes to the event's registrations."""
    marked = session.info.get(_UNSETTLED_KEY, ())
    return event_id in marked or EVERY_EVENT in marked


@sa_event.listens_for(Session, "after_flush")
def _mark_unsettled(session, flush_context) -> None:
    """Remember which events this transaction has changed registrations of (pre-flush lists are still readable)."""
    event_ids = {
        obj.event_id if obj.event_id is not None else obj.event.id
        for obj in (*session.new, *session.dirty, *session.deleted)
        if isinstance(obj, Registration)
    }
    if event_ids:
        session.info.setdefault(_UNSETTLED_KEY, set()).update(event_ids)


@sa_event.listens_for(Session, "do_orm_execute")
def _mark_bulk_writes(state) -> None:
    """A bulk INSERT, UPDATE or DELETE on registrations bypasses the flush and its version bump: move every
    event's stats_version on (which events it touched is not known here), in the same transaction."""
    if (state.is_insert or state.is_update or state.is_delete) and any(
        mapper.class_ is Registration for mapper in state.all_mappers
    ):
        state.session.info.setdefault(_UNSETTLED_KEY, set()).add(EVERY_EVENT)
        events = Event.__table__
        state.session.connection().execute(update(events).values(stats_version=events.c.stats_version + 1))


@sa_event.listens_for(Session, "after_commit")
@sa_event.listens_for(Session, "after_rollback")
def _settle(session) -> None:
    """After the transaction ends, what the session sees is committed data again."""
    session.info.pop(_UNSETTLED_KEY, None)
