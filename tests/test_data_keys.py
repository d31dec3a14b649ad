"""The data keyring: private-link tokens are stored only sealed under FLASK_DATA_KEYS, so a database or a backup
alone yields no working link; keys are rotated with `flask rotate-data-keys`; SECRET_KEY plays no part."""

import json
from contextlib import contextmanager

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select, text

from eventreg import create_app
from eventreg.data_keys import DataKeysError, unseal
from eventreg.extensions import db
from eventreg.mail.compose import compose
from eventreg.models import OutboxMessage, Registration
from eventreg.registration.services import find_registration
from tests.conftest import base_config, create_test_event, drop_tables, make_app, register_test_delegate

OLD_KEY, NEW_KEY = Fernet.generate_key().decode(), Fernet.generate_key().decode()


@contextmanager
def same_database(tmp_path, instance: str, **config):
    """Another app on the test database (not emptied), with its own instance folder and `config`; its connections
    are closed afterwards (an open PostgreSQL connection left to the garbage collector is a ResourceWarning)."""
    other = create_app(base_config(tmp_path, **config), instance_path=str(tmp_path / instance))
    try:
        yield other
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def link_in_mail(app, registration_id) -> str:
    with app.app_context():
        query = select(OutboxMessage).where(OutboxMessage.registration_id == registration_id)
        return compose(db.session.scalars(query).first()).body


def test_the_database_holds_no_token_only_its_digest_and_a_sealed_copy(app, make_event):
    event = make_event()
    registration_id, token = register_test_delegate(app, event)
    with app.app_context():
        row = db.session.execute(text("SELECT * FROM registration WHERE id = :id"), {"id": registration_id}).one()
        assert not [value for value in row if isinstance(value, str) and token in value]
        sealed = row._mapping["token_sealed"]
        assert unseal(sealed) == token  # this app's keys open it ...
        assert f"http://localhost/r/{token}" in link_in_mail(app, registration_id)


def test_a_copy_of_the_database_without_the_keys_opens_no_link(tmp_path, app, make_event):
    event = make_event()
    registration_id, _ = register_test_delegate(app, event)
    with same_database(tmp_path, "elsewhere", DATA_KEYS=[NEW_KEY]) as thief, thief.app_context():  # other keys
        registration = db.session.get(Registration, registration_id)
        with pytest.raises(InvalidToken):
            _ = registration.token


def test_the_keys_come_from_flask_data_keys_as_a_json_list(tmp_path, monkeypatch):
    monkeypatch.setenv("FLASK_DATA_KEYS", json.dumps([NEW_KEY, OLD_KEY]))
    app = create_app(base_config(tmp_path), instance_path=str(tmp_path / "instance"))
    assert app.config["DATA_KEYS"] == [NEW_KEY, OLD_KEY]
    assert not (tmp_path / "instance" / "data_keys.json").exists()


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ([], "DATA_KEYS must be a JSON list of Fernet keys"),
        ({"key": OLD_KEY}, "DATA_KEYS must be a JSON list of Fernet keys"),
        ([OLD_KEY, "not-a-key"], "DATA_KEYS: key 2 is not a Fernet key"),
        ([42], "DATA_KEYS: key 1 is not a Fernet key"),
    ],
)
def test_bad_keys_stop_the_app_at_start_with_a_clear_message(tmp_path, keys, message):
    with pytest.raises(DataKeysError, match=message):
        create_app(base_config(tmp_path, DATA_KEYS=keys), instance_path=str(tmp_path / "instance"))


def test_without_the_setting_a_key_is_generated_once_into_the_instance_folder(tmp_path):
    first = create_app(base_config(tmp_path), instance_path=str(tmp_path / "instance"))
    second = create_app(base_config(tmp_path), instance_path=str(tmp_path / "instance"))
    stored = json.loads((tmp_path / "instance" / "data_keys.json").read_text())
    assert first.config["DATA_KEYS"] == second.config["DATA_KEYS"] == stored
    assert len(stored) == 1 and Fernet(stored[0])


def test_the_keys_are_not_derived_from_the_secret_key(tmp_path, make_event):
    """SECRET_KEY is rotated for other reasons: with a new one, every link and every mail still works."""
    app = make_app(tmp_path, DATA_KEYS=[OLD_KEY], SECRET_KEY="first secret")
    try:
        registration_id, token = register_test_delegate(app, create_test_event(app))
        with same_database(tmp_path, "instance", DATA_KEYS=[OLD_KEY], SECRET_KEY="another secret") as rotated:
            with rotated.app_context():
                assert find_registration(token).id == registration_id
            assert f"/r/{token}" in link_in_mail(rotated, registration_id)
            assert rotated.test_client().get(f"/r/{token}").status_code == 200
    finally:
        drop_tables(app)


def test_rotate_data_keys_reseals_every_token_under_the_first_key(tmp_path):
    app = make_app(tmp_path, DATA_KEYS=[OLD_KEY])
    try:
        event = create_test_event(app)
        made = [register_test_delegate(app, event, email=f"d{number}@example.org") for number in range(7)]
        with same_database(tmp_path, "instance", DATA_KEYS=[NEW_KEY, OLD_KEY]) as rotating:
            result = rotating.test_cli_runner().invoke(args=["rotate-data-keys"])
        assert result.exit_code == 0, result.output
        assert "Re-encrypted 7 values under the first data key." in result.output
        # The old key can go now: every link opens with the new one alone, and the mails carry the same links.
        with same_database(tmp_path, "instance", DATA_KEYS=[NEW_KEY]) as rotated:
            with rotated.app_context():
                for registration_id, token in made:
                    registration = find_registration(token)
                    assert registration.id == registration_id and registration.token == token
            assert f"/r/{made[0][1]}" in link_in_mail(rotated, made[0][0])
        # And the old key alone opens none of them any more.
        with (
            same_database(tmp_path, "instance", DATA_KEYS=[OLD_KEY]) as old,
            old.app_context(),
            pytest.raises(InvalidToken),
        ):
            _ = db.session.get(Registration, made[0][0]).token
    finally:
        drop_tables(app)
