"""Concurrent checkouts on a real PostgreSQL server."""

import pytest

from omni.errors import InsufficientStock
from orders import services
from orders.models import Order
from tests.concurrency import run_concurrently
from tests.inventory.factories import LocationFactory, SkuFactory, stock
from tests.loyalty.factories import customer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]


def test_two_devices_checking_out_the_same_cart_at_once_make_one_order():
    store = LocationFactory(code="PAR-RIV")
    sku = SkuFactory(code="RAIN-JACKET-M")
    stock(sku, store, 5)
    camille = customer()
    cart = services.cart_of(customer=camille)
    services.set_line(cart=cart, sku_code=sku.code, quantity=2, channel="ios")

    def device(name):
        return lambda: services.checkout(
            cart=cart,
            fulfilment="pickup",
            channel=name,
            idempotency_key=f"{name}-tap",
            pickup_store_code="PAR-RIV",
        )

    outcome = run_concurrently([device("ios"), device("web")], InsufficientStock)

    summary = outcome.summary(2)
    assert not outcome.crashed, summary
    assert len({result.order.pk for result in outcome.granted}) == 1, summary
    assert sorted(result.created for result in outcome.granted) == [False, True], summary
    assert Order.objects.count() == 1


def test_the_last_units_under_concurrent_pick_up_checkouts_are_never_oversold():
    store = LocationFactory(code="PAR-RIV")
    sku = SkuFactory(code="RAIN-JACKET-M")
    stock(sku, store, 3)
    carts = []
    for _ in range(12):
        cart = services.cart_of(customer=customer())
        services.set_line(cart=cart, sku_code=sku.code, quantity=1, channel="web")
        carts.append(cart)

    def checkout(cart):
        return lambda: services.checkout(
            cart=cart,
            fulfilment="pickup",
            channel="web",
            idempotency_key="tap",
            pickup_store_code="PAR-RIV",
        )

    outcome = run_concurrently([checkout(cart) for cart in carts], InsufficientStock)

    summary = outcome.summary(len(carts))
    assert not outcome.crashed, summary
    assert len(outcome.granted) == 3, summary
    assert Order.objects.count() == 3, summary
