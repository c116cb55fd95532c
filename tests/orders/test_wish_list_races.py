"""Wish lists under concurrent calls, on a real PostgreSQL server: two devices saving at once,
two detection runs at once."""

from decimal import Decimal

import pytest

from inventory.models import Sku
from omni.core.errors import InvalidRequest
from orders import services
from orders.models import WishList, WishListEvent, WishListItem
from tests.concurrency import run_concurrently
from tests.inventory.factories import LocationFactory, SkuFactory, stock
from tests.loyalty.factories import customer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]


def test_the_first_save_from_three_devices_at_once_makes_one_default_list_with_one_item():
    SkuFactory(code="RAIN-JACKET-M")
    camille = customer()
    owner = services.Owner(customer=camille)

    def save_from(channel):
        return lambda: services.add_to_wish_list(
            owner=owner, sku_code="RAIN-JACKET-M", channel=channel
        )

    outcome = run_concurrently(
        [save_from("ios"), save_from("web"), save_from("android")], InvalidRequest
    )

    summary = outcome.summary(3)
    assert not outcome.crashed, summary
    assert sorted(saved.created for saved in outcome.granted) == [False, False, True]
    assert WishList.objects.filter(customer=camille).count() == 1
    assert WishListItem.objects.count() == 1


def test_two_detection_runs_at_once_record_each_change_once():
    rivoli = LocationFactory(code="PAR-RIV")
    skus = [SkuFactory(code=f"SOCK-{n}", price="10.00") for n in range(5)]
    camille = customer(preferred_store_code="PAR-RIV")
    for sku in skus:
        stock(sku, rivoli, 0)
        services.add_to_wish_list(
            owner=services.Owner(customer=camille), sku_code=sku.code, channel="web"
        )
    services.detect_wish_list_events()
    Sku.objects.update(price=Decimal("7.50"))
    for sku in skus:
        stock(sku, rivoli, 4)

    outcome = run_concurrently(
        [services.detect_wish_list_events, services.detect_wish_list_events], InvalidRequest
    )

    summary = outcome.summary(2)
    assert not outcome.crashed, summary
    kinds = list(WishListEvent.objects.values_list("kind", flat=True))
    assert sorted(kinds) == ["back_in_stock"] * 5 + ["price_dropped"] * 5
