"""Campaign ROI: for each campaign started in a date range, what it cost, the messages it sent,
the conversions and revenue it counts, and what it earned beyond what its audience would have
spent anyway, measured against its holdout.

The counting is the campaign results' (``selectors.campaign_results``): every customer
assigned to a variant is a recipient, reached or not (intent to treat); a recipient converted
when they placed an order (any channel, any status but cancelled or expired) within the
campaign's conversion window after their message was due. Here the variants count together
as "treated".

- **Attributed revenue**: the treated recipients' orders in their window (it includes what
  they would have bought anyway).
- **Incremental revenue**: (revenue per treated recipient - revenue per holdout member) x
  treated recipients, with a 95 % interval from the two groups' per-recipient revenue
  (Welch: the variances of each group, unpooled, normal approximation); none without a
  holdout, no interval with fewer than 2 in either group.
- **ROI** = (incremental revenue - cost) / cost, with the interval carried through; **ROAS**
  (attributed revenue / cost) and **cost per conversion** beside it. Without a cost (empty or
  0) there is no ratio to give, and the report says so rather than divide by zero.

Two queries for the whole range: the campaigns, then every recipient's conversion and spend
aggregated per campaign and group.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from statistics import NormalDist
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    DecimalField,
    Exists,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from campaigns import services
from campaigns.models import Campaign, CampaignRecipient
from campaigns.reporting import sales_channels
from campaigns.reporting.attribution import check_range
from campaigns.rules import relations

Z_95 = NormalDist().inv_cdf(0.975)
CENT = Decimal("0.01")
NOT_STARTED = (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED)


@dataclass(frozen=True)
class Group:
    """Recipients of one side of a campaign, their conversions, and the sum and sum of squares
    of what each spent in their window (for the interval)."""

    recipients: int = 0
    conversions: int = 0
    revenue: Decimal = Decimal("0")
    revenue_squares: float = 0.0
    sent: int = 0

    @property
    def mean(self) -> Decimal:
        return self.revenue / self.recipients if self.recipients else Decimal("0")

    @property
    def variance(self) -> float | None:
        if self.recipients < 2:
            return None
        total = float(self.revenue)
        spread = self.revenue_squares - total * total / self.recipients
        return max(spread, 0.0) / (self.recipients - 1)


@dataclass
class CampaignRoi:
    campaign: Campaign
    treated: Group
    holdout: Group
    uplift: services.Uplift | None  # conversion rate, treated vs holdout (campaign results)

    @property
    def cost(self) -> Decimal | None:
        return self.campaign.cost

    @property
    def has_cost(self) -> bool:
        return self.cost is not None and self.cost > 0

    @property
    def has_holdout(self) -> bool:
        return self.holdout.recipients > 0 and self.treated.recipients > 0

    @property
    def messages_sent(self) -> int:
        return self.treated.sent

    @property
    def conversions(self) -> int:
        return self.treated.conversions

    @property
    def attributed_revenue(self) -> Decimal:
        return self.treated.revenue

    @property
    def incremental_revenue(self) -> Decimal | None:
        if not self.has_holdout:
            return None
        return _cents((self.treated.mean - self.holdout.mean) * self.treated.recipients)

    @property
    def incremental_interval(self) -> tuple[Decimal, Decimal] | None:
        """The 95 % interval of the incremental revenue (Welch, normal approximation)."""
        increment = self.incremental_revenue
        treated, holdout = self.treated.variance, self.holdout.variance
        if increment is None or treated is None or holdout is None:
            return None
        error = math.sqrt(treated / self.treated.recipients + holdout / self.holdout.recipients)
        half = _cents(Decimal(repr(Z_95 * error * self.treated.recipients)))
        return increment - half, increment + half

    @property
    def roi(self) -> float | None:
        increment = self.incremental_revenue
        if increment is None or not self.has_cost:
            return None
        return float((increment - self._cost) / self._cost)

    @property
    def roi_interval(self) -> tuple[float, float] | None:
        interval = self.incremental_interval
        if interval is None or not self.has_cost:
            return None
        low, high = interval
        return float((low - self._cost) / self._cost), float((high - self._cost) / self._cost)

    @property
    def roas(self) -> float | None:
        """Attributed revenue per unit of cost."""
        return float(self.attributed_revenue / self._cost) if self.has_cost else None

    @property
    def cost_per_conversion(self) -> Decimal | None:
        if not self.has_cost or not self.conversions:
            return None
        return _cents(self._cost / self.conversions)

    @property
    def _cost(self) -> Decimal:
        assert self.cost is not None
        return self.cost


@dataclass
class RoiReport:
    start: date
    end: date
    campaigns: list[CampaignRoi]


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _recipients_sql(campaign_ids: list[int], window_days: int) -> tuple[str, list[Any]]:
    """One row per recipient of these campaigns (whose conversion window is ``window_days``):
    campaign, holdout (1/0), converted (1/0), spent, sent (1/0). The window is a constant, as
    in the campaign results: date arithmetic on a column is not portable (SQLite)."""
    orders = relations.order_model()._default_manager.filter(
        customer=OuterRef("customer"),
        status__in=relations.purchase_statuses(),
        placed_at__gte=OuterRef("due"),
        placed_at__lt=OuterRef("due") + timedelta(days=window_days),
    )
    spent = orders.order_by().values("customer").annotate(s=Sum("total")).values("s")[:1]
    money = DecimalField(max_digits=14, decimal_places=2)
    rows = (
        CampaignRecipient.objects.filter(campaign_id__in=campaign_ids)
        .annotate(due=Coalesce("not_before", "created_at"))
        .annotate(
            holdout=Case(When(variant__isnull=True, then=Value(1)), default=Value(0)),
            converted=Case(When(Exists(orders), then=Value(1)), default=Value(0)),
            spent=Coalesce(
                Subquery(spent, output_field=money), Value(Decimal("0")), output_field=money
            ),
            sent=Case(When(Q(notification__status="sent"), then=Value(1)), default=Value(0)),
        )
        .values("campaign_id", "holdout", "converted", "spent", "sent")
        .order_by()
    )
    sql, params = rows.query.sql_with_params()
    return sql, list(params)


def _groups(campaigns: list[Campaign]) -> dict[tuple[int, bool], Group]:
    """Per campaign and side, in one query: the recipients of the campaigns sharing a
    conversion window are read together, the windows joined by ``UNION ALL``."""
    by_window: dict[int, list[int]] = {}
    for campaign in campaigns:
        by_window.setdefault(campaign.conversion_window_days, []).append(campaign.pk)
    if not by_window:
        return {}
    parts, params = [], []
    for days, ids in sorted(by_window.items()):
        sql, part_params = _recipients_sql(ids, days)
        parts.append(f"SELECT * FROM ({sql}) AS w{days}")
        params.extend(part_params)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT campaign_id, holdout, COUNT(*), SUM(converted), SUM(spent),
                   SUM(CAST(spent AS DOUBLE PRECISION) * CAST(spent AS DOUBLE PRECISION)),
                   SUM(sent)
            FROM ({" UNION ALL ".join(parts)}) AS recipients
            GROUP BY campaign_id, holdout
            """,
            params,
        )
        return {
            (int(campaign), bool(holdout)): Group(
                recipients=int(n),
                conversions=int(converted or 0),
                revenue=Decimal(str(revenue or 0)).quantize(CENT),
                revenue_squares=float(squares or 0),
                sent=int(sent or 0),
            )
            for campaign, holdout, n, converted, revenue, squares, sent in cursor.fetchall()
        }


def campaign_roi(*, start: date, end: date) -> RoiReport:
    """Every campaign started from ``start`` to ``end`` (days included, ``TIME_ZONE``), most
    recent first, with its ROI figures. Two queries."""
    check_range(start, end)
    since, until = sales_channels.bounds(start, end)
    campaigns = list(
        Campaign.objects.filter(started_at__gte=since, started_at__lt=until)
        .exclude(status__in=NOT_STARTED)
        .order_by("-started_at", "-pk")
    )
    groups = _groups(campaigns)
    found = []
    for campaign in campaigns:
        treated = groups.get((campaign.pk, False), Group())
        holdout = groups.get((campaign.pk, True), Group())
        uplift = None
        if treated.recipients and holdout.recipients:
            uplift = services.compare(
                [services.GroupCounts("treated", treated.recipients, treated.conversions)],
                services.GroupCounts("holdout", holdout.recipients, holdout.conversions),
            )[0].uplift
        found.append(CampaignRoi(campaign, treated, holdout, uplift))
    return RoiReport(start=start, end=end, campaigns=found)
