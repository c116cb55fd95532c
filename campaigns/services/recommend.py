"""Item-to-item recommendations from orders: which products are bought together.

Every pair of products that appeared in the same order (a purchase: not cancelled or expired)
within the window is counted once per order; pairs seen in fewer than ``min_support`` orders are
noise and dropped. The score is the Jaccard index — orders with both over orders with either —
so a best-seller, which is in many orders with everything, does not top every list: it is
divided by its own popularity. Each product keeps its ``per_product`` best pairs.

One ``INSERT ... SELECT`` over the order lines (through ``Customer``'s relations: campaigns does
not import orders), replacing the previous rows in the same transaction, so readers see the old
set or the new one, never half. Portable SQL (CTEs and ``ROW_NUMBER``): the demo runs it on
SQLite.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from campaigns.locks import lock_affinities
from campaigns.models import ProductAffinity
from campaigns.rules import relations
from inventory.models import Sku
from omni.core.errors import InvalidRequest


def _check(min_support: int, window_days: int, per_product: int) -> None:
    errors = {}
    if min_support < 1:
        errors["min_support"] = ["At least 1 order must hold a pair."]
    if window_days < 1:
        errors["window_days"] = ["The window is at least 1 day."]
    if per_product < 1:
        errors["per_product"] = ["Keep at least 1 related product per product."]
    if errors:
        raise InvalidRequest("Recommendations cannot be computed as asked.", details=errors)


@transaction.atomic
def refresh_affinities(
    *,
    min_support: int | None = None,
    window_days: int | None = None,
    per_product: int | None = None,
    now: datetime | None = None,
) -> int:
    """Recompute every product's "also bought" list; returns how many pairs are kept."""
    min_support = settings.RECOMMEND_MIN_SUPPORT if min_support is None else min_support
    window_days = settings.RECOMMEND_WINDOW_DAYS if window_days is None else window_days
    per_product = settings.RECOMMEND_PER_PRODUCT if per_product is None else per_product
    _check(min_support, window_days, per_product)
    now = now or timezone.now()
    lock_affinities()
    ProductAffinity.objects.all().delete()
    order, line = relations.order_model()._meta, relations.order_line_model()._meta
    statuses = relations.purchase_statuses()
    sql = f"""
        WITH bought AS (
            SELECT DISTINCT l.order_id AS order_id, s.product_id AS product_id
            FROM {line.db_table} l
            JOIN {order.db_table} o ON o.id = l.order_id
            JOIN {Sku._meta.db_table} s ON s.id = l.sku_id
            WHERE o.placed_at >= %s AND o.placed_at <= %s
              AND o.status IN ({", ".join(["%s"] * len(statuses))})
        ),
        popularity AS (
            SELECT product_id, COUNT(*) AS orders FROM bought GROUP BY product_id
        ),
        pairs AS (
            SELECT a.product_id AS product_id, b.product_id AS related_id, COUNT(*) AS together
            FROM bought a JOIN bought b ON a.order_id = b.order_id
                AND a.product_id <> b.product_id
            GROUP BY a.product_id, b.product_id
            HAVING COUNT(*) >= %s
        ),
        scored AS (
            SELECT p.product_id, p.related_id, p.together,
                p.together * 1.0 / (pa.orders + pb.orders - p.together) AS score
            FROM pairs p
            JOIN popularity pa ON pa.product_id = p.product_id
            JOIN popularity pb ON pb.product_id = p.related_id
        ),
        ranked AS (
            SELECT product_id, related_id, together, score,
                ROW_NUMBER() OVER (
                    PARTITION BY product_id ORDER BY score DESC, together DESC, related_id
                ) AS rank
            FROM scored
        )
        INSERT INTO {ProductAffinity._meta.db_table}
            (product_id, related_id, together, score, computed_at)
        SELECT product_id, related_id, together, score, %s FROM ranked WHERE rank <= %s
    """
    params: list[datetime | str | int] = [
        now - timedelta(days=window_days),
        now,
        *statuses,
        min_support,
        now,
        per_product,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        kept: int = cursor.rowcount
    return kept
