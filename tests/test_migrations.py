"""`flask db upgrade` builds exactly the schema the models describe, on SQLite and on PostgreSQL."""

import importlib.util
import json
import re
import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import text
from sqlalchemy.engine import make_url

from eventreg import create_app
from eventreg.data_keys import unseal
from eventreg.extensions import db
from eventreg.models import NAME_KEY_WIDTH, person_search_key, search_key, token_digest
from eventreg.registration.services import find_registration
from tests.conftest import POSTGRES_URL, require_postgresql


def insert_event_as_0001_knew_it(title: str, city: str, zone: str, now: str) -> None:
    """Event 1 with the columns of the first schema (later revisions give the others their defaults)."""
    db.session.execute(
        text(
            "INSERT INTO event (id, slug, title, description, venue, city, timezone, starts_at, ends_at,"
            " requires_approval, contact_email, created_at) VALUES (1, :slug, :title, '', 'Hall', :city, :zone,"
            " :now, :now, false, 'info@example.org', :now)"
        ),
        {"slug": title.lower(), "title": title, "city": city, "zone": zone, "now": now},
    )


def upgrade_and_compare(database_url: str, instance_path) -> list:
    config = {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": database_url}
    app = create_app(config, instance_path=str(instance_path))
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
        tables = set(db.inspect(db.engine).get_table_names())
        # compare_metadata cannot see an index's WHERE clause: read the index as the database built it.
        if db.engine.dialect.name == "sqlite":
            query = "SELECT sql FROM sqlite_master WHERE name = 'uq_registration_event_email_active'"
        else:
            query = "SELECT indexdef FROM pg_indexes WHERE indexname = 'uq_registration_event_email_active'"
        definition = db.session.scalar(text(query))
        db.session.remove()
        db.engine.dispose()
    assert "UNIQUE" in definition.upper()
    assert "WHERE" in definition.upper() and "confirmed" in definition and "cancelled" not in definition
    assert {"event", "registration", "organizer", "outbox_message", "alembic_version"} <= tables
    return differences


def test_upgrade_on_empty_sqlite_matches_the_models(tmp_path):
    assert upgrade_and_compare(f"sqlite:///{tmp_path / 'fresh.sqlite'}", tmp_path) == []


@pytest.fixture
def empty_postgresql_database():
    """A new, empty PostgreSQL database, dropped afterwards; skipped where no server runs (never in CI)."""
    admin_url = make_url(POSTGRES_URL)
    admin = require_postgresql(isolation_level="AUTOCOMMIT")
    name = f"eventreg_migration_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        leftovers = connection.scalars(
            text("SELECT datname FROM pg_database WHERE datname LIKE 'eventreg_migration_%'")
        )
        for leftover in list(leftovers):  # from a run that crashed before its clean-up
            connection.execute(text(f'DROP DATABASE IF EXISTS "{leftover}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield admin_url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.mark.postgresql
def test_upgrade_on_empty_postgresql_matches_the_models(empty_postgresql_database, tmp_path):
    assert upgrade_and_compare(empty_postgresql_database, tmp_path) == []


def upgrade_with_a_registration_from_0001(database_url: str, instance_path) -> tuple[str, int]:
    """Build the 0001 schema, store registrations as 0001 knew them, upgrade to the newest; the first one's name
    key and the event's seat counter."""
    config = {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": database_url}
    app = create_app(config, instance_path=str(instance_path))
    with app.app_context():
        upgrade(revision="0001")
        now = "2026-01-01 00:00:00"
        insert_event_as_0001_knew_it("Launch", "Beijing", "Asia/Shanghai", now)
        db.session.execute(
            text(
                "INSERT INTO registration (event_id, token, honorific, given_name, family_name, native_name, email,"
                " email_key, institution, institution_key, position, country, category, accompanying, dietary,"
                " accessibility, visa_letter, consent_at, status, language, created_at, updated_at) VALUES"
                " (1, :token, '', :given, 'ZHANG', '张伟', :email, :email, 'CAS', 'cas', '', 'CN',"
                " 'delegate', :accompanying, '', '', false, :now, :status, 'en', :now, :now)"
            ),
            [
                {
                    "token": "t1",
                    "given": "Wei",
                    "email": "w@example.org",
                    "accompanying": 0,
                    "status": "confirmed",
                    "now": now,
                },
                {
                    "token": "t2",
                    "given": "Li",
                    "email": "l@example.org",
                    "accompanying": 2,
                    "status": "pending",
                    "now": now,
                },
                {
                    "token": "t3",
                    "given": "Yu",
                    "email": "y@example.org",
                    "accompanying": 1,
                    "status": "cancelled",
                    "now": now,
                },
                {
                    "token": "t4",
                    "given": "Bo",
                    "email": "b@example.org",
                    "accompanying": 0,
                    "status": "waitlisted",
                    "now": now,
                },
            ],
        )
        db.session.commit()
        upgrade()
        key = db.session.scalar(text("SELECT name_key FROM registration WHERE given_name = 'Wei'"))
        seats, waitlisted = db.session.execute(text("SELECT seats_taken, waitlisted FROM event")).one()
        codes = db.session.scalars(text("SELECT checkin_code FROM registration")).all()
        assert len(set(codes)) == 4 and all(re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{10}", code) for code in codes)
        # 0007 stored each token's digest, 0010 sealed the token: the links of 0001 still open their registrations.
        stored = db.session.execute(text("SELECT token_sealed, token_digest FROM registration")).all()
        assert {unseal(sealed): digest for sealed, digest in stored} == {
            token: token_digest(token) for token in ("t1", "t2", "t3", "t4")
        }
        assert find_registration("t1").given_name == "Wei"
        db.session.remove()
        db.engine.dispose()
    return key, seats, waitlisted


def test_upgrade_fills_the_name_key_of_existing_registrations_on_sqlite(tmp_path):
    key, seats, waitlisted = upgrade_with_a_registration_from_0001(f"sqlite:///{tmp_path / 'old.sqlite'}", tmp_path)
    assert key == "zhang wei 张伟"
    assert seats == 1 + 3  # confirmed and pending hold seats; cancelled and waitlisted do not
    assert waitlisted == 1


@pytest.mark.postgresql
def test_upgrade_fills_the_name_key_of_existing_registrations_on_postgresql(empty_postgresql_database, tmp_path):
    assert upgrade_with_a_registration_from_0001(empty_postgresql_database, tmp_path) == ("zhang wei 张伟", 4, 1)


SAMPLE_PEOPLE = [
    ("Bai", "Chunli", "白春礼"),
    ("白", "春礼", ""),
    ("山田", "太郎", ""),
    ("Müller", "José", ""),
    ("Nguyễn", "Thị", "Nguyễn Thị"),
    ("Straße", "Ｌｅｏ", ""),
    ("حسن", "مُحَمَّد", ""),
    ("Петрова", "Ирина", "Ирина Петрова"),
    ("शर्मा", "अंजलि", ""),
]


def test_migration_0002_computes_the_keys_exactly_as_the_models_do():
    # A migration is a file, not a module of a package: load it by its path.
    path = Path(__file__).parent.parent / "migrations" / "versions" / "0002_organizer_workspace.py"
    spec = importlib.util.spec_from_file_location("migration_0002", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    for family, given, native in SAMPLE_PEOPLE:
        assert migration._name_key(family, given, native) == person_search_key(family, given, native, NAME_KEY_WIDTH)
        assert migration._search_key(f"{given} Universität", 600) == search_key(f"{given} Universität", 600)


# Migration 0009: the search keys of existing registrations recomputed (Arabic-script letters folded).
ARABIC_PEOPLE = [
    # family, given, native, institution: the spellings the keys fold (ة/ه, ى/ي, أ/إ/آ/ٱ, tatweel, Persian ک/ی)
    ("الزهراء", "فاطمة", "", "جامعة القاهرة"),
    ("مصطفى", "أحمد", "", "مكتبة الإسكندرية"),
    ("إبراهيم", "آمنة", "", "ٱلجامعة الأمريكية"),
    ("محـــمد", "علی", "علي محمد", "دانشگاه تهران"),
    ("کریمی", "مریم", "", "پژوهشگاه"),
    ("Bai", "Chunli", "白春礼", "Chinese Academy of Sciences"),  # nothing to fold: the key stays as it was
]
KEYED_ROWS = 1100  # more than two of the migration's batches of 500


def load_migration(filename: str):
    """A migration file as a module (it is a file, not a module of a package)."""
    path = Path(__file__).parent.parent / "migrations" / "versions" / filename
    spec = importlib.util.spec_from_file_location(f"migration_{filename[:4]}", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    return migration


def recompute_search_keys_from_0008(database_url: str, instance_path) -> None:
    """Store registrations at 0008 with the keys 0008 computed, upgrade to 0009, down again and to the newest:
    every key is then what the models compute."""
    from flask_migrate import downgrade  # only this block downgrades

    old = load_migration("0002_organizer_workspace.py")  # the keys as 0002 to 0008 computed them
    config = {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": database_url}
    app = create_app(config, instance_path=str(instance_path))
    people = [ARABIC_PEOPLE[index % len(ARABIC_PEOPLE)] for index in range(KEYED_ROWS)]
    with app.app_context():
        upgrade(revision="0008")
        now = "2026-01-01 00:00:00"
        insert_event_as_0001_knew_it("Cairo", "Cairo", "Africa/Cairo", now)
        db.session.execute(
            text(
                "INSERT INTO registration (id, event_id, token, token_digest, checkin_code, honorific, given_name,"
                " family_name, native_name, name_key, email, email_key, institution, institution_key, position,"
                " country, category, accompanying, dietary, accessibility, visa_letter, consent_at, status,"
                " language, created_at, updated_at) VALUES (:id, 1, :token, :token, :token, '', :given, :family,"
                " :native, :name_key, :email, :email, :institution, :institution_key, '', 'EG', 'delegate', 0, '',"
                " '', false, :now, 'confirmed', 'ar', :now, :now)"
            ),
            [
                {
                    "id": number,
                    "token": f"t{number}",
                    "given": given,
                    "family": family,
                    "native": native,
                    "name_key": old._name_key(family, given, native),
                    "email": f"d{number}@example.org",
                    "institution": institution,
                    "institution_key": old._search_key(institution, 600),
                    "now": now,
                }
                for number, (family, given, native, institution) in enumerate(people, start=1)
            ],
        )
        db.session.commit()

        def keys() -> list[tuple[str, str]]:
            rows = db.session.execute(text("SELECT name_key, institution_key FROM registration ORDER BY id")).all()
            db.session.commit()  # ends the read, which would otherwise hold up the next migration's ALTER TABLE
            return rows

        models = [
            (person_search_key(family, given, native, NAME_KEY_WIDTH), search_key(institution, 600))
            for family, given, native, institution in people
        ]
        before = [(old._name_key(f, g, n), old._search_key(i, 600)) for f, g, n, i in people]
        upgrade(revision="0009")
        assert [tuple(row) for row in keys()][:6] == models[:6]
        assert keys()[0] == ("الزهراء فاطمه", "جامعه القاهره")
        assert keys()[3] == ("محمد علي علي محمد", "دانشگاه تهران")
        downgrade(revision="0008")
        assert [tuple(row) for row in keys()] == before
        upgrade()
        assert [tuple(row) for row in keys()] == models  # every batch, the last one short
        db.session.remove()
        db.engine.dispose()


def test_upgrade_recomputes_the_search_keys_of_existing_registrations_on_sqlite(tmp_path):
    recompute_search_keys_from_0008(f"sqlite:///{tmp_path / 'keys.sqlite'}", tmp_path)


@pytest.mark.postgresql
def test_upgrade_recomputes_the_search_keys_of_existing_registrations_on_postgresql(
    empty_postgresql_database, tmp_path
):
    recompute_search_keys_from_0008(empty_postgresql_database, tmp_path)


def test_migration_0009_computes_the_keys_exactly_as_the_models_do():
    migration = load_migration("0009_search_keys.py")
    for family, given, native, institution in ARABIC_PEOPLE + [(*person, "Universität") for person in SAMPLE_PEOPLE]:
        assert migration._name_key(family, given, native) == person_search_key(family, given, native, NAME_KEY_WIDTH)
        assert migration._search_key(institution, 600) == search_key(institution, 600)


# Migration 0010: private-link tokens sealed under the data keys; replaced links; mails to former addresses.
SEAL_KEY = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG="


def seal_tokens_from_0009(database_url: str, instance_path) -> None:
    """Store a live and an erased registration at 0009, with the mails and audit entries that point to them, upgrade
    to the newest: the live link still opens, only sealed; the erased one still says so; nothing else is lost."""
    from eventreg.registration.privacy import was_erased

    config = {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": database_url, "DATA_KEYS": [SEAL_KEY]}
    app = create_app(config, instance_path=str(instance_path))
    live, gone = "L" * 43, "E" * 43
    erased = "~" + token_digest(gone)  # what 0006 kept of an erased registration's token
    with app.app_context():
        upgrade(revision="0009")
        now = "2026-01-01 00:00:00"
        insert_event_as_0001_knew_it("Launch", "Beijing", "Asia/Shanghai", now)
        for row in (
            {
                "id": 1,
                "token": live,
                "digest": token_digest(live),
                "code": "ABCDEFGH01",
                "email": "w@example.org",
                "erased_at": None,
            },
            {
                "id": 2,
                "token": erased,
                "digest": token_digest(erased),
                "code": "~BCDEFGH02",
                "email": "e@x.invalid",
                "erased_at": now,
            },
        ):
            db.session.execute(
                text(
                    "INSERT INTO registration (id, event_id, token, token_digest, checkin_code, honorific,"
                    " given_name, family_name, native_name, name_key, email, email_key, institution,"
                    " institution_key, position, country, category, accompanying, dietary, accessibility,"
                    " visa_letter, consent_at, status, language, created_at, updated_at, erased_at) VALUES (:id, 1,"
                    " :token, :digest, :code, '', 'Wei', 'Zhang', '', 'zhang wei', :email, :email, 'CAS', 'cas', '',"
                    " 'CN', 'delegate', 0, '', '', false, :now, 'confirmed', 'en', :now, :now, :erased_at)"
                ),
                {**row, "now": now},
            )
        mails = [
            ("changed", "queued", {"status": "confirmed", "old_address": True}),  # to a former address, not yet sent
            ("changed", "queued", {"status": "confirmed"}),
            ("changed", "sent", {"status": "confirmed", "old_address": True}),
        ]
        for number, (kind, state, details) in enumerate(mails, start=1):
            db.session.execute(
                text(
                    "INSERT INTO outbox_message (id, kind, registration_id, recipient, state, attempts, last_error,"
                    " next_attempt_at, subject, message_id, details, created_at) VALUES (:id, :kind, 1,"
                    " 'w@example.org', :state, 0, '', :now, '', '', :details, :now)"
                ),
                {"id": number, "kind": kind, "state": state, "details": json.dumps(details), "now": now},
            )
        db.session.execute(
            text(
                "INSERT INTO audit_entry (created_at, actor, event_id, registration_id, action) VALUES"
                " (:now, 'delegate', 1, 1, 'registration.edited')"
            ),
            {"now": now},
        )
        db.session.commit()
        upgrade()
        db.session.commit()
        columns = {column["name"] for column in db.inspect(db.engine).get_columns("registration")}
        assert "token" not in columns and "token_sealed" in columns
        sealed = dict(db.session.execute(text("SELECT id, token_sealed FROM registration")).all())
        assert unseal(sealed[1]) == live and live not in sealed[1]
        assert sealed[2] == ""  # an erased registration keeps no token
        assert find_registration(live).id == 1 and find_registration(gone) is None
        assert was_erased(gone) and not was_erased(live)
        kinds = db.session.scalars(text("SELECT kind FROM outbox_message ORDER BY id")).all()
        assert kinds == ["address_changed", "changed", "changed"]
        # Rebuilding the registration table on SQLite deleted nothing that points to it.
        assert db.session.scalar(text("SELECT count(*) FROM audit_entry")) == 1
        db.session.remove()
        db.engine.dispose()


def test_0010_seals_the_tokens_of_an_existing_database_on_sqlite(tmp_path):
    seal_tokens_from_0009(f"sqlite:///{tmp_path / 'old.sqlite'}", tmp_path)


@pytest.mark.postgresql
def test_0010_seals_the_tokens_of_an_existing_database_on_postgresql(empty_postgresql_database, tmp_path):
    seal_tokens_from_0009(empty_postgresql_database, tmp_path)


# Migration 0011: an organizer account's own language.


def organizer_language_from_0010(database_url: str, instance_path) -> None:
    """An account stored at 0010 follows the browser after 0011 (language ''), can be given a language, and 0011
    goes down and up again."""
    from flask_migrate import downgrade

    config = {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": database_url}
    app = create_app(config, instance_path=str(instance_path))
    with app.app_context():
        upgrade(revision="0010")
        db.session.execute(
            text(
                "INSERT INTO organizer (id, email, email_key, password_hash, role, session_token, active, created_at)"
                " VALUES (1, 'chair@example.org', 'chair@example.org', 'x', 'admin', 's1', true, '2026-01-01')"
            )
        )
        db.session.commit()
        upgrade(revision="0011")

        def language() -> str:
            value = db.session.scalar(text("SELECT language FROM organizer WHERE id = 1"))
            db.session.commit()  # ends the read, which would otherwise hold up the next migration's ALTER TABLE
            return value

        assert language() == ""
        db.session.execute(text("UPDATE organizer SET language = 'zh_Hans' WHERE id = 1"))
        db.session.commit()
        assert language() == "zh_Hans"
        downgrade(revision="0010")
        columns = {column["name"] for column in db.inspect(db.engine).get_columns("organizer")}
        assert "language" not in columns
        upgrade()
        assert language() == ""
        db.session.remove()
        db.engine.dispose()


def test_0011_gives_existing_accounts_the_browser_s_language_on_sqlite(tmp_path):
    organizer_language_from_0010(f"sqlite:///{tmp_path / 'old.sqlite'}", tmp_path)


@pytest.mark.postgresql
def test_0011_gives_existing_accounts_the_browser_s_language_on_postgresql(empty_postgresql_database, tmp_path):
    organizer_language_from_0010(empty_postgresql_database, tmp_path)


# Migration 0012: every event gets its own categories; registrations keep theirs.


def categories_from_0011(database_url: str, instance_path) -> None:
    """Two events with registrations of several categories at 0011, upgraded: each event has the five default
    categories in order, Delegate and Observer chosen by delegates, Speaker, Guest and Press assigned by the
    organizers, and every registration is as it was."""
    config = {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": database_url}
    app = create_app(config, instance_path=str(instance_path))
    with app.app_context():
        upgrade(revision="0011")
        now = "2026-01-01 00:00:00"
        for event_id, slug in ((1, "launch"), (2, "assembly")):
            db.session.execute(
                text(
                    "INSERT INTO event (id, slug, title, description, venue, city, timezone, starts_at, ends_at,"
                    " requires_approval, contact_email, created_at) VALUES (:id, :slug, :slug, '', 'Hall',"
                    " 'Beijing', 'Asia/Shanghai', :now, :now, false, 'info@example.org', :now)"
                ),
                {"id": event_id, "slug": slug, "now": now},
            )
        rows = [
            (1, 1, "delegate", "confirmed"),
            (2, 1, "speaker", "confirmed"),
            (3, 1, "press", "pending"),
            (4, 1, "observer", "waitlisted"),
            (5, 2, "guest", "cancelled"),
            (6, 2, "delegate", "confirmed"),
        ]
        for number, event_id, category, status in rows:
            db.session.execute(
                text(
                    "INSERT INTO registration (id, event_id, token_sealed, token_digest, checkin_code, honorific,"
                    " given_name, family_name, native_name, name_key, email, email_key, institution,"
                    " institution_key, position, country, category, accompanying, dietary, accessibility,"
                    " visa_letter, consent_at, status, language, created_at, updated_at) VALUES (:id, :event_id,"
                    " '', :digest, :code, '', 'Wei', 'Zhang', '', 'zhang wei', :email, :email, 'CAS', 'cas', '',"
                    " 'CN', :category, 0, '', '', false, :now, :status, 'en', :now, :now)"
                ),
                {
                    "id": number,
                    "event_id": event_id,
                    "digest": f"digest-{number}",
                    "code": f"CODE{number}",
                    "email": f"r{number}@example.org",
                    "category": category,
                    "status": status,
                    "now": now,
                },
            )
        db.session.commit()
        before = db.session.execute(text("SELECT * FROM registration ORDER BY id")).mappings().all()
        db.session.commit()
        upgrade()
        after = db.session.execute(text("SELECT * FROM registration ORDER BY id")).mappings().all()
        assert [{key: row[key] for key in before[0]} for row in after] == [dict(row) for row in before]
        categories = db.session.execute(
            text("SELECT event_id, code, set_by, position, colour FROM event_category ORDER BY event_id, position")
        ).all()
        expected = [
            ("delegate", "delegates"),
            ("observer", "delegates"),
            ("speaker", "organizers"),
            ("guest", "organizers"),
            ("press", "organizers"),
        ]
        for event_id in (1, 2):
            mine = [row for row in categories if row.event_id == event_id]
            assert [(row.code, row.set_by) for row in mine] == expected
            assert [row.position for row in mine] == [0, 1, 2, 3, 4]
            assert all(re.fullmatch(r"#[0-9a-f]{6}", row.colour) for row in mine)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def test_0012_gives_existing_events_their_categories_on_sqlite(tmp_path):
    categories_from_0011(f"sqlite:///{tmp_path / 'old.sqlite'}", tmp_path)


@pytest.mark.postgresql
def test_0012_gives_existing_events_their_categories_on_postgresql(empty_postgresql_database, tmp_path):
    categories_from_0011(empty_postgresql_database, tmp_path)
