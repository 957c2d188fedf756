"""Ads and the contact form's chat messages: 4 tables."""
from django.db import models

from apps.user.models import Member, Prospect


class AdType(models.Model):
    title = models.CharField(max_length=100, unique=True)


class AdStatus(models.Model):
    title = models.CharField(max_length=100, unique=True)


class AdCampaign(models.Model):
    ad_type = models.ForeignKey(AdType, on_delete=models.PROTECT)
    ad_status = models.ForeignKey(AdStatus, on_delete=models.PROTECT)
    name = models.CharField(max_length=200)
    budget = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)


class ChatMessage(models.Model):
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL)
    prospect = models.ForeignKey(Prospect, null=True, blank=True, on_delete=models.SET_NULL)
    name = models.CharField(max_length=200)
    email_address = models.EmailField()
    message = models.TextField()
    created = models.DateTimeField(auto_now_add=True)
