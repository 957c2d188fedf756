from unittest import mock

from django.conf import settings
from django.db import OperationalError
from django.test import TestCase

from apps.product.models import Product


class HealthTests(TestCase):
    def test_health_is_ok_with_the_database_answering(self):
        response = self.client.get("/health")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json(), {"status": "ok", "database": "ok"})

    def test_health_says_unconfigured_without_a_database_name(self):
        with mock.patch.dict(settings.DATABASES["default"], {"NAME": ""}):
            response = self.client.get("/health")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json(), {"status": "ok", "database": "unconfigured"})

    def test_health_is_503_when_the_database_is_unreachable(self):
        with mock.patch("StartupWebApp.views.connection.cursor", side_effect=OperationalError("down")):
            response = self.client.get("/health")
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.json()["database"], "unreachable")

    def test_health_answers_only_get(self):
        self.assertEqual(self.client.post("/health").status_code, 405)


class ProductViewTests(TestCase):
    def test_lists_active_products_by_title(self):
        Product.objects.create(identifier="B", title="Beta", title_url="beta")
        Product.objects.create(identifier="A", title="Alpha", title_url="alpha")
        Product.objects.create(identifier="X", title="Gone", title_url="gone", active=False)
        response = self.client.get("/api/products")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            response.json(),
            {"products": [{"identifier": "A", "title": "Alpha"}, {"identifier": "B", "title": "Beta"}]},
        )

    def test_index_names_the_app(self):
        self.assertEqual(self.client.get("/").json(), {"app": "StartupWebApp", "framework": "django"})
