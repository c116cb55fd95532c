"""From offers and coupons in the database to the pure pricing's ``Terms``, and the facts of
the cart and the shopper that pricing needs."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Q, QuerySet, prefetch_related_objects

from campaigns.models import Coupon, Offer
from campaigns.services.pricing import Line, Pricing, Shopper, Terms, price
from customers.models import Customer
from inventory.models import Category

CONDITIONS = ("skus", "categories", "stores", "tiers")  # what ``terms_of`` reads of an offer


def with_conditions(offers: QuerySet[Offer]) -> QuerySet[Offer]:
    """Offers with what ``terms_of`` reads, in a fixed number of queries."""
    return offers.select_related("free_sku").prefetch_related(*CONDITIONS)


def automatic_offers(now: datetime) -> list[Offer]:
    """Automatic offers switched on and within their dates."""
    live = Offer.objects.filter(trigger=Offer.Trigger.AUTOMATIC, is_active=True).filter(
        Q(starts_at=None) | Q(starts_at__lte=now), Q(ends_at=None) | Q(ends_at__gt=now)
    )
    return list(with_conditions(live))


def terms_of(offer: Offer, *, ref: str | None = None) -> Terms:
    """The offer as pricing reads it (``ref`` names a coupon of it instead)."""
    return Terms(
        ref=ref or f"offer:{offer.public_id}",
        name=offer.name,
        reward=offer.reward,
        value=offer.value,
        buy_quantity=offer.buy_quantity,
        get_quantity=offer.get_quantity,
        free_sku=offer.free_sku.code if offer.free_sku else None,
        min_spend=offer.min_spend,
        skus=frozenset(sku.code for sku in offer.skus.all()),
        categories=frozenset(c.pk for c in offer.categories.all()),
        channels=frozenset(offer.channels or []),
        stores=frozenset(s.pk for s in offer.stores.all()),
        tiers=frozenset(t.pk for t in offer.tiers.all()),
        segment=offer.segment_id,
        starts_at=offer.starts_at,
        ends_at=offer.ends_at,
        redeemable=offer.redeemable,
        exclusive=offer.exclusive,
        priority=offer.priority,
        max_discount=offer.max_discount,
    )


def coupon_terms(coupon: Coupon) -> Terms:
    return terms_of(coupon.offer, ref=f"coupon:{coupon.code}")


def shopper_of(customer: Customer | None) -> Shopper:
    """The facts conditions read, in one query: the loyalty tier through the customer's
    account (a model relation, not the loyalty app) and the segments the customer is a member
    of as last refreshed (membership is materialised: an offer for a segment follows the
    segment's refreshes, hourly by the beat task or on demand)."""
    if customer is None:
        return Shopper()
    # One row per membership (one row with no segment when there is none): portable SQL,
    # the demo runs on SQLite.
    rows = list(
        Customer.objects.filter(pk=customer.pk).values_list(
            "loyalty_account__tier_id", "segment_memberships__segment_id"
        )
    )
    tier_id = rows[0][0] if rows else None
    segments = frozenset(segment for _, segment in rows if segment is not None)
    return Shopper(customer_id=customer.pk, tier_id=tier_id, segments=segments)


def category_ancestry(category_ids: Iterable[int]) -> dict[int, frozenset[int]]:
    """Each category with all its ancestors (one query per level of the tree)."""
    parent: dict[int, int | None] = {}
    frontier = set(category_ids)
    while frontier:
        rows = Category.objects.filter(pk__in=frontier).values_list("pk", "parent_id")
        parent.update(rows)
        frontier = {p for _, p in rows if p is not None and p not in parent}
    ancestry: dict[int, frozenset[int]] = {}
    for start in category_ids:
        chain: set[int] = set()
        node: int | None = start
        while node is not None and node not in chain:
            chain.add(node)
            node = parent.get(node)
        ancestry[start] = frozenset(chain)
    return ancestry


@dataclass(frozen=True)
class CartItem:
    """A line of a cart or an order, as the caller (orders) hands it over."""

    sku: str
    category_id: int | None
    quantity: int
    unit_price: Decimal


def price_cart(
    *,
    items: list[CartItem],
    channel: str,
    store_id: int | None,
    customer: Customer | None,
    coupons: list[Coupon],
    now: datetime,
) -> Pricing:
    """The cart priced with every live automatic offer and these coupons."""
    ancestry = category_ancestry({i.category_id for i in items if i.category_id is not None})
    lines = [
        Line(
            i.sku,
            i.quantity,
            i.unit_price,
            ancestry.get(i.category_id, frozenset()) if i.category_id else frozenset(),
        )
        for i in items
    ]
    terms = [terms_of(offer) for offer in automatic_offers(now)]
    # Conditions of the coupons' offers in one query each, not per code presented.
    prefetch_related_objects([c.offer for c in coupons], "free_sku", *CONDITIONS)
    terms += [coupon_terms(c) for c in coupons]
    return price(
        lines=lines,
        channel=channel,
        store_id=store_id,
        shopper=shopper_of(customer),
        terms=terms,
        now=now,
    )
