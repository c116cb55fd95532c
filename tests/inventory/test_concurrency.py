"""Concurrent checkouts on a real PostgreSQL server: never more granted than available."""

import random

import pytest

from inventory import services
from inventory.models import Reservation, StockLevel
from inventory.services import StockLine
from omni.core.errors import InsufficientStock
from tests.concurrency import run_concurrently
from tests.inventory.factories import LocationFactory, SkuFactory, stock

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]

ATTEMPTS = 24


def test_the_last_units_of_a_hot_sku_go_to_exactly_as_many_checkouts():
    sku, store = SkuFactory(), LocationFactory()
    stock(sku, store, 7, safety_stock=2)  # 5 available online

    def checkout(n):
        return lambda: services.reserve(
            lines=[StockLine(sku.pk, store.pk, 1)],
            kind=Reservation.Kind.ORDER,
            reference=f"order:{n}",
        )

    outcome = run_concurrently([checkout(n) for n in range(ATTEMPTS)], InsufficientStock)

    summary = outcome.summary(ATTEMPTS)
    assert not outcome.crashed, summary
    assert len(outcome.granted) == 5, summary
    level = StockLevel.objects.get()
    assert (level.reserved, level.available) == (5, 0), summary
    assert Reservation.objects.filter(status="active").count() == 5, summary


def test_multi_line_orders_in_any_line_order_neither_oversell_nor_deadlock():
    store = LocationFactory()
    skus = [SkuFactory() for _ in range(4)]
    for sku in skus:
        stock(sku, store, 6)
    shuffler = random.Random(20261124)

    def checkout(n):
        lines = [StockLine(sku.pk, store.pk, 2) for sku in skus]
        shuffler.shuffle(lines)  # each order names its lines in another order
        return lambda: services.reserve(
            lines=lines, kind=Reservation.Kind.ORDER, reference=f"order:{n}"
        )

    outcome = run_concurrently([checkout(n) for n in range(ATTEMPTS)], InsufficientStock)

    summary = outcome.summary(ATTEMPTS)
    assert not outcome.crashed, summary
    assert len(outcome.granted) == 3, summary
    assert set(StockLevel.objects.values_list("reserved", flat=True)) == {6}, summary


def test_store_sales_and_online_reservations_racing_for_the_same_shelf_never_oversell():
    sku, store = SkuFactory(), LocationFactory()
    stock(sku, store, 6)

    def online(n):
        return lambda: services.reserve(
            lines=[StockLine(sku.pk, store.pk, 1)],
            kind=Reservation.Kind.ORDER,
            reference=f"web:{n}",
        )

    def till(n):
        return lambda: services.sell_in_store(location=store, lines={sku: 1}, reference=f"t:{n}")

    calls = [online(n) if n % 2 else till(n) for n in range(ATTEMPTS)]
    outcome = run_concurrently(calls, InsufficientStock)

    summary = outcome.summary(ATTEMPTS)
    assert not outcome.crashed, summary
    assert len(outcome.granted) == 6, summary
    level = StockLevel.objects.get()
    assert level.on_hand - level.reserved == 0, summary
    assert level.on_hand >= 0
