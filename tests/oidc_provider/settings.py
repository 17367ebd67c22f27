"""The test identity provider's settings: its own SQLite file, nothing shared with the dashboard."""

import os

BASE_URL = os.environ["PROVIDER_URL"]  # http://127.0.0.1:PORT
SECRET_KEY = "test-provider-only-" + "y" * 40
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
SITE_URL = BASE_URL
ROOT_URLCONF = "tests.oidc_provider.urls"
USE_TZ = True
TIME_ZONE = "UTC"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oidc_provider",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [os.path.join(os.path.dirname(__file__), "templates")],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["PROVIDER_DB"]}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "/login/"
OIDC_LOGIN_URL = "/login/"
OIDC_EXTRA_SCOPE_CLAIMS = "tests.oidc_provider.control.GroupsScopeClaims"
OIDC_IDTOKEN_INCLUDE_CLAIMS = True
OIDC_IDTOKEN_PROCESSING_HOOK = "tests.oidc_provider.control.tweak_id_token"
OIDC_IDTOKEN_SUB_GENERATOR = "tests.oidc_provider.control.subject"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
