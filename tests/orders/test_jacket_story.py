"""The story the orders issue tells, end to end through the API and the services: a jacket
added on the phone, seen on the laptop, collected in one store and returned to another."""

import pytest
from django.contrib.auth.models import User

from inventory.models import StockLevel, StockMovement
from loyalty.models import Account
from orders import services
from orders.models import Cart, Order
from tests.api_clients import app_client

pytestmark = pytest.mark.django_db


def stock_at(shop, store) -> tuple[int, int]:
    level = StockLevel.objects.filter(sku=shop.jacket, location=store).first()
    return (level.on_hand, level.reserved) if level else (0, 0)


def test_the_jacket_story(shop, camille):
    clerk = User.objects.create_user("rivoli-clerk", is_staff=True)
    phone, laptop = app_client("ios", camille), app_client("web", camille)

    # On the train: the jacket goes in the cart on the phone, to collect at Rivoli.
    phone.post("/api/v1/cart/lines", {"sku": "RAIN-JACKET-M", "quantity": 1}, format="json")
    phone.put("/api/v1/cart/pickup-store", {"store": "PAR-RIV"}, format="json")
    assert stock_at(shop, shop.rivoli) == (3, 1)  # held for the cart

    # At lunch: the same cart on the laptop, the line remembering the phone.
    cart = laptop.get("/api/v1/cart").json()
    assert [(line["sku"], line["channel"]) for line in cart["lines"]] == [("RAIN-JACKET-M", "ios")]

    # Checkout, and the app retries after a timeout with the same key.
    order_body = {"fulfilment": "pickup", "pickup_store": "PAR-RIV"}
    placed = laptop.post(
        "/api/v1/checkout", order_body, format="json", HTTP_IDEMPOTENCY_KEY="checkout-7f3a"
    )
    retried = laptop.post(
        "/api/v1/checkout", order_body, format="json", HTTP_IDEMPOTENCY_KEY="checkout-7f3a"
    )
    assert (placed.status_code, retried.status_code) == (201, 200)
    number = placed.json()["number"]
    assert retried.json()["number"] == number
    assert Order.objects.count() == 1
    assert stock_at(shop, shop.rivoli) == (3, 1)  # reserved once, for the order now
    assert Order.objects.get().cart.status == Cart.Status.CHECKED_OUT
    assert laptop.get("/api/v1/cart").json()["lines"] == []  # a fresh cart for next time

    # The store picks it; the app shows the code and its QR image.
    order = Order.objects.get(number=number)
    services.mark_ready_for_pickup(order=order, actor=clerk)
    mine = phone.get(f"/api/v1/orders/{number}").json()
    assert mine["status"] == "ready_for_pickup"
    code = mine["pickup_code"]
    qr = phone.get(f"/api/v1/orders/{number}/pickup-code.png")
    assert (qr.status_code, qr["Content-Type"]) == (200, "image/png")

    # At six: collected at Rivoli with the code; stock leaves through the ledger; points earned.
    services.collect_pickup(order=order, code=code, actor=clerk)
    assert stock_at(shop, shop.rivoli) == (2, 0)
    sale = StockMovement.objects.get(kind="sale")
    assert (sale.quantity, sale.reference, sale.actor) == (-1, f"order:{number}", clerk)
    assert Account.objects.get(customer=camille).pending == 89

    # A week later: returned at Bastille, back on its shelf, points reversed.
    order.refresh_from_db()
    services.return_items(
        order=order,
        items=[services.ReturnedItem(order.lines.get().pk, 1, restock=True)],
        location=shop.bastille,
        idempotency_key="return-bastille-1",
        actor=clerk,
    )
    assert stock_at(shop, shop.bastille) == (1, 0)
    assert stock_at(shop, shop.rivoli) == (2, 0)
    assert StockMovement.objects.get(kind="return").level.location == shop.bastille
    account = Account.objects.get(customer=camille)
    assert (account.pending, account.available) == (0, 0)

    timeline = [e["to_status"] for e in phone.get(f"/api/v1/orders/{number}").json()["timeline"]]
    assert timeline == ["placed", "ready_for_pickup", "collected"]
