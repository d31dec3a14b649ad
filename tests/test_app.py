"""Application setup: the secret key kept under instance/, configuration from the environment."""

import stat

from eventreg import create_app


def test_a_generated_secret_key_is_kept_and_private(tmp_path):
    config = {"SQLALCHEMY_DATABASE_URI": "sqlite://"}
    first = create_app(config, instance_path=str(tmp_path))
    second = create_app(config, instance_path=str(tmp_path))
    key_file = tmp_path / "secret_key"
    assert first.secret_key == second.secret_key == key_file.read_text().strip()
    assert len(first.secret_key) == 64
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # The data key (eventreg/data_keys.py) is generated the same way, once, readable by the owner only.
    assert first.config["DATA_KEYS"] == second.config["DATA_KEYS"]
    assert stat.S_IMODE((tmp_path / "data_keys.json").stat().st_mode) == 0o600
    assert sorted(path.name for path in tmp_path.iterdir()) == ["data_keys.json", "secret_key"]  # no temporary files


def test_settings_come_from_flask_prefixed_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("FLASK_SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("FLASK_MAIL_USE_TLS", "true")
    monkeypatch.setenv("FLASK_MAIL_PORT", "2525")
    monkeypatch.setenv("FLASK_COUNTRY_NAMES", '{"XK": "Kosovo"}')
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}, instance_path=str(tmp_path))
    assert app.secret_key == "from-the-environment"
    assert app.config["MAIL_USE_TLS"] is True
    assert app.config["MAIL_PORT"] == 2525
    assert app.config["COUNTRY_NAMES"] == {"XK": "Kosovo"}
    assert not (tmp_path / "secret_key").exists()


def test_the_default_database_is_sqlite_under_instance(tmp_path):
    app = create_app({"SECRET_KEY": "x"}, instance_path=str(tmp_path))
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'eventreg.sqlite'}"
    assert app.config["MAIL_FILE_DIR"] == str(tmp_path / "mail")


def test_a_write_transaction_never_discards_flushed_writes(app, make_event):
    import pytest

    from eventreg.database import begin_write_transaction
    from eventreg.extensions import db
    from eventreg.models import Event

    event = make_event()
    with app.app_context():
        db.session.get(Event, event.id).title = "Changed"
        db.session.flush()
        with pytest.raises(RuntimeError, match="uncommitted changes"):
            begin_write_transaction()
        db.session.rollback()
        begin_write_transaction()  # fine again once the transaction ended
        db.session.rollback()
