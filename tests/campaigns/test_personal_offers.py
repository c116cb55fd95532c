"""The offers and coupons a customer can use now: the selector the clerk dashboard shows and
``GET /api/v1/offers/me``."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns import selectors
from campaigns.models import Segment, SegmentMembership
from loyalty.models import Account, Tier
from tests.api_clients import app_client
from tests.campaigns.offer_factories import coupon, offer
from tests.loyalty.factories import customer, programme

pytestmark = pytest.mark.django_db


@pytest.fixture
def silver_member():
    made = programme()
    member = customer()
    Account.objects.create(
        customer=member,
        programme=made,
        tier=Tier.objects.get(name="Silver"),
        tier_anniversary=timezone.localdate(),
    )
    return member


def test_a_customer_sees_the_offers_they_qualify_for_and_their_own_codes(silver_member):
    now = timezone.now()
    offer(name="Everyone", min_spend=Decimal("50"))
    offer(name="Gold only").tiers.add(Tier.objects.get(name="Gold"))
    offer(name="Silver days").tiers.add(Tier.objects.get(name="Silver"))
    offer(name="Ended", ends_at=now - timedelta(days=1))
    offer(name="Members of a segment", segment=Segment.objects.create(name="VIP"))
    coupon("MINE", customer=silver_member, max_uses=1)
    coupon("USED", customer=silver_member, max_uses=1, times_used=1)
    coupon("THEIRS", customer=customer())
    coupon("SHARED")

    mine = selectors.offers_for_customer(silver_member)

    assert [(p.offer.name, p.code) for p in mine] == [
        ("Everyone", None),
        ("Silver days", None),
        ("Coupon MINE", "MINE"),
    ]
    assert mine[0].conditions == ["On a cart of at least 50.00."]
    assert mine[1].conditions == ["For Silver members."]


@pytest.mark.parametrize("count", [1, 6])
def test_the_api_lists_my_offers_in_a_bounded_number_of_queries(
    silver_member, django_assert_max_num_queries, count
):
    for n in range(count):
        offer(name=f"Everyone {n}").tiers.add(Tier.objects.get(name="Silver"))
        coupon(f"MINE{n}", customer=silver_member)

    # The key, the token and its customer; the tier; automatic offers and coupon offers with
    # their SKUs, categories, stores and tiers each; the codes.
    with django_assert_max_num_queries(18):
        response = app_client("ios", silver_member).get("/api/v1/offers/me")

    assert response.status_code == 200
    assert len(response.json()) == 2 * count
    assert response.json()[0]["conditions"] == ["For Silver members."]
    assert response.json()[-1]["code"] == f"MINE{count - 1}"


def test_a_segment_offer_is_listed_for_the_segments_members_only(silver_member):
    vip = Segment.objects.create(name="VIP")
    SegmentMembership.objects.create(segment=vip, customer=silver_member, joined_at=timezone.now())
    offer(name="For VIPs", segment=vip)
    offer(name="For another segment", segment=Segment.objects.create(name="Lapsed"))

    assert [p.offer.name for p in selectors.offers_for_customer(silver_member)] == ["For VIPs"]
    assert selectors.offers_for_customer(customer()) == []


def test_my_offers_need_a_signed_in_customer():
    assert app_client("ios").get("/api/v1/offers/me").status_code in {401, 403}
