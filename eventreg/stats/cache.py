"""A small bounded in-process cache of aggregates, keyed by the event's stats_version.

Correctness rests on one rule from models/registration.py: every change to an event's registrations bumps
`Event.stats_version` in the same transaction. A key therefore names one committed state of the data, and a
cached value can never be stale against it. Two things would break that, and are guarded against here:

- a session that has flushed registration changes but not committed them sees a version that a rollback may
  hand to a different change later, so such a session neither reads nor fills the cache (see `unsettled`);
- bulk INSERT/UPDATE/DELETE statements on registrations skip the flush hook, so they move every event's version
  on here;
- on PostgreSQL (READ COMMITTED) each statement sees the latest commit, so a value is only stored when the
  version read after computing it is the one read before (the caller checks that).
"""

import threading
from collections import OrderedDict

from flask import current_app
from sqlalchemy import event as sa_event
from sqlalchemy import update
from sqlalchemy.orm import Session

from ..models import Event, Registration

CACHE_SIZE = 128  # entries; each is a few kilobytes, one per (event, version, timezone) recently read
_EXTENSION_KEY = "eventreg.stats_cache"
_UNSETTLED_KEY = "eventreg.stats_unsettled"
EVERY_EVENT = "*"  # a bulk statement touched registrations of events we cannot name


class BoundedCache:
    """A thread-safe least-recently-used mapping holding at most `size` entries."""

    def __init__(self, size: int = CACHE_SIZE):
        self.size = size
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        """The value stored under `key`, or None."""
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        """Store a value, forgetting the least recently used entries beyond the size."""
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


def app_cache() -> BoundedCache:
    """The cache of the current app (one per app, so test apps on fresh databases never share entries)."""
    return current_app.extensions.setdefault(_EXTENSION_KEY, BoundedCache())


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
