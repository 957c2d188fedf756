from django.apps import AppConfig


class UserConfig(AppConfig):
    name = "apps.user"
    label = "user"
