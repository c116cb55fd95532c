"""Who marketers talk to (segments, their members and RFM scores) and what they send them
(campaigns).

A segment is either **dynamic** (a rule tree compiled to one SQL query, see
``campaigns.rules``) or **static** (a list uploaded as CSV). Its members are materialised in
``SegmentMembership`` by a refresh, which records who joined and who left
(``SegmentChange``) and how it went (``SegmentRefresh``).
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q


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
