"""The stored-value API: my cards, balance, history, QR, opening and claiming a card, topping
up, buying a gift card, and paying with a card at checkout. A customer sees only their own
cards; every refusal has the one error shape and changes nothing."""

from decimal import Decimal
from io import BytesIO

import pytest
from PIL import Image
from rest_framework.test import APIClient

from loyalty import services as loyalty
from loyalty.models import StoredValueCard
from orders.models import Order, Payment
from tests.api_clients import app_client
from tests.loyalty.factories import customer
from tests.loyalty.stored_value_factories import card_with, stored_value_programme

pytestmark = pytest.mark.django_db

BASE = "/api/v1/stored-value"


def balance(card):
    card.refresh_from_db()
    return card.balance


def test_my_cards_show_their_balance_and_limits(db, django_assert_max_num_queries):
    me = customer()
    card_with("12.50", customer=me)
    card_with("30", customer=me)
    card_with("99", customer=customer())  # someone else's
    client = app_client("ios", me)

    with django_assert_max_num_queries(8):
        response = client.get(f"{BASE}/cards")

    assert response.status_code == 200
    rows = response.json()["results"]
    assert sorted(row["balance"] for row in rows) == ["12.50", "30.00"]
    assert rows[0]["min_top_up"] == "5.00"


def test_a_customer_sees_only_their_own_cards(db):
    me, other = customer(), customer()
    theirs = card_with("99", customer=other)
    client = app_client("web", me)

    for path in ["", "/history", "/qr.png"]:
        response = client.get(f"{BASE}/cards/{theirs.public_id}{path}")
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    top_up = client.post(
        f"{BASE}/cards/{theirs.public_id}/top-up",
        {"amount": "20", "payment_token": "t"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    assert top_up.status_code == 404
    assert balance(theirs) == Decimal("99")


def test_cards_need_a_signed_in_customer(db):
    response = app_client("web").get(f"{BASE}/cards")
    assert response.status_code in (401, 403)
    assert "error" in response.json()
    assert APIClient().get(f"{BASE}/cards").status_code == 401


def test_history_is_paginated_newest_first(db, django_assert_max_num_queries):
    me = customer()
    card = card_with("50", customer=me)
    loyalty.pay_with_stored_value(card=card, amount=Decimal("5"), idempotency_key="p1")
    client = app_client("web", me)

    with django_assert_max_num_queries(8):
        response = client.get(f"{BASE}/cards/{card.public_id}/history")

    body = response.json()
    assert body["count"] == 2
    assert [row["kind"] for row in body["results"]] == ["payment", "top_up"]
    assert body["results"][0]["balance_after"] == "45.00"


def test_the_qr_code_carries_the_card_number_and_a_blocked_card_has_none(db):
    me = customer()
    card = card_with("5", customer=me)
    client = app_client("ios", me)

    response = client.get(f"{BASE}/cards/{card.public_id}/qr.png")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert Image.open(BytesIO(response.content)).format == "PNG"

    loyalty.block_stored_value_card(card=card, reason="Lost")
    blocked = client.get(f"{BASE}/cards/{card.public_id}/qr.png")
    assert blocked.status_code == 403
    assert blocked.json()["error"]["code"] == "card_blocked"


def test_opening_a_wallet_card(db):
    me = customer()
    response = app_client("web", me).post(f"{BASE}/cards", HTTP_IDEMPOTENCY_KEY="open-1")
    assert response.status_code == 201
    assert response.json()["balance"] == "0.00"
    assert StoredValueCard.objects.get().customer == me


def test_top_up_through_the_api_is_idempotent(db):
    me = customer()
    card = card_with("10", customer=me)
    client = app_client("web", me)

    def top_up():
        return client.post(
            f"{BASE}/cards/{card.public_id}/top-up",
            {"amount": "25.00", "payment_token": "tok"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="top-1",
        )

    first, again = top_up(), top_up()

    assert first.status_code == 200
    assert first.json()["balance"] == "35.00"
    assert again.status_code == 200
    assert balance(card) == Decimal("35")


@pytest.mark.parametrize("amount", ["1.00", "900.00"])
def test_a_top_up_outside_the_limits_gets_a_clear_error_and_changes_nothing(amount):
    stored_value_programme(min_top_up=Decimal("5"), max_top_up=Decimal("500"))
    me = customer()
    card = card_with("10", customer=me)

    response = app_client("web", me).post(
        f"{BASE}/cards/{card.public_id}/top-up",
        {"amount": amount, "payment_token": "tok"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k",
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["details"] == {"min": "5.00", "max": "500.00"}
    assert balance(card) == Decimal("10")


def test_a_top_up_of_a_blocked_card_is_refused(db):
    me = customer()
    card = card_with("10", customer=me)
    loyalty.block_stored_value_card(card=card, reason="Lost")

    response = app_client("web", me).post(
        f"{BASE}/cards/{card.public_id}/top-up",
        {"amount": "20", "payment_token": "tok"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k",
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "card_blocked"
    assert balance(card) == Decimal("10")


def test_a_top_up_without_an_idempotency_key_is_refused(db):
    me = customer()
    card = card_with("10", customer=me)
    response = app_client("web", me).post(
        f"{BASE}/cards/{card.public_id}/top-up",
        {"amount": "20", "payment_token": "tok"},
        format="json",
    )
    assert response.status_code == 400
    assert balance(card) == Decimal("10")


def test_a_gift_card_sent_to_someone_is_claimed_into_their_wallet(db):
    buyer = customer()
    bought = app_client("web", buyer).post(
        f"{BASE}/gift-cards",
        {"amount": "40", "payment_token": "tok", "recipient_email": "lea@example.com"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="gift-1",
    )
    assert bought.status_code == 201
    card = StoredValueCard.objects.get()
    assert bought.json()["number"] != card.number  # the buyer sees it masked
    recipient = card.customer

    mine = app_client("ios", recipient).get(f"{BASE}/cards").json()["results"]
    assert [row["number"] for row in mine] == [card.number]
    assert mine[0]["balance"] == "40.00"


def test_claiming_someone_elses_card_is_refused(db):
    theirs = card_with("25", customer=customer())
    response = app_client("web", customer()).post(
        f"{BASE}/cards/claim", {"number": theirs.number}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    owner = theirs.customer
    theirs.refresh_from_db()
    assert theirs.customer == owner


def test_checkout_with_my_card_splits_the_tender(shop, camille):
    card = card_with("50", customer=camille)
    client = app_client("web", camille)
    client.post("/api/v1/cart/lines", {"sku": "RAIN-JACKET-M", "quantity": 1}, format="json")

    response = client.post(
        "/api/v1/checkout",
        {
            "fulfilment": "pickup",
            "pickup_store": "PAR-RIV",
            "payment_token": "tok",
            "stored_value_card": str(card.public_id),
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="co-1",
    )

    assert response.status_code == 201, response.json()
    order = Order.objects.get()
    assert sorted((p.provider, p.amount) for p in order.payments.all()) == [
        ("demo", Decimal("39.00")),
        (Payment.STORED_VALUE, Decimal("50.00")),
    ]
    assert balance(card) == 0


def test_checkout_with_someone_elses_card_is_refused_and_nothing_changes(shop, camille):
    theirs = card_with("500", customer=customer())
    client = app_client("web", camille)
    client.post("/api/v1/cart/lines", {"sku": "RAIN-JACKET-M", "quantity": 1}, format="json")

    response = client.post(
        "/api/v1/checkout",
        {
            "fulfilment": "pickup",
            "pickup_store": "PAR-RIV",
            "stored_value_card": str(theirs.public_id),
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="co-1",
    )

    assert response.status_code == 404
    assert not Order.objects.exists()
    assert balance(theirs) == Decimal("500")


def test_checkout_with_a_blocked_card_is_refused(shop, camille):
    card = card_with("500", customer=camille)
    loyalty.block_stored_value_card(card=card, reason="Lost")
    client = app_client("web", camille)
    client.post("/api/v1/cart/lines", {"sku": "RAIN-JACKET-M", "quantity": 1}, format="json")

    response = client.post(
        "/api/v1/checkout",
        {
            "fulfilment": "pickup",
            "pickup_store": "PAR-RIV",
            "stored_value_card": str(card.public_id),
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="co-1",
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "card_blocked"
    assert not Order.objects.exists()
    assert balance(card) == Decimal("500")
