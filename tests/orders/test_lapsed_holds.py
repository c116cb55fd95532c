"""Another cart's lapsed hold is gone for every channel at once: the shopper sees the stock
and a checkout (pick-up or delivery) gets it, before the clean-up task has run."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from inventory.models import Reservation, StockLevel
from orders import services
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def held_by_another_cart_then_lapsed(time_machine, store_code, sku_code, quantity):
    other = services.cart_of(customer=CustomerFactory())
    services.choose_pickup_store(cart=other, store_code=store_code)
    services.set_line(cart=other, sku_code=sku_code, quantity=quantity, channel="web")
    time_machine.move_to(timezone.now() + timedelta(hours=1))  # lapsed; no clean-up ran
    return other


def shown_at(store_code, sku_code) -> dict:
    response = APIClient().get(
        "/api/v1/availability/", {"skus": sku_code, "lat": 48.86, "lng": 2.34, "stores": 5}
    )
    (store,) = [store for store in response.json() if store["code"] == store_code]
    return store["lines"][0]


def test_a_shopper_sees_stock_a_lapsed_hold_kept_back_and_a_pick_up_checkout_gets_it(
    shop, camille, time_machine
):
    other = held_by_another_cart_then_lapsed(time_machine, "PAR-RIV", "RAIN-JACKET-M", 3)

    shown = shown_at("PAR-RIV", "RAIN-JACKET-M")
    cart = services.cart_of(customer=camille)
    services.set_line(cart=cart, sku_code="RAIN-JACKET-M", quantity=3, channel="web")
    result = services.checkout(
        cart=cart,
        fulfilment="pickup",
        channel="web",
        idempotency_key="k",
        pickup_store_code="PAR-RIV",
    )

    assert shown["available"] == 3
    assert result.created
    lapsed = Reservation.objects.get(reference=other.hold_reference)
    assert lapsed.status == Reservation.Status.EXPIRED
    assert StockLevel.objects.get(sku=shop.jacket, location=shop.rivoli).reserved == 3


def test_a_delivery_ships_from_a_store_whose_stock_only_a_lapsed_hold_kept_back(
    shop, camille, time_machine
):
    shop.bastille.ship_from_enabled = True  # the only ship-from place with beanies
    shop.bastille.save(update_fields=["ship_from_enabled"])
    held_by_another_cart_then_lapsed(time_machine, "PAR-BAS", "WOOL-BEANIE", 5)
    cart = services.cart_of(customer=camille)
    services.set_line(cart=cart, sku_code="WOOL-BEANIE", quantity=5, channel="web")

    result = services.checkout(
        cart=cart,
        fulfilment="delivery",
        channel="web",
        idempotency_key="k",
        address=services.Address(
            name="Camille", line1="1 rue de Rivoli", city="Paris", postcode="75001", country="FR"
        ),
    )

    assert result.created
    allocation = Reservation.objects.get(kind=Reservation.Kind.ORDER, status="active")
    assert (allocation.level.location, allocation.quantity) == (shop.bastille, 5)
