from django.contrib import admin
from django.urls import path

from . import views

urlpatterns = [
    path("", views.index, name="index"),
    path("health", views.health, name="health"),
    path("api/products", views.products, name="products"),
    path("admin/", admin.site.urls),
]
