"""What the browser reports back: 5 tables."""
from django.db import models

from apps.user.models import Member, Prospect


class Configuration(models.Model):
    log_client_events = models.BooleanField(default=True)


class PageView(models.Model):
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL)
    prospect = models.ForeignKey(Prospect, null=True, blank=True, on_delete=models.SET_NULL)
    client_event_id = models.CharField(max_length=64, blank=True)
    url = models.CharField(max_length=500)
    created = models.DateTimeField(auto_now_add=True)


class ButtonClick(models.Model):
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL)
    button_id = models.CharField(max_length=100)
    url = models.CharField(max_length=500)
    created = models.DateTimeField(auto_now_add=True)


class LinkEvent(models.Model):
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL)
    link_url = models.CharField(max_length=500)
    url = models.CharField(max_length=500)
    created = models.DateTimeField(auto_now_add=True)


class AjaxError(models.Model):
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL)
    error_id = models.CharField(max_length=100)
    url = models.CharField(max_length=500)
    created = models.DateTimeField(auto_now_add=True)
