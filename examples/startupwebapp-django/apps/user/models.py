"""Members and prospects: 6 tables."""
from django.conf import settings
from django.db import models


class TermsOfUse(models.Model):
    version = models.CharField(max_length=32, unique=True)
    version_note = models.TextField(blank=True)
    publication_date = models.DateTimeField()


class Member(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    newsletter_subscriber = models.BooleanField(default=False)
    email_verified = models.BooleanField(default=False)
    email_unsubscribed = models.BooleanField(default=False)
    mb_cd = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(auto_now_add=True)


class MemberTermsAgreement(models.Model):
    member = models.ForeignKey(Member, on_delete=models.CASCADE)
    terms_of_use = models.ForeignKey(TermsOfUse, on_delete=models.PROTECT)
    agreed_date_time = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "terms_of_use"], name="member_terms_once")
        ]


class EmailVerification(models.Model):
    member = models.ForeignKey(Member, on_delete=models.CASCADE)
    token = models.CharField(max_length=128, unique=True)
    expires = models.DateTimeField()
    verified = models.DateTimeField(null=True, blank=True)


class PasswordReset(models.Model):
    member = models.ForeignKey(Member, on_delete=models.CASCADE)
    token = models.CharField(max_length=128, unique=True)
    expires = models.DateTimeField()
    used = models.DateTimeField(null=True, blank=True)


class Prospect(models.Model):
    email = models.EmailField(unique=True)
    email_unsubscribed = models.BooleanField(default=False)
    pr_cd = models.CharField(max_length=64, unique=True)
    converted_member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL)
    created = models.DateTimeField(auto_now_add=True)
