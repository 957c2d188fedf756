"""StartupWebApp's minimal views: what the service is, whether it is healthy, its products."""
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from apps.product.models import Product


@require_GET
def index(request):
    return JsonResponse({"app": "StartupWebApp", "framework": "django"})


@require_GET
def health(request):
    """200 while the process serves requests. `database` says whether the configured database
    answers: `ok`, `unconfigured` (no DATABASE_NAME: an image started on its own), or
    `unreachable`, which makes the answer a 503 so a load balancer stops sending traffic."""
    if not settings.DATABASES["default"].get("NAME"):
        return JsonResponse({"status": "ok", "database": "unconfigured"})
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return JsonResponse({"status": "degraded", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@require_GET
def products(request):
    rows = Product.objects.filter(active=True).order_by("title").values("identifier", "title")
    return JsonResponse({"products": list(rows)})
