"""eventreg: registration of delegates for inaugural ceremonies and other scientific events."""

import secrets
from importlib import import_module
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import data_keys, database, languages, private_paths
from . import extensions as ext
from .config import DefaultConfig
from .files import write_once
from .geo import protocol as country_protocol
from .ops import logs as structured_logs

# Every blueprint, each the `bp` of a views module, in the order they are registered: the one list.
BLUEPRINTS = (
    "registration.views",
    "registration.counter",
    "registration.self_service_views",
    "tickets.views",
    "auth.views",
    "auth.token_views",
    "organizer.views",
    "events.views",
    "admin.views",
    "attendees.views",
    "organizer.export_views",
    "organizer.outbox_views",
    "api.views",
    "checkin.views",
    "checkin.json_views",
    "languages.views",
    "geo.flags",
    "categories.views",
    "invitations.views",
    "invitations.public_views",
    "invitations.reminder_views",
    "delegations.views",
    "delegations.focal_views",
    "documents.job_views",
    "documents.badge_views",
    "documents.settings_views",
    "documents.certificate_views",
    "visas.queue_views",
    "visas.public_views",
    "messages.views",
    "messages.record_views",
    "messages.reminder_views",
    "ops.health",
    "ops.metrics",
)
# Every feature's `flask` commands, each the list `commands` of a module (the core's own are in cli.py).
COMMANDS = (
    "auth.commands",
    "events.commands",
    "demo.commands",
    "mail.commands",
    "registration.commands",
    "invitations.commands",
    "documents.commands",
    "visas.commands",
    "messages.commands",
)


def create_app(config: dict | None = None, instance_path: str | None = None) -> Flask:
    """Build the application: defaults, instance config, FLASK_* environment, then `config` (tests)."""
    app = Flask(
        __name__,
        template_folder="../templates",
        static_folder="../static",
        instance_relative_config=True,
        instance_path=instance_path,
    )
    app.config.from_object(DefaultConfig)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env()
    if config:
        app.config.from_mapping(config)

    country_protocol.init_app(app)  # refuses malformed COUNTRY_NAMES, COUNTRY_HIDDEN or SHOW_FLAGS at start-up
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret_key(Path(app.instance_path) / "secret_key")
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / 'eventreg.sqlite'}"
    if not app.config["MAIL_FILE_DIR"]:
        app.config["MAIL_FILE_DIR"] = str(Path(app.instance_path) / "mail")
    if app.config["TRUSTED_PROXY_COUNT"]:
        # Behind a reverse proxy: the client's address and scheme come from the proxy's X-Forwarded-* headers
        # (rate limits per client need the address), trusting exactly as many hops as there are proxies.
        hops = int(app.config["TRUSTED_PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    database.install_database_hooks()
    ext.db.init_app(app)
    ext.migrate.init_app(
        app,
        ext.db,
        directory=str(Path(app.root_path).parent / "migrations"),
        render_item=database.render_migration_item,
    )
    ext.mail.init_app(app)
    ext.csrf.init_app(app)
    ext.limiter.init_app(app)
    ext.login_manager.init_app(app)
    ext.babel.init_app(app, locale_selector=languages.select_locale)
    languages.init_app(app)
    data_keys.init_app(app)
    private_paths.init_app(app)
    structured_logs.init_app(app)  # X-Request-ID, a log line per request; JSON lines with LOG_FORMAT=json

    from . import cli, converters, errors, security, templating
    from .auth import access, sessions
    from .ops import metrics as request_metrics
    from .registration import limits

    converters.init_app(app)
    for module in BLUEPRINTS:
        app.register_blueprint(import_module(f"{__name__}.{module}").bp)
    sessions.init_app(app)
    access.init_app(app)
    errors.init_app(app)
    limits.init_app(app)
    security.init_app(app)
    request_metrics.init_app(app)  # after security: its FORCE_HTTPS redirects are counted too
    templating.init_app(app)
    cli.init_app(app, tuple(f"{__name__}.{module}" for module in COMMANDS))
    return app


def _instance_secret_key(path: Path) -> str:
    """A key generated on first start and kept, so sessions survive restarts of a single host."""
    write_once(path, secrets.token_hex(32))
    return path.read_text().strip()
