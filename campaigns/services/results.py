"""What a campaign earned, per variant and against its holdout: pure arithmetic on counts.

Conversions are counted elsewhere (orders after a message, within the campaign's window); these
functions take the counts. Rates are floats (they are statistics); revenue stays ``Decimal``.

Uplift is the difference of conversion rates, variant minus holdout, in absolute terms (0.02 =
two percentage points), with its relative size beside it. Its 95 % confidence interval is the
two-proportion normal approximation with **unpooled** variances (the Wald interval):

    (p1 - p0) ± 1.96 · sqrt(p1(1 - p1)/n1 + p0(1 - p0)/n0)

and the uplift is called significant when that interval does not contain zero. The normal
approximation wants a few conversions on each side; with fewer than ``MIN_CONVERSIONS`` in
either group nothing is called significant and the interval is left out.
"""

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

Z_95 = 1.959963984540054  # the standard normal's 97.5th percentile
MIN_CONVERSIONS = 5
CENT = Decimal("0.01")


@dataclass(frozen=True)
class GroupCounts:
    """One variant (or the holdout): how many were in it, converted, and what they spent."""

    label: str
    recipients: int
    conversions: int
    revenue: Decimal = Decimal("0")

    def __post_init__(self) -> None:
        if self.recipients < 0 or not 0 <= self.conversions <= self.recipients:
            raise ValueError("Conversions are between 0 and the number of recipients.")


@dataclass(frozen=True)
class Uplift:
    absolute: float  # variant rate minus holdout rate
    relative: float | None  # absolute / holdout rate; None when the holdout never converted
    low: float | None  # the 95 % interval of ``absolute``; None when too few conversions
    high: float | None
    significant: bool


@dataclass(frozen=True)
class GroupResult:
    label: str
    recipients: int
    conversions: int
    conversion_rate: float
    revenue: Decimal
    revenue_per_recipient: Decimal
    uplift: Uplift | None  # against the holdout; None for the holdout itself or without one
    # Revenue per recipient minus the holdout's (None for the holdout itself or without one).
    revenue_per_recipient_vs_holdout: Decimal | None = None


def conversion_rate(group: GroupCounts) -> float:
    return group.conversions / group.recipients if group.recipients else 0.0


def revenue_per_recipient(group: GroupCounts) -> Decimal:
    if not group.recipients:
        return Decimal("0.00")
    return (group.revenue / group.recipients).quantize(CENT, rounding=ROUND_HALF_UP)


def uplift(variant: GroupCounts, holdout: GroupCounts) -> Uplift | None:
    """The variant's uplift over the holdout (None when either group is empty)."""
    if not variant.recipients or not holdout.recipients:
        return None
    p1, p0 = conversion_rate(variant), conversion_rate(holdout)
    difference = p1 - p0
    relative = difference / p0 if p0 else None
    too_few = min(variant.conversions, holdout.conversions) < MIN_CONVERSIONS
    if too_few:
        return Uplift(difference, relative, None, None, significant=False)
    error = math.sqrt(p1 * (1 - p1) / variant.recipients + p0 * (1 - p0) / holdout.recipients)
    low, high = difference - Z_95 * error, difference + Z_95 * error
    return Uplift(difference, relative, low, high, significant=low > 0 or high < 0)


def compare(variants: list[GroupCounts], holdout: GroupCounts | None) -> list[GroupResult]:
    """Each variant's rates and its uplift against the holdout, then the holdout's own row."""

    def result(group: GroupCounts, against: GroupCounts | None) -> GroupResult:
        return GroupResult(
            label=group.label,
            recipients=group.recipients,
            conversions=group.conversions,
            conversion_rate=conversion_rate(group),
            revenue=group.revenue,
            revenue_per_recipient=revenue_per_recipient(group),
            uplift=uplift(group, against) if against is not None else None,
            revenue_per_recipient_vs_holdout=(
                revenue_per_recipient(group) - revenue_per_recipient(against)
                if against is not None and against.recipients and group.recipients
                else None
            ),
        )

    rows = [result(variant, holdout) for variant in variants]
    if holdout is not None:
        rows.append(result(holdout, None))
    return rows
