"""The reference production set-up in deploy/: nginx's site parses with Debian's nginx and, in front of a real
gunicorn, serves the app, keeps versioned static files a year and masks private links in its access log as the app
does; the systemd units parse; the environment template names real settings and yields the intended values. And
the static URLs' fingerprints (eventreg/static_files.py) that make the year's lifetime safe."""

import hashlib
import http.client
import json
import os
import re
import shlex
import shutil
import socket
import ssl
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from flask import Flask, url_for

from eventreg import create_app
from eventreg.config import DefaultConfig
from eventreg.data_keys import new_key
from eventreg.documents.settings_views import UPLOAD_ROOM
from eventreg.invitations.views import UPLOAD_LIMIT
from eventreg.private_paths import mask_private_paths
from tests.conftest import IN_CI, base_config, drop_tables, free_port, make_app
from tests.gunicorn_server import START_TIMEOUT_SECONDS, gunicorn_server

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
SITE = DEPLOY / "nginx" / "eventreg.conf"
NGINX = shutil.which("nginx") or next((path for path in ("/usr/sbin/nginx",) if Path(path).exists()), None)
# The placeholders of the site that a test replaces, as an operator does.
CERTIFICATE = "/etc/letsencrypt/live/register.example.org/fullchain.pem"
CERTIFICATE_KEY = "/etc/letsencrypt/live/register.example.org/privkey.pem"
CHECKOUT = "/srv/eventreg/"
APP_ADDRESS = "127.0.0.1:8000"
LOG_DIR = "/var/log/nginx/"


def require_nginx() -> str:
    """Debian's nginx binary; skips where it is missing, and fails in CI (scripts/system-packages test installs it)."""
    if NGINX is None:
        if IN_CI:
            pytest.fail("nginx is required in CI: scripts/system-packages test installs it")
        pytest.skip("nginx is not installed (apt-get install nginx, or scripts/system-packages test)")
    return NGINX


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate and its key for localhost, made for the test with the openssl command."""
    certificate, key = directory / "cert.pem", directory / "key.pem"
    request = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost"]
    subprocess.run([*request, "-keyout", str(key), "-out", str(certificate)], check=True, capture_output=True)
    return certificate, key


def nginx_prefix(tmp_path: Path, app_address: str = APP_ADDRESS) -> tuple[Path, dict[str, int]]:
    """A prefix directory with a wrapper nginx.conf that includes the site, its placeholders replaced: the test's
    certificate, the checkout, free ports for 80 and 443 (IPv6 left out), logs and temporary files inside the
    prefix, so nginx needs no root-owned file. Returns the prefix and the ports."""
    prefix = tmp_path / "nginx"
    (prefix / "logs").mkdir(parents=True)
    certificate, key = self_signed_certificate(prefix)
    ports = {"http": free_port(), "https": free_port()}
    site = SITE.read_text()
    for placeholder, value in {
        CERTIFICATE: str(certificate),
        CERTIFICATE_KEY: str(key),
        CHECKOUT: f"{ROOT}/",
        APP_ADDRESS: app_address,
        LOG_DIR: f"{prefix}/logs/",
        "listen 80;": f"listen 127.0.0.1:{ports['http']};",
        "listen 443 ssl": f"listen 127.0.0.1:{ports['https']} ssl",
    }.items():
        assert placeholder in site, placeholder
        site = site.replace(placeholder, value)
    site = "\n".join(line for line in site.splitlines() if "[::]" not in line)
    (prefix / "eventreg.conf").write_text(site)
    temp_paths = " ".join(
        f"{name}_temp_path {prefix}/temp/{name};" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (prefix / "nginx.conf").write_text(
        f"pid {prefix}/nginx.pid;\nerror_log {prefix}/logs/error.log;\nevents {{}}\n"
        f"http {{\n  include /etc/nginx/mime.types;\n  {temp_paths}\n  include {prefix}/eventreg.conf;\n}}\n"
    )
    (prefix / "temp").mkdir()
    return prefix, ports


def nginx_command(prefix: Path, *arguments: str) -> list[str]:
    """nginx on the wrapper configuration in `prefix`, its start-up errors logged there too."""
    return [
        require_nginx(),
        "-p",
        str(prefix),
        "-c",
        str(prefix / "nginx.conf"),
        "-e",
        str(prefix / "logs" / "error.log"),
        *arguments,
    ]


def test_the_nginx_site_parses(tmp_path):
    prefix, _ports = nginx_prefix(tmp_path)
    result = subprocess.run(nginx_command(prefix, "-t"), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "[warn]" not in result.stderr and "[emerg]" not in result.stderr, result.stderr


def body_limit(block: str) -> int:
    """The client_max_body_size in `block` of the site, in bytes."""
    number, unit = re.search(r"client_max_body_size (\d+)([km]?);", block).groups()
    return int(number) * {"": 1, "k": 1024, "m": 1024 * 1024}[unit]


def test_the_body_limits_let_the_app_refuse_first():
    """nginx lets through every body the app accepts, and little more: the app's own 413 page answers beyond."""
    site = re.sub(r"^\s*#.*$", "", SITE.read_text(), flags=re.M)  # the directives, without the comments
    server_wide = site.split("listen 443", 1)[1].split("location", 1)[0]  # the HTTPS server's own settings
    import_block = site.split("/invitations/import$", 1)[1].split("}", 1)[0]
    settings_block = site.split("/documents/settings$", 1)[1].split("}", 1)[0]
    document_settings_limit = 2 * DefaultConfig.DOCUMENT_IMAGE_MAX_BYTES + UPLOAD_ROOM
    for block, app_limit in (
        (server_wide, DefaultConfig.MAX_CONTENT_LENGTH),
        (import_block, UPLOAD_LIMIT),
        (settings_block, document_settings_limit),
    ):
        assert app_limit <= body_limit(block) <= 2 * app_limit


@pytest.fixture
def nginx_in_front_of_gunicorn(tmp_path):
    """nginx with the site on free ports, in front of one gunicorn worker serving an app on its own SQLite file,
    configured as deploy/eventreg.env.example configures production: HTTPS forced, nginx the one trusted proxy."""
    require_nginx()
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'deploy.sqlite'}")
    settings = {
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": "deploy-test-secret-key",
        "DATA_KEYS": [new_key()],
        "SERVER_NAME": "register.example.org",
        "PREFERRED_URL_SCHEME": "https",
        "FORCE_HTTPS": True,
        "TRUSTED_PROXY_COUNT": 1,
        "RATELIMIT_ENABLED": False,
    }
    try:
        # Ready when /healthz answers: it takes plain HTTP, where FORCE_HTTPS redirects the home page.
        with gunicorn_server(settings, tmp_path / "gunicorn.log", workers=1, ready_path="/healthz") as server:
            prefix, ports = nginx_prefix(tmp_path, app_address=f"127.0.0.1:{server.port}")
            nginx = subprocess.Popen(nginx_command(prefix, "-g", "daemon off;"))  # its errors: logs/error.log
            try:
                wait_for_port(ports["https"], nginx, prefix)
                yield prefix, ports
            finally:
                nginx.terminate()
                nginx.wait(timeout=15)
    finally:
        drop_tables(app)


def wait_for_port(port: int, nginx: subprocess.Popen, prefix: Path) -> None:
    """Wait until nginx listens on `port` (bounded, not timed)."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline and nginx.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nginx did not listen on {port}:\n{(prefix / 'logs' / 'error.log').read_text()}")


def request(port: int, method: str, path: str, *, tls: bool = True, headers=None, body=None):
    """One request to nginx (HTTPS with the test's own certificate, not verified); the response, read."""
    if tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=context)
    else:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers={"Host": "register.example.org", **(headers or {})})
        response = connection.getresponse()
        response.body = response.read()
        return response
    finally:
        connection.close()


# Request lines (a private link and pages under it, an invitation's link, an email-change key, a ticket code typed at
# the desk, and pages that hold nothing private), each logged by nginx as mask_private_paths writes it.
LOGGED_PATHS = [
    "/r/Xq3_vR9-kLm2NpQ8sT4uW6yZ0aB1cD5eF7gH9iJ2kL4",
    "/r/Xq3_vR9-kLm2NpQ8sT4uW6yZ0aB1cD5eF7gH9iJ2kL4/edit?lang=fr",
    "/i/Inv1tat10nT0ken_abc/decline",
    "/email-change?key=Xq3_vR9-kLm2.confirm&lang=ru",
    "/checkin/launch/find?lang=en&code=K7QX-2M9P",
    "/e/launch?code=K7QX-2M9P",
    "/e/launch/r/not-at-the-start",
    "/e/launch/register",
]


def access_log(prefix: Path, until: str) -> str:
    """nginx's access log once it holds `until`: nginx writes a request's line after it has answered, so the last
    one may still be on its way (bounded wait, nothing is timed)."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        log = (prefix / "logs" / "eventreg.access.log").read_text()
        if until in log or time.monotonic() > deadline:
            return log
        time.sleep(0.05)


def test_nginx_serves_the_app_and_versioned_static_files_and_masks_its_log(nginx_in_front_of_gunicorn):
    prefix, ports = nginx_in_front_of_gunicorn
    home = request(ports["https"], "GET", "/")
    # The app forces HTTPS: nginx's X-Forwarded-Proto tells it the request is HTTPS, or it redirects it forever.
    assert home.status == 200
    # One HSTS header, nginx's: the app sends its own as well, and nginx hides it (proxy_hide_header).
    assert home.headers.get_all("Strict-Transport-Security") == ["max-age=31536000"]
    login = request(ports["https"], "GET", "/auth/login")  # its form's CSRF token starts a session
    assert login.status == 200 and login.headers.get_all("Strict-Transport-Security") == ["max-age=31536000"]
    cookies = SimpleCookie()
    for header in login.headers.get_all("Set-Cookie") or []:
        cookies.load(header)
    assert cookies["session"]["secure"], login.headers.get_all("Set-Cookie")
    stylesheet = re.search(r'href="(/static/css/site\.css\?v=\w+)"', home.body.decode()).group(1)
    static = request(ports["https"], "GET", stylesheet)
    assert static.status == 200 and static.body == (ROOT / "static" / "css" / "site.css").read_bytes()
    assert static.getheader("Cache-Control") == "public, max-age=31536000, immutable"
    assert request(ports["https"], "GET", "/static/css/site.css").getheader("Cache-Control") == "no-cache"

    plain = request(ports["http"], "GET", "/e/launch/register?lang=fr", tls=False)
    assert (
        plain.status == 308 and plain.getheader("Location") == "https://register.example.org/e/launch/register?lang=fr"
    )
    assert request(ports["https"], "POST", "/", body=b"x" * (3 * 1024 * 1024)).status == 413  # nginx refuses
    upload = request(
        ports["https"], "POST", "/organizer/events/launch/invitations/import", body=b"x" * (3 * 1024 * 1024)
    )
    assert upload.status != 413  # its own larger limit: the app answers (the login page)

    referer = "https://register.example.org/r/Xq3_vR9-kLm2NpQ8sT4uW6yZ0aB1cD5eF7gH9iJ2kL4/edit?code=K7QX-2M9P"
    for path in LOGGED_PATHS:
        request(ports["https"], "GET", path, headers={"Referer": referer})
    log = access_log(prefix, until=f'"GET {LOGGED_PATHS[-1]} HTTP/1.1" ')
    for path in LOGGED_PATHS:
        assert f'"GET {mask_private_paths(path)} HTTP/1.1" ' in log, (path, log)
    assert f'"{mask_private_paths(referer)}"' in log
    for secret in ("Xq3_vR9", "Inv1tat10nT0ken", "K7QX"):
        assert secret not in log, log
    # nginx's request id reaches the app, which answers with it: one id finds the request in both logs.
    request_id = home.getheader("X-Request-ID")
    assert re.fullmatch(r"[0-9a-f]{32}", request_id), request_id
    assert f" {request_id}\n" in log


def unit_files(tmp_path: Path) -> list[Path]:
    """The systemd units of deploy/, pointed at this checkout and this Python's environment (systemd-analyze
    checks that each command exists)."""
    directory = tmp_path / "units"
    directory.mkdir()
    for unit in (DEPLOY / "systemd").iterdir():
        text = unit.read_text().replace("/srv/eventreg/.venv/bin/", f"{Path(sys.executable).parent}/")
        (directory / unit.name).write_text(text.replace("/srv/eventreg", str(ROOT)))
    return sorted(directory.iterdir())


def test_the_systemd_units_parse(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    units = unit_files(tmp_path)
    result = subprocess.run([analyze, "verify", *map(str, units)], capture_output=True, text=True)
    # verify answers 0 even for an unknown key or a bad value, which it only reports: any word of it is a failure.
    assert result.returncode == 0 and not result.stdout + result.stderr, result.stdout + result.stderr


def test_the_units_run_what_the_app_has(tmp_path):
    web = (DEPLOY / "systemd" / "eventreg-web.service").read_text()
    worker = (DEPLOY / "systemd" / "eventreg-worker@.service").read_text()
    purge = (DEPLOY / "systemd" / "eventreg-purge.service").read_text()
    commands = create_app(base_config(tmp_path), instance_path=str(tmp_path / "instance")).cli.commands
    assert re.search(r"^ExecStart=\S+/gunicorn -c gunicorn\.conf\.py .*-b 127\.0\.0\.1:8000 .*app:app$", web, re.M)
    for unit, command in ((worker, "outbox-worker"), (purge, "purge")):
        assert re.search(rf"^ExecStart=\S+/flask --app app {command}$", unit, re.M)
        assert command in commands
    for unit in (web, worker):
        assert "Environment=PROMETHEUS_MULTIPROC_DIR=/run/eventreg-metrics" in unit
        assert "EnvironmentFile=/etc/eventreg/eventreg.env" in unit


def environment_file(path: Path) -> dict[str, str]:
    """The variables of an EnvironmentFile as systemd reads it: NAME=value lines, # comments, shell quoting."""
    variables = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            variables[name] = shlex.split(value)[0] if value else ""
    return variables


def test_the_environment_template_names_real_settings(tmp_path, monkeypatch):
    variables = environment_file(DEPLOY / "eventreg.env.example")
    known = set(dir(DefaultConfig)) | set(Flask.default_config)
    assert {name.removeprefix("FLASK_") for name in variables} <= known
    for required in ("SECRET_KEY", "DATA_KEYS", "SQLALCHEMY_DATABASE_URI", "SERVER_NAME", "FORCE_HTTPS"):
        assert f"FLASK_{required}" in variables
    # The values, as create_app reads them (JSON where they parse), with the secrets and addresses filled in.
    variables |= {
        "FLASK_SECRET_KEY": "a" * 64,
        "FLASK_DATA_KEYS": json.dumps([new_key()]),
        "FLASK_SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'env.sqlite'}",
        "FLASK_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/3",
    }
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    config = create_app(instance_path=str(tmp_path / "instance")).config
    assert config["FORCE_HTTPS"] is True and config["TRUSTED_PROXY_COUNT"] == 1
    assert config["MAIL_USE_TLS"] is True and config["MAIL_USE_SSL"] is False
    assert config["MAIL_PASSWORD"] == "replace-password" and config["MAIL_PORT"] == 587
    assert config["MAIL_DEFAULT_SENDER"] == "Ceremony Office <office@example.org>"
    assert config["METRICS_ALLOW"] == ["127.0.0.1", "192.0.2.10"] and config["LOG_FORMAT"] == "json"
    assert config["REGISTRATION_LIMIT_PER_IP"] == "100 per hour" and config["COUNTRY_NAMES"] == {}
    assert os.environ["FLASK_SERVER_NAME"] == config["SERVER_NAME"] == "register.example.org"


def version_of(path: Path) -> str:
    """The version a static file's URL carries: the start of its content's SHA-256."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def test_pages_link_static_files_by_their_content(client):
    page = client.get("/").text
    assert f'href="/static/css/site.css?v={version_of(ROOT / "static" / "css" / "site.css")}"' in page
    assert f'src="/static/js/forms.js?v={version_of(ROOT / "static" / "js" / "forms.js")}"' in page


def static_url(tmp_path: Path, filename: str) -> str:
    """url_for's address of a file in a static folder of the test's own, in a new app (a new process's)."""
    app = create_app(base_config(tmp_path), instance_path=str(tmp_path / "instance"))
    app.static_folder = str(tmp_path / "static")
    with app.test_request_context():
        return url_for("static", filename=filename)


def test_a_static_files_version_changes_with_its_content(tmp_path):
    (tmp_path / "static").mkdir()
    stylesheet = tmp_path / "static" / "print.css"
    stylesheet.write_text("body { color: black; }")
    before = static_url(tmp_path, "print.css")
    stylesheet.write_text("body { color: navy; }")
    after = static_url(tmp_path, "print.css")
    assert before == f"/static/print.css?v={hashlib.sha256(b'body { color: black; }').hexdigest()[:12]}"
    assert after == f"/static/print.css?v={hashlib.sha256(b'body { color: navy; }').hexdigest()[:12]}"
    assert static_url(tmp_path, "missing.css") == "/static/missing.css"


def cache_control(client, url: str) -> str:
    """The Cache-Control header of Flask's answer for a static file (the file closed after)."""
    with client.get(url) as response:
        assert response.status_code == 200
        return response.headers["Cache-Control"]


def test_flask_lets_browsers_keep_a_current_version_only(client):
    current = f"/static/js/forms.js?v={version_of(ROOT / 'static' / 'js' / 'forms.js')}"
    assert cache_control(client, current) == "public, max-age=31536000, immutable"
    for other in ("/static/js/forms.js", "/static/js/forms.js?v=000000000000"):
        assert "immutable" not in cache_control(client, other)
