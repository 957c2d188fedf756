"""Carts, orders, shipping, discounts and payments: 18 tables."""
from django.conf import settings
from django.db import models

from apps.product.models import Sku
from apps.user.models import Member, Prospect


class DiscountType(models.Model):
    title = models.CharField(max_length=100, unique=True)
    applies_to = models.CharField(max_length=50)


class DiscountCode(models.Model):
    code = models.CharField(max_length=64, unique=True)
    discount_type = models.ForeignKey(DiscountType, on_delete=models.PROTECT)
    description = models.CharField(max_length=500, blank=True)
    start_date_time = models.DateTimeField()
    end_date_time = models.DateTimeField()
    discount_amount = models.DecimalField(max_digits=10, decimal_places=2)
    combinable = models.BooleanField(default=False)


class ShippingMethod(models.Model):
    identifier = models.CharField(max_length=64, unique=True)
    carrier = models.CharField(max_length=100)
    shipping_cost = models.DecimalField(max_digits=10, decimal_places=2)
    active = models.BooleanField(default=True)


class ShippingAddress(models.Model):
    name = models.CharField(max_length=200)
    address_line1 = models.CharField(max_length=200)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=100, blank=True)
    zip = models.CharField(max_length=20)
    country_code = models.CharField(max_length=2)


class Cart(models.Model):
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.CASCADE)
    anonymous_cart_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    shipping_address = models.ForeignKey(
        ShippingAddress, null=True, blank=True, on_delete=models.SET_NULL
    )
    created = models.DateTimeField(auto_now_add=True)


class CartItem(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE)
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT)
    quantity = models.PositiveIntegerField(default=1)


class CartDiscount(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE)
    discount_code = models.ForeignKey(DiscountCode, on_delete=models.PROTECT)


class CartShipping(models.Model):
    cart = models.OneToOneField(Cart, on_delete=models.CASCADE)
    shipping_method = models.ForeignKey(ShippingMethod, on_delete=models.PROTECT)


class OrderStatus(models.Model):
    identifier = models.CharField(max_length=64, unique=True)
    title = models.CharField(max_length=100)


class Order(models.Model):
    identifier = models.CharField(max_length=64, unique=True)
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL)
    prospect = models.ForeignKey(Prospect, null=True, blank=True, on_delete=models.SET_NULL)
    shipping_address = models.ForeignKey(
        ShippingAddress, null=True, blank=True, on_delete=models.SET_NULL
    )
    sales_tax_amt = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    order_total = models.DecimalField(max_digits=10, decimal_places=2)
    order_date_time = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["order_date_time"], name="order_date_idx")]


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE)
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)


class OrderStatusHistory(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE)
    status = models.ForeignKey(OrderStatus, on_delete=models.PROTECT)
    created = models.DateTimeField(auto_now_add=True)


class OrderDiscount(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE)
    discount_code = models.ForeignKey(DiscountCode, on_delete=models.PROTECT)
    applied = models.BooleanField(default=True)


class OrderShipping(models.Model):
    order = models.OneToOneField(Order, on_delete=models.CASCADE)
    shipping_method = models.ForeignKey(ShippingMethod, on_delete=models.PROTECT)
    tracking_number = models.CharField(max_length=100, blank=True)


class PaymentMethod(models.Model):
    identifier = models.CharField(max_length=64, unique=True)
    title = models.CharField(max_length=100)


class Payment(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE)
    payment_method = models.ForeignKey(PaymentMethod, on_delete=models.PROTECT)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    stripe_payment_intent_id = models.CharField(max_length=255, blank=True)
    created = models.DateTimeField(auto_now_add=True)


class Refund(models.Model):
    payment = models.ForeignKey(Payment, on_delete=models.CASCADE)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    reason = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )


class PaymentEvent(models.Model):
    payment = models.ForeignKey(Payment, on_delete=models.CASCADE)
    event_type = models.CharField(max_length=100)
    payload = models.JSONField(default=dict)
    received = models.DateTimeField(auto_now_add=True)
