"""WSGI entry point for gunicorn: `gunicorn StartupWebApp.wsgi:application`."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "StartupWebApp.settings")
application = get_wsgi_application()
