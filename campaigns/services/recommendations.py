"""Products to suggest in a campaign message ({{ products }}), for a whole batch of customers
in a few queries: the best sellers of the categories each customer bought from, then the shop's
best sellers, never a product the customer bought in the last ``CAMPAIGN_RECENT_PURCHASE_DAYS``
days. A plain placeholder until analytics ranks products better; its callers need only the
names.

Orders are read through ``Customer``'s relations (``campaigns.rules.relations``): campaigns
does not import orders.
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Sum

from campaigns.rules.relations import order_line_model, purchase_statuses

# How far back "best seller" looks, and how many best sellers per category are considered.
BEST_SELLER_DAYS = 90
PER_CATEGORY = 10


def recommended_products(
    customer_ids: Sequence[int], *, now: datetime, limit: int = 3
) -> dict[int, list[str]]:
    """Product names for each customer (at most ``limit``), in four queries whatever the
    number of customers."""
    lines = order_line_model()._default_manager.filter(
        order__status__in=purchase_statuses(), sku__product__is_active=True
    )
    recent_since = now - timedelta(days=settings.CAMPAIGN_RECENT_PURCHASE_DAYS)
    recent: dict[int, set[int]] = defaultdict(set)
    for customer_id, product_id in lines.filter(
        order__customer_id__in=customer_ids, order__placed_at__gte=recent_since
    ).values_list("order__customer_id", "sku__product_id"):
        recent[customer_id].add(product_id)
    categories: dict[int, set[int]] = defaultdict(set)
    for customer_id, category_id in (
        lines.filter(order__customer_id__in=customer_ids, sku__product__category__isnull=False)
        .values_list("order__customer_id", "sku__product__category_id")
        .order_by()
        .distinct()
    ):
        categories[customer_id].add(category_id)
    selling = lines.filter(order__placed_at__gte=now - timedelta(days=BEST_SELLER_DAYS))
    by_category: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
    wanted = set().union(*categories.values()) if categories else set()
    if wanted:
        for category_id, product_id, name, units in (
            selling.filter(sku__product__category_id__in=wanted)
            .values_list("sku__product__category_id", "sku__product_id", "sku__product__name")
            .annotate(units=Sum("quantity"))
            .order_by("-units", "sku__product_id")
        ):
            if len(by_category[category_id]) < PER_CATEGORY:
                by_category[category_id].append((-units, product_id, name))
    overall = [
        (product_id, name)
        for product_id, name, _ in selling.values_list("sku__product_id", "sku__product__name")
        .annotate(units=Sum("quantity"))
        .order_by("-units", "sku__product_id")[: PER_CATEGORY + limit]
    ]
    picks: dict[int, list[str]] = {}
    for customer_id in customer_ids:
        theirs = sorted(p for c in categories[customer_id] for p in by_category[c])
        ranked = [(product_id, name) for _, product_id, name in theirs] + overall
        names: list[str] = []
        seen: set[int] = set()
        for product_id, name in ranked:
            if product_id in recent[customer_id] or product_id in seen:
                continue
            seen.add(product_id)
            names.append(name)
            if len(names) == limit:
                break
        picks[customer_id] = names
    return picks
