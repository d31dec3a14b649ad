"""Behind a reverse proxy (TRUSTED_PROXY_COUNT) the client's address comes from X-Forwarded-For, so per-client rate
limits count clients, not the proxy; without the setting the header is ignored, so nobody can forge an address."""

import pytest

from tests.conftest import create_test_event, drop_tables, make_app


@pytest.fixture
def limited_app(tmp_path):
    apps = []

    def make(**config):
        app = make_app(tmp_path, RATELIMIT_ENABLED=True, LOST_LINK_LIMIT_PER_IP="2 per hour", **config)
        apps.append(app)
        return app

    yield make
    for app in apps:
        drop_tables(app)


def ask_from(client, event, client_address: str, number: int):
    """A lost-link request relayed by the proxy at 127.0.0.1 for `client_address`."""
    return client.post(
        f"/e/{event.slug}/lost-link",
        data={"email": f"someone{number}@example.org"},
        headers={"X-Forwarded-For": client_address, "X-Forwarded-Proto": "https"},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )


def test_behind_a_trusted_proxy_each_client_has_its_own_limit(limited_app):
    app = limited_app(TRUSTED_PROXY_COUNT=1)
    event = create_test_event(app)
    client = app.test_client()
    assert [ask_from(client, event, "203.0.113.7", n).status_code for n in range(3)] == [302, 302, 429]
    assert ask_from(client, event, "198.51.100.9", 3).status_code == 302  # another delegate behind the same proxy


def test_without_the_setting_a_forwarded_address_is_ignored(limited_app):
    app = limited_app()
    event = create_test_event(app)
    client = app.test_client()
    codes = [ask_from(client, event, f"203.0.113.{n}", n).status_code for n in range(3)]
    assert codes == [302, 302, 429]  # every request counts against 127.0.0.1, whatever the header claims
