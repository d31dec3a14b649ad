"""Database behaviour that differs between SQLite and PostgreSQL, kept in one place."""

import sqlite3

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from .extensions import db

_installed = False


def install_database_hooks() -> None:
    """Make SQLite wait for locks, enforce foreign keys and let us choose how a transaction begins;
    and remember when a session has written, so begin_write_transaction() never discards a write."""
    global _installed
    if _installed:
        return
    _installed = True

    @event.listens_for(Engine, "connect")
    def _on_connect(dbapi_connection, connection_record):
        if not isinstance(dbapi_connection, sqlite3.Connection):
            return
        # Let SQLAlchemy, not the sqlite3 module, decide when a transaction begins (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(Session, "after_flush")
    def _note_writes(session, flush_context):
        session.info["unsaved_writes"] = True

    @event.listens_for(Session, "after_transaction_end")
    def _forget_writes(session, transaction):
        if transaction.parent is None:
            session.info.pop("unsaved_writes", None)

    @event.listens_for(Engine, "begin")
    def _on_begin(connection):
        if connection.dialect.name != "sqlite":
            return
        immediate = connection.get_execution_options().get("sqlite_immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def begin_write_transaction() -> None:
    """Start the session's transaction so that it holds the write lock before it reads anything.

    On SQLite this is `BEGIN IMMEDIATE`, so a transaction that only read is ended first. On PostgreSQL the caller
    locks the rows it needs with `with_for_update()`; a transaction that only read goes on (under READ COMMITTED, the
    default, a locking read sees the latest committed row), which saves a round trip and a pool check-out on the
    registration path. Unsaved changes are a bug.
    """
    session = db.session()
    if session.new or session.dirty or session.deleted or session.info.get("unsaved_writes"):
        raise RuntimeError("begin_write_transaction() called with uncommitted changes in the session")
    if session.in_transaction():
        if session.get_bind().dialect.name == "postgresql":
            return
        session.rollback()
    session.connection(execution_options={"sqlite_immediate": True})


def is_postgresql() -> bool:
    """True when the app's database is PostgreSQL."""
    return db.engine.dialect.name == "postgresql"


def insert_or_skip(table, *unique_columns: str):
    """An INSERT that skips the rows whose `unique_columns` a unique index already holds (ON CONFLICT DO NOTHING,
    which both engines spell alike but SQLAlchemy builds per dialect): a writer racing another inserts each row once.
    """
    dialect_insert = postgresql.insert if is_postgresql() else sqlite.insert
    return dialect_insert(table).on_conflict_do_nothing(index_elements=list(unique_columns))


def render_migration_item(type_, obj, autogen_context):
    """Write our UTCDateTime columns as plain DateTime in generated migrations (they store naive UTC)."""
    from .models import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False
