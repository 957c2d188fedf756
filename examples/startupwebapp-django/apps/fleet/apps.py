from django.apps import AppConfig


class FleetConfig(AppConfig):
    """berth's view of the tenant fleet: management commands only, no models, no tables."""

    name = "apps.fleet"
    label = "fleet"
