"""Every buyer's purchase history as the CLV models read it, in one SQL query over orders
reached through ``Customer``'s relations (``rules.relations``: campaigns does not import
orders).

Purchases are grouped per day, as the literature does: two orders on one day (a basket split
between the app and the till) are one purchase of their summed value. For each customer, up
to the last observed day: the first and last purchase day, the number of repeat purchase days
``x``, the mean value of those repeat days ``m_x`` (the first purchase is left out of the
spend model, as Fader & Hardie do), orders and revenue by channel; and the purchase days in
an optional holdout period after it, for the calibration report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

import numpy as np
from django.db import connection
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from numpy.typing import NDArray

from campaigns.reporting.clv.fitting import FloatArray
from campaigns.rules import relations
from omni.core.channels import Channel


@dataclass(frozen=True)
class Histories:
    """Column arrays, one entry per customer who bought on or before ``until``."""

    until: date
    customer_ids: NDArray[np.int64]
    first_day: NDArray[np.datetime64]
    last_day: NDArray[np.datetime64]
    x: FloatArray  # repeat purchase days
    t_x: FloatArray  # days from the first to the last purchase day
    big_t: FloatArray  # days from the first purchase day to ``until``
    m_x: FloatArray  # mean value of the repeat purchase days (0 without one)
    orders: NDArray[np.int64]
    store_orders: NDArray[np.int64]
    revenue: list[Decimal]
    holdout_x: FloatArray  # purchase days after ``until``, up to the holdout's end

    def __len__(self) -> int:
        return int(self.customer_ids.shape[0])

    @property
    def repeat_customers(self) -> int:
        return int((self.x > 0).sum())


def purchase_histories(*, until: date, holdout_until: date | None = None) -> Histories:
    """Histories of every non-erased buyer up to and including the day ``until`` (days in the
    current time zone), with purchases on days in (until, holdout_until] counted apart."""
    end = holdout_until or until
    last_moment = timezone.make_aware(datetime.combine(end, time.max))
    days = (
        relations.order_model()
        ._default_manager.filter(
            status__in=relations.purchase_statuses(),
            customer__isnull=False,
            customer__erased_at=None,
            placed_at__lte=last_moment,
        )
        .annotate(day=TruncDate("placed_at"))
        .values("customer_id", "day")
        .annotate(
            value=Sum("total"),
            orders=Count("pk"),
            store_orders=Count("pk", filter=Q(channel=Channel.STORE)),
        )
        .order_by()
    )
    days_sql, days_params = days.query.sql_with_params()
    cutoff = connection.ops.adapt_datefield_value(until)
    sql = f"""
        SELECT customer_id,
               MIN(first_day),
               MAX(CASE WHEN day <= %s THEN day END),
               SUM(CASE WHEN day <= %s THEN 1 ELSE 0 END) - 1,
               SUM(CASE WHEN day <= %s AND day > first_day THEN value ELSE 0 END),
               SUM(CASE WHEN day <= %s THEN orders ELSE 0 END),
               SUM(CASE WHEN day <= %s THEN store_orders ELSE 0 END),
               SUM(CASE WHEN day <= %s THEN value ELSE 0 END),
               SUM(CASE WHEN day > %s THEN 1 ELSE 0 END)
        FROM (
            SELECT customer_id, day, value, orders, store_orders,
                   MIN(day) OVER (PARTITION BY customer_id) AS first_day
            FROM ({days_sql}) AS days
        ) AS dated
        GROUP BY customer_id
        HAVING MIN(first_day) <= %s
        ORDER BY customer_id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [cutoff] * 7 + list(days_params) + [cutoff])
        rows = cursor.fetchall()
    return _columns(rows, until)


def _columns(rows: list[tuple[object, ...]], until: date) -> Histories:
    (ids, first, last, x, repeat_value, orders, store, revenue, holdout) = (
        (list(column) for column in zip(*rows, strict=True)) if rows else ([] for _ in range(9))
    )
    first_day = np.array(first, dtype="datetime64[D]")
    last_day = np.array(last, dtype="datetime64[D]")
    end = np.datetime64(until, "D")
    x_array = np.array(x, dtype=float)
    repeat = np.array([Decimal(v) for v in repeat_value], dtype=float)
    return Histories(
        until=until,
        customer_ids=np.array(ids, dtype=np.int64),
        first_day=first_day,
        last_day=last_day,
        x=x_array,
        t_x=(last_day - first_day).astype(float),
        big_t=(end - first_day).astype(float),
        m_x=np.divide(repeat, x_array, out=np.zeros_like(repeat), where=x_array > 0),
        orders=np.array(orders, dtype=np.int64),
        store_orders=np.array(store, dtype=np.int64),
        revenue=[Decimal(v).quantize(Decimal("0.01")) for v in revenue],
        holdout_x=np.array(holdout, dtype=float),
    )
