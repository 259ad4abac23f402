"""Settings for the Alliance CRM, read only from environment variables.

Without any variable set you get the embedded development default: SQLite under ``var/``,
Celery tasks executed in-process and e-mail written to files under ``var/mail/``.
With ``DJANGO_DEBUG`` off the process refuses to start unless the secrets and hosts are given.
"""

import secrets
import sys
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("CRM_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DJANGO_DEBUG", default=True)


def _dev_secret_key() -> str:
    """A per-checkout random key for development, kept under var/ (never in git)."""
    path = VAR_DIR / "dev_secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


_missing = [name for name in ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS") if not env.str(name, "")]
if not DEBUG and _missing:
    sys.exit(
        "Alliance CRM refuses to start with DJANGO_DEBUG off: set "
        + " and ".join(_missing)
        + " (see README, Configuration)."
    )

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="") or _dev_secret_key()
# Previous keys, newest first, still accepted when checking signatures (unsubscribe links,
# sessions, password-reset links) while a rotated key takes over; see docs/operations.md.
SECRET_KEY_FALLBACKS = env.list("DJANGO_SECRET_KEY_FALLBACKS", default=[])
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "unfold",
    "unfold.contrib.filters",
    "unfold.contrib.import_export",
    "unfold.contrib.simple_history",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "anymail",
    "simple_history",
    "import_export",
    "django_countries",
    "phonenumber_field",
    "crm",
    "crm.mail",
    "members",
    "meetings",
    "events",
    "api",
    "csp",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "crm.csp.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "crm.sessions.SessionActivityMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a lockout raised during login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "crm" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the dev server and an in-process task read while another request writes.
    DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = "PRAGMA journal_mode=WAL;"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Sign-in and sessions ------------------------------------------------------------------
# django-axes first: it refuses a locked-out username and address before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# After AXES_FAILURE_LIMIT wrong passwords for one username from one address, that pair is
# refused (even with the right password) for AXES_COOLOFF_MINUTES; a successful sign-in
# before that resets the count. An administrator unlocks earlier with `manage.py axes_reset`.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=60))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "crm.lockout.lockout_response"
AXES_USERNAME_FORM_FIELD = "username"
# The client's address. DJANGO_NUM_PROXIES is how many reverse proxies stand in front of the
# app (0: none, REMOTE_ADDR is the client; 1: one TLS-terminating proxy). Each proxy appends
# the address it saw to X-Forwarded-For, and a client can put anything before that, so only
# the last NUM_PROXIES entries are trusted: the client is the entry the first proxy appended
# (python-ipware counts the proxies *in* the header, hence the minus one).
NUM_PROXIES = env.int("DJANGO_NUM_PROXIES", default=0)
if NUM_PROXIES:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
    AXES_IPWARE_PROXY_COUNT = NUM_PROXIES - 1
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

# A session ends after this many seconds without a request; activity starts the count again
# (crm.sessions.SessionActivityMiddleware, which rewrites the session at most once a minute
# rather than on every request). One hour: long enough to write up a consultation or sit
# through a call between two clicks, short enough that a back office left open on an unlocked
# laptop in a meeting room does not stay signed in for the afternoon.
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_COOKIE_AGE", default=60 * 60)
SESSION_ACTIVITY_RESOLUTION = 60

# --- Languages and time -------------------------------------------------------------------
LANGUAGE_CODE = "en"
# The six official OSCE languages.
LANGUAGES = [
    ("en", _("English")),
    ("fr", _("French")),
    ("de", _("German")),
    ("it", _("Italian")),
    ("ru", _("Russian")),
    ("es", _("Spanish")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Vienna"
FORMAT_MODULE_PATH = ["crm.formats"]
USE_I18N = True
USE_TZ = True

# --- Static and media ---------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(VAR_DIR / "static")))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("DJANGO_MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- E-mail -------------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Alliance CRM <alliance@example.org>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"

# --- Celery -------------------------------------------------------------------------------
# No broker configured means the embedded default: tasks run in-process, in the caller.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A visibility timeout longer than any task, so Redis does not hand a running task to a second
# worker; acks_late then redelivers it only when the first worker really died.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The one beat schedule of the project. The database is the schedule for mail: this pass finds
# what is due, so nothing waits in Redis with a long ETA.
CELERY_BEAT_SCHEDULE = {
    "dispatch-outbox": {
        "task": "crm.mail.tasks.dispatch_outbox",
        "schedule": env.float("OUTBOX_DISPATCH_INTERVAL_SECONDS", default=60.0),
    },
    # Retention (docs/privacy.md): purge old outbox bodies, count the erasure candidates.
    "retention": {
        "task": "members.tasks.retention_pass",
        "schedule": env.float("RETENTION_INTERVAL_SECONDS", default=24 * 60 * 60.0),
    },
}

# --- Outbox -------------------------------------------------------------------------------
CRM_SITE_URL = env.str("CRM_SITE_URL", default="http://127.0.0.1:8000")
# Who invitees write to; shown on the RSVP page and in the mail, and the calendar organiser.
CRM_COORDINATOR_EMAIL = env.str("CRM_COORDINATOR_EMAIL", default="alliance@example.org")
# Empty: the name in the reader's language ("Alliance against Trafficking in Persons").
CRM_ORGANIZER_NAME = env.str("CRM_ORGANIZER_NAME", default="")
# Languages in which every e-mail and the RSVP page are complete; others fall back to English.
MAIL_LANGUAGES = ["en", "ru"]
OUTBOX_RETRY_BASE_SECONDS = env.int("OUTBOX_RETRY_BASE_SECONDS", default=60)
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=8)
OUTBOX_IN_FLIGHT_TIMEOUT = env.int("OUTBOX_IN_FLIGHT_TIMEOUT", default=15 * 60)
# Called by every outbox pass; each returns how many outbox rows it created.
OUTBOX_SCHEDULERS = [
    "meetings.reminders.schedule_due_reminders",
    "meetings.digest.schedule_weekly_digest",
    "meetings.services.capacity.schedule_offer_expiry",
    "meetings.followup_reminders.schedule_followup_reminders",
    "api.webhooks.services.schedule_due_webhooks",  # enqueues due webhook retries
]
# The embedded default has no beat: its outbox pass (send_due_mail --every) purges old
# outbox bodies too (an idempotent UPDATE, cheap when nothing is due).
if not CELERY_BROKER_URL:
    OUTBOX_SCHEDULERS.append("members.tasks.schedule_retention")

# --- Retention (docs/privacy.md) ----------------------------------------------------------
# Text and HTML of outbox messages in a final state are purged after this many days.
RETENTION_OUTBOX_BODY_DAYS = env.int("RETENTION_OUTBOX_BODY_DAYS", default=180)
# Contacts without a current role and without activity for this many years are listed for a
# coordinator to erase ("Erasure candidates" on the contact list); nothing is erased by itself.
RETENTION_INACTIVE_CONTACT_YEARS = env.int("RETENTION_INACTIVE_CONTACT_YEARS", default=3)

# --- Delivery events (django-anymail tracking webhooks) -----------------------------------
# The provider POSTs bounces and complaints to /mail/anymail/mailgun/tracking/. The endpoint
# answers 404 until both secrets are set: HTTP basic auth ("user:password") and Mailgun's
# HTTP webhook signing key.
ANYMAIL = {
    "WEBHOOK_SECRET": env.str("ANYMAIL_WEBHOOK_SECRET", default=""),
    "MAILGUN_WEBHOOK_SIGNING_KEY": env.str("MAILGUN_WEBHOOK_SIGNING_KEY", default=""),
}
# Hard bounces (bounced or rejected) before an address is put on hold; a complaint always holds.
MAIL_HARD_BOUNCE_HOLD_THRESHOLD = env.int("MAIL_HARD_BOUNCE_HOLD_THRESHOLD", default=1)
# Dotted path of a callable taking the new AddressHold (e.g. to open a follow-up), or None.
MAIL_ON_HOLD_HOOK = "meetings.followups.followup_for_address_hold"

# --- REST API -----------------------------------------------------------------------------
REST_FRAMEWORK = {
    # The API's conventions live in api/ (see api/views/base.py): authentication, permissions,
    # the one error shape, pagination, throttling and the schema.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.BearerTokenAuthentication",  # first: 401 + WWW-Authenticate
        "api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.ApiAccess"],
    "DEFAULT_THROTTLE_CLASSES": [
        "api.throttling.ApiClientRateThrottle",
        "api.throttling.StaffRateThrottle",
        "api.throttling.AnonymousRateThrottle",
    ],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.PageNumberPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "api.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_SCHEMA_CLASS": "api.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "api.exceptions.exception_handler",
    # Reverse proxies in front of the app whose X-Forwarded-For the rate limits trust: none
    # by default (a client could forge the header); DJANGO_NUM_PROXIES sets it (see above).
    "NUM_PROXIES": NUM_PROXIES,
    "DATETIME_FORMAT": "iso-8601",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Alliance CRM API",
    "DESCRIPTION": (
        "REST API of the Alliance against Trafficking in Persons CRM. Authenticate with "
        "`Authorization: Bearer <token>`. Conventions (errors, pagination and sync, "
        "idempotency, ETags) are described in docs/api.md."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and Redoc from our own static files (drf-spectacular-sidecar), not a CDN, so
    # the Content-Security-Policy can stay 'self'.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "OrganizationStatusEnum": "members.models.Organization.Status",
        "OrganizationKindEnum": "members.models.Organization.Kind",
        "AffiliationRoleEnum": "members.models.Affiliation.Role",
        "LanguageEnum": "members.models.Contact.Language",
        "FocusAreaEnum": "members.models.FocusArea.Code",
        "GatheringStatusEnum": "meetings.models.Gathering.Status",
        "InvitationStatusEnum": "meetings.models.Invitation.Status",
        "FollowUpStatusEnum": "meetings.models.FollowUp.Status",
        "ConsultationKindEnum": "meetings.models.Consultation.Kind",
        "EventKindEnum": "events.models.Event.Kind",
    },
}
# Page size of lists, and the most a client may ask for with ?page_size=.
API_PAGE_SIZE = 50
API_MAX_PAGE_SIZE = 200
# How long an Idempotency-Key is remembered.
API_IDEMPOTENCY_TTL_SECONDS = 24 * 3600
# An API client's last use is written at most this often (seconds).
API_TOKEN_LAST_USED_PRECISION = 60
# Rate limits (api.throttling): per API client, per staff user, per anonymous IP, and the
# stricter per-IP limit of the public RSVP endpoints.
API_THROTTLE_RATES = {
    "client": "1200/min",
    "staff": "600/min",
    "anonymous": "60/min",
    "rsvp": "20/min",
}

# Webhooks may go to http and to private or loopback addresses (development, tests); in
# production only https URLs resolving to public addresses are called (SSRF guard).
WEBHOOKS_ALLOW_PRIVATE_URLS = env.bool("WEBHOOKS_ALLOW_PRIVATE_URLS", default=DEBUG)

# --- Import / export ----------------------------------------------------------------------
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "change"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"  # contacts narrow it (members/admin.py)

PHONENUMBER_DEFAULT_FORMAT = "INTERNATIONAL"
PHONENUMBER_DEFAULT_REGION = "AT"

# --- Back office theme --------------------------------------------------------------------
UNFOLD = {
    "SITE_TITLE": _("Alliance CRM"),
    "SITE_HEADER": _("Alliance CRM"),
    "SITE_SUBHEADER": _("Alliance against Trafficking in Persons"),
    "SITE_SYMBOL": "diversity_3",
    "SHOW_HISTORY": True,
    "SHOW_LANGUAGES": True,
    # Pages that are not a model's list (follow-ups, reporting, activity, access log), offered
    # in the site menu at the top of the sidebar to those who may open them.
    "SITE_DROPDOWN": "crm.navigation.site_dropdown",
}

LOGIN_URL = "admin:login"
# Unfold's login form carries no "next" field: signing in at /admin/login/ itself must land
# on the back office, not on Django's default /accounts/profile/ (a 404 here).
LOGIN_REDIRECT_URL = "admin:index"

# --- Logging ------------------------------------------------------------------------------
# Every handler carries the personal-data filter (crm/logging.py): e-mail addresses and
# contacts' names are masked before a line is written. Django's own loggers get no handlers of
# their own, so their records reach the filtered root handler; a Celery worker's handlers get
# the filter in crm/celery.py.
LOG_LEVEL = env.str("DJANGO_LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"personal_data": {"()": "crm.logging.PersonalDataFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["personal_data"]},
    },
    "loggers": {
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "django.server": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}

# --- Content-Security-Policy (django-csp) ---------------------------------------------------
# Scripts only from our own static files, or inline with this response's nonce; no
# 'unsafe-inline' and no 'unsafe-eval' for scripts. Styles allow 'unsafe-inline': the Unfold
# back office and Swagger UI set style attributes from their scripts, and an injected style
# cannot run code. See docs/operations.md (Content-Security-Policy).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- Production hardening -----------------------------------------------------------------
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
