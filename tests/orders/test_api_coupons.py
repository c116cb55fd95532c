"""The storefront's coupon calls: apply and remove a code on the cart, the cart's discounts,
refusals in the one error shape (counted), throttling of guesses, and offer_changed."""

from decimal import Decimal

import pytest
from django.test import override_settings
from drf_spectacular.generators import SchemaGenerator

from campaigns.models import RefusedCode
from orders.models import CartCoupon
from tests.api_clients import app_client
from tests.campaigns.offer_factories import coupon, offer
from tests.loyalty.factories import customer

pytestmark = pytest.mark.django_db


def add(client, sku="RAIN-JACKET-M", quantity=1):
    return client.post("/api/v1/cart/lines", {"sku": sku, "quantity": quantity}, format="json")


def test_a_coupon_applied_shows_its_discount_on_the_cart_and_can_be_removed(shop, camille):
    coupon("SPRING10")
    offer(name="Free delivery over 50", reward="free_delivery", min_spend=Decimal("50"))
    phone = app_client("ios", camille)
    add(phone)

    response = phone.post(
        "/api/v1/cart/coupon", {"code": "spring10"}, format="json", HTTP_IDEMPOTENCY_KEY="c1"
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["coupons"] == ["SPRING10"]
    assert body["discount"] == "8.90"
    assert body["total"] == "80.10"
    assert body["free_delivery"] is True
    assert {d["name"] for d in body["discounts"]} == {"Coupon SPRING10", "Free delivery over 50"}
    removed = phone.delete("/api/v1/cart/coupon?code=SPRING10")
    assert removed.status_code == 200
    assert (removed.json()["coupons"], removed.json()["discount"]) == ([], "0.00")


def test_a_bad_code_gets_the_error_shape_changes_nothing_and_is_counted(shop, camille):
    coupon("YOURS", customer=customer())
    phone = app_client("ios", camille)
    add(phone)

    unknown = phone.post("/api/v1/cart/coupon", {"code": "NOPE"}, format="json")
    not_mine = phone.post(
        "/api/v1/cart/coupon", {"code": "YOURS"}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )

    assert unknown.status_code == not_mine.status_code == 400
    assert unknown.json()["error"]["code"] == "invalid_coupon"
    assert unknown.json()["error"]["details"]["reason"] == "unknown"
    assert not_mine.json()["error"]["details"]["reason"] == "not_yours"
    assert not CartCoupon.objects.exists()
    assert RefusedCode.objects.filter(customer=camille).count() == 2


@override_settings(API_RATE_LIMITS={"coupon.customer": "3/min", "coupon.address": "100/min"})
def test_guessing_codes_is_throttled_per_customer(shop, camille):
    phone = app_client("ios", camille)
    add(phone)
    answers = [
        phone.post("/api/v1/cart/coupon", {"code": f"GUESS{n}"}, format="json").status_code
        for n in range(4)
    ]
    assert answers == [400, 400, 400, 429]


def test_a_changed_offer_at_checkout_answers_409_offer_changed(shop, camille):
    spring = offer(name="Spring", value=Decimal("10"))
    phone = app_client("ios", camille)
    add(phone)
    spring.value = Decimal("20")
    spring.save()

    response = phone.post(
        "/api/v1/checkout",
        {"fulfilment": "pickup", "pickup_store": "PAR-RIV"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="co",
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "offer_changed"


def test_the_schema_documents_the_coupon_calls():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    coupon_path = schema["paths"]["/api/v1/cart/coupon"]
    assert {"200", "400", "401", "429"} <= set(coupon_path["post"]["responses"])
    assert {"200", "404", "429"} <= set(coupon_path["delete"]["responses"])
