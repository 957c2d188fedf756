"""The schema the migrations build: the seed's 57 tables, and the constraints the app relies on.
Django's test runner has just run every migration on a fresh test database."""
from django.db import IntegrityError, connection
from django.test import TestCase
from django.utils import timezone

from apps.product.models import Product, Sku, SkuType, ProductSku

CONTRIB_TABLES = {
    "auth_group",
    "auth_group_permissions",
    "auth_permission",
    "auth_user",
    "auth_user_groups",
    "auth_user_user_permissions",
    "django_admin_log",
    "django_content_type",
    "django_session",
    "django_migrations",
}

# What each of StartupWebApp's own apps contributes.
APP_TABLES = {
    "user": 6,
    "product": 8,
    "order": 18,
    "emailer": 5,
    "marketing": 4,
    "clientevent": 5,
    "audit": 1,
}


def public_tables():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
        return {row[0] for row in cursor.fetchall()}


class SchemaTests(TestCase):
    def test_migrations_create_the_seeds_57_tables(self):
        self.assertEqual(len(public_tables()), 57)

    def test_djangos_contrib_apps_give_ten_of_them(self):
        self.assertTrue(CONTRIB_TABLES <= public_tables(), CONTRIB_TABLES - public_tables())

    def test_each_app_has_its_tables(self):
        tables = public_tables()
        for app, count in APP_TABLES.items():
            with self.subTest(app=app):
                self.assertEqual(len([t for t in tables if t.startswith(app + "_")]), count)
        self.assertEqual(sum(APP_TABLES.values()) + len(CONTRIB_TABLES), 57)

    def test_a_sku_is_listed_once_per_product(self):
        product = Product.objects.create(identifier="P1", title="Widget", title_url="widget")
        sku = Sku.objects.create(sku_type=SkuType.objects.create(title="product"))
        ProductSku.objects.create(product=product, sku=sku)
        with self.assertRaises(IntegrityError):
            ProductSku.objects.create(product=product, sku=sku)

    def test_order_dates_are_indexed(self):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = 'order_date_idx'")
            self.assertIsNotNone(cursor.fetchone())
        self.assertTrue(timezone.is_aware(timezone.now()))
