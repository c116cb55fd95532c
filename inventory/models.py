"""Where stock lives and what is sold: locations and the catalogue (products and their SKUs)."""

import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models

from omni.money import default_currency


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone (e.g. Europe/Paris).")


class Location(models.Model):
    """A store, warehouse or dark store: somewhere stock is held and orders are fulfilled."""

    class Kind(models.TextChoices):
        STORE = "store", "Store"
        WAREHOUSE = "warehouse", "Warehouse"
        DARK_STORE = "dark_store", "Dark store"

    code = models.SlugField(
        max_length=32, unique=True, help_text="Public identifier, e.g. PAR-RIV."
    )
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.STORE)
    address = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=120, blank=True)
    postcode = models.CharField(max_length=16, blank=True)
    country = models.CharField(max_length=2, default="FR", help_text="ISO 3166-1 alpha-2 code.")
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    time_zone = models.CharField(
        max_length=64, default="Europe/Paris", validators=[validate_time_zone]
    )
    opening_hours = models.JSONField(
        default=dict, blank=True, help_text='Per weekday, e.g. {"mon": "09:00-19:00"}.'
    )
    pickup_enabled = models.BooleanField(
        default=False, help_text="Customers may collect orders here."
    )
    ship_from_enabled = models.BooleanField(
        default=False, help_text="Delivery orders ship from here."
    )
    pickup_hold_days = models.PositiveSmallIntegerField(
        default=7, help_text="Days a ready pick-up order waits before it expires."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(latitude__gte=-90, latitude__lte=90) | models.Q(latitude=None),
                name="location_latitude_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(longitude__gte=-180, longitude__lte=180)
                | models.Q(longitude=None),
                name="location_longitude_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Product(models.Model):
    """What a customer thinks of as one article; it is sold as one or more SKUs."""

    code = models.SlugField(max_length=64, unique=True, help_text="Public style code.")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    image = models.ImageField(upload_to="products/", blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Sku(models.Model):
    """One sellable variant of a product (a size and colour), the unit stock is counted in."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="skus")
    code = models.CharField(max_length=64, unique=True, verbose_name="SKU code")
    barcode = models.CharField(max_length=14, blank=True, help_text="EAN-13 or GTIN.")
    attributes = models.JSONField(default=dict, blank=True, help_text='e.g. {"size": "M"}.')
    price = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(0)])
    currency = models.CharField(max_length=3, default=default_currency)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "SKU"
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gte=0), name="sku_price_not_negative"),
        ]

    def __str__(self) -> str:
        return self.code
