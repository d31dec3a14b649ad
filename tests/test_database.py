"""The suite runs on the database it was asked for, never silently on another."""

from sqlalchemy.engine import make_url

from eventreg.extensions import db
from tests.conftest import TEST_DATABASE_URL


def test_dialect_matches_test_database_url(app):
    expected = make_url(TEST_DATABASE_URL).get_backend_name() if TEST_DATABASE_URL else "sqlite"
    with app.app_context():
        assert db.engine.dialect.name == expected
