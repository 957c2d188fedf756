"""StartupWebApp settings.

The database comes from the environment a migration task gets (berth sets it, on ECS from the
database secret and locally from the embedded server's credentials):
  DATABASE_NAME, DATABASE_HOST, DATABASE_PORT, DATABASE_USER, DATABASE_PASSWORD,
falling back to libpq's PGDATABASE, PGHOST, PGPORT, PGUSER, PGPASSWORD. Nothing secret is
written here; SECRET_KEY comes from DJANGO_SECRET_KEY in production (settings_production).
"""
import os


def env(name, pg_name, default=""):
    """DATABASE_<X>, else libpq's PG<X>, else the default."""
    return os.environ.get(name) or os.environ.get(pg_name) or default


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "startupwebapp-development-only-not-a-secret")
DEBUG = os.environ.get("DJANGO_DEBUG", "0") == "1"
ALLOWED_HOSTS = [h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]

INSTALLED_APPS = [
    # Django's contrib apps, as the seed counts them: 9 tables, plus django_migrations.
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # StartupWebApp's own apps: 47 tables.
    "apps.user",
    "apps.product",
    "apps.order",
    "apps.emailer",
    "apps.marketing",
    "apps.clientevent",
    "apps.audit",
    # berth's probe (manage.py berth_probe): a management command, no tables.
    "apps.fleet",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "StartupWebApp.urls"
WSGI_APPLICATION = "StartupWebApp.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        # Empty when nothing is configured: the app still starts (the health endpoint says
        # "unconfigured"), and any query fails with Django's "supply the NAME value".
        "NAME": env("DATABASE_NAME", "PGDATABASE"),
        "USER": env("DATABASE_USER", "PGUSER"),
        "PASSWORD": env("DATABASE_PASSWORD", "PGPASSWORD"),
        "HOST": env("DATABASE_HOST", "PGHOST", "127.0.0.1"),
        "PORT": env("DATABASE_PORT", "PGPORT", "5432"),
        "CONN_MAX_AGE": 60,
        "TEST": {"NAME": os.environ.get("DATABASE_TEST_NAME") or None},
    }
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True
STATIC_URL = "/static/"
STATIC_ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "static")
