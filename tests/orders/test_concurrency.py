"""Concurrent checkouts on a real PostgreSQL server."""

import pytest

from inventory.models import StockLevel
from omni.core.errors import InsufficientStock, InvalidRequest
from orders import services
from orders.models import Order, Return
from orders.services import ReturnedItem
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


def test_retries_of_one_checkout_at_once_all_get_the_first_order(shop, camille):
    cart = services.cart_of(customer=camille)
    services.set_line(cart=cart, sku_code="RAIN-JACKET-M", quantity=2, channel="ios")

    def retry():
        return services.checkout(
            cart=cart,
            fulfilment="pickup",
            channel="ios",
            idempotency_key="one-tap",
            pickup_store_code="PAR-RIV",
        )

    outcome = run_concurrently([retry] * 4, InsufficientStock)

    summary = outcome.summary(4)
    assert len(outcome.granted) == 4, summary
    assert len({result.order.pk for result in outcome.granted}) == 1, summary
    assert sorted(result.created for result in outcome.granted) == [False] * 3 + [True], summary
    assert StockLevel.objects.get(sku=shop.jacket, location=shop.rivoli).reserved == 2


def test_a_return_sent_several_times_at_once_is_taken_once_and_each_gets_it(shop, camille):
    cart = services.cart_of(customer=camille)
    services.set_line(cart=cart, sku_code="WOOL-BEANIE", quantity=1, channel="ios")
    order = services.checkout(
        cart=cart,
        fulfilment="pickup",
        channel="ios",
        idempotency_key="k",
        pickup_store_code="PAR-RIV",
    ).order
    order = services.mark_ready_for_pickup(order=order)
    services.collect_pickup(order=order, code=order.pickup_code)
    line = order.lines.get()

    def send():
        return services.return_items(
            order=order,
            items=[ReturnedItem(line.pk, 1, restock=True)],
            idempotency_key="return-once",
            location=shop.rivoli,
        )

    # A second take-back of the one beanie would be refused: every send must get the first.
    outcome = run_concurrently([send] * 4, InvalidRequest)

    summary = outcome.summary(4)
    assert len(outcome.granted) == 4, summary
    assert len({ret.pk for ret in outcome.granted}) == 1, summary
    assert Return.objects.count() == 1
    assert StockLevel.objects.get(sku=shop.beanie, location=shop.rivoli).on_hand == 10
