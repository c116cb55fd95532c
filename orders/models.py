"""Carts that follow the customer, orders from every channel, their timeline, shipments,
payments and returns."""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from omni.core.channels import Channel
from omni.core.money import default_currency

if TYPE_CHECKING:
    from campaigns.services import Pricing
    from inventory.models import Location
    from inventory.selectors import Shortfall


class Cart(models.Model):
    """One active cart per customer, the same from every channel; guests hold a token."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        MERGED = "merged", "Merged into another cart"
        CHECKED_OUT = "checked_out", "Checked out"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, null=True, blank=True, related_name="carts"
    )
    guest_token = models.CharField(
        max_length=64, null=True, blank=True, unique=True, help_text="Held by a guest's device."
    )
    client_ref = models.CharField(
        max_length=64,
        blank=True,
        db_index=True,
        help_text="Keyed hash of the address that opened a guest cart (to cap what one "
        "client holds); not the address.",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    pickup_store = models.ForeignKey(
        "inventory.Location", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    currency = models.CharField(max_length=3, default=default_currency)
    offers_seen = models.JSONField(
        default=dict,
        blank=True,
        help_text="The automatic offers the cart was last priced with, and when each was last "
        "changed: one that ended or changed since is refused at checkout (offer_changed).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class HoldStatus(models.TextChoices):
        """Where the cart's pick-up stock stands (read, never stored: it changes with time)."""

        HELD = "held", "Held at the pick-up store"
        LAPSED = "lapsed", "Hold lapsed; the store still has it"
        LOST = "lost", "Hold lapsed; the store no longer has enough"
        NONE = "none", "No pick-up store, or nothing in the cart"

    # Not columns: read with the cart by ``selectors.cart_detail``. When the cart's holds lapse;
    # where its pick-up stock stands; the lines its store is short of.
    hold_expires_at: datetime | None
    hold_status: str
    short_lines: "list[Shortfall]"
    # Read with the cart by ``selectors.cart_detail``: what its offers and coupons take off.
    pricing: "Pricing"

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=Q(status="active"), name="one_active_cart"
            ),
            models.CheckConstraint(
                condition=Q(customer__isnull=False) | Q(guest_token__isnull=False),
                name="cart_has_an_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"Cart {str(self.public_id)[:8]}"

    @property
    def hold_reference(self) -> str:
        return f"cart:{self.public_id}"

    @property
    def total(self) -> Decimal:
        """What the lines come to at the prices they carry."""
        return sum((line.line_total for line in self.lines.all()), Decimal(0))

    @property
    def to_pay(self) -> Decimal:
        """The total less what offers and coupons take off (``pricing`` read first)."""
        return self.total - self.pricing.discount


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey("inventory.Sku", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(
        max_digits=10, decimal_places=2, help_text="The price when added (re-checked at checkout)."
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    device_id = models.CharField(max_length=100, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The clerk, for lines added in store.",
    )
    added_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["added_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "sku"], name="cart_line_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="cart_line_quantity_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity


class CartCoupon(models.Model):
    """A coupon code presented on the cart (checked when applied, used at checkout)."""

    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="coupons")
    coupon = models.ForeignKey("campaigns.Coupon", on_delete=models.CASCADE, related_name="+")
    offer_seen_at = models.DateTimeField(
        help_text="When its offer was last changed as the cart saw it (changed since: refused)."
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "coupon"], name="cart_coupon_once"),
        ]

    def __str__(self) -> str:
        return f"{self.coupon} on {self.cart}"


# --- Wish lists ------------------------------------------------------------------------------
# Beside carts, not in ``customers``: a list names real products and SKUs (inventory), shows
# the stock of a store and merges on sign-in like a cart, and ``customers`` imports no other
# app. Campaigns reach the lists through model relations (``Customer`` -> ``wish_lists`` ->
# ``items`` -> ``events``), never by importing this app.

DEFAULT_WISH_LIST_NAME = "My wish list"


class WishList(models.Model):
    """A named list of saved products and SKUs, of a customer or of a guest's device (its
    ``guest_token``, shared by all that guest's lists). One list per owner is the default
    (made on the first save); names are unique per owner. While ``share_token`` is set,
    anyone with the link reads the list (names, prices, images; never whose it is)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="wish_lists",
    )
    guest_token = models.CharField(
        max_length=64,
        blank=True,
        db_index=True,
        help_text="Held by a guest's device (sent as X-Wishlist-Token); all its lists share it. "
        "Empty for a customer's.",
    )
    name = models.CharField(max_length=60)
    is_default = models.BooleanField(default=False)
    share_token = models.CharField(
        max_length=64,
        null=True,
        blank=True,
        unique=True,
        help_text="Set while the owner shares the list by link; cleared, the link is dead.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_default", "created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(customer__isnull=False) | ~Q(guest_token=""),
                name="wish_list_has_an_owner",
            ),
            models.UniqueConstraint(
                fields=["customer", "name"],
                condition=Q(customer__isnull=False),
                name="wish_list_name_per_customer",
            ),
            models.UniqueConstraint(
                fields=["guest_token", "name"],
                condition=Q(customer__isnull=True),
                name="wish_list_name_per_guest",
            ),
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(is_default=True, customer__isnull=False),
                name="one_default_wish_list_per_customer",
            ),
            models.UniqueConstraint(
                fields=["guest_token"],
                condition=Q(is_default=True, customer__isnull=True),
                name="one_default_wish_list_per_guest",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class WishListItem(models.Model):
    """A product (any size or colour) or one SKU saved on a list, with where and when. What
    the event detection last saw of it (``last_price``, ``last_available`` at the customer's
    store) lives here, so each change is announced once."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    wish_list = models.ForeignKey(WishList, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(
        "inventory.Product", on_delete=models.PROTECT, related_name="wish_list_items"
    )
    sku = models.ForeignKey(
        "inventory.Sku",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="wish_list_items",
        help_text="Empty: any SKU of the product.",
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The clerk, for items added at the counter.",
    )
    added_at = models.DateTimeField(default=timezone.now)
    price_when_added = models.DecimalField(max_digits=10, decimal_places=2)
    last_price = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        help_text="The price when added or last announced as dropped: a drop below it is news.",
    )
    last_available = models.IntegerField(
        null=True,
        blank=True,
        help_text="Units available at the customer's store when last looked (empty: not yet).",
    )

    class Meta:
        ordering = ["added_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["wish_list", "product"],
                condition=Q(sku__isnull=True),
                name="wish_list_product_once",
            ),
            models.UniqueConstraint(
                fields=["wish_list", "sku"],
                condition=Q(sku__isnull=False),
                name="wish_list_sku_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku or self.product} on {self.wish_list}"


class WishListEvent(models.Model):
    """Something a campaign may tell the customer about a saved item, recorded once per change
    by ``services.detect_wish_list_events``."""

    class Kind(models.TextChoices):
        BACK_IN_STOCK = "back_in_stock", "Back in stock at their store"
        PRICE_DROPPED = "price_dropped", "Price dropped"
        LOW_STOCK = "low_stock", "Low stock at their store"

    item = models.ForeignKey(WishListItem, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["kind", "at"], name="wish_list_event_kind_at")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.item}"


class Order(models.Model):
    class Fulfilment(models.TextChoices):
        DELIVERY = "delivery", "Delivery"
        PICKUP = "pickup", "Pick-up in store"
        IN_STORE = "in_store", "In-store sale"

    class Status(models.TextChoices):
        PLACED = "placed", "Placed"
        READY_FOR_PICKUP = "ready_for_pickup", "Ready for pick-up"
        COLLECTED = "collected", "Collected"
        ALLOCATED = "allocated", "Allocated"
        PARTLY_SHIPPED = "partly_shipped", "Partly shipped"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired"

    number = models.CharField(max_length=20, unique=True, help_text="Public order number.")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, null=True, blank=True, related_name="orders"
    )
    cart = models.OneToOneField(
        Cart, on_delete=models.PROTECT, null=True, blank=True, related_name="order"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    fulfilment = models.CharField(max_length=16, choices=Fulfilment.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PLACED)
    store = models.ForeignKey(
        "inventory.Location",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        help_text="Pick-up store, or the store of an in-store sale.",
    )
    clerk = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ship_to = models.JSONField(default=dict, blank=True, help_text="Delivery address.")
    currency = models.CharField(max_length=3, default=default_currency)
    subtotal = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    offer_discount = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        help_text="Off the order by offers and coupons (each in ``discounts``).",
    )
    points_multiplier = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("1"),
        db_default=Decimal("1"),
        help_text="An offer's points multiplier, as priced at checkout; applied when it earns.",
    )
    points_offer = models.CharField(
        max_length=160,
        blank=True,
        db_default="",
        help_text="The offer whose points multiplier applies.",
    )
    points_redeemed = models.PositiveIntegerField(default=0)
    points_discount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    pickup_code = models.CharField(max_length=6, blank=True)
    pickup_code_failures = models.PositiveSmallIntegerField(
        default=0,
        help_text="Wrong pick-up codes tried since the last unlock (locked at the limit).",
    )
    pickup_expires_at = models.DateTimeField(null=True, blank=True)
    pickup_reminder_sent_at = models.DateTimeField(null=True, blank=True)
    checkout_key = models.CharField(
        max_length=140, null=True, blank=True, unique=True, help_text="Idempotency key of checkout."
    )
    checkout_fingerprint = models.CharField(
        max_length=64,
        blank=True,
        help_text="SHA-256 of what the checkout asked for (fulfilment, store, address, points, "
        "payment token): the same key with another request is refused, not given this order.",
    )
    placed_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-placed_at"]
        indexes = [
            models.Index(fields=["store", "status"], name="order_store_status"),
            models.Index(
                fields=["pickup_expires_at"],
                condition=Q(status="ready_for_pickup"),
                name="order_ready_pickup_expiry",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative"),
            models.CheckConstraint(
                condition=~Q(fulfilment__in=["pickup", "in_store"]) | Q(store__isnull=False),
                name="order_store_for_pickup_and_till",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def reservation_reference(self) -> str:
        return f"order:{self.number}"

    @property
    def fulfilling_store(self) -> "Location":
        """The store of a pick-up or an in-store sale, which the database requires them to
        have (``order_store_for_pickup_and_till``); a delivery has none to give."""
        if self.store is None:
            raise ValueError(f"Order {self.number} is a delivery: no store fulfils it.")
        return self.store


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey("inventory.Sku", on_delete=models.PROTECT, related_name="order_lines")
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    line_total = models.DecimalField(max_digits=12, decimal_places=2)
    unit_cost = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        editable=False,
        help_text="The SKU's cost price when sold, for margins; empty when it was not known.",
    )
    discount = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        help_text="What offers, coupons and points took off this line, for pro-rata refunds.",
    )
    returned_quantity = models.PositiveIntegerField(default=0)
    cancelled_quantity = models.PositiveIntegerField(
        default=0, help_text="Units no location could ship, cancelled and refunded."
    )
    cancelled_refund = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        help_text="Refunded for the cancelled units (their share of the discounts out).",
    )

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="order_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="order_line_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(
                    returned_quantity__lte=models.F("quantity") - models.F("cancelled_quantity")
                ),
                name="order_line_returned_lte_bought",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"

    @property
    def paid(self) -> Decimal:
        """What the customer paid for the line at checkout (its discounts out)."""
        return self.line_total - self.discount

    @property
    def paid_for_kept(self) -> Decimal:
        """What the customer still pays for the line once its cancelled units are refunded."""
        return self.paid - self.cancelled_refund

    @property
    def kept_quantity(self) -> int:
        return self.quantity - self.cancelled_quantity


class OrderDiscount(models.Model):
    """A reward an order got (an automatic offer or a coupon), as priced at checkout."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="discounts")
    offer = models.ForeignKey("campaigns.Offer", on_delete=models.PROTECT, related_name="+")
    coupon = models.ForeignKey(
        "campaigns.Coupon", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    name = models.CharField(max_length=160)
    reward = models.CharField(max_length=24)
    amount = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.name}: {self.amount}"


class OrderEvent(models.Model):
    """The order's timeline: every change of status, with when and who."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=100, help_text="customer, system or the clerk.")
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} → {self.to_status}"

    @property
    def from_label(self) -> str:
        """The status the order left, as people read it ("" for the first event)."""
        return _status_label(self.from_status)

    @property
    def to_label(self) -> str:
        return _status_label(self.to_status)


def _status_label(status: str) -> str:
    return str(dict(Order.Status.choices).get(status, status))


class Shipment(models.Model):
    """What one location ships of a delivery order: its lines, picked, then packed into one or
    more parcels that leave with a carrier. Its stock is reserved at the location under
    ``reservation_reference`` until each parcel ships (consumed) or a line moves (released)."""

    class Status(models.TextChoices):
        ALLOCATED = "allocated", "To pick"
        PICKED = "picked", "Picked"
        PACKED = "packed", "Packed"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"
        CANCELLED = "cancelled", "Cancelled"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipments")
    location = models.ForeignKey(
        "inventory.Location", on_delete=models.PROTECT, related_name="shipments"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ALLOCATED)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pk"]
        indexes = [
            models.Index(fields=["location", "status"], name="shipment_location_status"),
        ]

    def __str__(self) -> str:
        return f"{self.order} from {self.location}"

    @property
    def reservation_reference(self) -> str:
        return f"order:{self.order.number}:ship:{self.pk}"

    def units_by_sku(self) -> dict[str, int]:
        """What the shipment still sends or sent ({SKU code: units}), lines that moved or were
        cancelled left out."""
        live = ["open", "picked", "shipped"]
        return {
            line.order_line.sku.code: line.quantity
            for line in self.lines.filter(status__in=live).select_related("order_line__sku")
        }


class ShipmentLine(models.Model):
    """Units of one order line that a shipment's location sends. A line is fulfilled whole
    where it is allocated, or moves whole to another location (``moved``), or is cancelled
    and refunded when no location can cover it."""

    class Status(models.TextChoices):
        OPEN = "open", "To pick"
        PICKED = "picked", "Picked"
        SHIPPED = "shipped", "Shipped"
        MOVED = "moved", "Moved to another location"
        CANCELLED = "cancelled", "Cancelled"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(
        OrderLine, on_delete=models.PROTECT, related_name="shipment_lines"
    )
    quantity = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    short_reported_at = models.DateTimeField(
        null=True, blank=True, help_text="When the location said it could not find the units."
    )
    note = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [
            # Only the few lines reported short, for the short filters and reallocation.
            models.Index(
                fields=["short_reported_at"],
                condition=Q(short_reported_at__isnull=False),
                name="shipment_line_short",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="shipment_line_quantity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.order_line.sku}"


class Parcel(models.Model):
    """A box packed at a shipment's location; it leaves with a carrier and a tracking number,
    and the customer is told with the tracking link."""

    class Status(models.TextChoices):
        PACKED = "packed", "Packed"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="parcels")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PACKED)
    carrier = models.CharField(max_length=60, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True)
    tracking_url = models.URLField(max_length=500, blank=True)
    packed_at = models.DateTimeField(default=timezone.now)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who shipped it (or packed it, until shipped).",
    )

    class Meta:
        ordering = ["pk"]
        indexes = [
            # Carriers' webhooks and searches find a parcel by its number alone; "shipped
            # today" reads recent ones.
            models.Index(fields=["tracking_number"], name="parcel_tracking_number"),
            models.Index(fields=["shipped_at"], name="parcel_shipped_at"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["carrier", "tracking_number"],
                condition=~Q(tracking_number=""),
                name="parcel_tracking_unique",
            ),
            models.CheckConstraint(
                condition=Q(status="packed") | ~Q(tracking_number=""),
                name="parcel_shipped_has_tracking",
            ),
        ]

    def __str__(self) -> str:
        return f"Parcel {self.tracking_number or str(self.public_id)[:8]}"


class ParcelLine(models.Model):
    parcel = models.ForeignKey(Parcel, on_delete=models.CASCADE, related_name="lines")
    shipment_line = models.ForeignKey(
        ShipmentLine, on_delete=models.PROTECT, related_name="parcel_lines"
    )
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="parcel_line_quantity_positive"
            ),
            models.UniqueConstraint(fields=["parcel", "shipment_line"], name="parcel_line_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.shipment_line.order_line.sku}"


class CarrierEvent(models.Model):
    """A tracking event a carrier posted to the webhook, kept once per carrier event id: a
    carrier that retries changes nothing twice."""

    carrier = models.CharField(max_length=60)
    event_id = models.CharField(max_length=100)
    tracking_number = models.CharField(max_length=100)
    kind = models.CharField(max_length=30, help_text="e.g. in_transit, delivered.")
    occurred_at = models.DateTimeField()
    parcel = models.ForeignKey(
        Parcel, on_delete=models.SET_NULL, null=True, blank=True, related_name="carrier_events"
    )
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["carrier", "event_id"], name="carrier_event_once"),
        ]

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_number}: {self.kind}"


class Payment(models.Model):
    class Status(models.TextChoices):
        AUTHORIZED = "authorized", "Authorized"
        CAPTURED = "captured", "Captured"
        VOIDED = "voided", "Voided"
        REFUNDED = "refunded", "Refunded (in part or whole)"

    STORED_VALUE = "stored_value"  # the provider name of a tender paid by a stored-value card

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(max_length=40)
    card = models.ForeignKey(
        "loyalty.StoredValueCard",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
        help_text="The stored-value card that paid this tender (provider stored_value).",
    )
    reference = models.CharField(max_length=100, help_text="The provider's id; no card data.")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    refunded = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    released = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        help_text="Authorised but never to be captured (lines cancelled before shipping).",
    )
    status = models.CharField(max_length=12, choices=Status.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(refunded__lte=models.F("amount") - models.F("released")),
                name="payment_refund_lte_amount",
            ),
            models.CheckConstraint(
                condition=Q(provider="stored_value", card__isnull=False)
                | (~Q(provider="stored_value") & Q(card__isnull=True)),
                name="payment_card_iff_stored_value",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.reference}"


class Return(models.Model):
    """Items of an order brought back, in any store or by post."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="returns")
    location = models.ForeignKey(
        "inventory.Location",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The store that took it back; empty for returns by post.",
    )
    refund_amount = models.DecimalField(max_digits=12, decimal_places=2)
    points_reversed = models.IntegerField(default=0)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    idempotency_key = models.CharField(max_length=140, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Return {str(self.public_id)[:8]} of {self.order}"


class ReturnLine(models.Model):
    ret = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    restocked = models.BooleanField(help_text="Back on the shelf, or set aside as damaged.")
    refund_amount = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="return_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.order_line.sku}"


class ConversationOrder(models.Model):
    """An order a service conversation is about (``customers`` knows no orders, so the link
    lives here). Only orders of the conversation's customer are linked
    (``services.link_conversation_orders``)."""

    conversation = models.ForeignKey(
        "customers.Conversation", on_delete=models.CASCADE, related_name="order_links"
    )
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="conversation_links")
    linked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["linked_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "order"], name="conversation_order_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} in conversation {self.conversation_id}"
