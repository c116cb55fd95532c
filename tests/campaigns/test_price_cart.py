"""Pricing a cart from the database: sub-categories, tiers through the customer's account,
live automatic offers and presented coupons."""

from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns import services
from campaigns.models import Segment, SegmentMembership
from loyalty.models import Account, Tier
from tests.campaigns.offer_factories import coupon, offer
from tests.inventory.factories import CategoryFactory, ProductFactory, SkuFactory
from tests.loyalty.factories import customer, programme

pytestmark = pytest.mark.django_db


def item(sku, quantity=1):
    return services.CartItem(sku.code, sku.product.category_id, quantity, Decimal(str(sku.price)))


def test_an_offer_on_a_category_reaches_skus_of_its_sub_categories():
    sport = CategoryFactory(code="sport")
    running = CategoryFactory(code="running", parent=sport)
    trail = CategoryFactory(code="trail", parent=running)
    shoe = SkuFactory(code="TRAIL-1", price="100.00", product=ProductFactory(category=trail))
    hat = SkuFactory(code="HAT-1", price="20.00", product=ProductFactory(category=None))
    sale = offer(reward="percent_off_lines", value=Decimal("20"))
    sale.categories.add(sport)

    pricing = services.price_cart(
        items=[item(shoe), item(hat)],
        channel="web",
        store_id=None,
        customer=None,
        coupons=[],
        now=timezone.now(),
    )

    assert pricing.lines == {"TRAIL-1": Decimal("20.00"), "HAT-1": Decimal("0")}


def test_a_tier_offer_reads_the_tier_through_the_customers_account_and_coupons_stack():
    made = programme()
    gold = Tier.objects.get(name="Gold")
    member = customer()
    Account.objects.create(
        customer=member, programme=made, tier=gold, tier_anniversary=timezone.localdate()
    )
    shoe = SkuFactory(code="SHOE", price="50.00")
    gold_offer = offer(name="Gold days", value=Decimal("10"))
    gold_offer.tiers.add(gold)
    five_off = coupon("FIVE", offer=offer(trigger="code", reward="amount_off_cart", value=5))

    def priced(who):
        return services.price_cart(
            items=[item(shoe, 2)],
            channel="web",
            store_id=None,
            customer=who,
            coupons=[five_off],
            now=timezone.now(),
        )

    # Same priority: by reference, the coupon (5 off) first, then 10% of the 95 left.
    assert priced(member).discount == Decimal("14.50")
    guest = priced(None)
    assert guest.discount == Decimal("5.00")
    assert guest.refused[0].reason == "tier"


def test_a_segment_offer_prices_for_members_of_the_segment_only():
    vip = Segment.objects.create(name="VIP")
    member, other = customer(), customer()
    SegmentMembership.objects.create(segment=vip, customer=member, joined_at=timezone.now())
    offer(reward="percent_off_cart", value=Decimal("10"), segment=vip)
    shoe = SkuFactory(code="SHOE", price="50.00")

    def discount(who):
        return services.price_cart(
            items=[item(shoe)],
            channel="web",
            store_id=None,
            customer=who,
            coupons=[],
            now=timezone.now(),
        ).discount

    assert (discount(member), discount(other), discount(None)) == (
        Decimal("5.00"),
        Decimal("0"),
        Decimal("0"),
    )
