"""Reads of offers and coupons shared by the storefront API, the clerk pages and the admin."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, Q
from django.utils import timezone

from campaigns.models import Coupon, Offer
from campaigns.services import shopper_of
from campaigns.services.offers import automatic_offers, with_conditions
from customers.models import Customer


@dataclass(frozen=True)
class PersonalOffer:
    offer: Offer
    code: str | None  # the customer's own code, for a coupon offer
    conditions: list[str]  # in words, for the shopper or the clerk


def conditions_in_words(offer: Offer) -> list[str]:
    """What the customer must do or be, as a sentence each (conditions read with
    ``with_conditions``)."""
    words = []
    if offer.min_spend:
        words.append(f"On a cart of at least {offer.min_spend}.")
    skus = [sku.code for sku in offer.skus.all()]
    categories = [c.name for c in offer.categories.all()]
    if skus or categories:
        words.append("On " + ", ".join(categories + skus) + ".")
    if offer.redeemable != Offer.Where.BOTH:
        words.append(f"{offer.get_redeemable_display()}.")
    if offer.channels:
        words.append("In " + ", ".join(offer.channels) + ".")
    stores = [s.name for s in offer.stores.all()]
    if stores:
        words.append("At " + ", ".join(stores) + ".")
    tiers = [t.name for t in offer.tiers.all()]
    if tiers:
        words.append("For " + ", ".join(tiers) + " members.")
    if offer.ends_at:
        words.append(f"Until {offer.ends_at:%Y-%m-%d}.")
    if offer.exclusive:
        words.append("Cannot be combined with other offers.")
    if offer.max_discount is not None:
        words.append(f"At most {offer.max_discount} off an order.")
    return words


def offers_for_customer(customer: Customer, *, now: datetime | None = None) -> list[PersonalOffer]:
    """The offers and coupons this customer can use now: automatic offers whose conditions on
    the person (tier, segment) they meet, and their own personal codes with uses left. Shared
    codes are not listed: they are given out by campaigns, not discovered. Segment offers are
    left out until segment membership lands (issue 12, item 1). A bounded number of queries."""
    now = now or timezone.now()
    shopper = shopper_of(customer)
    mine = []
    for offer in automatic_offers(now):
        tiers = {t.pk for t in offer.tiers.all()}
        if tiers and shopper.tier_id not in tiers:
            continue
        if offer.segment_id is not None and offer.segment_id not in shopper.segments:
            continue
        mine.append(PersonalOffer(offer, None, conditions_in_words(offer)))
    live_coupon_offers = with_conditions(
        Offer.objects.filter(
            Q(starts_at=None) | Q(starts_at__lte=now),
            Q(ends_at=None) | Q(ends_at__gt=now),
            is_active=True,
            coupons__customer=customer,
            coupons__is_active=True,
        ).distinct()
    )
    offers = {offer.pk: offer for offer in live_coupon_offers}
    codes = Coupon.objects.filter(customer=customer, is_active=True, offer_id__in=offers).filter(
        Q(max_uses=None) | Q(times_used__lt=F("max_uses"))
    )
    for code, offer_id in codes.order_by("pk").values_list("code", "offer_id"):
        offer = offers[offer_id]
        mine.append(PersonalOffer(offer, code, conditions_in_words(offer)))
    return mine
