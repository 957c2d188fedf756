"""Who changed what: 1 table."""
from django.conf import settings
from django.db import models


class AuditLog(models.Model):
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    action = models.CharField(max_length=100)
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    detail = models.JSONField(default=dict)
    created = models.DateTimeField(auto_now_add=True, db_index=True)
