from datetime import timedelta

import pytest
from django.utils import timezone

from inventory import services
from inventory.models import LowStockAlert, Reservation, StockLevel
from inventory.services import StockLine
from tests.inventory.factories import LocationFactory, SkuFactory, stock

pytestmark = pytest.mark.django_db


def with_reorder_point(level: StockLevel, point: int) -> StockLevel:
    level.reorder_point = point
    level.save(update_fields=["reorder_point"])
    return level


def test_a_level_below_its_reorder_point_gets_one_open_alert():
    store = LocationFactory()
    low = with_reorder_point(stock(SkuFactory(), store, 5, safety_stock=1), 5)
    with_reorder_point(stock(SkuFactory(), store, 20), 5)
    stock(SkuFactory(), store, 0)  # no reorder point: never alerted

    assert services.raise_low_stock_alerts() == (1, 0)
    assert services.raise_low_stock_alerts() == (0, 0)

    alert = LowStockAlert.objects.get()
    assert (alert.level, alert.available, alert.reorder_point) == (low, 4, 5)


def test_reservations_count_towards_low_stock():
    sku, store = SkuFactory(), LocationFactory()
    with_reorder_point(stock(sku, store, 10), 3)
    services.reserve(lines=[StockLine(sku.pk, store.pk, 8)], kind="order", reference="o:1")

    raised, _ = services.raise_low_stock_alerts()

    assert raised == 1
    assert LowStockAlert.objects.get().available == 2


def test_an_alert_is_resolved_when_stock_recovers_and_a_new_one_opens_on_the_next_dip():
    sku, store = SkuFactory(), LocationFactory()
    with_reorder_point(stock(sku, store, 1), 3)
    services.raise_low_stock_alerts()

    stock(sku, store, 10)
    assert services.raise_low_stock_alerts() == (0, 1)

    services.sell_in_store(location=store, lines={sku: 10}, reference="till")
    assert services.raise_low_stock_alerts() == (1, 0)
    assert LowStockAlert.objects.filter(resolved_at=None).count() == 1
    assert LowStockAlert.objects.count() == 2


def test_a_lapsed_cart_hold_the_clean_up_has_not_reached_yet_does_not_raise_an_alert():
    sku, store = SkuFactory(), LocationFactory()
    level = with_reorder_point(stock(sku, store, 10), 5)
    services.reserve(
        lines=[StockLine(sku.pk, store.pk, 8)],
        kind=Reservation.Kind.CART_HOLD,
        reference="cart:a",
        expires_at=timezone.now() + timedelta(minutes=15),
    )
    assert services.raise_low_stock_alerts() == (1, 0)  # held: 2 sellable, below 5

    later = timezone.now() + timedelta(minutes=20)  # the hold lapsed; nobody expired it yet
    assert services.raise_low_stock_alerts(now=later) == (0, 1)
    assert services.raise_low_stock_alerts(now=later) == (0, 0)
    level.refresh_from_db()
    assert level.reserved == 8  # reads never write: the clean-up task releases it
