"""RFM scores: every customer who ever bought gets recency, frequency and monetary quintiles
(1 to 5, 5 best) and the cell of the recency x frequency grid, in one INSERT ... SELECT with
``NTILE(5)`` windows.

Recency is whole days since the last purchase (all history); frequency and monetary are the
purchases and their totals over the last ``SEGMENT_RFM_WINDOW_DAYS``. ``NTILE`` alone would
give equal values different scores (who gets the higher one would be arbitrary), so each score
is the lowest quintile its value reached: customers with the same figure always share a score.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, DecimalField, Max, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from campaigns.locks import lock_rfm_scores
from campaigns.models import CustomerRfm
from campaigns.rules import relations

Cell = CustomerRfm.Cell

# (cell, condition on the scores r and f), first match wins; every (r, f) has one.
CELLS = [
    (Cell.CHAMPIONS, "r = 5 AND f >= 4"),
    (Cell.LOYAL, "r >= 3 AND f >= 4"),
    (Cell.CANNOT_LOSE, "r <= 2 AND f = 5"),
    (Cell.AT_RISK, "r <= 2 AND f >= 3"),
    (Cell.HIBERNATING, "r <= 2"),
    (Cell.NEED_ATTENTION, "r = 3 AND f = 3"),
    (Cell.ABOUT_TO_SLEEP, "r = 3"),
    (Cell.NEW_CUSTOMERS, "r = 5 AND f = 1"),
    (Cell.PROMISING, "r = 4 AND f = 1"),
    (Cell.POTENTIAL_LOYALISTS, "r >= 4"),
]


def _days_since(now_placeholder: str, column: str) -> str:
    if connection.vendor == "postgresql":
        return f"FLOOR(EXTRACT(EPOCH FROM ({now_placeholder} - {column})) / 86400)::integer"
    return f"CAST(julianday({now_placeholder}) - julianday({column}) AS INTEGER)"


@transaction.atomic
def refresh_rfm_scores(*, now: datetime | None = None) -> int:
    """Recompute every customer's RFM scores; returns how many customers are scored."""
    now = now or timezone.now()
    since = now - timedelta(days=settings.SEGMENT_RFM_WINDOW_DAYS)
    lock_rfm_scores()
    in_window = Q(placed_at__gte=since)
    stats = (
        relations.order_model()
        ._default_manager.filter(
            status__in=relations.purchase_statuses(),
            customer__isnull=False,
            customer__erased_at=None,
        )
        .values("customer_id")
        .annotate(
            last_order_at=Max("placed_at"),
            frequency=Count("pk", filter=in_window),
            monetary=Coalesce(
                Sum("total", filter=in_window),
                Value(Decimal("0")),
                output_field=DecimalField(max_digits=14, decimal_places=2),
            ),
        )
        .order_by()
    )
    stats_sql, stats_params = stats.query.sql_with_params()
    table = connection.ops.quote_name(CustomerRfm._meta.db_table)
    cells = " ".join(f"WHEN {test} THEN '{cell.value}'" for cell, test in CELLS)
    moment = connection.ops.adapt_datetimefield_value(now)
    sql = f"""
        INSERT INTO {table}
            (customer_id, recency_days, frequency, monetary, r_score, f_score, m_score, cell,
             computed_at)
        SELECT customer_id, recency_days, frequency, monetary, r, f, m,
               CASE {cells} END, %s
        FROM (
            SELECT customer_id, recency_days, frequency, monetary,
                   MIN(r0) OVER (PARTITION BY recency_days) AS r,
                   MIN(f0) OVER (PARTITION BY frequency) AS f,
                   MIN(m0) OVER (PARTITION BY monetary) AS m
            FROM (
                SELECT customer_id, recency_days, frequency, monetary,
                       NTILE(5) OVER (ORDER BY recency_days DESC, customer_id) AS r0,
                       NTILE(5) OVER (ORDER BY frequency, customer_id) AS f0,
                       NTILE(5) OVER (ORDER BY monetary, customer_id) AS m0
                FROM (
                    SELECT customer_id, {_days_since("%s", "last_order_at")} AS recency_days,
                           frequency, monetary
                    FROM ({stats_sql}) AS stats
                ) AS measured
            ) AS ranked
        ) AS scored
    """
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")
        cursor.execute(sql, [moment, moment, *stats_params])
        return int(cursor.rowcount)
