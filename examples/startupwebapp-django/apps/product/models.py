"""The catalogue: 8 tables."""
from django.db import models


class SkuType(models.Model):
    title = models.CharField(max_length=100, unique=True)


class Product(models.Model):
    identifier = models.CharField(max_length=64, unique=True)
    title = models.CharField(max_length=200)
    title_url = models.SlugField(max_length=200)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)


class Sku(models.Model):
    sku_type = models.ForeignKey(SkuType, on_delete=models.PROTECT)
    color = models.CharField(max_length=50, blank=True)
    size = models.CharField(max_length=50, blank=True)
    description = models.CharField(max_length=500, blank=True)


class ProductSku(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE)
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product", "sku"], name="product_sku_once")]


class SkuPrice(models.Model):
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    effective = models.DateTimeField()


class ProductImage(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE)
    image_url = models.URLField(max_length=500)
    main_image = models.BooleanField(default=False)
    caption = models.CharField(max_length=200, blank=True)


class ProductVideo(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE)
    video_url = models.URLField(max_length=500)
    thumbnail_url = models.URLField(max_length=500, blank=True)


class Inventory(models.Model):
    sku = models.OneToOneField(Sku, on_delete=models.CASCADE)
    quantity = models.IntegerField(default=0)
    updated = models.DateTimeField(auto_now=True)
