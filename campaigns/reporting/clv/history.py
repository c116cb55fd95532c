"""Every buyer's purchase history as the CLV models read it, in one SQL query over orders
reached through ``Customer``'s relations (``rules.relations``: campaigns does not import
orders).

Purchases are grouped per day, as the literature does: two orders on one day (a basket split
between the app and the till) are one purchase of their summed value. For each customer, up
to the last observed day: the first and last purchase day, the number of repeat purchase days
``x``, the mean value of those repeat days ``m_x`` (the first purchase is left out of the
spend model, as Fader & Hardie do), orders and revenue by channel; and the purchase days in
an optional holdout period after it, for the calibration report.

Revenue to date is net: what returns refunded, and what was refunded for units no location
could ship (cancelled on the line), by the end of the last observed day, is taken off the
orders it was given back on. The models read purchases as they were paid (a refund does not
undo a purchase day, nor its value for the spend model).

Margin to date is that net revenue less what the goods kept (neither returned nor cancelled)
cost, each line at the cost price known when it was sold (``OrderLine.unit_cost``). A customer
with a kept line of unknown cost has no margin rather than an inflated one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import numpy as np
from django.db import connection
from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from numpy.typing import NDArray

from campaigns.reporting.clv.fitting import FloatArray
from campaigns.rules import relations
from omni.core.channels import Channel

CHUNK_ROWS = 20_000


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
    revenue_cents: NDArray[np.int64]  # exact, and 8 bytes a customer rather than a Decimal
    holdout_x: FloatArray  # purchase days after ``until``, up to the holdout's end
    cost_cents: NDArray[np.int64]  # what the goods kept cost, where known
    uncosted: NDArray[np.int64]  # kept lines without a cost price

    def __len__(self) -> int:
        return int(self.customer_ids.shape[0])

    @property
    def repeat_customers(self) -> int:
        return int((self.x > 0).sum())

    def revenue(self, i: int) -> Decimal:
        return Decimal(int(self.revenue_cents[i])).scaleb(-2)

    def margin(self, i: int) -> Decimal | None:
        if self.uncosted[i]:
            return None
        return Decimal(int(self.revenue_cents[i] - self.cost_cents[i])).scaleb(-2)


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
        .annotate(day=TruncDate("placed_at"), given_back=_refunded(until), **_goods_cost())
        .values("customer_id", "day")
        .annotate(
            value=Sum("total"),
            refunded=Sum("given_back"),
            cost=Sum("kept_cost"),
            uncosted=Sum("kept_uncosted"),
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
               SUM(CASE WHEN day <= %s THEN value - refunded ELSE 0 END),
               SUM(CASE WHEN day > %s THEN 1 ELSE 0 END),
               SUM(CASE WHEN day <= %s THEN cost ELSE 0 END),
               SUM(CASE WHEN day <= %s THEN uncosted ELSE 0 END)
        FROM (
            SELECT customer_id, day, value, refunded, cost, uncosted, orders, store_orders,
                   MIN(day) OVER (PARTITION BY customer_id) AS first_day
            FROM ({days_sql}) AS days
        ) AS dated
        GROUP BY customer_id
        HAVING MIN(first_day) <= %s
        ORDER BY customer_id
    """
    # Read a chunk at a time (a server-side cursor on PostgreSQL) into numpy columns, so a
    # base of millions of buyers never sits in memory as Python rows.
    chunks: list[list[NDArray[Any]]] = []
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, [cutoff] * 9 + list(days_params) + [cutoff])
        while rows := cursor.fetchmany(CHUNK_ROWS):
            chunks.append(_columns(rows))
    columns = [np.concatenate(parts) for parts in zip(*chunks, strict=True)] if chunks else None
    return _histories(columns, until)


def _refunded(until: date) -> CombinedExpression:
    """What was given back on an order by the end of ``until``: its returns' refunds and the
    refunds of units no location could ship (cancelled on the line)."""
    end = timezone.make_aware(datetime.combine(until, time.max))
    money = DecimalField(max_digits=14, decimal_places=2)
    returns = (
        relations.return_model()
        ._default_manager.filter(order=OuterRef("pk"), created_at__lte=end)
        .order_by()
        .values("order")
        .annotate(s=Sum("refund_amount"))
        .values("s")
    )
    cancelled = (
        relations.order_line_model()
        ._default_manager.filter(order=OuterRef("pk"))
        .order_by()
        .values("order")
        .annotate(s=Sum("cancelled_refund"))
        .values("s")
    )
    zero = Value(Decimal("0"), output_field=money)
    given_back = Coalesce(Subquery(returns, output_field=money), zero, output_field=money)
    return given_back + Coalesce(Subquery(cancelled, output_field=money), zero, output_field=money)


def _goods_cost() -> dict[str, Coalesce]:
    """Per order: what its kept units cost (``kept_cost``) and how many kept lines have no
    cost price (``kept_uncosted``)."""
    money = DecimalField(max_digits=14, decimal_places=2)
    lines = (
        relations.order_line_model()
        ._default_manager.filter(order=OuterRef("pk"))
        .annotate(kept=F("quantity") - F("returned_quantity") - F("cancelled_quantity"))
        .filter(kept__gt=0)
        .order_by()
        .values("order")
    )
    cost = lines.annotate(
        s=Sum(ExpressionWrapper(F("unit_cost") * F("kept"), output_field=money))
    ).values("s")
    uncosted = lines.filter(unit_cost__isnull=True).annotate(n=Count("pk")).values("n")
    return {
        "kept_cost": Coalesce(
            Subquery(cost, output_field=money), Value(Decimal("0")), output_field=money
        ),
        "kept_uncosted": Coalesce(Subquery(uncosted, output_field=IntegerField()), Value(0)),
    }


def _cents(value: object) -> int:
    """Money from the database (Decimal on PostgreSQL, a float on SQLite) in whole cents."""
    return int((Decimal(str(value)) * 100).to_integral_value())


def _columns(rows: list[tuple[Any, ...]]) -> list[NDArray[Any]]:
    ids, first, last, x, repeat_value, orders, store, revenue, holdout, cost, uncosted = zip(
        *rows, strict=True
    )
    return [
        np.array(ids, dtype=np.int64),
        np.array(first, dtype="datetime64[D]"),
        np.array(last, dtype="datetime64[D]"),
        np.array(x, dtype=float),
        np.array([_cents(v) for v in repeat_value], dtype=np.int64),
        np.array(orders, dtype=np.int64),
        np.array(store, dtype=np.int64),
        np.array([_cents(v) for v in revenue], dtype=np.int64),
        np.array(holdout, dtype=float),
        np.array([_cents(v) for v in cost], dtype=np.int64),
        np.array(uncosted, dtype=np.int64),
    ]


def _histories(columns: list[NDArray[Any]] | None, until: date) -> Histories:
    if columns is None:
        no_ints, no_days = np.zeros(0, dtype=np.int64), np.zeros(0, dtype="datetime64[D]")
        columns = [no_ints, no_days, no_days, np.zeros(0), no_ints, no_ints, no_ints, no_ints]
        columns += [np.zeros(0), no_ints, no_ints]
    ids, first_day, last_day, x, repeat_cents, orders, store, revenue_cents, holdout = columns[:9]
    cost_cents, uncosted = columns[9:]
    repeat = repeat_cents / 100.0
    return Histories(
        until=until,
        customer_ids=ids,
        first_day=first_day,
        last_day=last_day,
        x=x,
        t_x=(last_day - first_day).astype(float),
        big_t=(np.datetime64(until, "D") - first_day).astype(float),
        m_x=np.divide(repeat, x, out=np.zeros_like(repeat), where=x > 0),
        orders=orders,
        store_orders=store,
        revenue_cents=revenue_cents,
        holdout_x=holdout,
        cost_cents=cost_cents,
        uncosted=uncosted,
    )
