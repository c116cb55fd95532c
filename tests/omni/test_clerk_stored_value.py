"""The clerk's till and gift and wallet cards: paying a sale with a scanned card (split with
the till), topping a card up, selling a gift card; refusals shown on the page, nothing changed."""

import re
from decimal import Decimal

import pytest

from loyalty import services as loyalty
from loyalty.models import StoredValueCard
from orders.models import Order, Payment
from tests.loyalty.factories import programme
from tests.loyalty.stored_value_factories import card_with, stored_value_programme
from tests.omni.test_clerk import clerk_at, jacket_in, store
from tests.omni.test_clerk_sale import JACKET, add, complete

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db):
    programme()
    rivoli = store("PAR-RIV", "Paris Rivoli")
    jacket_in(rivoli)
    return rivoli


@pytest.fixture
def clerk(shop):
    return clerk_at(shop)


@pytest.fixture
def clerk_client(client, clerk):
    client.force_login(clerk)
    return client


PAGE = "/clerk/stored-value/"


def balance(card):
    card.refresh_from_db()
    return card.balance


def token_of(page: str, form_id: str = "") -> str:
    return re.findall(r'name="token" value="([0-9a-f-]+)"', page)[-1 if form_id else 0]


def test_a_sale_is_paid_with_a_scanned_card_and_the_rest_at_the_till(clerk_client, shop):
    card = card_with("50")
    add(clerk_client, JACKET)

    response = complete(clerk_client, stored_value_card=f" {card.number} ")

    order = Order.objects.get()
    assert response["Location"] == f"/clerk/sell/done/{order.number}/"
    assert order.status == Order.Status.COMPLETED
    assert sorted((p.provider, p.amount) for p in order.payments.all()) == [
        ("demo", Decimal("39.00")),
        (Payment.STORED_VALUE, Decimal("50.00")),
    ]
    assert balance(card) == 0


def test_a_blocked_card_at_the_till_is_shown_as_refused_and_nothing_is_sold(clerk_client, shop):
    card = card_with("500")
    loyalty.block_stored_value_card(card=card, reason="Stolen")
    add(clerk_client, JACKET)

    response = complete(clerk_client, stored_value_card=card.number)

    assert response.status_code == 403
    assert b'role="alert"' in response.content
    assert b"blocked" in response.content
    assert not Order.objects.exists()
    assert balance(card) == Decimal("500")


def test_the_clerk_sees_a_scanned_cards_balance_and_history(clerk_client, shop):
    card = card_with("12.50")

    response = clerk_client.get(PAGE, {"card": card.number})

    assert response.status_code == 200
    assert "12.50" in response.content.decode()
    assert "Top-up" in response.content.decode()


def test_an_unknown_card_is_not_found(clerk_client, shop):
    response = clerk_client.get(PAGE, {"card": "7790000000000000000"})
    assert response.status_code == 404
    assert b"No stored-value card" in response.content


def test_a_top_up_at_the_till_loads_the_card_once(clerk_client, clerk, shop):
    card = card_with("10")
    page = clerk_client.get(PAGE, {"card": card.number}).content.decode()
    data = {"card": card.number, "amount": "30", "token": token_of(page)}

    first = clerk_client.post(f"{PAGE}top-up/", data)
    clerk_client.post(f"{PAGE}top-up/", data)  # a double submit

    assert first.status_code == 302
    assert balance(card) == Decimal("40")
    assert card.entries.first().actor == clerk


def test_a_top_up_below_the_minimum_is_shown_as_refused_and_changes_nothing(clerk_client, shop):
    stored_value_programme(min_top_up=Decimal("5"))
    card = card_with("10")
    page = clerk_client.get(PAGE, {"card": card.number}).content.decode()

    response = clerk_client.post(
        f"{PAGE}top-up/", {"card": card.number, "amount": "2", "token": token_of(page)}
    )

    assert response.status_code == 400
    assert b"A top-up is between" in response.content
    assert balance(card) == Decimal("10")


def test_a_gift_card_sold_at_the_till_is_active_and_loaded(clerk_client, clerk, shop):
    page = clerk_client.get(PAGE).content.decode()

    response = clerk_client.post(
        f"{PAGE}gift-cards/", {"amount": "25", "token": token_of(page), "message": ""}
    )

    card = StoredValueCard.objects.get()
    assert response.status_code == 302
    assert card.number in response["Location"]
    assert card.kind == StoredValueCard.Kind.GIFT
    assert card.balance == Decimal("25")
    assert card.entries.get().actor == clerk


def test_the_stored_value_page_is_for_staff_only(client, shop):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert "/clerk/login/" in response["Location"]
