from django.apps import AppConfig


class ProductConfig(AppConfig):
    name = "apps.product"
    label = "product"
