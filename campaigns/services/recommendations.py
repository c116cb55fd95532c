"""Products to suggest in a campaign message ({{ products }}), for a whole batch of customers
in four queries: first those most bought together with what each customer bought (the product
affinities of ``services.refresh_affinities``, scores summed over their products, as
``selectors.recommended_for`` ranks them), then the best sellers of the categories they
bought from, then the shop's best sellers — never a product the customer bought in the last
``CAMPAIGN_RECENT_PURCHASE_DAYS`` days. Its callers need only the names.

Orders are read through ``Customer``'s relations (``campaigns.rules.relations``): campaigns
does not import orders.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Max, QuerySet, Sum

from campaigns.models import ProductAffinity
from campaigns.rules.relations import order_line_model, purchase_statuses

# How far back "best seller" looks, and how many best sellers per category are considered.
BEST_SELLER_DAYS = 90
PER_CATEGORY = 10


def recommended_products(
    customer_ids: Sequence[int], *, now: datetime, limit: int = 3
) -> dict[int, list[str]]:
    """Product names for each customer (at most ``limit``), in four queries whatever the
    number of customers."""
    history = _history(
        customer_ids, recent_since=now - timedelta(days=settings.CAMPAIGN_RECENT_PURCHASE_DAYS)
    )
    together = _bought_together(history)
    by_category = _category_best_sellers(history, now=now)
    overall = _best_sellers(now=now, count=PER_CATEGORY + limit)
    picks: dict[int, list[str]] = {}
    for customer_id in customer_ids:
        theirs = history.get(customer_id, _History())
        in_categories = sorted(p for c in theirs.categories for p in by_category[c])
        ranked = (
            _ranked_together(theirs, together)
            + [(product_id, name) for _, product_id, name in in_categories]
            + overall
        )
        names: list[str] = []
        seen: set[int] = set()
        for product_id, name in ranked:
            if product_id in theirs.recent or product_id in seen:
                continue
            seen.add(product_id)
            names.append(name)
            if len(names) == limit:
                break
        picks[customer_id] = names
    return picks


@dataclass
class _History:
    products: set[int] = field(default_factory=set)
    recent: set[int] = field(default_factory=set)
    categories: set[int] = field(default_factory=set)


def _purchased_lines() -> QuerySet[Any, Any]:
    return order_line_model()._default_manager.filter(order__status__in=purchase_statuses())


def _history(customer_ids: Sequence[int], *, recent_since: datetime) -> dict[int, _History]:
    """What each customer bought, what of it recently, and from which categories (one query)."""
    history: dict[int, _History] = defaultdict(_History)
    for customer_id, product_id, category_id, last in (
        _purchased_lines()
        .filter(order__customer_id__in=customer_ids, sku__product__isnull=False)
        .values_list("order__customer_id", "sku__product_id", "sku__product__category_id")
        .annotate(last=Max("order__placed_at"))
        .order_by()
    ):
        theirs = history[customer_id]
        theirs.products.add(product_id)
        if last >= recent_since:
            theirs.recent.add(product_id)
        if category_id is not None:
            theirs.categories.add(category_id)
    return history


def _bought_together(history: dict[int, _History]) -> dict[int, list[tuple[int, float, str]]]:
    """For every product the batch bought: its related products, score and name (one query;
    each product keeps a bounded number of pairs)."""
    products = set().union(*(theirs.products for theirs in history.values()))
    together: dict[int, list[tuple[int, float, str]]] = defaultdict(list)
    if products:
        for product_id, related_id, score, name in ProductAffinity.objects.filter(
            product_id__in=products, related__is_active=True
        ).values_list("product_id", "related_id", "score", "related__name"):
            together[product_id].append((related_id, score, name))
    return together


def _ranked_together(
    theirs: _History, together: dict[int, list[tuple[int, float, str]]]
) -> list[tuple[int, str]]:
    totals: dict[int, float] = defaultdict(float)
    names: dict[int, str] = {}
    for product_id in theirs.products:
        for related_id, score, name in together.get(product_id, ()):
            totals[related_id] += score
            names[related_id] = name
    ranked = sorted(totals, key=lambda related_id: (-totals[related_id], related_id))
    return [(related_id, names[related_id]) for related_id in ranked]


def _selling(now: datetime) -> QuerySet[Any, Any]:
    return _purchased_lines().filter(
        sku__product__is_active=True, order__placed_at__gte=now - timedelta(days=BEST_SELLER_DAYS)
    )


def _category_best_sellers(
    history: dict[int, _History], *, now: datetime
) -> dict[int, list[tuple[int, int, str]]]:
    """The best sellers of every category the batch bought from (one query)."""
    by_category: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
    wanted = set().union(*(theirs.categories for theirs in history.values()))
    if wanted:
        for category_id, product_id, name, units in (
            _selling(now)
            .filter(sku__product__category_id__in=wanted)
            .values_list("sku__product__category_id", "sku__product_id", "sku__product__name")
            .annotate(units=Sum("quantity"))
            .order_by("-units", "sku__product_id")
        ):
            if len(by_category[category_id]) < PER_CATEGORY:
                by_category[category_id].append((-units, product_id, name))
    return by_category


def _best_sellers(*, now: datetime, count: int) -> list[tuple[int, str]]:
    return [
        (product_id, name)
        for product_id, name, _ in _selling(now)
        .values_list("sku__product_id", "sku__product__name")
        .annotate(units=Sum("quantity"))
        .order_by("-units", "sku__product_id")[:count]
    ]
