"""Transactional and marketing email: 5 tables."""
from django.db import models

from apps.user.models import Member, Prospect


class EmailType(models.Model):
    title = models.CharField(max_length=100, unique=True)


class Email(models.Model):
    email_type = models.ForeignKey(EmailType, on_delete=models.PROTECT)
    subject = models.CharField(max_length=200)
    body_html = models.TextField()
    body_text = models.TextField()
    from_address = models.EmailField()
    em_cd = models.CharField(max_length=64, unique=True)


class EmailSend(models.Model):
    email = models.ForeignKey(Email, on_delete=models.CASCADE)
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL)
    prospect = models.ForeignKey(Prospect, null=True, blank=True, on_delete=models.SET_NULL)
    sent_date_time = models.DateTimeField()


class EmailUnsubscribeReason(models.Model):
    reason = models.CharField(max_length=200, unique=True)


class EmailUnsubscribe(models.Model):
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL)
    prospect = models.ForeignKey(Prospect, null=True, blank=True, on_delete=models.SET_NULL)
    reason = models.ForeignKey(EmailUnsubscribeReason, null=True, on_delete=models.SET_NULL)
    created = models.DateTimeField(auto_now_add=True)
