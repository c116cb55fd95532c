"""Who marketers talk to (segments, their members and RFM scores), what they send them
(campaigns), and what they offer them (offers, coupons and their redemptions).

A segment is either **dynamic** (a rule tree compiled to one SQL query, see
``campaigns.rules``) or **static** (a list uploaded as CSV). Its members are materialised in
``SegmentMembership`` by a refresh, which records who joined and who left
(``SegmentChange``) and how it went (``SegmentRefresh``).
"""

import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from omni.core.channels import Channel


class Segment(models.Model):
    class Kind(models.TextChoices):
        DYNAMIC = "dynamic", "Dynamic (rules)"
        STATIC = "static", "Static (uploaded list)"

    name = models.CharField(
        max_length=120, unique=True, help_text="Other segments' rules refer to it by this name."
    )
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.DYNAMIC)
    rules = models.JSONField(
        default=dict,
        blank=True,
        help_text="The rule tree of a dynamic segment (see the list of fields below).",
    )
    auto_refresh = models.BooleanField(
        default=True,
        help_text="Refreshed by the scheduled task (campaigns.refresh_segments); a static "
        "segment changes only by upload.",
    )
    member_count = models.PositiveIntegerField(default=0, editable=False)
    refreshed_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        permissions = [
            # Hashed identifiers leave the company: a right of its own, like customer exports.
            ("export_audience", "Can export a segment as an advertising audience"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="dynamic") | Q(rules={}), name="segment_static_has_no_rules"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_dynamic(self) -> bool:
        return self.kind == self.Kind.DYNAMIC

    def clean(self) -> None:
        # Imported here: the rules read segments (membership conditions) through this model.
        from campaigns.rules import RuleError, segments_referring_to, validate_segment_rules

        errors: dict[str, list[str]] = {}
        if self.pk is not None:
            old_name = Segment.objects.filter(pk=self.pk).values_list("name", flat=True).first()
            users = segments_referring_to(old_name, excluding=self.pk) if old_name else []
            if old_name != self.name and users:
                errors["name"] = [
                    f"Other segments name this one in their rules ({', '.join(users)}): "
                    "change their rules first."
                ]
        if self.kind == self.Kind.STATIC:
            if self.rules:
                errors["rules"] = ["A static segment has no rules: leave them empty."]
        else:
            try:
                validate_segment_rules(self.rules, segment=self)
            except RuleError as error:
                errors["rules"] = error.messages
        if errors:
            raise ValidationError(errors)


class SegmentMembership(models.Model):
    """A customer in a segment now. Written by the segment services only (refresh, upload,
    erasure), set-based in SQL."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="memberships")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="segment_memberships"
    )
    joined_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["segment", "customer"], name="membership_unique"),
        ]
        # "Which segments is this customer in?" (offers, the clerk page) reads by customer.
        indexes = [models.Index(fields=["customer", "segment"], name="membership_customer_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} in {self.segment_id}"


class SegmentRefresh(models.Model):
    """One recomputation of a segment's members: what started it, how long it took, what moved."""

    class Trigger(models.TextChoices):
        MANUAL = "manual", "By staff"
        SCHEDULE = "schedule", "Scheduled"
        UPLOAD = "upload", "CSV upload"
        BENCHMARK = "benchmark", "Benchmark"

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="refreshes")
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField()
    milliseconds = models.PositiveIntegerField(default=0)
    joined = models.PositiveIntegerField(default=0)
    left = models.PositiveIntegerField(default=0)
    members = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.segment}: +{self.joined} -{self.left} at {self.started_at:%Y-%m-%d %H:%M}"


class SegmentChange(models.Model):
    """A customer joined or left a segment: the membership's history, append-only."""

    class Kind(models.TextChoices):
        JOINED = "joined", "Joined"
        LEFT = "left", "Left"

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="changes")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="segment_changes"
    )
    kind = models.CharField(max_length=6, choices=Kind.choices)
    changed_at = models.DateTimeField()
    refresh = models.ForeignKey(
        SegmentRefresh,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="changes",
        help_text="Empty when the customer left because their data was erased.",
    )

    class Meta:
        ordering = ["-changed_at", "-pk"]
        indexes = [
            models.Index(fields=["segment", "-changed_at"], name="segment_change_idx"),
            models.Index(fields=["customer", "-changed_at"], name="segment_change_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.kind} {self.segment_id}"


class CustomerRfm(models.Model):
    """A customer's recency, frequency and monetary scores (quintiles, 5 is best) among every
    customer who ever bought, computed together in SQL by ``services.refresh_rfm_scores``."""

    class Cell(models.TextChoices):
        # The usual map of (recency, frequency) scores to names marketers use.
        CHAMPIONS = "champions", "Champions"
        LOYAL = "loyal", "Loyal"
        POTENTIAL_LOYALISTS = "potential_loyalists", "Potential loyalists"
        NEW_CUSTOMERS = "new_customers", "New customers"
        PROMISING = "promising", "Promising"
        NEED_ATTENTION = "need_attention", "Need attention"
        ABOUT_TO_SLEEP = "about_to_sleep", "About to sleep"
        AT_RISK = "at_risk", "At risk"
        CANNOT_LOSE = "cannot_lose", "Cannot lose them"
        HIBERNATING = "hibernating", "Hibernating"

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, primary_key=True, related_name="rfm"
    )
    recency_days = models.PositiveIntegerField(help_text="Days since the last order.")
    frequency = models.PositiveIntegerField(help_text="Orders in the RFM window.")
    monetary = models.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal("0"), help_text="Spent in the window."
    )
    r_score = models.PositiveSmallIntegerField()
    f_score = models.PositiveSmallIntegerField()
    m_score = models.PositiveSmallIntegerField()
    cell = models.CharField(max_length=20, choices=Cell.choices)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = "customer RFM score"
        constraints = [
            models.CheckConstraint(
                condition=Q(r_score__range=(1, 5), f_score__range=(1, 5), m_score__range=(1, 5)),
                name="rfm_scores_in_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"R{self.r_score} F{self.f_score} M{self.m_score}"


class AudienceExport(models.Model):
    """A segment handed to an advertising platform as hashed identifiers: who, when, what for,
    how many. Written by ``services.export_audience`` only."""

    class Use(models.TextChoices):
        TARGET = "target", "Target list"
        EXCLUSION = "exclusion", "Exclusion list"

    segment = models.ForeignKey(Segment, on_delete=models.PROTECT, related_name="exports")
    use = models.CharField(max_length=10, choices=Use.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    exported_at = models.DateTimeField()
    row_count = models.PositiveIntegerField(help_text="Customers in the file.")
    email_count = models.PositiveIntegerField(default=0)
    phone_count = models.PositiveIntegerField(default=0)
    left_out = models.PositiveIntegerField(
        default=0, help_text="Members left out: no advertising consent or no usable address."
    )

    class Meta:
        ordering = ["-exported_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.segment} as {self.get_use_display()} by {self.actor} at {self.exported_at}"


class Campaign(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"

    class MessageChannel(models.TextChoices):
        EMAIL = "email", "E-mail"
        SMS = "sms", "SMS"
        PUSH = "push", "Push"

    name = models.CharField(max_length=160)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    channel = models.CharField(max_length=16, choices=MessageChannel.choices)
    segment = models.ForeignKey(
        Segment, on_delete=models.PROTECT, null=True, blank=True, related_name="campaigns"
    )
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at"))
                | models.Q(starts_at=None)
                | models.Q(ends_at=None),
                name="campaign_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name


# --- Offers and coupons ---------------------------------------------------------------------


class Offer(models.Model):
    """What a promotion gives and on which conditions, defined once. An automatic offer applies
    by itself when the cart qualifies; a coupon offer only with one of its codes
    (``Coupon``), shared or unique. Pricing reads it through ``services.terms_of`` and the pure
    ``services.price``."""

    class Trigger(models.TextChoices):
        AUTOMATIC = "automatic", "Automatic (no code)"
        CODE = "code", "With a coupon code"

    class Reward(models.TextChoices):
        PERCENT_OFF_CART = "percent_off_cart", "Percent off the cart"
        AMOUNT_OFF_CART = "amount_off_cart", "Amount off the cart"
        PERCENT_OFF_LINES = "percent_off_lines", "Percent off each qualifying line"
        AMOUNT_OFF_LINES = "amount_off_lines", "Amount off each qualifying unit"
        FREE_ITEM = "free_item", "Free item"
        BUY_X_GET_Y = "buy_x_get_y", "Buy X get Y"
        FREE_DELIVERY = "free_delivery", "Free delivery"
        POINTS_MULTIPLIER = "points_multiplier", "Points multiplier"

    class Where(models.TextChoices):
        BOTH = "both", "Online and in store"
        ONLINE = "online", "Online only"
        IN_STORE = "in_store", "In store only"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=160, help_text="Shown to customers and on receipts.")
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.AUTOMATIC)
    is_active = models.BooleanField(default=True)
    reward = models.CharField(max_length=24, choices=Reward.choices)
    value = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=Decimal("0"),
        help_text="Percent (10 = 10%), amount in the shop's currency, or the points multiplier "
        "(2 = double points). Buy X get Y: percent off the Y units (100 = free).",
    )
    buy_quantity = models.PositiveSmallIntegerField(default=0, help_text="Buy X get Y: X.")
    get_quantity = models.PositiveSmallIntegerField(
        default=0, help_text="Buy X get Y: Y. Free item: how many units are free (1 if 0)."
    )
    free_sku = models.ForeignKey(
        "inventory.Sku",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Free item: the SKU given (it must be in the cart).",
    )
    # Conditions
    min_spend = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        help_text="The cart's value before discounts must reach this.",
    )
    categories = models.ManyToManyField(
        "inventory.Category",
        blank=True,
        related_name="+",
        help_text="Only lines in these categories (or their sub-categories) qualify.",
    )
    skus = models.ManyToManyField(
        "inventory.Sku", blank=True, related_name="+", help_text="Only these SKUs qualify."
    )
    channels = models.JSONField(
        default=list,
        blank=True,
        help_text="Channels it applies in (web, ios, android, store); empty for all.",
    )
    stores = models.ManyToManyField(
        "inventory.Location", blank=True, related_name="+", help_text="Empty for every store."
    )
    tiers = models.ManyToManyField(
        "loyalty.Tier", blank=True, related_name="+", help_text="Empty for everyone."
    )
    segment = models.ForeignKey(
        Segment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="offers",
        help_text="Only members of this segment.",
    )
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    redeemable = models.CharField(max_length=8, choices=Where.choices, default=Where.BOTH)
    # Stacking
    exclusive = models.BooleanField(
        default=False, help_text="Never combined with another offer or coupon."
    )
    priority = models.PositiveSmallIntegerField(
        default=0, help_text="Higher is applied first (on what earlier ones left)."
    )
    max_discount = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="At most this much off one order.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(
        auto_now=True, help_text="A cart priced before this sees offer_changed at checkout."
    )

    class Meta:
        ordering = ["-priority", "name"]
        indexes = [models.Index(fields=["trigger", "is_active"], name="offer_trigger_active")]
        constraints = [
            models.CheckConstraint(condition=Q(value__gte=0), name="offer_value_not_negative"),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at"))
                | Q(starts_at=None)
                | Q(ends_at=None),
                name="offer_ends_after_start",
            ),
            models.CheckConstraint(
                condition=~Q(reward__in=["percent_off_cart", "percent_off_lines"])
                | Q(value__lte=100),
                name="offer_percent_at_most_100",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, str] = {}
        R = self.Reward
        if self.reward == R.FREE_ITEM and self.free_sku_id is None:
            errors["free_sku"] = "A free item offer names the SKU it gives."
        if self.reward == R.BUY_X_GET_Y and not (self.buy_quantity and self.get_quantity):
            errors["buy_quantity"] = "Buy X get Y needs both X and Y."
        if self.reward == R.BUY_X_GET_Y and not 0 < self.value <= 100:
            errors["value"] = "Buy X get Y: the percent off the Y units, 1 to 100 (100 = free)."
        if self.reward in {R.PERCENT_OFF_CART, R.PERCENT_OFF_LINES} and not 0 < self.value <= 100:
            errors["value"] = "A percent is between 0 and 100."
        if self.reward in {R.AMOUNT_OFF_CART, R.AMOUNT_OFF_LINES} and self.value <= 0:
            errors["value"] = "Say the amount off."
        if self.reward == R.POINTS_MULTIPLIER and self.value <= 1:
            errors["value"] = "A points multiplier is above 1 (2 = double points)."
        unknown = set(self.channels or []) - set(Channel.values)
        if unknown:
            errors["channels"] = f"Unknown channel(s): {', '.join(sorted(unknown))}."
        if errors:
            raise ValidationError(errors)


def normalise_code(code: str) -> str:
    """Codes are read aloud, typed and scanned: case, spaces and dashes do not count."""
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


class CodeBatch(models.Model):
    """Unique single-use codes generated in bulk for one coupon offer (``services``)."""

    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="batches")
    name = models.CharField(max_length=120)
    quantity = models.PositiveIntegerField()
    prefix = models.CharField(max_length=8, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("export_codes", "Can export coupon codes as CSV")]

    def __str__(self) -> str:
        return f"{self.name} ({self.quantity})"


class Coupon(models.Model):
    """A code for a coupon offer. Stored in clear (see README, "Offers and coupons"): a batch
    is exported again for print or e-mail, and the till shows what it accepted; guessing is
    made hopeless by length (≥ 60 bits) and throttling, not by hashing."""

    class Kind(models.TextChoices):
        SHARED = "shared", "Shared code"
        UNIQUE = "unique", "Unique single-use code"

    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="coupons")
    code = models.CharField(max_length=40, unique=True, help_text="Upper case, no spaces.")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.SHARED)
    batch = models.ForeignKey(
        CodeBatch, on_delete=models.CASCADE, null=True, blank=True, related_name="coupons"
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="coupons",
        help_text="A personal code: only this customer may use it.",
    )
    max_uses = models.PositiveIntegerField(
        null=True, blank=True, help_text="In total, over every customer; empty for no limit."
    )
    max_uses_per_customer = models.PositiveIntegerField(
        null=True, blank=True, help_text="Per customer; empty for no limit."
    )
    times_used = models.PositiveIntegerField(
        default=0, help_text="Uses not given back (cache of its redemptions)."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_uses=None) | Q(times_used__lte=models.F("max_uses")),
                name="coupon_used_at_most_max",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.code = normalise_code(self.code)
        super().save(*args, **kwargs)


class Redemption(models.Model):
    """One use of a coupon by an order (read-only history; a use given back stays, released)."""

    class Status(models.TextChoices):
        USED = "used", "Used"
        RELEASED = "released", "Given back (order cancelled or expired)"

    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="redemptions")
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="coupon_redemptions",
    )
    reference = models.CharField(max_length=40, help_text="The order number.")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    discount = models.DecimalField(max_digits=12, decimal_places=2)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.USED)
    created_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["reference"], name="redemption_reference")]
        constraints = [
            models.UniqueConstraint(
                fields=["coupon", "reference"],
                condition=Q(status="used"),
                name="redemption_once_per_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.coupon} on {self.reference}"


class RefusedCode(models.Model):
    """A code tried and refused (unknown, not yours, out of dates...): counted per customer and
    per storefront key for the throttles' picture, and kept for fraud review."""

    tried = models.CharField(max_length=40)
    reason = models.CharField(max_length=24)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    client = models.CharField(
        max_length=64, blank=True, help_text="The storefront key or till that sent it."
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.tried} ({self.reason})"


class AttributionCredit(models.Model):
    """The roll-up of channel attribution: for one day's orders and one model, the share of
    those orders (and of their revenue) credited to a channel, campaign and store. Written by
    ``campaigns.reporting.attribution.compute_attribution`` only, a date range at a time."""

    class Model(models.TextChoices):
        FIRST_TOUCH = "first_touch", "First touch"
        LAST_TOUCH = "last_touch", "Last touch"
        LAST_NON_DIRECT = "last_non_direct", "Last non-direct"
        LINEAR = "linear", "Linear"
        TIME_DECAY = "time_decay", "Time decay"
        POSITION_BASED = "position_based", "Position-based"
        MARKOV = "markov", "Data-driven (Markov removal effect)"

    class Channel(models.TextChoices):
        """Where a journey's step came from (see the README's Attribution section)."""

        EMAIL = "email", "E-mail"
        SMS = "sms", "SMS"
        PUSH = "push", "Push and in-app"
        PAID = "paid", "Paid (ads)"
        SOCIAL = "social", "Social"
        REFERRAL = "referral", "Referral (other tagged links)"
        CAMPAIGN = "campaign", "Campaign (other tagged traffic)"
        QR_SCAN = "qr_scan", "QR scan"
        STORE_VISIT = "store_visit", "Store visit"
        STORE = "store", "Store (till and clerk-assisted sales)"
        DIRECT = "direct", "Direct"

    day = models.DateField(help_text="The day the orders were placed (TIME_ZONE).")
    model = models.CharField(max_length=16, choices=Model.choices)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    campaign_code = models.CharField(max_length=100, blank=True)
    store_code = models.CharField(max_length=32, blank=True)
    orders_share = models.DecimalField(
        max_digits=18, decimal_places=6, help_text="Orders credited (each order shares 1)."
    )
    revenue_share = models.DecimalField(
        max_digits=18, decimal_places=6, help_text="Order totals credited."
    )
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["-day", "model", "channel", "campaign_code", "store_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "model", "channel", "campaign_code", "store_code"],
                name="attribution_credit_unique",
            ),
        ]
        indexes = [models.Index(fields=["model", "day"], name="attribution_credit_model_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.model} {self.channel}: {self.orders_share}"
