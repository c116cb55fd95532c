"""The loyalty programme's settings and its tiers."""

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models


class Programme(models.Model):
    """Earning and redemption settings that marketers edit in the admin."""

    name = models.CharField(max_length=100, unique=True)
    points_per_currency_unit = models.DecimalField(
        max_digits=6, decimal_places=2, default=Decimal("1.00"), validators=[MinValueValidator(0)]
    )
    pending_days = models.PositiveSmallIntegerField(
        default=30, help_text="Earned points stay pending this long (the return window)."
    )
    expiry_days = models.PositiveIntegerField(
        default=365, help_text="Available points expire this long after they were earned."
    )
    point_value = models.DecimalField(
        max_digits=8,
        decimal_places=4,
        default=Decimal("0.01"),
        validators=[MinValueValidator(0)],
        help_text="What one point is worth when redeemed, in the shop's currency.",
    )
    minimum_redemption = models.PositiveIntegerField(default=100)

    def __str__(self) -> str:
        return self.name


class Tier(models.Model):
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="tiers")
    name = models.CharField(max_length=50)
    rank = models.PositiveSmallIntegerField(help_text="0 for the entry tier, higher is better.")
    qualifying_spend = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(0)],
        help_text="Spend over a rolling 12 months needed to reach this tier.",
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
