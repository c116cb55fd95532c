"""Where stock lives and what is sold: locations, the catalogue, stock levels, the append-only
stock ledger, reservations, transfers, cycle counts and low-stock alerts; and the tokens
integrations (POS, WMS) write stock with."""

import uuid
import zoneinfo
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from omni.core.money import default_currency


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone (e.g. Europe/Paris).")


def validate_gtin(value: str) -> None:
    """EAN-8, UPC-A (12), EAN-13 or GTIN-14 with a correct check digit."""
    if not value.isdigit() or len(value) not in (8, 12, 13, 14):
        raise ValidationError("A barcode has 8, 12, 13 or 14 digits.")
    digits = [int(d) for d in value]
    # Weights alternate 3, 1, 3... from the digit next to the check digit, whatever the length.
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits[:-1])))
    if (10 - total % 10) % 10 != digits[-1]:
        raise ValidationError(f"{value} has a wrong check digit.")


class Location(models.Model):
    """A store, warehouse or dark store: somewhere stock is held and orders are fulfilled."""

    class Kind(models.TextChoices):
        STORE = "store", "Store"
        WAREHOUSE = "warehouse", "Warehouse"
        DARK_STORE = "dark_store", "Dark store"

    code = models.SlugField(max_length=32, unique=True, help_text="Public code, e.g. PAR-RIV.")
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
                condition=Q(latitude__gte=-90, latitude__lte=90) | Q(latitude=None),
                name="location_latitude_in_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__gte=-180, longitude__lte=180) | Q(longitude=None),
                name="location_longitude_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Category(models.Model):
    """A node of the catalogue tree (Men > Jackets > Rain jackets)."""

    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        node = self.parent
        while node is not None:
            if node.pk == self.pk:
                raise ValidationError({"parent": "A category cannot sit inside itself."})
            node = node.parent


class Product(models.Model):
    """What a customer thinks of as one article; it is sold as one or more SKUs."""

    code = models.SlugField(max_length=64, unique=True, help_text="Public style code.")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, related_name="products"
    )
    brand = models.CharField(
        max_length=100,
        blank=True,
        default="",
        db_default="",  # rows written by code that predates the column stay valid
        db_index=True,
        help_text="The maker's brand, e.g. Salomon.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProductImage(models.Model):
    """A picture of a product; its thumbnail is made from it when it is saved."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(upload_to="products/")
    thumbnail = models.ImageField(upload_to="products/thumbnails/", blank=True, editable=False)
    alt_text = models.CharField(max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["product", "position", "pk"]

    def __str__(self) -> str:
        return self.alt_text or self.image.name or ""


class Sku(models.Model):
    """One sellable variant of a product (a size and colour), the unit stock is counted in."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="skus")
    code = models.CharField(max_length=64, unique=True, verbose_name="SKU code")
    barcode = models.CharField(
        max_length=14, blank=True, validators=[validate_gtin], help_text="EAN-13 or other GTIN."
    )
    attributes = models.JSONField(default=dict, blank=True, help_text='e.g. {"size": "M"}.')
    price = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(0)])
    cost_price = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="What one unit costs the retailer, for margins; empty when unknown. Staff "
        "only: never shown to storefronts.",
    )
    currency = models.CharField(max_length=3, default=default_currency)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "SKU"
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="sku_price_not_negative"),
            models.CheckConstraint(
                condition=Q(cost_price=None) | Q(cost_price__gte=0),
                name="sku_cost_price_not_negative",
            ),
            models.UniqueConstraint(
                fields=["barcode"], condition=~Q(barcode=""), name="sku_barcode_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.code


class StockLevel(models.Model):
    """Stock of one SKU at one location. ``on_hand`` always equals the sum of its ledger rows;
    ``reserved`` the sum of its active reservations. Both change only through inventory services.
    """

    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="stock_levels")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="stock_levels")
    on_hand = models.IntegerField(default=0, editable=False)
    reserved = models.IntegerField(default=0, editable=False)
    safety_stock = models.IntegerField(
        default=0, help_text="Kept back from online channels; clerks may still sell it."
    )
    reorder_point = models.IntegerField(
        default=0, help_text="A low-stock alert is raised when available stock falls below this."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["location", "sku"]
        constraints = [
            models.UniqueConstraint(fields=["sku", "location"], name="stock_level_unique"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stock_on_hand_not_negative"),
            models.CheckConstraint(
                condition=Q(reserved__gte=0), name="stock_reserved_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(safety_stock__gte=0), name="stock_safety_stock_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(reorder_point__gte=0), name="stock_reorder_point_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku.code} at {self.location.code}"

    @property
    def available(self) -> int:
        """On hand less reserved and safety stock as this row says them, never below zero.

        A lapsed cart hold stays in ``reserved`` until ``services.reserve`` (under this row's
        lock) or the clean-up task expires it; what online channels may sell leaves it out at
        once (``selectors.with_sellable``, the one rule for reads)."""
        return max(self.on_hand - self.reserved - self.safety_stock, 0)


class StockMovement(models.Model):
    """One change of on-hand stock. Append-only: a database trigger refuses UPDATE and DELETE."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", "Receipt"
        SALE = "sale", "Sale"
        RETURN = "return", "Customer return"
        ADJUSTMENT = "adjustment", "Adjustment"
        DAMAGE = "damage", "Damage or loss"
        CYCLE_COUNT = "cycle_count", "Cycle-count correction"
        TRANSFER_OUT = "transfer_out", "Transfer out"
        TRANSFER_IN = "transfer_in", "Transfer in"

    # The sign each kind's quantity must have; None means either (corrections).
    SIGN: dict[str, int | None] = {
        Kind.RECEIPT: 1,
        Kind.SALE: -1,
        Kind.RETURN: 1,
        Kind.ADJUSTMENT: None,
        Kind.DAMAGE: -1,
        Kind.CYCLE_COUNT: None,
        Kind.TRANSFER_OUT: -1,
        Kind.TRANSFER_IN: 1,
    }

    level = models.ForeignKey(StockLevel, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    quantity = models.IntegerField(help_text="Signed change of on hand.")
    reason = models.CharField(max_length=255, blank=True)
    reference = models.CharField(
        max_length=100, blank=True, help_text="What caused it: order, transfer or count."
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    source = models.CharField(
        max_length=64, blank=True, help_text="System that reported it (POS, WMS, task)."
    )
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    # Not a column: ``services.record_movements`` says on each movement it returns whether it
    # was recorded before (a retry with the same idempotency key) rather than just now.
    replayed: bool = False

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(quantity=0), name="movement_quantity_not_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.quantity:+d}"


class Reservation(models.Model):
    """Stock promised to a cart (a hold that expires) or to an order (an allocation)."""

    class Kind(models.TextChoices):
        CART_HOLD = "cart_hold", "Cart hold"
        ORDER = "order", "Order allocation"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        RELEASED = "released", "Released"
        CONSUMED = "consumed", "Consumed"
        EXPIRED = "expired", "Expired"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    level = models.ForeignKey(StockLevel, on_delete=models.PROTECT, related_name="reservations")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    quantity = models.PositiveIntegerField()
    reference = models.CharField(max_length=100, help_text="The cart or order it is for.")
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["expires_at"],
                condition=Q(status="active", kind="cart_hold"),
                name="reservation_active_hold_expiry",
            ),
            models.Index(fields=["reference", "status"], name="reservation_reference"),
            # The stock sync looks up an order's reservations by prefix ("order:<number>:...",
            # one per shipment) to refuse a sale of its stock; a pattern index keeps that LIKE
            # an index scan whatever the database's collation.
            models.Index(
                fields=["reference"],
                name="reservation_order_prefix",
                opclasses=["varchar_pattern_ops"],
                condition=Q(kind="order"),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="reservation_quantity_positive"
            ),
            models.CheckConstraint(
                condition=~Q(kind="cart_hold") | Q(expires_at__isnull=False),
                name="reservation_hold_expires",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.quantity} for {self.reference}"


class Transfer(models.Model):
    """Stock moving between two locations: requested → in transit → received (or cancelled)."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        IN_TRANSIT = "in_transit", "In transit"
        RECEIVED = "received", "Received"
        CANCELLED = "cancelled", "Cancelled"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    source = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="transfers_out")
    destination = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="transfers_in")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUESTED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(source=F("destination")), name="transfer_between_two_locations"
            ),
        ]

    def __str__(self) -> str:
        return f"Transfer {str(self.public_id)[:8]} {self.source.code} → {self.destination.code}"


class TransferLine(models.Model):
    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    received_quantity = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["transfer", "sku"], name="transfer_line_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="transfer_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku_id}"


class CycleCount(models.Model):
    """A counted shelf: what was counted, what the system expected, and the correction made."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="cycle_counts")
    counted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source = models.CharField(max_length=32, default="clerk", help_text="clerk, csv or api.")
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Count at {self.location_id} on {self.created_at:%Y-%m-%d}"


class CycleCountLine(models.Model):
    count = models.ForeignKey(CycleCount, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    counted = models.PositiveIntegerField()
    expected = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["count", "sku"], name="count_line_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.sku_id}: counted {self.counted}, expected {self.expected}"

    @property
    def difference(self) -> int:
        return self.counted - self.expected


class LowStockAlert(models.Model):
    """Raised when a level's available stock falls below its reorder point; one open at a time."""

    level = models.ForeignKey(StockLevel, on_delete=models.CASCADE, related_name="alerts")
    available = models.IntegerField(help_text="Available stock when the alert was raised.")
    reorder_point = models.IntegerField()
    raised_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["level"], condition=Q(resolved_at=None), name="one_open_alert_per_level"
            ),
        ]

    def __str__(self) -> str:
        return f"Low stock: {self.level}"


class IntegrationToken(models.Model):
    """What a POS, WMS or other system sends as ``Authorization: Token <token>``.

    It acts as its ``user`` (whose Django permissions apply), until ``expires_at`` or until
    revoked, and, when ``locations`` are given, only at those locations. Only a hash is
    stored; the token is shown once, when it is created. Revoked and expired tokens are kept
    as the record of who could write stock.
    """

    name = models.CharField(max_length=100, help_text='The system it is for, e.g. "WMS Lyon".')
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="integration_tokens",
        help_text="The token acts as this user, with this user's permissions.",
    )
    prefix = models.CharField(max_length=16, help_text="First characters, to recognise it.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    locations = models.ManyToManyField(
        Location,
        blank=True,
        related_name="integration_tokens",
        help_text="Where it may write stock. None: every location.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(
        null=True, blank=True, help_text="Recorded at most every few minutes."
    )

    class Meta:
        ordering = ["name", "-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def allowed_location_ids(self) -> set[int] | None:
        """The locations it may act at; ``None`` for every location."""
        return set(self.locations.values_list("pk", flat=True)) or None
