"""Default settings; every one can be overridden by a FLASK_* environment variable."""

from datetime import timedelta


class DefaultConfig:
    """Settings for a development run on one machine; production overrides them from the environment."""

    # Filled in by create_app() when nothing is configured: a SQLite file and a generated key under instance/.
    SECRET_KEY = None
    # The data keyring (eventreg/data_keys.py): a JSON list of Fernet keys; the first encrypts, all decrypt. Never
    # derived from SECRET_KEY. Filled in from instance/data_keys.json (generated once) when not set.
    DATA_KEYS = None
    SQLALCHEMY_DATABASE_URI = None
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # The session cookie is Secure on every request that came over HTTPS (eventreg/security.py); this makes it
    # Secure always.
    SESSION_COOKIE_SECURE = False
    # Production: true redirects plain HTTP to HTTPS (308), sends HSTS for HSTS_SECONDS, makes cookies Secure and
    # links https. Behind a proxy that ends TLS, set TRUSTED_PROXY_COUNT too, or every request looks like HTTP
    # and is redirected forever.
    FORCE_HTTPS = False
    HSTS_SECONDS = 365 * 24 * 3600
    # An organizer's login ends PERMANENT_SESSION_LIFETIME after it began, or after SESSION_IDLE_MINUTES without
    # a request (a page's automatic refreshes do not count), whichever comes first (eventreg/auth/sessions.py).
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    SESSION_IDLE_MINUTES = 120
    MAX_CONTENT_LENGTH = 1024 * 1024

    # The languages offered (FLASK_LANGUAGES='["en", "fr"]'), as Babel writes them, each with a catalog under
    # eventreg/translations/; BABEL_DEFAULT_LOCALE must be one of them. Registrations remember the one they used.
    LANGUAGES = ["en", "zh_Hans", "fr", "es", "ru", "ar"]
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"

    # Mail. With no MAIL_SERVER the outbox worker writes .eml files under instance/mail/ instead.
    MAIL_SERVER = None
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    # "Display name <address>": the name is the From that delegates see (any script; encoded per RFC 2047).
    MAIL_DEFAULT_SENDER = "Event registration <noreply@example.org>"  # set your own in production
    # Seconds any one SMTP step may take (Flask-Mail has no timeout: a hung server would block the worker forever).
    MAIL_TIMEOUT = 30
    MAIL_FILE_DIR = None

    # The outbox worker: how often it looks for due messages, how many it takes at once,
    # and how long it waits at most before retrying a message whose sending failed.
    OUTBOX_POLL_SECONDS = 2.0
    OUTBOX_BATCH_SIZE = 100
    # On PostgreSQL a worker claims this many due messages in one transaction (their rows locked, other workers
    # skip them), sends them one by one and records the results in one commit. A crash before that commit sends
    # those already sent again (same Message-ID). SQLite claims one at a time.
    OUTBOX_CLAIM_SIZE = 20
    OUTBOX_MAX_RETRY_DELAY = 3600
    # Retries after a passing failure (refused connection, timeout, 4xx) wait this long first, doubling each time
    # up to OUTBOX_MAX_RETRY_DELAY, less a random part of up to half; so the first three come within a minute.
    OUTBOX_FIRST_RETRY_DELAY = 15
    # Seconds after its first try (or a resend) that a message still failing is marked failed, for organizers
    # to see and resend; a 5xx refusal of the recipient or the message fails it at once.
    OUTBOX_GIVE_UP_AFTER = 24 * 3600

    # email-validator checks syntax only unless this is on (it needs working DNS).
    EMAIL_CHECK_DELIVERABILITY = False

    # The host's protocol for countries and regions (eventreg/geo/protocol.py). Labels by code, one for every
    # language or one per language, and codes ISO 3166-1 lacks: {"XK": "Kosovo", "TW": {"en": "Taiwan, China",
    # "zh": "中国台湾", "part_of": "CN"}}; a region shown as part of another country has no flag of its own.
    COUNTRY_NAMES: dict = {}
    # Codes the registration form does not offer (and refuses); registrations that have one still show it.
    COUNTRY_HIDDEN: list = []
    # Flags beside country names (vendored SVG pictures, eventreg/geo/flags.py).
    SHOW_FLAGS = True

    # Test-only: False leaves out the event lock that capacity decisions take, and a delay (seconds) between
    # reading the seats and writing widens the race; the negative-control test shows overbooking with both.
    CAPACITY_LOCK = True
    CAPACITY_RACE_DELAY = 0.0

    # Rate limits (Flask-Limiter) on the forms that send mail on request. memory:// counts in each process, so
    # with several processes or hosts every one allows the full limit: production sets one shared store, e.g.
    # FLASK_RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379. If that store is unreachable, each process goes on
    # counting the same limits in its own memory (a warning is logged) and tries the store again now and then, so
    # requests are answered and failed logins still throttled, per process. Tests and load tests set
    # RATELIMIT_ENABLED=false.
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_STRATEGY = "moving-window"
    RATELIMIT_KEY_PREFIX = "eventreg"
    RATELIMIT_HEADERS_ENABLED = False  # Retry-After only on the 429 page (limits.py)
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True  # no RATELIMIT_IN_MEMORY_FALLBACK: the views' own limits apply
    RATELIMIT_SWALLOW_ERRORS = True  # a store failing mid-request (after its limits were checked) is no 500
    # A Redis that stops answering (a network fault that drops packets, a server stuck) would hold every request
    # for as long as the operating system waits: give up on it after a second and count in memory as above.
    # memory:// ignores these.
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}
    LOST_LINK_LIMIT_PER_ADDRESS = "5 per hour"
    LOST_LINK_LIMIT_PER_IP = "20 per hour"
    EMAIL_CHANGE_LIMIT_PER_REGISTRATION = "5 per hour"
    EMAIL_CHANGE_LIMIT_PER_IP = "20 per hour"
    # An organizer's "Resend confirmation" on one registration (attendees/views.py): a few for a delegate who lost
    # the mail, not a way to flood their mailbox.
    RESEND_CONFIRMATION_LIMIT = "3 per hour"
    # Every POST of the registration form from one network address, valid or not. An office registering its
    # delegation of 20, with a form or two sent again after a mistake, uses about 30; 100 leaves room for a few
    # such groups behind one NAT at once and still stops a script. A venue whose on-site desk or guest Wi-Fi
    # registers hundreds through one address raises it (FLASK_REGISTRATION_LIMIT_PER_IP="1000 per hour").
    REGISTRATION_LIMIT_PER_IP = "100 per hour"
    # Organizer login attempts, counted before the password is checked (auth/throttle.py): per account typed, and
    # per network address (an office's organizers share one). A browser that logged in to the account before has
    # its own count per account.
    LOGIN_LIMIT_PER_ACCOUNT = "10 per 15 minutes"
    LOGIN_LIMIT_PER_IP = "30 per 15 minutes"
    # The visa letters' verification page (/verify/<number>/<code>), per network address: a consulate checks a few
    # letters at a time; guessing a code needs millions of tries.
    VERIFY_LIMIT = "30 per minute"
    # Badges a web request renders itself (about 0.1 s each); a larger run becomes a document job that a worker
    # renders (documents/badge_views.py), as a long response would outlast gunicorn's worker timeout.
    BADGES_IN_REQUEST = 40
    # The largest logo or signature image accepted for the letterhead (documents/images.py), in bytes.
    DOCUMENT_IMAGE_MAX_BYTES = 2 * 1024 * 1024
    # Messages to delegates (messages/): each organizer's sends and test sends together, in Flask-Limiter's store
    # (every process counts alike); and how many messages one event may send in any 24 hours (scheduled reminders
    # do not count). A setting of the operator, not of the event's organizers, so a stolen session cannot raise it.
    MESSAGE_SEND_LIMIT = "10 per hour"
    MESSAGES_PER_EVENT_PER_DAY = 3
    # The lost-link form answers no sooner than this (seconds), mail queued or not: far above the ~10 ms either
    # takes, so its timing does not tell a registered address; unnoticed by people.
    LOST_LINK_MIN_SECONDS = 0.1

    # How many reverse proxies stand in front of the app (0: none). With 1, nginx's X-Forwarded-For and
    # X-Forwarded-Proto are trusted for one hop: the client's address (rate limits) and https links.
    TRUSTED_PROXY_COUNT = 0

    # Who may read /metrics (eventreg/ops/metrics.py): addresses or networks (FLASK_METRICS_ALLOW=
    # '["127.0.0.1", "10.0.0.0/24"]'). Every address a request came through must be listed: the connection's peer
    # and, behind nginx (TRUSTED_PROXY_COUNT), the client it forwards; so keep nginx's 127.0.0.1 beside the
    # monitoring server. Or a scraper sends `Authorization: Bearer <METRICS_TOKEN>` (None: no token works). Anyone
    # else gets 403.
    METRICS_ALLOW = ["127.0.0.1"]
    METRICS_TOKEN = None

    # "text": Flask's usual log lines (development). "json" (production: FLASK_LOG_FORMAT=json): every line of the
    # app and the outbox worker as one JSON object on standard error, with one line per request (its request id,
    # also sent back as X-Request-ID, route, status, duration, organizer) and one per mail attempt, private links
    # and addresses masked (eventreg/ops/logs.py); for a log collector that indexes fields.
    LOG_FORMAT = "text"

    REGISTRATIONS_PER_PAGE = 50
    # How often the public counter page (/e/<slug>/delegates) fetches fresh numbers, in seconds.
    COUNTER_REFRESH_SECONDS = 30

    # `flask purge` erases the personal data of registrations of events that ended more than this many days ago
    # (the registration form tells delegates so); their counts stay. Run it daily, e.g. from cron.
    PURGE_AFTER_DAYS = 90
