"""Inventory's scheduled tasks, run by a real Celery worker process."""

from datetime import timedelta

from django.utils import timezone

from inventory import tasks
from inventory.models import LowStockAlert, Reservation, StockLevel
from inventory.services import StockLine, reserve
from tests.inventory.factories import LocationFactory, SkuFactory, stock


def test_a_worker_releases_lapsed_cart_holds(live_celery_worker):
    sku, store = SkuFactory(), LocationFactory()
    stock(sku, store, 3)
    reserve(
        lines=[StockLine(sku.pk, store.pk, 2)],
        kind=Reservation.Kind.CART_HOLD,
        reference="cart:abandoned",
        expires_at=timezone.now() - timedelta(minutes=1),
    )

    expired = tasks.expire_cart_holds.delay().get(timeout=60)

    assert expired == 1
    assert StockLevel.objects.get().reserved == 0
    assert Reservation.objects.get().status == Reservation.Status.EXPIRED


def test_a_worker_raises_low_stock_alerts(live_celery_worker):
    level = stock(SkuFactory(), LocationFactory(), 2)
    level.reorder_point = 5
    level.save(update_fields=["reorder_point"])

    result = tasks.raise_low_stock_alerts.delay().get(timeout=60)

    assert result == {"raised": 1, "resolved": 0}
    assert LowStockAlert.objects.get().level == level
