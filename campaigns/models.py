"""Who marketers talk to (segments, their members and RFM scores), what they send them
(campaigns), and what they offer them (offers, coupons and their redemptions).

A segment is either **dynamic** (a rule tree compiled to one SQL query, see
``campaigns.rules``) or **static** (a list uploaded as CSV). Its members are materialised in
``SegmentMembership`` by a refresh, which records who joined and who left
(``SegmentChange``) and how it went (``SegmentRefresh``).
"""

import uuid
from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from customers.models import Touchpoint
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


# --- Recommendations --------------------------------------------------------------------------


class ProductAffinity(models.Model):
    """ "Customers who bought ``product`` also bought ``related``": how often the two were in
    one order, and a score that does not let best-sellers win everything (the Jaccard index:
    orders with both over orders with either). Recomputed together, set-based in SQL, by
    ``services.refresh_affinities``; only pairs with the minimum support are kept."""

    product = models.ForeignKey(
        "inventory.Product", on_delete=models.CASCADE, related_name="affinities"
    )
    related = models.ForeignKey("inventory.Product", on_delete=models.CASCADE, related_name="+")
    together = models.PositiveIntegerField(help_text="Orders with both products.")
    score = models.FloatField(help_text="Orders with both over orders with either (0 to 1).")
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "product affinities"
        ordering = ["product", "-score", "related"]
        constraints = [
            models.UniqueConstraint(fields=["product", "related"], name="affinity_once"),
            models.CheckConstraint(condition=~Q(product=F("related")), name="affinity_not_self"),
        ]
        indexes = [models.Index(fields=["product", "-score"], name="affinity_best_idx")]

    def __str__(self) -> str:
        return f"{self.product_id} → {self.related_id} ({self.score:.3f})"


# --- Campaigns -------------------------------------------------------------------------------


class Campaign(models.Model):
    """One message to a segment, in the channels the customer can be reached on, optionally
    with an offer or codes, in one or more variants and a holdout. Its life is a state machine
    (``services.campaigns``): draft → scheduled → running ⇄ paused → completed, or cancelled
    from anything not finished. Once it runs, what it says and to whom is locked."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    class Kind(models.TextChoices):
        ONE_OFF = "one_off", "One-off (sent when started)"
        SCHEDULED = "scheduled", "Scheduled (sent at a set time)"
        TRIGGERED = "triggered", "Triggered journey (each customer enters on an occasion)"

    class WinnerMetric(models.TextChoices):
        CONVERSION = "conversion", "Conversion rate (orders)"
        CLICK = "click", "Click rate"
        OPEN = "open", "Open rate (e-mail)"

    class MessageChannel(models.TextChoices):
        PUSH = "push", "Push"
        EMAIL = "email", "E-mail"
        SMS = "sms", "SMS"

    # Content and audience cannot change in these (model clean, admin and services refuse).
    LOCKED_STATUSES = frozenset({Status.RUNNING, Status.PAUSED, Status.COMPLETED})
    FINISHED_STATUSES = frozenset({Status.COMPLETED, Status.CANCELLED})
    # What a locked campaign keeps as it is.
    LOCKED_FIELDS = (
        "name",
        "segment",
        "offer",
        "coupon",
        "code_batch",
        "channels",
        "kind",
        "send_at",
        "local_time",
        "holdout_percent",
        "test_percent",
        "winner_after_hours",
        "winner_metric",
        "trigger",
        "trigger_params",
        "exit_on_purchase",
    )

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=160)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.DRAFT, editable=False
    )
    segment = models.ForeignKey(
        Segment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="campaigns",
        verbose_name="audience",
        help_text="Its members as of the segment's last refresh when the send reaches them.",
    )
    offer = models.ForeignKey(
        Offer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="campaigns",
        help_text="An offer to announce ({{ offer }}); with a code batch or a coupon it is theirs.",
    )
    coupon = models.ForeignKey(
        Coupon,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="campaigns",
        help_text="A shared code every recipient gets as {{ code }}.",
    )
    code_batch = models.ForeignKey(
        CodeBatch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="campaigns",
        help_text="Unique codes: each recipient gets one of the batch as {{ code }} (one per "
        "customer; a resent campaign gives the same one).",
    )
    channels = models.JSONField(
        default=list,
        blank=True,
        help_text='The channels to try, in order, e.g. ["push", "email", "sms"]: each '
        "customer gets the first they consented to and can be reached on.",
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.ONE_OFF)
    send_at = models.DateTimeField(
        null=True, blank=True, help_text="When a scheduled campaign is sent."
    )
    local_time = models.BooleanField(
        default=False,
        help_text="Send at the same wall-clock time as send_at in each customer's own time "
        "zone (theirs, else their store's, else the shop's).",
    )
    holdout_percent = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        default=Decimal("0"),
        help_text="Share of the audience that gets nothing, to measure the uplift against.",
    )
    conversion_window_days = models.PositiveSmallIntegerField(
        default=7, help_text="An order this many days after the message counts for it."
    )
    # Send the winner: the variants go to a test share first, the best to the rest later.
    test_percent = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        default=Decimal("0"),
        help_text="Share of the audience (after the holdout) the variants are tested on; the "
        "rest gets the winning variant after winner_after_hours. 0: every variant to everyone.",
    )
    winner_after_hours = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Hours after the test is sent when the winner is chosen."
    )
    winner_metric = models.CharField(
        max_length=10, choices=WinnerMetric.choices, default=WinnerMetric.CLICK
    )
    winner = models.ForeignKey(
        "CampaignVariant",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        help_text="The variant the rest of the audience got.",
    )
    winner_due_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When the winner is chosen."
    )
    cost = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="What the campaign cost (creative, sending, the discounts it funds...), in the "
        "shop's currency; empty when unknown. Can be filled in after it ran: the ROI report "
        "reads it.",
    )
    # A triggered journey (kind "triggered"): who enters on what occasion, its steps
    # (``JourneyStep``) and when it stops taking new entrants (``services.journeys``).
    trigger = models.CharField(
        max_length=24,
        blank=True,
        help_text="Journeys: what makes a customer enter (abandoned_cart, birthday, ...).",
    )
    trigger_params = models.JSONField(
        default=dict,
        blank=True,
        help_text='Journeys: the parameters of the trigger, e.g. {"hours": 4}.',
    )
    exit_on_purchase = models.BooleanField(
        default=True,
        help_text="Journeys: a customer who buys (any channel, the till included) after "
        "entering leaves before the next step.",
    )
    ends_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Journeys: nobody enters after this (those inside finish); empty for never.",
    )
    # Progress of the send (services.sending), for the admin and for resuming.
    send_cursor = models.BigIntegerField(
        default=0, editable=False, help_text="The last customer id the send reached."
    )
    recipient_count = models.PositiveIntegerField(default=0, editable=False)
    queued_count = models.PositiveIntegerField(default=0, editable=False)
    suppressed_count = models.PositiveIntegerField(default=0, editable=False)
    unreachable_count = models.PositiveIntegerField(default=0, editable=False)
    holdout_count = models.PositiveIntegerField(default=0, editable=False)
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("run_campaign", "Can schedule, start, pause, resume and cancel campaigns"),
        ]
        indexes = [
            models.Index(
                fields=["send_at"], condition=Q(status="scheduled"), name="campaign_due_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(holdout_percent__gte=0, holdout_percent__lte=50),
                name="campaign_holdout_0_to_50",
            ),
            models.CheckConstraint(
                condition=Q(coupon=None) | Q(code_batch=None),
                name="campaign_shared_or_unique_codes",
            ),
            models.CheckConstraint(
                condition=~Q(kind="scheduled") | ~Q(send_at=None),
                name="campaign_scheduled_has_send_at",
            ),
            models.CheckConstraint(
                condition=Q(test_percent=0, winner_after_hours=None)
                | Q(test_percent__gt=0, test_percent__lt=100, winner_after_hours__gt=0),
                name="campaign_test_share_has_winner_time",
            ),
            models.CheckConstraint(
                condition=Q(cost=None) | Q(cost__gte=0), name="campaign_cost_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_locked(self) -> bool:
        return self.status in self.LOCKED_STATUSES

    @property
    def tests_first(self) -> bool:
        """Its variants go to a test share first and the winner to the rest."""
        return self.test_percent > 0

    @property
    def outbox_source(self) -> str:
        """What its messages in the outbox say produced them (their source and topic)."""
        return f"campaign:{self.public_id}"

    @property
    def the_offer(self) -> "Offer | None":
        """The offer the message is about: the one named, or the codes'."""
        if self.offer_id is not None:
            return self.offer
        if self.coupon_id is not None:
            return self.coupon.offer if self.coupon else None
        if self.code_batch_id is not None:
            return self.code_batch.offer if self.code_batch else None
        return None

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if self.pk is not None and self.is_locked:
            before = Campaign.objects.filter(pk=self.pk).values(*_field_names(self)).first()
            changed = [
                name for name, value in (before or {}).items() if _field_value(self, name) != value
            ]
            if changed:
                errors["__all__"] = [
                    f"A {self.get_status_display().lower()} campaign's content and audience "
                    f"are locked ({', '.join(changed)})."
                ]
        unknown = [c for c in self.channels or [] if c not in self.MessageChannel.values]
        if not isinstance(self.channels, list) or unknown:
            errors["channels"] = [
                f"A list of channels among {', '.join(self.MessageChannel.values)}."
            ]
        elif len(set(self.channels)) != len(self.channels):
            errors["channels"] = ["Each channel once."]
        if self.kind == self.Kind.SCHEDULED and self.send_at is None:
            errors["send_at"] = ["A scheduled campaign needs its time."]
        if self.test_percent and not 0 < self.test_percent < 100:
            errors["test_percent"] = ["Between 0 and 100 (0: no test, every variant to all)."]
        if self.test_percent and not self.winner_after_hours:
            errors["winner_after_hours"] = ["Say after how many hours the winner is chosen."]
        if self.test_percent and self.kind == self.Kind.TRIGGERED:
            errors["test_percent"] = ["A journey sends each customer when they enter: no test."]
        if self.winner_after_hours and not self.test_percent:
            errors["test_percent"] = ["Choose the share the variants are tested on first."]
        if self.local_time and self.kind != self.Kind.SCHEDULED:
            errors["local_time"] = ["Only a scheduled campaign is sent at local times."]
        errors.update(self._journey_errors())
        if self.coupon_id is not None and self.code_batch_id is not None:
            errors["code_batch"] = ["A shared coupon or a batch of unique codes, not both."]
        if self.coupon is not None and self.coupon.kind != Coupon.Kind.SHARED:
            errors["coupon"] = ["Only a shared code goes to everyone: use a code batch."]
        if self.offer is not None:
            for codes in (self.coupon, self.code_batch):
                if codes is not None and codes.offer_id != self.offer_id:
                    errors["offer"] = ["The codes given belong to another offer."]
        if errors:
            raise ValidationError(errors)

    @property
    def is_journey(self) -> bool:
        return self.kind == self.Kind.TRIGGERED

    def _journey_errors(self) -> dict[str, list[str]]:
        # Imported here: the triggers read this module's models.
        from campaigns.services.triggers import trigger_errors

        if not self.is_journey:
            if self.trigger or self.trigger_params:
                return {"trigger": ["Only a triggered journey has a trigger."]}
            return {}
        return trigger_errors(self.trigger, self.trigger_params)


def _field_names(campaign: "Campaign") -> list[str]:
    names = []
    for name in Campaign.LOCKED_FIELDS:
        field = campaign._meta.get_field(name)
        assert isinstance(field, models.Field)
        names.append(field.attname)  # segment_id, not the segment
    return names


def _field_value(campaign: "Campaign", attname: str) -> Any:
    return getattr(campaign, attname)


class CampaignVariant(models.Model):
    """One version of a campaign's message, in every channel, with its share of the audience.
    A campaign without an experiment has one variant, "A"."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="variants")
    code = models.CharField(max_length=8, default="A", help_text="A, B, ...")
    weight = models.PositiveSmallIntegerField(
        default=1, help_text="Its share among the variants (the holdout set apart first)."
    )
    email_subject = models.CharField(max_length=200, blank=True)
    email_html = models.TextField(blank=True, verbose_name="e-mail HTML")
    email_text = models.TextField(blank=True, verbose_name="e-mail text")
    sms_text = models.TextField(blank=True, verbose_name="SMS text")
    push_title = models.CharField(max_length=100, blank=True)
    push_body = models.CharField(max_length=240, blank=True)
    push_link = models.CharField(
        max_length=300, blank=True, help_text="Deep link opened by the push, e.g. omni://offers."
    )
    counter_message = models.TextField(
        blank=True, help_text="What the clerk sees (and may say) when the customer is in store."
    )

    # Fields holding a template, and what each needs to be complete for its channel.
    TEMPLATE_FIELDS = (
        "email_subject",
        "email_html",
        "email_text",
        "sms_text",
        "push_title",
        "push_body",
        "push_link",
        "counter_message",
    )
    CHANNEL_FIELDS = {
        "email": ("email_subject", "email_text"),
        "sms": ("sms_text",),
        "push": ("push_title", "push_body"),
    }

    class Meta:
        ordering = ["campaign", "code"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "code"], name="variant_code_unique"),
            models.CheckConstraint(condition=Q(weight__gt=0), name="variant_weight_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign}: variant {self.code}"

    def clean(self) -> None:
        from campaigns.services.templating import TemplateInvalid, check
        from campaigns.services.triggers import journey_variables

        # The journey's occasion values too; on the admin's add page the campaign is not
        # saved yet, but the inline already holds it.
        campaign = self._state.fields_cache.get("campaign")
        if campaign is None and self.campaign_id is not None:
            campaign = self.campaign
        extra = journey_variables(campaign) if campaign is not None else {}
        errors: dict[str, list[str]] = {}
        for name in self.TEMPLATE_FIELDS:
            try:
                check(getattr(self, name), extra)
            except TemplateInvalid as invalid:
                errors[name] = invalid.errors
        if self.campaign_id is not None and self.campaign.is_locked:
            errors.setdefault("__all__", []).append(
                "The campaign runs or ran: its variants are locked."
            )
        if errors:
            raise ValidationError(errors)

    def missing_for(self, channel: str) -> list[str]:
        """The fields this channel needs that are empty."""
        return [name for name in self.CHANNEL_FIELDS[channel] if not getattr(self, name).strip()]


class CampaignRecipient(models.Model):
    """One member of a campaign's audience as the send reached them: their variant (or the
    holdout), the channel chosen, the outbox row, or why nothing was sent. One row per
    customer and campaign, written by the send (``services.sending``) only."""

    class Reason(models.TextChoices):
        HOLDOUT = "holdout", "In the holdout"
        NO_CHANNEL = "no_channel", "No channel they consented to and can be reached on"
        NO_CODE = "no_code", "The code batch ran out"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="campaign_receipts"
    )
    variant = models.ForeignKey(
        CampaignVariant,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="recipients",
        help_text="Empty for the holdout.",
    )
    channel = models.CharField(max_length=8, choices=Campaign.MessageChannel.choices, blank=True)
    coupon = models.ForeignKey(
        Coupon, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    notification = models.OneToOneField(
        "customers.Notification",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="campaign_recipient",
    )
    reason = models.CharField(max_length=12, choices=Reason.choices, blank=True)
    not_before = models.DateTimeField(
        null=True, blank=True, help_text="Its local send time (local-time campaigns)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["campaign", "customer"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "customer"], name="campaign_recipient_unique"
            ),
            models.CheckConstraint(
                condition=Q(variant=None, reason="holdout")
                | (~Q(variant=None) & ~Q(reason="holdout")),
                name="campaign_recipient_holdout_has_no_variant",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "campaign"], name="campaign_recipient_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} in {self.campaign_id}"


# --- Journeys --------------------------------------------------------------------------------


class JourneyStep(models.Model):
    """One step of a triggered journey, run in ``position`` order for each customer inside it:
    wait a number of hours, check a condition (a segment-style rule; who does not meet it
    leaves), or send the journey's message (its variants, or the one variant named)."""

    class Kind(models.TextChoices):
        WAIT = "wait", "Wait"
        CONDITION = "condition", "Condition (who does not meet it leaves)"
        MESSAGE = "message", "Send the message"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(help_text="Steps run in this order (1, 2, ...).")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    wait_hours = models.IntegerField(null=True, blank=True, help_text="Wait: how many hours.")
    rules = models.JSONField(
        default=dict,
        blank=True,
        help_text='Condition: a rule tree as in segments, e.g. {"field": "points_balance", '
        '"operator": "gte", "value": 100}.',
    )
    variant_code = models.CharField(
        max_length=8,
        blank=True,
        help_text="Message: the variant everyone gets (e.g. a reminder's own text); empty to "
        "split the audience between the variants by weight.",
    )

    class Meta:
        ordering = ["campaign", "position"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "position"], name="journey_step_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.get_kind_display()}"

    def clean(self) -> None:
        errors = self.field_errors()
        if self.campaign_id is not None and self.campaign.is_locked:
            errors.setdefault("__all__", []).append(
                "The journey runs or ran: its steps are locked."
            )
        if errors:
            raise ValidationError(errors)

    def field_errors(self) -> dict[str, list[str]]:
        """What is wrong with the step itself, by field (the journey's checks read it too)."""
        from campaigns.rules import RuleError, validate_rules

        errors: dict[str, list[str]] = {}
        if self.kind == self.Kind.WAIT:
            if self.wait_hours is None or self.wait_hours <= 0:
                errors["wait_hours"] = ["A wait lasts at least one hour."]
        elif self.wait_hours is not None:
            errors["wait_hours"] = ["Only a wait step has hours."]
        if self.kind == self.Kind.CONDITION:
            try:
                validate_rules(self.rules)
            except RuleError as error:
                errors["rules"] = error.messages
        elif self.rules:
            errors["rules"] = ["Only a condition step has rules."]
        if self.kind != self.Kind.MESSAGE and self.variant_code:
            errors["variant_code"] = ["Only a message step names a variant."]
        return errors


class JourneyEnrollment(models.Model):
    """A customer inside a journey for one occasion (their cart, an order, a birthday year):
    the next step to run and when, or how they left. One row per (journey, customer,
    occasion): the same occasion never enters twice. Written by ``services.journeys`` only."""

    class Status(models.TextChoices):
        ACTIVE = "active", "In the journey"
        COMPLETED = "completed", "Went through every step"
        EXITED = "exited", "Left before the end"

    class ExitReason(models.TextChoices):
        PURCHASED = "purchased", "Bought after entering"
        CONDITION = "condition", "Did not meet a condition"
        ERASED = "erased", "Their data was erased"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="enrollments")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="journey_enrollments"
    )
    occasion = models.CharField(max_length=100, help_text="e.g. cart:<id>, order:<number>.")
    context = models.JSONField(
        default=dict, blank=True, help_text="What the occasion was (personalises the message)."
    )
    step = models.PositiveSmallIntegerField(
        default=0, help_text="Steps done so far (the next one is at this index)."
    )
    next_run_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    exit_reason = models.CharField(max_length=10, choices=ExitReason.choices, blank=True)
    exit_step = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The step before which they left."
    )
    entered_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["campaign", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "customer", "occasion"], name="journey_occasion_once"
            ),
            models.CheckConstraint(
                condition=Q(status="exited") & ~Q(exit_reason="")
                | ~Q(status="exited") & Q(exit_reason=""),
                name="journey_exit_has_reason",
            ),
        ]
        indexes = [
            models.Index(
                fields=["campaign", "next_run_at", "id"],
                condition=Q(status="active"),
                name="journey_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} in {self.campaign_id} ({self.occasion})"


class JourneyMessage(models.Model):
    """A message step as it reached one enrollment: like ``CampaignRecipient``, per step."""

    enrollment = models.ForeignKey(
        JourneyEnrollment, on_delete=models.CASCADE, related_name="messages"
    )
    step = models.PositiveSmallIntegerField(help_text="The step's index.")
    variant = models.ForeignKey(
        CampaignVariant,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="journey_messages",
        help_text="Empty for the holdout.",
    )
    channel = models.CharField(max_length=8, choices=Campaign.MessageChannel.choices, blank=True)
    coupon = models.ForeignKey(
        Coupon, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    notification = models.OneToOneField(
        "customers.Notification",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="journey_message",
    )
    reason = models.CharField(max_length=12, choices=CampaignRecipient.Reason.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["enrollment", "step"]
        constraints = [
            models.UniqueConstraint(fields=["enrollment", "step"], name="journey_message_once"),
        ]

    def __str__(self) -> str:
        return f"step {self.step} of {self.enrollment_id}"


# --- Customer lifetime value -----------------------------------------------------------------


class ClvFit(models.Model):
    """One run of the customer lifetime value models (``reporting.clv.compute_customer_values``):
    the BG/NBD and Gamma-Gamma parameters fitted on every purchase to date, the calibration
    report (the same models fitted on the history before a holdout period, their predictions
    compared with what customers did in it), and the horizon and discount rate the predicted
    values use. Read-only in the admin; the latest one is what ``CustomerValue`` rows hold."""

    fitted_at = models.DateTimeField(db_index=True)
    observed_until = models.DateField(help_text="The last day of purchases the fit saw.")
    horizon_days = models.PositiveIntegerField(help_text="Predicted CLV covers this many days.")
    annual_discount_rate = models.DecimalField(max_digits=5, decimal_places=4)
    customers = models.PositiveIntegerField(help_text="Customers with at least one purchase.")
    repeat_customers = models.PositiveIntegerField(
        help_text="Customers who bought again on a later day (what the models learn from)."
    )
    bgnbd = models.JSONField(help_text="BG/NBD parameters r, alpha (in days), a, b.")
    gamma_gamma = models.JSONField(help_text="Gamma-Gamma parameters p, q, gamma.")
    holdout_days = models.PositiveIntegerField()
    calibration = models.JSONField(
        default=list,
        blank=True,
        help_text="Per purchase count in the calibration period: customers, actual and "
        "predicted mean purchases in the holdout period.",
    )
    calibration_bgnbd = models.JSONField(default=dict, blank=True)
    calibration_note = models.CharField(
        max_length=300, blank=True, help_text="Why there is no calibration report, if none."
    )
    seconds = models.FloatField(default=0)

    class Meta:
        ordering = ["-fitted_at", "-pk"]
        verbose_name = "CLV fit"

    def __str__(self) -> str:
        return f"CLV fit of {self.fitted_at:%Y-%m-%d %H:%M}"


class CustomerValue(models.Model):
    """What a customer has been worth (orders and revenue to date, and in which channels) and
    is predicted to be worth (BG/NBD and Gamma-Gamma, see ``ClvFit``), one row per customer who
    ever bought, rewritten in bulk by each run."""

    class ChannelMix(models.TextChoices):
        ONLINE_ONLY = "online_only", "Online only"
        STORE_ONLY = "store_only", "Store only"
        OMNICHANNEL = "omnichannel", "Omnichannel"

    customer = models.OneToOneField(
        "customers.Customer",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="lifetime_value",
    )
    fit = models.ForeignKey(ClvFit, on_delete=models.CASCADE, related_name="customer_values")
    orders = models.PositiveIntegerField(help_text="Purchases to date (all channels).")
    online_orders = models.PositiveIntegerField(help_text="On the website and in the apps.")
    store_orders = models.PositiveIntegerField(help_text="In store (at the till).")
    revenue = models.DecimalField(
        max_digits=14, decimal_places=2, help_text="Order totals to date (after discounts)."
    )
    margin = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Revenue to date less what the goods kept cost (at the cost price when sold); "
        "empty when an item bought had no cost price.",
    )
    channel_mix = models.CharField(max_length=12, choices=ChannelMix.choices, db_index=True)
    first_purchase_on = models.DateField()
    last_purchase_on = models.DateField()
    repeat_purchases = models.PositiveIntegerField(
        help_text="Days with a purchase after the first one (the models' frequency)."
    )
    expected_purchases_90d = models.FloatField(
        help_text="Purchase days expected in the next 90 days (BG/NBD)."
    )
    p_alive = models.FloatField(help_text="Probability the customer is still active (BG/NBD).")
    expected_spend = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="Expected value of a purchase (Gamma-Gamma)."
    )
    predicted_clv = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        db_index=True,
        help_text="Discounted revenue expected over the fit's horizon.",
    )
    fitted_at = models.DateTimeField()

    class Meta:
        verbose_name = "customer value"
        constraints = [
            models.CheckConstraint(
                condition=Q(p_alive__gte=0, p_alive__lte=1), name="customer_value_p_alive_0_1"
            ),
            models.CheckConstraint(
                condition=Q(orders=F("online_orders") + F("store_orders")),
                name="customer_value_orders_split",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer} ({self.get_channel_mix_display()})"


# --- Channel attribution ---------------------------------------------------------------------


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


# --- Reports -----------------------------------------------------------------------------------


class Report(models.Model):
    """No rows: the admin's "Reports" entry (every marketing report listed in one place,
    ``campaigns.reporting.reports_admin``) and the permission to read the retention,
    conversion and campaign ROI reports, "Can view report". Its table stays empty; it exists
    so that whatever reads every model (scans, exports) finds one, rather than an unmanaged
    model with none."""

    class Meta:
        default_permissions = ("view",)
        verbose_name = "report"
        verbose_name_plural = "reports"

    def __str__(self) -> str:
        return "Reports"


class SurveyAnswerManager(models.Manager["SurveyAnswer"]):
    def get_queryset(self) -> models.QuerySet["SurveyAnswer"]:
        return super().get_queryset().filter(kind=Touchpoint.Kind.SURVEY_ANSWER)


class SurveyAnswer(Touchpoint):
    """The customers' answers to satisfaction surveys (``survey_answer`` touchpoints, written by
    ``customers.services.answer_survey``), seen by marketers: a read-only list in the admin and
    the satisfaction report (``campaigns.reporting.satisfaction``). No table of its own."""

    objects: ClassVar[SurveyAnswerManager] = SurveyAnswerManager()

    class Meta:
        proxy = True
        ordering = ["-occurred_at"]
        verbose_name = "survey answer"

    def __str__(self) -> str:
        scale = str(self.properties.get("scale", "")).upper()
        return f"{scale} {self.properties.get('score', '')} on {self.occurred_at:%Y-%m-%d}"
