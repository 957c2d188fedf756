from django.apps import AppConfig


class EmailerConfig(AppConfig):
    name = "apps.emailer"
    label = "emailer"
