"""Acquisition cohorts and retention: customers grouped by the month of their first order and
the sales channel of that order (web, app, store), and per cohort the share who ordered again
in each of the 12 months after (the retention curve), the repeat-purchase rate (2 orders or
more to date, and a second order within 90 days of the first) and the share who became
omnichannel (orders both online and in a store, to date).

**What counts.** Orders of known customers (a guest's order has no one to follow) in any
status but cancelled or expired, read through ``Customer``'s relations. A return does not
remove an order: a customer who returned everything still ordered. Months are calendar months
in ``TIME_ZONE``; month +1 of a March cohort is April, whatever the day of the first order.
A month that has not begun yet has no figure (``None``), and the current month is still
partial. An erased customer's orders still count (the report shows no one).

**How.** One query: the purchases numbered per customer by a window (``ROW_NUMBER``,
``FIRST_VALUE``: the first order's month, channel, store and moment), then counted per cohort
and month after it. Portable SQL (window functions), so the SQLite demo runs it too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import connection
from django.db.models import F, IntegerField, Value
from django.db.models.functions import Coalesce, ExtractMonth, ExtractYear
from django.utils import timezone

from campaigns.reporting import sales_channels
from campaigns.reporting.attribution import check_range
from campaigns.reporting.sales_channels import SalesChannel
from campaigns.rules import relations
from omni.core.errors import InvalidInput

RETENTION_MONTHS = 12
REPEAT_WINDOW_DAYS = 90


def month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def month_of(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


@dataclass
class Cohort:
    """Customers whose first order fell in ``month`` on ``channel``."""

    month: date
    channel: str
    customers: int
    # retained[k - 1]: customers who ordered in month +k; None while that month has not begun.
    retained: list[int | None] = field(default_factory=list)
    repeat_customers: int = 0  # 2 orders or more, to date
    repeat_within_90: int = 0  # a second order at most 90 days after the first
    # False while some of the cohort's first orders are less than 90 days old.
    repeat_window_complete: bool = True
    omnichannel: int = 0  # orders online and in a store, to date
    # What each month's figure is a share of, when not every customer could be seen that far
    # (a sum of cohorts: only those whose month +k has begun).
    bases: list[int] | None = None

    @property
    def channel_label(self) -> str:
        return sales_channels.label(self.channel)

    @property
    def retention(self) -> list[float | None]:
        bases = self.bases or [self.customers] * len(self.retained)
        return [
            None if n is None else _share(n, base)
            for n, base in zip(self.retained, bases, strict=True)
        ]

    @property
    def repeat_rate(self) -> float:
        return _share(self.repeat_customers, self.customers)

    @property
    def repeat_within_90_rate(self) -> float:
        return _share(self.repeat_within_90, self.customers)

    @property
    def omnichannel_rate(self) -> float:
        return _share(self.omnichannel, self.customers)


@dataclass
class CohortReport:
    start: date
    end: date
    today: date
    cohorts: list[Cohort]
    # Per sales channel, every cohort of the range together (the months each could be seen).
    by_channel: list[Cohort]


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _orders_sql(until: datetime) -> tuple[str, tuple[Any, ...]]:
    """customer_id, id, placed_at, month (year * 12 + month - 1), channel (sales), store."""
    zone = timezone.get_default_timezone()
    orders = (
        relations.order_model()
        ._default_manager.filter(
            status__in=relations.purchase_statuses(),
            customer__isnull=False,
            placed_at__lt=until,
        )
        .annotate(
            month=ExtractYear("placed_at", tzinfo=zone) * Value(12)
            + ExtractMonth("placed_at", tzinfo=zone)
            - Value(1),
            sales=sales_channels.sales_channel(),
            store_code=Coalesce(F("store__code"), Value("")),
        )
        .values("customer_id", "pk", "placed_at", "month", "sales", "store_code")
        .order_by()
    )
    # The month's arithmetic is an integer on every database.
    orders.query.annotations["month"].output_field = IntegerField()
    sql, params = orders.query.sql_with_params()
    return sql, tuple(params)


def _cohort_rows(
    first_month: int, last_month: int, channel: str, store_code: str, until: datetime
) -> list[tuple[Any, ...]]:
    orders_sql, orders_params = _orders_sql(until)
    later = RETENTION_MONTHS + 1  # every order after month +12 counts in one bucket
    chosen, chosen_params = "", []
    if channel:
        chosen += " AND cohort_channel = %s"
        chosen_params.append(channel)
    if store_code:
        chosen += " AND cohort_store = %s"
        chosen_params.append(store_code)
    within = sales_channels.within_days_after("placed_at", "first_at")
    sql = f"""
        WITH orders (customer_id, id, placed_at, month, channel, store) AS ({orders_sql}),
        numbered AS (
            SELECT o.*, ROW_NUMBER() OVER in_time AS n,
                   FIRST_VALUE(month) OVER in_time AS cohort,
                   FIRST_VALUE(channel) OVER in_time AS cohort_channel,
                   FIRST_VALUE(store) OVER in_time AS cohort_store,
                   FIRST_VALUE(placed_at) OVER in_time AS first_at,
                   COUNT(*) OVER mine AS orders,
                   SUM(CASE WHEN channel = '{SalesChannel.STORE}' THEN 1 ELSE 0 END)
                       OVER mine AS store_orders
            FROM orders o
            WINDOW in_time AS (PARTITION BY customer_id ORDER BY placed_at, id),
                   mine AS (PARTITION BY customer_id)
        )
        SELECT cohort, cohort_channel,
               CASE WHEN month - cohort > {later} THEN {later} ELSE month - cohort END AS age,
               COUNT(DISTINCT customer_id),
               SUM(CASE WHEN n = 2 THEN 1 ELSE 0 END),
               SUM(CASE WHEN n = 2 AND {within} THEN 1 ELSE 0 END),
               SUM(CASE WHEN n = 1 AND store_orders > 0 AND store_orders < orders
                        THEN 1 ELSE 0 END)
        FROM numbered
        WHERE cohort BETWEEN %s AND %s{chosen}
        GROUP BY cohort, cohort_channel,
                 CASE WHEN month - cohort > {later} THEN {later} ELSE month - cohort END
    """
    with connection.cursor() as cursor:
        cursor.execute(
            sql, [*orders_params, REPEAT_WINDOW_DAYS, first_month, last_month, *chosen_params]
        )
        return list(cursor.fetchall())


def cohorts(
    *,
    start: date,
    end: date,
    channel: str = "",
    store_code: str = "",
    now: datetime | None = None,
) -> CohortReport:
    """The cohorts of the months from ``start``'s to ``end``'s (both included), optionally
    those whose first order was on ``channel`` or at the store ``store_code``; orders up to
    ``now`` count. One query."""
    check_range(start, end)
    if channel and channel not in SalesChannel.values:
        raise InvalidInput(
            f"Unknown sales channel {channel!r}: one of {', '.join(SalesChannel.values)}.",
            details={"channel": channel},
        )
    now = now or timezone.now()
    today = timezone.localdate(now)
    current = month_index(today)
    found: dict[tuple[int, str], Cohort] = {}
    for cohort, cohort_channel, age, customers, repeat, within, omni in _cohort_rows(
        month_index(start), month_index(end), channel, store_code, now
    ):
        key = (int(cohort), str(cohort_channel))
        made = found.get(key)
        if made is None:
            made = found[key] = _empty(key[0], key[1], current, today)
        age = int(age)
        if age == 0:
            made.customers = int(customers)
        elif age <= RETENTION_MONTHS and key[0] + age <= current:
            made.retained[age - 1] = int(customers)
        made.repeat_customers += int(repeat or 0)
        made.repeat_within_90 += int(within or 0)
        made.omnichannel += int(omni or 0)
    order = {value: n for n, value in enumerate(SalesChannel.values)}
    ordered = sorted(found.values(), key=lambda c: (c.month, order.get(c.channel, 9)))
    return CohortReport(
        start=start,
        end=end,
        today=today,
        cohorts=ordered,
        by_channel=_by_channel(ordered),
    )


def _empty(cohort: int, channel: str, current: int, today: date) -> Cohort:
    """A cohort before its counts: 0 in each month +k that has begun, None in the others."""
    month = month_of(cohort)
    last_day = month_of(cohort + 1)
    return Cohort(
        month=month,
        channel=channel,
        customers=0,
        retained=[0 if cohort + k <= current else None for k in range(1, RETENTION_MONTHS + 1)],
        repeat_window_complete=(today - last_day).days + 1 >= REPEAT_WINDOW_DAYS,
    )


def _by_channel(found: list[Cohort]) -> list[Cohort]:
    """Each channel's cohorts added together. Month +k adds up only the cohorts that could
    be seen that far (a cohort whose month +k has not begun counts in neither part)."""
    totals: dict[str, Cohort] = {}
    for cohort in found:
        total = totals.setdefault(
            cohort.channel,
            Cohort(
                month=cohort.month,
                channel=cohort.channel,
                customers=0,
                retained=[None] * RETENTION_MONTHS,
                bases=[0] * RETENTION_MONTHS,
            ),
        )
        total.customers += cohort.customers
        total.repeat_customers += cohort.repeat_customers
        total.repeat_within_90 += cohort.repeat_within_90
        total.omnichannel += cohort.omnichannel
        total.repeat_window_complete &= cohort.repeat_window_complete
        for k, retained in enumerate(cohort.retained):
            if retained is not None:
                total.retained[k] = (total.retained[k] or 0) + retained
                total.bases[k] += cohort.customers  # type: ignore[index]
    return [totals[c] for c in SalesChannel.values if c in totals]
