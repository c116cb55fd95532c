"""Checkout's Idempotency-Key: a retry of the same request gets the first order, the same key
with another request is refused (422 ``idempotency_key_reused``) and changes nothing, and a
second device checking out the same cart with its own key gets the first order."""

import pytest
import yaml

from inventory.models import Reservation, StockLevel
from omni.core.api.idempotency import IdempotencyKeyReused
from orders import services
from orders.models import Order, Payment, Shipment
from tests.api_clients import app_client

pytestmark = pytest.mark.django_db

ADDRESS = {
    "name": "Camille Martin",
    "line1": "12 rue de Rivoli",
    "city": "Paris",
    "postcode": "75001",
    "country": "FR",
}
PICKUP = {"fulfilment": "pickup", "pickup_store": "PAR-RIV", "payment_token": "tok_visa_4242"}


def reserved(sku, store) -> int:
    return StockLevel.objects.get(sku=sku, location=store).reserved


def filled_cart(customer):
    cart = services.cart_of(customer=customer)
    services.set_line(cart=cart, sku_code="RAIN-JACKET-M", quantity=1, channel="ios")
    return cart


def checkout(client, body, key="tap-1"):
    return client.post("/api/v1/checkout", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def phone_with_a_jacket(camille):
    phone = app_client("ios", camille)
    phone.post("/api/v1/cart/lines", {"sku": "RAIN-JACKET-M", "quantity": 1}, format="json")
    return phone


def test_the_same_key_for_a_delivery_after_a_pick_up_is_refused_by_the_service(shop, camille):
    cart = filled_cart(camille)
    services.checkout(
        cart=cart,
        fulfilment="pickup",
        channel="ios",
        idempotency_key="k",
        pickup_store_code="PAR-RIV",
    )

    with pytest.raises(IdempotencyKeyReused) as refused:
        services.checkout(
            cart=services.cart_of(customer=camille),
            fulfilment="delivery",
            channel="ios",
            idempotency_key="k",
            address=services.Address(**ADDRESS),
        )

    assert refused.value.details == {"key": "k"}
    assert Order.objects.count() == 1
    assert not Shipment.objects.exists()


@pytest.mark.parametrize(
    "changed",
    [
        {"fulfilment": "delivery", "pickup_store": None, "address": ADDRESS},
        {"pickup_store": "PAR-BAS"},
        {"redeem_points": 100},
        {"payment_token": "tok_mastercard_4444"},
    ],
    ids=["delivery-after-pick-up", "another-store", "points", "another-card"],
)
def test_the_same_key_with_another_checkout_is_refused_and_changes_nothing(shop, camille, changed):
    phone = phone_with_a_jacket(camille)
    first = checkout(phone, PICKUP)
    phone.post("/api/v1/cart/lines", {"sku": "WOOL-BEANIE", "quantity": 1}, format="json")
    other = {k: v for k, v in {**PICKUP, **changed}.items() if v is not None}

    response = checkout(phone, other)

    assert first.status_code == 201
    assert response.status_code == 422
    assert response.json() == {
        "error": {
            "code": "idempotency_key_reused",
            "message": (
                "This Idempotency-Key was already used for a different request; "
                "send a new key for a new request."
            ),
            "details": {"key": "tap-1"},
        }
    }
    assert Order.objects.count() == 1
    assert (Shipment.objects.count(), Payment.objects.count()) == (0, 1)
    assert Reservation.objects.filter(kind="order", status="active").count() == 1
    assert reserved(shop.jacket, shop.warehouse) == 0
    assert [line["sku"] for line in phone.get("/api/v1/cart").json()["lines"]] == ["WOOL-BEANIE"]


def test_a_true_retry_with_the_same_body_gets_the_first_order(shop, camille):
    phone = phone_with_a_jacket(camille)
    first = checkout(phone, PICKUP)

    # The same object with its fields in another order is the same request.
    retry = checkout(phone, dict(reversed(PICKUP.items())))

    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json()["number"] == first.json()["number"]
    assert Order.objects.count() == 1
    assert reserved(shop.jacket, shop.rivoli) == 1


def test_a_second_device_with_its_own_key_gets_the_first_order(shop, camille):
    cart = filled_cart(camille)
    phone, laptop = app_client("ios", camille), app_client("web", camille)
    services.choose_pickup_store(cart=cart, store_code="PAR-RIV")

    first = checkout(phone, PICKUP, key="phone-tap")
    # The laptop's checkout began before the phone's committed: it still holds the old cart.
    second = services.checkout(
        cart=cart,
        fulfilment="delivery",
        channel="web",
        idempotency_key="laptop-tap",
        address=services.Address(**ADDRESS),
    )

    assert first.status_code == 201
    assert (second.order.number, second.created) == (first.json()["number"], False)
    assert laptop.get(f"/api/v1/orders/{first.json()['number']}").status_code == 200
    assert Order.objects.count() == 1
    assert not Shipment.objects.exists()


def test_the_order_keeps_no_payment_token(shop, camille):
    phone = phone_with_a_jacket(camille)

    checkout(phone, PICKUP)

    assert PICKUP["payment_token"] not in str(list(Order.objects.values()))


def test_the_schema_documents_the_reused_key(client):
    schema = yaml.safe_load(client.get("/api/v1/schema/").content)

    responses = schema["paths"]["/api/v1/checkout"]["post"]["responses"]

    assert "422" in responses
