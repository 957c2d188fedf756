"""Production settings (the seed's DJANGO_SETTINGS_MODULE=StartupWebApp.settings_production):
the base settings with DEBUG off whatever the environment says, and secure cookies.
SECRET_KEY comes from DJANGO_SECRET_KEY (set it from a secret, never in berth.yaml)."""
from .settings import *  # noqa: F401,F403

DEBUG = False
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
