"""Settings for the Staffify numbers dashboard.

Every value that may change between machines is read from the environment here, and only here
(django-environ). A malformed value stops the start with ImproperlyConfigured and a message naming
the variable. Secrets may also come from files: SECRET_KEY_FILE, STAFFIFY_API_KEY_FILE,
DATABASE_URL_FILE, EMAIL_URL_FILE.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import tempfile
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env is optional and never required; the environment wins over it.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}

# The fixed key that the embedded sandbox accepts; written in the README. Not a secret: it only
# opens the sandbox's demo data.
SANDBOX_DEMO_API_KEY = "sfy_live_" + "0123456789abcdef" * 3
# Every key the sandbox seeds (sandbox/seed.py reads them here): public, so never a production key.
SANDBOX_SEEDED_API_KEYS = (
    SANDBOX_DEMO_API_KEY,
    "sfy_live_" + "feedface" * 6,  # read-only
    "sfy_org_" + "0123456789abcdef" * 3,  # organisation
    "sfy_live_" + "abcdef0123456789" * 3,  # another organisation's
    "sfy_live_" + "deadbeef" * 6,  # revoked
)
API_KEY_RE = re.compile(r"^sfy_(live|org)_[0-9a-f]{48}$")


def _raw(name: str, default: str | None = None) -> str | None:
    """The value of NAME, or the contents of the file named by NAME_FILE."""
    file_var = f"{name}_FILE"
    if os.environ.get(file_var):
        path = Path(os.environ[file_var])
        try:
            return path.read_text().strip()
        except OSError as err:
            raise ImproperlyConfigured(f"{file_var}={path} cannot be read: {err}") from err
    return os.environ.get(name, default)


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean: use true or false.")


def _float(name: str, default: float, *, minimum: float, maximum: float, what: str = "a number of seconds") -> float:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not {what}.") from None
    if not minimum <= number <= maximum:
        raise ImproperlyConfigured(f"{name}={value!r} must lie between {minimum} and {maximum}.")
    return number


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None


DEBUG = _bool("DEBUG", False)
# Production unless told otherwise: the embedded sandbox (a fake Staffify that anyone may reset, with a
# public demo key) runs only when asked for (`make run`, the tests, the demos set STAFFIFY_SANDBOX=true).
STAFFIFY_SANDBOX = _bool("STAFFIFY_SANDBOX", False)
# Production: neither DEBUG nor the sandbox. Its security defaults need no variable to be on.
_PRODUCTION = not DEBUG and not STAFFIFY_SANDBOX

SECRET_KEY = _raw("SECRET_KEY")
if not SECRET_KEY:
    if not STAFFIFY_SANDBOX:
        raise ImproperlyConfigured(
            "SECRET_KEY (or SECRET_KEY_FILE) must be set: without it signed cookies could be forged "
            "(only the sandbox, STAFFIFY_SANDBOX=true, runs on a built-in development key)."
        )
    SECRET_KEY = "dev-only-insecure-key-for-the-sandbox-" + "x" * 20

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# A refused form says so in place (and sends someone signed out to the login page), not Django's page.
CSRF_FAILURE_VIEW = "numbers_app.web.health.csrf_failure"

PORT = _int("PORT", 8000)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks_db",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "numbers_app",
    "sandbox",
]

MIDDLEWARE = [
    # First: every request's id, on its log lines and its answer (X-Request-Id), whatever answers it.
    "numbers_app.web.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads the body (the CSRF check reads the form).
    "numbers_app.web.middleware.RequestSizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Compresses pages and fragments (Django pads each with random bytes against BREACH). Below
    # whitenoise, which answers static files with its own precompressed copies.
    "django.middleware.gzip.GZipMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "numbers_app.web.middleware.SlidingSessionMiddleware",
    "numbers_app.web.middleware.RequestMetricsMiddleware",
    # request.user.is_verified(): whether this session passed a second factor (django-otp).
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "numbers_app.web.middleware.SecondFactorMiddleware",
    "numbers_app.web.middleware.ViewerTimeZoneMiddleware",
    "numbers_app.web.middleware.StaffifyTimingMiddleware",
    "numbers_app.web.middleware.ErrorReferenceMiddleware",
    "numbers_app.web.privacy.PrivateNoStoreMiddleware",
    # Last, as django-axes asks: it turns a login refused for too many failures into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dashboard.urls"
WSGI_APPLICATION = "dashboard.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "numbers_app.context_processors.dashboard",
            ],
        },
    },
]

_database_url = _raw("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
if urlsplit(_database_url).scheme not in environ.Env.DB_SCHEMES:
    raise ImproperlyConfigured(
        f"DATABASE_URL is malformed: unknown scheme {urlsplit(_database_url).scheme!r}; "
        "use e.g. postgres://user@host:5432/name or sqlite:////path/to/db.sqlite3."
    )
try:
    DATABASES = {"default": env.db_url_config(_database_url)}
except Exception as err:  # django-environ raises several kinds for a bad URL
    raise ImproperlyConfigured(f"DATABASE_URL is malformed: {err}") from err
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several threads (the dashboard and the embedded sandbox answering it) share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
    # Tests use a file, not shared memory: the live server's threads then open their own connections.
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"staffify-dashboard-test-{os.getpid()}.sqlite3")
    }
DATABASES["default"]["ATOMIC_REQUESTS"] = False

# One cache for every process when it is Redis (redis://host:6379/1): the Staffify budget lives there.
try:
    _cache = env.cache_url_config(os.environ.get("CACHE_URL") or "locmemcache://")
except Exception as err:
    raise ImproperlyConfigured(f"CACHE_URL is malformed: {err}") from err
# django-environ lower-cases ?key_prefix=… for Django's RedisCache, which then ignores it.
for _option in ("timeout", "key_prefix", "version"):
    if _option in _cache:
        _cache[_option.upper()] = _cache.pop(_option)
CACHES = {"default": _cache}

# Background work: Django's tasks framework. `database` (django-tasks-db, the default) queues in the
# database and `manage.py run_worker` runs the queue; `immediate` runs a task at enqueue (unit tests);
# `dummy` only records it.
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
    "dummy": "django.tasks.backends.dummy.DummyBackend",
}
_task_backend = os.environ.get("TASKS_BACKEND") or "database"
if _task_backend not in _TASK_BACKENDS:
    raise ImproperlyConfigured(f"TASKS_BACKEND={_task_backend!r} is not one of {', '.join(_TASK_BACKENDS)}.")
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[_task_backend], "QUEUES": ["default"]}}
# How often the worker proves it is alive (the heartbeat task), in seconds.
WORKER_HEARTBEAT_SECONDS = _float("WORKER_HEARTBEAT_SECONDS", 30.0, minimum=0.5, maximum=3600)
# How often the worker walks the whole account into the mirror (ceil(N/100) Staffify calls each time).
MIRROR_SYNC_SECONDS = _float("MIRROR_SYNC_SECONDS", 300.0, minimum=5, maximum=24 * 3600)
# ...but a sync starts no sooner than the last one's duration times this after that one started, so a
# large account is not walked without pause (100,000 numbers take about 5 minutes at 300 calls a minute:
# with 3, one sync every 15 minutes, a third of the background budget). numbers_app.mirror.freshness.
MIRROR_SYNC_FACTOR = _float("MIRROR_SYNC_FACTOR", 3.0, minimum=1, maximum=100)
# The balance (header, billing) is read by the worker, never by a page: every BALANCE_REFRESH_SECONDS,
# and within BALANCE_CHECK_SECONDS of any answered write (a purchase charges it), which marks it stale.
BALANCE_REFRESH_SECONDS = _float("BALANCE_REFRESH_SECONDS", 300.0, minimum=10, maximum=24 * 3600)
BALANCE_CHECK_SECONDS = _float("BALANCE_CHECK_SECONDS", 10.0, minimum=1, maximum=3600)
# How often the worker moves the mirror's next charges that Staffify's clock has passed onto the next
# renewal (numbers_app.billing.statement.roll_forward), so the billing page reads them from the index.
BILLING_ROLL_SECONDS = _float("BILLING_ROLL_SECONDS", 60.0, minimum=5, maximum=3600)
# How often the worker settles writes whose outcome is unknown (all six: buy, assign, unassign, tags,
# release, reclaim), by reading each number back; it also does once when it starts. With the client's
# default timeouts a write lives at most 46 s, so a write cut off by a crash is settled within a minute.
SETTLE_WRITES_SECONDS = _float("SETTLE_WRITES_SECONDS", 10.0, minimum=1, maximum=3600)
# A write still "sent" after the longest a write can live in the client (computed from STAFFIFY_TIMEOUT
# and STAFFIFY_CONNECT_TIMEOUT: numbers_app.staffify.write_lifetime) belongs to a process that died
# mid-request: the sweeper then reads the number back and settles it (numbers_app.changes.settle).
# SETTLE_ABANDONED_SECONDS overrides that (unset: computed); lower, it would settle a live write early.
_abandoned = os.environ.get("SETTLE_ABANDONED_SECONDS")
SETTLE_ABANDONED_SECONDS = _float("SETTLE_ABANDONED_SECONDS", 0.0, minimum=0, maximum=3600) if _abandoned else None
# Bulk jobs (numbers_app.bulk.jobs): how often the worker looks for jobs to pick up again, and how long a
# running job may go without a sign of life before another worker takes it over (its worker died).
BULK_SWEEP_SECONDS = _float("BULK_SWEEP_SECONDS", 30.0, minimum=0.5, maximum=3600)
BULK_STALE_SECONDS = _float("BULK_STALE_SECONDS", 60.0, minimum=1, maximum=3600)
# A bulk job runs in slices of this many seconds, so the worker's other tasks (heartbeat, sync) run between.
BULK_SLICE_SECONDS = _float("BULK_SLICE_SECONDS", 20.0, minimum=1, maximum=3600)
# Alerts (numbers_app.alerts): how often the worker evaluates every rule and sends what is due; a failed
# e-mail or webhook is tried again after ALERT_RETRY_SECONDS, doubling (at most an hour apart), up to
# ALERT_MAX_ATTEMPTS times (12: about seven hours). DASHBOARD_URL makes the links in e-mails and webhooks.
ALERT_EVALUATE_SECONDS = _float("ALERT_EVALUATE_SECONDS", 60.0, minimum=5, maximum=3600)
ALERT_DELIVERY_SECONDS = _float("ALERT_DELIVERY_SECONDS", 15.0, minimum=1, maximum=3600)
ALERT_RETRY_SECONDS = _float("ALERT_RETRY_SECONDS", 30.0, minimum=1, maximum=3600)
ALERT_MAX_ATTEMPTS = _int("ALERT_MAX_ATTEMPTS", 12)
if not 1 <= ALERT_MAX_ATTEMPTS <= 100:
    raise ImproperlyConfigured(f"ALERT_MAX_ATTEMPTS={ALERT_MAX_ATTEMPTS} is not between 1 and 100.")
DASHBOARD_URL = (os.environ.get("DASHBOARD_URL") or f"http://127.0.0.1:{PORT}").rstrip("/")
if urlsplit(DASHBOARD_URL).scheme not in {"http", "https"} or not urlsplit(DASHBOARD_URL).netloc:
    raise ImproperlyConfigured(
        f"DASHBOARD_URL={DASHBOARD_URL!r} is not an http(s) URL, e.g. https://numbers.example.com."
    )
# How often the worker checks the status of addresses under review (POST /addresses/:id/check-status).
ADDRESS_STATUS_SECONDS = _float("ADDRESS_STATUS_SECONDS", 300.0, minimum=10, maximum=86400)
# "Release before the next charge" runs this long before the charge (numbers_app.scheduled.releases),
# and the worker looks for due scheduled releases this often: it must look at least twice in the lead
# window, so that one late or failed look still leaves time before Staffify charges another cycle.
SCHEDULED_RELEASE_LEAD_SECONDS = _float("SCHEDULED_RELEASE_LEAD_SECONDS", 3600.0, minimum=120, maximum=7 * 86400)
SCHEDULED_RELEASE_CHECK_SECONDS = _float("SCHEDULED_RELEASE_CHECK_SECONDS", 60.0, minimum=5, maximum=3600)
if SCHEDULED_RELEASE_CHECK_SECONDS * 2 > SCHEDULED_RELEASE_LEAD_SECONDS:
    raise ImproperlyConfigured(
        f"SCHEDULED_RELEASE_CHECK_SECONDS ({SCHEDULED_RELEASE_CHECK_SECONDS:g}) must be at most half of "
        f"SCHEDULED_RELEASE_LEAD_SECONDS ({SCHEDULED_RELEASE_LEAD_SECONDS:g}), "
        "or a scheduled release could miss its window."
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out login before the password is even checked. The SSO
# backend only answers the sign-in callback (numbers_app.people.sso); a password never reaches it.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "numbers_app.people.sso.SSOBackend",
]
LOGIN_URL = "/accounts/login/"

# --- Single sign-on (OpenID Connect, mozilla-django-oidc; README "Single sign-on") -------------------
# OIDC_ISSUER turns it on: the provider's endpoints and keys come from ISSUER/.well-known/openid-configuration.
OIDC_ISSUER = (os.environ.get("OIDC_ISSUER") or "").strip().rstrip("/")
OIDC_CLIENT_ID = (os.environ.get("OIDC_CLIENT_ID") or "").strip()
OIDC_CLIENT_SECRET = _raw("OIDC_CLIENT_SECRET") or ""
OIDC_NAME = (os.environ.get("OIDC_NAME") or "single sign-on").strip()
OIDC_SCOPES = (os.environ.get("OIDC_SCOPES") or "openid email profile").strip()
OIDC_SIGN_ALGO = (os.environ.get("OIDC_SIGN_ALGO") or "RS256").strip()
OIDC_TIMEOUT = _float("OIDC_TIMEOUT", 5.0, minimum=0.5, maximum=60)
# A session made by single sign-on lasts this long, so the provider (and the role claim) is asked again
# at least this often: someone removed there loses access within it, not only at their next sign-in.
OIDC_SESSION_HOURS = _float("OIDC_SESSION_HOURS", 12.0, minimum=0.1, maximum=24 * 30, what="a number of hours")
# The claim whose values name roles, and which value gives which role: "ops-group=Operations,help=Support".
OIDC_ROLE_CLAIM = (os.environ.get("OIDC_ROLE_CLAIM") or "groups").strip()
OIDC_ROLE_MAP: dict[str, str] = {}
for _pair in env.list("OIDC_ROLE_MAP", default=[]):
    _value, _sep, _role = _pair.rpartition("=")
    if not _sep or not _value.strip() or not _role.strip():
        raise ImproperlyConfigured(
            f"OIDC_ROLE_MAP has {_pair!r}: use claim-value=Role pairs separated by commas, "
            "e.g. dashboard-ops=Operations,dashboard-support=Support."
        )
    OIDC_ROLE_MAP[_value.strip()] = _role.strip()
# Unknown people who sign in with the provider get an account (with the role their claim gives) only when on.
OIDC_CREATE_USERS = _bool("OIDC_CREATE_USERS", False)
# Everyone signs in with the provider, except these local accounts (kept for when it is down).
OIDC_REQUIRED = _bool("OIDC_REQUIRED", False)
OIDC_BREAK_GLASS_USERS = [name.strip() for name in env.list("OIDC_BREAK_GLASS_USERS", default=[]) if name.strip()]
if OIDC_ISSUER:
    if urlsplit(OIDC_ISSUER).scheme not in {"http", "https"} or not urlsplit(OIDC_ISSUER).netloc:
        raise ImproperlyConfigured(f"OIDC_ISSUER={OIDC_ISSUER!r} is not an http(s) URL.")
    if _PRODUCTION and urlsplit(OIDC_ISSUER).scheme != "https":
        raise ImproperlyConfigured(f"OIDC_ISSUER={OIDC_ISSUER!r} must be https:// in production.")
    if not OIDC_CLIENT_ID or not OIDC_CLIENT_SECRET:
        raise ImproperlyConfigured(
            "OIDC_ISSUER needs OIDC_CLIENT_ID and OIDC_CLIENT_SECRET_FILE (or OIDC_CLIENT_SECRET)."
        )
elif OIDC_REQUIRED:
    raise ImproperlyConfigured(
        "OIDC_REQUIRED=true needs OIDC_ISSUER: nobody but the break-glass accounts could sign in."
    )

# Second factor (TOTP, django-otp) for local accounts: required for everyone who signs in with a password
# when TWO_FACTOR_REQUIRED is on, or when a people manager requires it on the people page.
TWO_FACTOR_REQUIRED = _bool("TWO_FACTOR_REQUIRED", False)
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER") or "Staffify numbers"
# An invitation link works this many days.
INVITATION_DAYS = _int("INVITATION_DAYS", 7)

# Login throttling (django-axes): LOGIN_FAILURE_LIMIT failures lock out, for LOGIN_LOCKOUT_MINUTES after
# the last failure (a failure while locked starts the wait again), whichever is reached first: one
# username from any addresses (guesses spread over many addresses), one address trying any usernames
# (one machine trying many names), or the pair. A locked-out user is locked out from every address
# until the wait ends or an administrator unlocks them in the admin ("Access attempts": delete the
# entries) or with `manage.py axes_reset_username NAME` (`axes_reset_ip ADDRESS` for an address).
# Every failed sign-in is in the audit log ("Failed sign-in"), the lockout too ("Login locked out").
LOGIN_FAILURE_LIMIT = _int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_LOCKOUT_MINUTES = _int("LOGIN_LOCKOUT_MINUTES", 15)
if LOGIN_FAILURE_LIMIT < 1 or LOGIN_LOCKOUT_MINUTES < 1:
    raise ImproperlyConfigured("LOGIN_FAILURE_LIMIT and LOGIN_LOCKOUT_MINUTES must be at least 1.")
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address", ["username", "ip_address"]]
# Behind reverse proxies every client has the last proxy's address, and the address lock would lock everyone
# out at once: LOGIN_PROXY_COUNT (the number of proxies in front, which set X-Forwarded-For) makes axes
# read the client's address from that header instead.
LOGIN_PROXY_COUNT = _int("LOGIN_PROXY_COUNT", 0)
if LOGIN_PROXY_COUNT < 0:
    raise ImproperlyConfigured("LOGIN_PROXY_COUNT must be 0 or more.")
if LOGIN_PROXY_COUNT:
    AXES_IPWARE_PROXY_COUNT = LOGIN_PROXY_COUNT
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "numbers_app.audit.lockout.lockout_response"
AXES_VERBOSE = False

# Mail, for password reset only: EMAIL_URL (or EMAIL_URL_FILE) as django-environ reads it, e.g.
# smtp+tls://user:password@mail.example.com:587. The sandbox prints mail on the console. Without mail
# there is no reset page at all, and the login page says to ask an administrator.
_email_url = _raw("EMAIL_URL") or ("consolemail://" if STAFFIFY_SANDBOX else None)
if _email_url and _PRODUCTION and urlsplit(_email_url).scheme == "consolemail":
    raise ImproperlyConfigured(
        "EMAIL_URL=consolemail:// would print password reset links in the log: set an SMTP URL, "
        "or leave EMAIL_URL unset (the login page then says to ask an administrator)."
    )
PASSWORD_RESET_ENABLED = bool(_email_url)
# Invitations are mailed only when real mail is configured; otherwise (and in the sandbox) the page shows the link.
INVITATIONS_BY_MAIL = bool(_raw("EMAIL_URL"))
if _email_url:
    try:
        _email = env.email_url_config(_email_url)
    except Exception as err:  # django-environ raises several kinds for a bad URL
        raise ImproperlyConfigured(
            "EMAIL_URL is malformed: use e.g. smtp+tls://user:password@mail.example.com:587 or consolemail://."
        ) from err
    # Django 6.1's MAILERS (the EMAIL_* settings are deprecated); only what the URL says is passed on.
    _mail_options = {
        "host": _email["EMAIL_HOST"],
        "port": _email["EMAIL_PORT"],
        "username": _email["EMAIL_HOST_USER"],
        "password": _email["EMAIL_HOST_PASSWORD"],
        "use_tls": _email.get("EMAIL_USE_TLS"),
        "use_ssl": _email.get("EMAIL_USE_SSL"),
    }
    if _email["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend":
        _mail_options = {"file_path": _email["EMAIL_FILE_PATH"]}
    elif _email["EMAIL_BACKEND"] != "django.core.mail.backends.smtp.EmailBackend":
        _mail_options = {}
    MAILERS = {
        "default": {
            "BACKEND": _email["EMAIL_BACKEND"],
            "OPTIONS": {key: value for key, value in _mail_options.items() if value},
        }
    }
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL") or "webmaster@localhost"
# Alert e-mails (numbers_app.alerts) go through the same mail settings: never without EMAIL_URL (the
# console in sandbox mode).
ALERT_EMAIL_ENABLED = bool(_email_url)
LOGIN_REDIRECT_URL = "/"
# A session ends after SESSION_IDLE_HOURS without a request (each request starts the wait again, to
# within a quarter hour: numbers_app.web.middleware.SlidingSessionMiddleware); the login page says so.
SESSION_IDLE_HOURS = _float("SESSION_IDLE_HOURS", 12.0, minimum=0.1, maximum=24 * 30, what="a number of hours")
SESSION_COOKIE_AGE = int(SESSION_IDLE_HOURS * 3600)

# Uploads: a request whose body is larger than UPLOAD_MAX_BYTES is refused from its Content-Length before
# any of it is read (numbers_app.web.middleware.RequestSizeLimitMiddleware). The largest file the dashboard
# takes is an address document of 10 MB (the CSV files: 1 and 2 MB); form fields stay within Django's
# DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB). Behind a reverse proxy set the same limit there, so that it turns
# the body away before passing it on (nginx: `client_max_body_size 11m;`).
UPLOAD_MAX_BYTES = _int("UPLOAD_MAX_BYTES", 11 * 1024 * 1024)
if UPLOAD_MAX_BYTES < 1024 * 1024:
    raise ImproperlyConfigured(f"UPLOAD_MAX_BYTES={UPLOAD_MAX_BYTES} must be at least 1048576 (1 MB).")
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Amsterdam")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# Production serves hashed, compressed files collected at build; the sandbox and DEBUG modes
# (make run, tests) serve the source files directly through whitenoise's finders.
_COLLECTED = not (DEBUG or STAFFIFY_SANDBOX)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if _COLLECTED
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not _COLLECTED
WHITENOISE_AUTOREFRESH = DEBUG

# Content-Security-Policy: no inline script or style anywhere; htmx's own <script> gets a nonce.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

# Production hardening: on by default in production (what `check --deploy` asks for), off in DEBUG and
# sandbox mode (plain http://127.0.0.1). Each may be turned off explicitly, e.g. SECURE_SSL_REDIRECT=false
# when a TLS proxy already redirects and cannot send X-Forwarded-Proto.
SECURE_SSL_REDIRECT = _bool("SECURE_SSL_REDIRECT", _PRODUCTION)
SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", _PRODUCTION)
CSRF_COOKIE_SECURE = _bool("CSRF_COOKIE_SECURE", _PRODUCTION)
SECURE_HSTS_SECONDS = _int("SECURE_HSTS_SECONDS", 31536000 if _PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", SECURE_HSTS_SECONDS > 0)
SECURE_HSTS_PRELOAD = _bool("SECURE_HSTS_PRELOAD", SECURE_HSTS_SECONDS > 0)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# The health checks and the metrics answer plain HTTP even when everything else redirects to HTTPS:
# load balancers and Prometheus reach the containers directly, inside their network.
SECURE_REDIRECT_EXEMPT = [r"^(healthz|readyz|metrics)$"]
# Behind a TLS proxy: SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto: https" (the header your proxy sets, and
# its value for HTTPS) makes Django trust it; SECURE_PROXY_SSL_HEADER_ENABLED=true is short for exactly that.
# Set it only when the proxy always sets (or strips) that header.
_proxy_header = os.environ.get("SECURE_PROXY_SSL_HEADER", "").strip()
if not _proxy_header and _bool("SECURE_PROXY_SSL_HEADER_ENABLED", False):
    _proxy_header = "X-Forwarded-Proto: https"
if _proxy_header:
    _name, _sep, _value = _proxy_header.partition(":")
    if not _sep or not re.fullmatch(r"[A-Za-z0-9-]+", _name.strip()) or not _value.strip():
        raise ImproperlyConfigured(
            f"SECURE_PROXY_SSL_HEADER={_proxy_header!r} is malformed: use e.g. 'X-Forwarded-Proto: https'."
        )
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _name.strip().upper().replace("-", "_"), _value.strip())

# --- Staffify ---------------------------------------------------------------------------------
STAFFIFY_API_URL = (os.environ.get("STAFFIFY_API_URL") or f"http://127.0.0.1:{PORT}/sandbox/v1").rstrip("/")
_url = urlsplit(STAFFIFY_API_URL)
if _url.scheme not in {"http", "https"} or not _url.netloc:
    raise ImproperlyConfigured(f"STAFFIFY_API_URL={STAFFIFY_API_URL!r} is not an http(s) URL.")

STAFFIFY_API_KEY = _raw("STAFFIFY_API_KEY") or (SANDBOX_DEMO_API_KEY if STAFFIFY_SANDBOX else None)
if not STAFFIFY_API_KEY:
    raise ImproperlyConfigured(
        "STAFFIFY_API_KEY (or STAFFIFY_API_KEY_FILE) must be set to your Staffify API key "
        "(or STAFFIFY_SANDBOX=true to run against the embedded sandbox)."
    )
if STAFFIFY_API_KEY in SANDBOX_SEEDED_API_KEYS and not STAFFIFY_SANDBOX:
    raise ImproperlyConfigured(
        "STAFFIFY_API_KEY is the sandbox's public demo key: set it to your own Staffify API key "
        "(or STAFFIFY_SANDBOX=true to run against the embedded sandbox)."
    )
if not API_KEY_RE.match(STAFFIFY_API_KEY):
    # Say what is wrong without echoing the key itself.
    raise ImproperlyConfigured(
        "STAFFIFY_API_KEY is malformed: it must be sfy_live_ or sfy_org_ followed by 48 lowercase hex characters."
    )
STAFFIFY_PROJECT_ID = os.environ.get("STAFFIFY_PROJECT_ID") or None
if STAFFIFY_API_KEY.startswith("sfy_org_") and not STAFFIFY_PROJECT_ID:
    raise ImproperlyConfigured("An sfy_org_ key needs STAFFIFY_PROJECT_ID (proj_…) to say which project.")
STAFFIFY_TIMEOUT = _float("STAFFIFY_TIMEOUT", 10.0, minimum=0.1, maximum=120)
STAFFIFY_CONNECT_TIMEOUT = _float("STAFFIFY_CONNECT_TIMEOUT", 3.0, minimum=0.1, maximum=60)
STAFFIFY_MAX_RETRIES = _int("STAFFIFY_MAX_RETRIES", 2)
# Background work (the worker) stops calling Staffify while fewer than this share of the
# organisation's per-minute budget remains, so the people using the dashboard always have some.
STAFFIFY_BACKGROUND_RESERVE = _float(
    "STAFFIFY_BACKGROUND_RESERVE", 0.3, minimum=0.0, maximum=1.0, what="a fraction such as 0.3"
)

DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD") or "staffify-demo"

# --- Logs, metrics, health -------------------------------------------------------------------
# LOG_FORMAT=json writes one JSON object per line (numbers_app.logs: the request id users are shown,
# the user, Staffify's request id, the worker's task); plain text stays the default.
LOG_FORMAT = (os.environ.get("LOG_FORMAT") or "plain").strip().lower()
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r} is not plain or json.")
if LOG_FORMAT == "json":
    logging.captureWarnings(True)  # Python's warnings, too, as JSON lines (logger py.warnings), not bare text

# /metrics (Prometheus): off with METRICS_ENABLED=false (no page, no counting). It answers a scraper
# that sends `Authorization: Bearer $METRICS_TOKEN`, or one whose address is in METRICS_ALLOWED_IPS
# (addresses or networks, e.g. 10.0.0.0/8); with neither set it answers no one.
METRICS_ENABLED = _bool("METRICS_ENABLED", True)
METRICS_TOKEN = _raw("METRICS_TOKEN") or None
if METRICS_TOKEN is not None and len(METRICS_TOKEN) < 16:
    raise ImproperlyConfigured("METRICS_TOKEN is too short: use at least 16 characters (e.g. openssl rand -hex 24).")
METRICS_ALLOWED_IPS: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
for _address in env.list("METRICS_ALLOWED_IPS", default=[]):
    try:
        METRICS_ALLOWED_IPS.append(ipaddress.ip_network(_address.strip(), strict=False))
    except ValueError:
        raise ImproperlyConfigured(
            f"METRICS_ALLOWED_IPS: {_address!r} is not an address or a network (e.g. 10.0.0.5 or 10.0.0.0/8)."
        ) from None
# The worker serves its own /metrics on this port when set (compose: its counters are in its container).
METRICS_PORT = _int("METRICS_PORT", 0) or None
if METRICS_PORT is not None and not 0 < METRICS_PORT < 65536:
    raise ImproperlyConfigured(f"METRICS_PORT={METRICS_PORT} is not a port number.")
# Several processes (gunicorn's workers, the worker) add their counters up through files in this
# directory (prometheus_client's multiprocess mode); it is read from the environment by the library
# itself, before anything here, so it is only checked.
PROMETHEUS_MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
if PROMETHEUS_MULTIPROC_DIR and not os.path.isdir(PROMETHEUS_MULTIPROC_DIR):
    raise ImproperlyConfigured(f"PROMETHEUS_MULTIPROC_DIR={PROMETHEUS_MULTIPROC_DIR!r} is not a directory.")
# /readyz says "not ready" when the worker's last heartbeat is older than this (seconds).
READY_WORKER_MAX_AGE = _float("READY_WORKER_MAX_AGE", 120.0, minimum=1, maximum=86400)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "numbers_app.logs.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
}
