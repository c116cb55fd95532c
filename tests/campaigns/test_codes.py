"""Coupon codes: bulk generation, the checks when one is presented, uses and their release."""

import csv
import io
import math
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns import services
from campaigns.models import Coupon, Offer, Redemption, RefusedCode
from omni.core.errors import InvalidCoupon, InvalidRequest, OfferChanged
from tests.campaigns.offer_factories import coupon, offer
from tests.loyalty.factories import customer

pytestmark = pytest.mark.django_db
AMBIGUOUS = set("0O1IL5S8B2Z")


def test_a_batch_of_unique_codes_is_unguessable_and_unambiguous():
    coupon_offer = offer(trigger=Offer.Trigger.CODE)

    batch = services.generate_codes(offer=coupon_offer, name="Mailing", quantity=500, prefix="sp-")

    codes = list(batch.coupons.values_list("code", flat=True))
    assert len(set(codes)) == 500
    for code in codes:
        assert code.startswith("SP")
        body = code[2:]
        assert not AMBIGUOUS & set(body)
        assert len(body) * math.log2(len(services.CODE_ALPHABET)) >= 60
    assert set(batch.coupons.values_list("kind", "max_uses")) == {("unique", 1)}


def test_codes_are_only_generated_for_coupon_offers_and_in_bounds():
    with pytest.raises(InvalidRequest):
        services.generate_codes(offer=offer(), name="x", quantity=5)
    with pytest.raises(InvalidRequest):
        services.generate_codes(offer=offer(trigger=Offer.Trigger.CODE), name="x", quantity=0)
    assert Coupon.objects.count() == 0


def test_a_batch_exports_as_csv_rows():
    batch = services.generate_codes(
        offer=offer(name="Spring", trigger=Offer.Trigger.CODE), name="Mailing", quantity=3
    )
    out = io.StringIO()
    csv.writer(out).writerows(services.batch_rows(batch))
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == ["code", "offer", "batch", "used"]
    assert {r[0] for r in rows[1:]} == set(batch.coupons.values_list("code", flat=True))


def reason(**kwargs) -> str:
    with pytest.raises(InvalidCoupon) as refused:
        services.find_coupon(**{"customer": None, "channel": "web", **kwargs})
    return refused.value.details["reason"]


def test_a_code_is_found_whatever_its_case_spaces_or_dashes():
    made = coupon("SPRING10")
    assert services.find_coupon(code=" spring-10 ", customer=None, channel="web") == made


def test_bad_codes_are_refused_with_the_reason():
    now = timezone.now()
    camille, other = customer(), customer()
    coupon("MINE", customer=camille)
    coupon("LATER", offer=offer(trigger="code", starts_at=now + timedelta(days=1)))
    coupon("OLD", offer=offer(trigger="code", ends_at=now - timedelta(days=1)))
    coupon("APPONLY", offer=offer(trigger="code", channels=["ios"]))
    coupon("SHOPONLY", offer=offer(trigger="code", redeemable="in_store"))
    coupon("OFF", is_active=False)
    coupon("ONCE", max_uses=1, times_used=1)

    assert reason(code="NOPE") == "unknown"
    assert reason(code="") == "unknown"
    assert reason(code="OFF") == "unknown"
    assert reason(code="MINE", customer=other) == "not_yours"
    assert reason(code="LATER") == "not_started"
    assert reason(code="OLD") == "ended"
    assert reason(code="APPONLY") == "channel"
    assert reason(code="SHOPONLY") == "where"
    assert reason(code="ONCE") == "used_up"
    assert services.find_coupon(code="MINE", customer=camille, channel="web").code == "MINE"


def test_a_refused_code_is_counted_and_logged(caplog):
    camille = customer()
    services.record_refused_code(
        tried="guess-123", reason="unknown", customer=camille, channel="web", client="key:1"
    )
    assert RefusedCode.objects.get().tried == "GUESS123"
    assert "coupon code refused: reason=unknown" in caplog.text


def test_per_customer_uses_are_counted_and_a_guest_must_sign_in():
    camille = customer()
    shared = coupon("WELCOME", max_uses=100, max_uses_per_customer=1)
    services.redeem_coupons(
        uses=[services.CouponUse(shared.pk, Decimal("5.00"))],
        customer=camille,
        reference="OM-1",
        channel="web",
    )
    assert reason(code="WELCOME", customer=camille) == "used_up"
    assert reason(code="WELCOME") == "sign_in"
    assert services.find_coupon(code="WELCOME", customer=customer(), channel="web")


def test_a_use_beyond_the_limit_is_refused_as_offer_changed_and_release_gives_it_back():
    single = coupon("ONE", max_uses=1)
    use = [services.CouponUse(single.pk, Decimal("3.00"))]
    services.redeem_coupons(uses=use, customer=None, reference="OM-1", channel="store")

    with pytest.raises(OfferChanged):
        services.redeem_coupons(uses=use, customer=None, reference="OM-2", channel="web")

    assert services.release_redemptions(reference="OM-1") == 1
    assert services.release_redemptions(reference="OM-1") == 0
    single.refresh_from_db()
    assert single.times_used == 0
    assert Redemption.objects.get().status == "released"
    services.redeem_coupons(uses=use, customer=None, reference="OM-2", channel="web")
