from datetime import timedelta

import pytest
from django.utils import timezone

from inventory import services
from inventory.models import Reservation, StockLevel, StockMovement
from inventory.services import StockLine, reservations
from omni.core.errors import InsufficientStock, InvalidRequest
from tests.inventory.factories import LocationFactory, SkuFactory, stock

pytestmark = pytest.mark.django_db

HOLD = Reservation.Kind.CART_HOLD
ORDER = Reservation.Kind.ORDER


def soon(minutes: int = 15):
    return timezone.now() + timedelta(minutes=minutes)


def test_available_is_on_hand_less_reserved_less_safety_stock_never_below_zero():
    level = StockLevel(on_hand=10, reserved=4, safety_stock=2)
    assert level.available == 4
    assert StockLevel(on_hand=3, reserved=2, safety_stock=5).available == 0


def test_reserving_takes_available_stock_and_refuses_more():
    sku, store = SkuFactory(), LocationFactory()
    stock(sku, store, 5, safety_stock=1)

    services.reserve(lines=[StockLine(sku.pk, store.pk, 3)], kind=ORDER, reference="order:1")
    with pytest.raises(InsufficientStock) as refused:
        services.reserve(lines=[StockLine(sku.pk, store.pk, 2)], kind=ORDER, reference="order:2")

    assert refused.value.details["lines"] == [
        {"sku": sku.code, "location": store.code, "requested": 2, "available": 1}
    ]
    level = StockLevel.objects.get(sku=sku, location=store)
    assert (level.on_hand, level.reserved, level.available) == (5, 3, 1)


def test_a_multi_line_reservation_is_all_or_nothing():
    store = LocationFactory()
    plenty, scarce = SkuFactory(), SkuFactory()
    stock(plenty, store, 10)
    stock(scarce, store, 1)

    with pytest.raises(InsufficientStock) as refused:
        services.reserve(
            lines=[StockLine(plenty.pk, store.pk, 2), StockLine(scarce.pk, store.pk, 2)],
            kind=ORDER,
            reference="order:1",
        )

    assert [line["sku"] for line in refused.value.details["lines"]] == [scarce.code]
    assert not Reservation.objects.exists()
    assert set(StockLevel.objects.values_list("reserved", flat=True)) == {0}


def test_a_sku_never_stocked_at_a_location_is_out_of_stock_there():
    sku, store = SkuFactory(), LocationFactory()

    with pytest.raises(InsufficientStock) as refused:
        services.reserve(lines=[StockLine(sku.pk, store.pk, 1)], kind=ORDER, reference="o")

    assert refused.value.details["lines"][0]["available"] == 0


def test_a_cart_hold_needs_an_expiry_and_quantities_must_be_positive():
    sku, store = SkuFactory(), LocationFactory()
    stock(sku, store, 5)

    with pytest.raises(InvalidRequest):
        services.reserve(lines=[StockLine(sku.pk, store.pk, 1)], kind=HOLD, reference="cart:1")
    with pytest.raises(InvalidRequest):
        services.reserve(lines=[StockLine(sku.pk, store.pk, -1)], kind=ORDER, reference="o")

    assert StockLevel.objects.get().reserved == 0


def test_another_carts_lapsed_hold_counts_as_gone_before_the_clean_up_task_runs():
    sku, store = SkuFactory(), LocationFactory()
    stock(sku, store, 2)
    services.reserve(
        lines=[StockLine(sku.pk, store.pk, 2)],
        kind=HOLD,
        reference="cart:old",
        expires_at=timezone.now() - timedelta(seconds=1),
    )

    services.reserve(lines=[StockLine(sku.pk, store.pk, 2)], kind=ORDER, reference="order:1")

    assert Reservation.objects.get(reference="cart:old").status == Reservation.Status.EXPIRED
    assert StockLevel.objects.get().reserved == 2


def test_releasing_puts_back_exactly_what_was_reserved():
    sku, store = SkuFactory(), LocationFactory()
    stock(sku, store, 5)
    services.reserve(lines=[StockLine(sku.pk, store.pk, 3)], kind=ORDER, reference="order:1")

    released = services.release_reservations(reference="order:1")
    again = services.release_reservations(reference="order:1")

    assert (released, again) == (3, 0)
    level = StockLevel.objects.get()
    assert (level.on_hand, level.reserved) == (5, 0)
    assert Reservation.objects.get().status == Reservation.Status.RELEASED


def test_consuming_a_reservation_takes_stock_off_the_shelf_through_the_ledger():
    sku, store = SkuFactory(), LocationFactory()
    stock(sku, store, 5)
    services.reserve(lines=[StockLine(sku.pk, store.pk, 2)], kind=ORDER, reference="order:7")

    services.consume_reservations(reference="order:7")

    level = StockLevel.objects.get()
    assert (level.on_hand, level.reserved) == (3, 0)
    sale = level.movements.get(kind=StockMovement.Kind.SALE)
    assert (sale.quantity, sale.reference) == (-2, "order:7")


def test_extending_holds_keeps_them_alive_but_not_lapsed_ones():
    sku, store = SkuFactory(), LocationFactory()
    stock(sku, store, 5)
    services.reserve(
        lines=[StockLine(sku.pk, store.pk, 1)], kind=HOLD, reference="cart:1", expires_at=soon(1)
    )
    later = soon(30)

    assert services.extend_holds(reference="cart:1", until=later) == 1
    assert Reservation.objects.get().expires_at == later


def test_the_clean_up_releases_every_lapsed_hold_and_nothing_else(time_machine):
    store = LocationFactory()
    skus = [SkuFactory() for _ in range(3)]
    for sku in skus:
        stock(sku, store, 5)
        services.reserve(
            lines=[StockLine(sku.pk, store.pk, 2)],
            kind=HOLD,
            reference="cart:a",
            expires_at=soon(10),
        )
        services.reserve(
            lines=[StockLine(sku.pk, store.pk, 1)],
            kind=HOLD,
            reference="cart:b",
            expires_at=soon(60),
        )
    services.reserve(lines=[StockLine(skus[0].pk, store.pk, 1)], kind=ORDER, reference="o:1")
    time_machine.move_to(timezone.now() + timedelta(minutes=20))

    expired = services.expire_cart_holds(batch_size=2)

    assert expired == 3
    assert sorted(StockLevel.objects.values_list("reserved", flat=True)) == [1, 1, 2]
    assert not Reservation.objects.filter(reference="cart:a", status="active").exists()


def test_a_clerk_sale_may_use_the_safety_stock_but_not_others_reservations():
    sku, store = SkuFactory(), LocationFactory()
    stock(sku, store, 5, safety_stock=2)
    services.reserve(lines=[StockLine(sku.pk, store.pk, 3)], kind=ORDER, reference="order:1")

    with pytest.raises(InsufficientStock):
        services.sell_in_store(location=store, lines={sku: 3}, reference="till:1")
    services.sell_in_store(location=store, lines={sku: 2}, reference="till:2")

    level = StockLevel.objects.get()
    assert (level.on_hand, level.reserved, level.available) == (3, 3, 0)


def test_an_interrupted_hold_clean_up_resumes_without_releasing_twice(time_machine, monkeypatch):
    store = LocationFactory()
    skus = [SkuFactory() for _ in range(4)]
    for sku in skus:
        stock(sku, store, 3)
        services.reserve(
            lines=[StockLine(sku.pk, store.pk, 2)],
            kind=HOLD,
            reference=f"cart:{sku.pk}",
            expires_at=soon(5),
        )
    time_machine.move_to(timezone.now() + timedelta(minutes=10))
    real_expire, batches = reservations._expire_holds_on, []

    def crash_on_second_batch(level_ids, now):
        batches.append(level_ids)
        if len(batches) == 2:
            raise RuntimeError("worker killed")
        return real_expire(level_ids, now)

    monkeypatch.setattr(reservations, "_expire_holds_on", crash_on_second_batch)
    with pytest.raises(RuntimeError):
        services.expire_cart_holds(batch_size=2)
    monkeypatch.setattr(reservations, "_expire_holds_on", real_expire)

    assert services.expire_cart_holds(batch_size=2) == 2

    assert set(StockLevel.objects.values_list("reserved", flat=True)) == {0}
    assert Reservation.objects.filter(status="expired").count() == 4
