from django.apps import AppConfig


class ClienteventConfig(AppConfig):
    name = "apps.clientevent"
    label = "clientevent"
