"""The loyalty programme: settings, earn rules, tiers, accounts, cards and the points ledger.

Points live in two places that always agree: ``PointsEntry`` (append-only, the truth: balance =
sum of entries) and ``PointsLot`` (bookkeeping of what is left of each earning, so expiry is
first-in first-out and a cancelled redemption gives back exactly the points it took).

Stored value (gift and wallet cards) is money, not points: ``StoredValueCard.balance`` is the
cache of its own append-only ledger, ``StoredValueEntry``, under the rules of a
``StoredValueProgramme``.
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from omni.core.channels import Channel
from omni.core.money import default_currency


class Programme(models.Model):
    """Earning and redemption settings that marketers edit in the admin."""

    class Rounding(models.TextChoices):
        DOWN = "down", "Round down"
        NEAREST = "nearest", "Round to nearest"

    class TierBasis(models.TextChoices):
        SPEND = "spend", "Qualifying spend"
        POINTS = "points", "Points earned"

    name = models.CharField(max_length=100, unique=True)
    points_per_currency_unit = models.DecimalField(
        max_digits=6, decimal_places=2, default=Decimal("1.00"), validators=[MinValueValidator(0)]
    )
    rounding = models.CharField(max_length=8, choices=Rounding.choices, default=Rounding.DOWN)
    pending_days = models.PositiveSmallIntegerField(
        default=30, help_text="Earned points stay pending this long (the return window)."
    )
    expiry_days = models.PositiveIntegerField(
        default=365, help_text="Points expire this long after they become available."
    )
    expiry_notice_days = models.PositiveSmallIntegerField(
        default=14, help_text="Customers are told this many days before points expire."
    )
    point_value = models.DecimalField(
        max_digits=8,
        decimal_places=4,
        default=Decimal("0.01"),
        validators=[MinValueValidator(0)],
        help_text="What one point is worth when redeemed, in the shop's currency.",
    )
    minimum_redemption = models.PositiveIntegerField(default=100)
    tier_basis = models.CharField(max_length=8, choices=TierBasis.choices, default=TierBasis.SPEND)
    adjustment_approval_threshold = models.PositiveIntegerField(
        default=1000,
        help_text="A manual adjustment of more points than this (added or taken away) waits "
        "for a second person's approval.",
    )

    def __str__(self) -> str:
        return self.name


class Tier(models.Model):
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="tiers")
    name = models.CharField(max_length=50)
    rank = models.PositiveSmallIntegerField(help_text="0 for the entry tier, higher is better.")
    threshold = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(0)],
        help_text="Qualifying spend (or points) over a rolling 12 months to reach this tier.",
    )
    earn_multiplier = models.DecimalField(
        max_digits=4, decimal_places=2, default=Decimal("1.00"), validators=[MinValueValidator(0)]
    )

    class Meta:
        ordering = ["programme", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "rank"], name="tier_rank_unique"),
            models.UniqueConstraint(fields=["programme", "name"], name="tier_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class EarnRule(models.Model):
    """A way to earn more than the base rate, for a while."""

    class Kind(models.TextChoices):
        CHANNEL_MULTIPLIER = "channel", "Channel multiplier"
        CATEGORY_MULTIPLIER = "category", "Category multiplier"
        ACTION_BONUS = "action", "Bonus for an action"
        CAMPAIGN_BONUS = "campaign", "Campaign bonus"

    class Action(models.TextChoices):
        SIGN_UP = "sign_up", "Sign-up"
        FIRST_PICKUP = "first_pickup", "First pick-up order"
        REVIEW = "review", "Product review"

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="rules")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    channel = models.CharField(max_length=16, choices=Channel.choices, blank=True)
    category = models.ForeignKey(
        "inventory.Category", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=16, choices=Action.choices, blank=True)
    campaign_code = models.CharField(max_length=64, blank=True)
    multiplier = models.DecimalField(
        max_digits=4, decimal_places=2, default=Decimal("1.00"), validators=[MinValueValidator(0)]
    )
    bonus_points = models.PositiveIntegerField(default=0)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["programme", "kind", "name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="channel") | ~Q(channel=""), name="rule_channel_named"
            ),
            models.CheckConstraint(
                condition=~Q(kind="category") | Q(category__isnull=False),
                name="rule_category_named",
            ),
            models.CheckConstraint(
                condition=~Q(kind="action") | (~Q(action="") & Q(bonus_points__gt=0)),
                name="rule_action_has_bonus",
            ),
            models.CheckConstraint(
                condition=~Q(kind="campaign") | ~Q(campaign_code=""), name="rule_campaign_named"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at"))
                | Q(starts_at=None)
                | Q(ends_at=None),
                name="rule_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Account(models.Model):
    """A customer's membership. ``available`` and ``pending`` are caches of the ledger, changed
    in the same transaction as every entry."""

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.PROTECT, related_name="loyalty_account"
    )
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="accounts")
    tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="accounts")
    tier_anniversary = models.DateField(
        help_text="A lower tier may only apply from this date (one year after the last change)."
    )
    available = models.IntegerField(default=0, editable=False)
    pending = models.IntegerField(default=0, editable=False)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(available__gte=0), name="points_available_gte_0"),
            models.CheckConstraint(condition=Q(pending__gte=0), name="points_pending_gte_0"),
        ]

    def __str__(self) -> str:
        return f"Loyalty account of {self.customer}"

    @property
    def balance(self) -> int:
        return self.available + self.pending


class Card(models.Model):
    """A loyalty card number (16 digits, Luhn check digit); a lost card is blocked and replaced."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        BLOCKED = "blocked", "Blocked"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="cards")
    number = models.CharField(max_length=16, unique=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    issued_at = models.DateTimeField(auto_now_add=True)
    blocked_at = models.DateTimeField(null=True, blank=True)
    blocked_reason = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["-issued_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"], condition=Q(status="active"), name="one_active_card"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class PointsEntry(models.Model):
    """One movement of points. Append-only (a database trigger refuses UPDATE and DELETE).

    ``available`` and ``pending`` are the signed changes to each; the balance is their sum.
    """

    class Kind(models.TextChoices):
        EARN = "earn", "Earned (pending)"
        BONUS = "bonus", "Bonus"
        MATURE = "mature", "Matured"
        REDEEM = "redeem", "Redeemed"
        RELEASE = "release", "Redemption released"
        EXPIRE = "expire", "Expired"
        REVERSE = "reverse", "Reversed on return"
        ADJUST = "adjust", "Manual adjustment"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    available = models.IntegerField(default=0)
    pending = models.IntegerField(default=0)
    source = models.CharField(
        max_length=16, blank=True, help_text="What caused it: order, campaign, clerk, task..."
    )
    reference = models.CharField(max_length=100, blank=True, help_text="e.g. the order number.")
    channel = models.CharField(max_length=16, choices=Channel.choices, blank=True)
    qualifying_amount = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0"), help_text="Spend counted for tiers."
    )
    explanation = models.JSONField(default=list, blank=True, help_text="How the points were made.")
    reason = models.CharField(max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    idempotency_key = models.CharField(max_length=120, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "points entries"
        constraints = [
            models.CheckConstraint(
                condition=~Q(available=0) | ~Q(pending=0) | Q(kind="mature"),
                name="points_entry_moves_points",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.available + self.pending:+d}"

    @property
    def points(self) -> int:
        return self.available + self.pending


class PointsLot(models.Model):
    """What remains of one earning: pending until ``matures_at``, then available until
    ``expires_at``. Redemption and expiry take from the oldest lots first."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="lots")
    entry = models.OneToOneField(PointsEntry, on_delete=models.PROTECT, related_name="lot")
    points = models.PositiveIntegerField(help_text="As earned.")
    remaining = models.PositiveIntegerField()
    is_pending = models.BooleanField(default=True)
    matures_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    expiry_notice_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["expires_at", "pk"]
        indexes = [
            models.Index(fields=["account", "expires_at"], name="lot_account_expiry"),
            models.Index(
                fields=["matures_at"], condition=Q(is_pending=True), name="lot_pending_maturity"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(remaining__lte=models.F("points")), name="lot_remaining_lte_points"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.remaining}/{self.points} until {self.expires_at:%Y-%m-%d}"


class PointsAdjustmentRequest(models.Model):
    """A manual adjustment too large for one person: it waits, pending, until someone else
    with ``loyalty.approve_points_adjustment`` approves it (then it is posted to the ledger,
    once) or rejects it. Written by the loyalty services only."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for approval"
        APPROVED = "approved", "Approved and posted"
        REJECTED = "rejected", "Rejected"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    points = models.IntegerField(help_text="Positive to add, negative to take away.")
    reason = models.CharField(max_length=255)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    entry = models.OneToOneField(
        PointsEntry,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="adjustment_request",
        help_text="The ledger entry written when it was approved.",
    )

    class Meta:
        ordering = ["-requested_at", "-pk"]
        permissions = [
            ("approve_points_adjustment", "Can approve or reject large points adjustments"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(points=0), name="adjustment_request_moves_points"),
            # Four eyes, in the database too: whoever asked never decides.
            models.CheckConstraint(
                condition=~Q(decided_by=models.F("requested_by")),
                name="adjustment_request_decided_by_another",
            ),
            models.CheckConstraint(
                condition=Q(status="pending", decided_at=None, entry=None)
                | Q(status="approved", decided_at__isnull=False, entry__isnull=False)
                | Q(status="rejected", decided_at__isnull=False, entry=None),
                name="adjustment_request_decision_consistent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.points:+d} points for {self.account} ({self.get_status_display()})"


# --- Stored value: a gift or wallet card with one balance everywhere ----------------------------


class StoredValueProgramme(models.Model):
    """The rules of a stored-value card scheme, set as the law of the retailer's country
    requires (some forbid expiry under a number of years, some any expiry at all)."""

    name = models.CharField(max_length=100, unique=True)
    currency = models.CharField(max_length=3, default=default_currency)
    min_top_up = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("5.00"), validators=[MinValueValidator(0)]
    )
    max_top_up = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("500.00"))
    max_balance = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("1000.00"),
        help_text="No top-up may take a card's balance above this (refunds may).",
    )
    expiry_months = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="A card's balance expires this many months after it was issued; empty: never.",
    )
    inactivity_months = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="A balance expires after this many months without a top-up or a payment; "
        "empty: never.",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(min_top_up__gt=0) & Q(max_top_up__gte=models.F("min_top_up")),
                name="stored_value_top_up_range",
            ),
            models.CheckConstraint(
                condition=Q(max_balance__gte=models.F("max_top_up")),
                name="stored_value_max_balance_covers_top_up",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class StoredValueCard(models.Model):
    """A gift or wallet card. ``balance`` is a cache of the ledger (``StoredValueEntry``),
    changed in the same transaction as every entry, with the card's row locked."""

    class Kind(models.TextChoices):
        WALLET = "wallet", "Wallet card"
        GIFT = "gift", "Gift card"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        BLOCKED = "blocked", "Blocked"
        REPLACED = "replaced", "Replaced (its balance moved to a new card)"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(max_length=19, unique=True)
    programme = models.ForeignKey(
        StoredValueProgramme, on_delete=models.PROTECT, related_name="cards"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.WALLET)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="stored_value_cards",
        help_text="Empty for a gift card nobody has claimed yet.",
    )
    balance = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0"), editable=False
    )
    issued_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(
        default=timezone.now, help_text="The last top-up or payment (for inactivity expiry)."
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    blocked_at = models.DateTimeField(null=True, blank=True)
    blocked_reason = models.CharField(max_length=255, blank=True)
    replaced_by = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaces"
    )
    recipient_email = models.EmailField(blank=True, help_text="Whom a gift card was sent to.")
    gift_message = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-issued_at", "-pk"]
        permissions = [
            ("adjust_stored_value", "Can adjust stored-value card balances"),
            ("block_stored_value", "Can block and replace stored-value cards"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="stored_value_balance_gte_0"),
            models.CheckConstraint(
                condition=~Q(status="replaced") | Q(replaced_by__isnull=False),
                name="stored_value_replaced_names_new_card",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} …{self.number[-4:]}"

    @property
    def masked_number(self) -> str:
        return f"•••• {self.number[-4:]}"


class StoredValueEntry(models.Model):
    """One movement of a card's money. Append-only (a database trigger refuses UPDATE and
    DELETE); the card's balance is the sum of its entries' ``amount``."""

    class Kind(models.TextChoices):
        TOP_UP = "top_up", "Top-up"
        PAYMENT = "payment", "Payment"
        REFUND = "refund", "Refund"
        ADJUSTMENT = "adjustment", "Manual adjustment"
        EXPIRY = "expiry", "Expired"
        TRANSFER_OUT = "transfer_out", "Moved to a replacement card"
        TRANSFER_IN = "transfer_in", "Moved from a replaced card"

    card = models.ForeignKey(StoredValueCard, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2, help_text="Signed.")
    currency = models.CharField(max_length=3)
    balance_after = models.DecimalField(max_digits=12, decimal_places=2)
    source = models.CharField(max_length=16, blank=True, help_text="order, till, staff, task...")
    reference = models.CharField(max_length=100, blank=True, help_text="e.g. the order number.")
    channel = models.CharField(max_length=16, choices=Channel.choices, blank=True)
    reason = models.CharField(max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    idempotency_key = models.CharField(max_length=140, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "stored-value entries"
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="stored_value_entry_moves_money"),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="stored_value_entry_balance_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount:+} {self.currency}"
