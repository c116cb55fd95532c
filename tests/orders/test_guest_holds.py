"""Anonymous carts cannot take a store's stock off sale with pick-up holds (issue 9, #4)."""

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from inventory.models import Reservation
from omni.core.errors import HoldLimitReached
from orders import services
from tests.concurrency import run_concurrently
from tests.customers.factories import CustomerFactory, storefront_key
from tests.inventory.factories import stock

pytestmark = pytest.mark.django_db


def held(shop, sku) -> int:
    return sum(
        Reservation.objects.filter(
            status="active", kind="cart_hold", level__sku=sku, level__location=shop.rivoli
        ).values_list("quantity", flat=True)
    )


def guest_cart_at_rivoli(client_ref: str = "client-a"):
    cart = services.cart_of(client_ref=client_ref)
    return services.choose_pickup_store(cart=cart, store_code="PAR-RIV")


def test_guests_together_hold_at_most_their_share_of_a_skus_stock(shop, settings):
    settings.GUEST_HOLD_MAX_SHARE = 50
    stock(shop.beanie, shop.rivoli, 10)  # 20 on hand now: guests may hold 10
    services.set_line(
        cart=guest_cart_at_rivoli("a"), sku_code="WOOL-BEANIE", quantity=6, channel="web"
    )
    other = guest_cart_at_rivoli("b")

    with pytest.raises(HoldLimitReached):
        services.set_line(cart=other, sku_code="WOOL-BEANIE", quantity=5, channel="web")

    assert held(shop, shop.beanie) == 6
    assert not other.lines.exists()


def test_a_signed_in_customer_may_still_hold_what_guests_may_not(shop, settings):
    settings.GUEST_HOLD_MAX_SHARE = 50
    services.set_line(
        cart=guest_cart_at_rivoli(), sku_code="WOOL-BEANIE", quantity=5, channel="web"
    )
    member = services.cart_of(customer=CustomerFactory())
    services.choose_pickup_store(cart=member, store_code="PAR-RIV")

    services.set_line(cart=member, sku_code="WOOL-BEANIE", quantity=5, channel="web")

    assert held(shop, shop.beanie) == 10


def test_one_guest_cart_holds_a_bounded_number_of_items(shop, settings):
    settings.GUEST_HOLD_MAX_UNITS = 4
    settings.GUEST_HOLD_MAX_SHARE = 100
    cart = guest_cart_at_rivoli()

    with pytest.raises(HoldLimitReached) as refusal:
        services.set_line(cart=cart, sku_code="WOOL-BEANIE", quantity=5, channel="web")

    assert refusal.value.details == {"max_units": 4}
    assert held(shop, shop.beanie) == 0


def test_one_client_cannot_spread_holds_over_many_guest_carts(shop, settings):
    settings.GUEST_HOLD_MAX_UNITS_PER_CLIENT = 6
    settings.GUEST_HOLD_MAX_SHARE = 100
    for _ in range(2):
        services.set_line(
            cart=guest_cart_at_rivoli("same-device"),
            sku_code="WOOL-BEANIE",
            quantity=3,
            channel="web",
        )

    with pytest.raises(HoldLimitReached):
        services.set_line(
            cart=guest_cart_at_rivoli("same-device"),
            sku_code="WOOL-BEANIE",
            quantity=1,
            channel="web",
        )
    services.set_line(
        cart=guest_cart_at_rivoli("another-device"),
        sku_code="WOOL-BEANIE",
        quantity=1,
        channel="web",
    )
    assert held(shop, shop.beanie) == 7


def test_through_the_api_a_guest_over_the_cap_gets_a_409_that_holds_nothing_more(shop, settings):
    settings.GUEST_HOLD_MAX_UNITS_PER_CLIENT = 2
    settings.GUEST_HOLD_MAX_SHARE = 100
    key = storefront_key()

    def new_guest_cart_holding(quantity: int):
        client = APIClient(REMOTE_ADDR="203.0.113.20")
        client.credentials(HTTP_X_API_KEY=key)
        added = client.post(
            "/api/v1/cart/lines", {"sku": "WOOL-BEANIE", "quantity": quantity}, format="json"
        )
        client.credentials(HTTP_X_API_KEY=key, HTTP_X_CART_TOKEN=added.json()["guest_token"])
        return client.put("/api/v1/cart/pickup-store", {"store": "PAR-RIV"}, format="json")

    first = new_guest_cart_holding(2)
    second = new_guest_cart_holding(1)

    assert first.status_code == 200
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "hold_limit_reached"
    assert held(shop, shop.beanie) == 2


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_concurrent_guest_holds_never_pass_the_share(shop, settings):
    settings.GUEST_HOLD_MAX_SHARE = 50  # 10 beanies at Rivoli: guests may hold 5 together
    carts = [guest_cart_at_rivoli(f"device-{n}") for n in range(8)]

    def hold(cart):
        def attempt():
            with transaction.atomic():
                services.set_line(cart=cart, sku_code="WOOL-BEANIE", quantity=1, channel="web")

        return attempt

    outcome = run_concurrently([hold(cart) for cart in carts], refusal=HoldLimitReached)

    assert len(outcome.granted) == 5, outcome.summary(5)
    assert held(shop, shop.beanie) == 5
