"""One rule for what online channels may sell: on hand - reserved - safety stock, where a cart
hold that has lapsed no longer counts as reserved, whether or not the clean-up task has run.
Reads (availability, delivery allocation) and reservation apply the same rule."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from inventory import selectors, services
from inventory.allocation import Shipment, allocate_delivery, delivery_candidates
from inventory.models import Reservation, StockLevel
from inventory.services import StockLine
from tests.inventory.factories import LocationFactory, SkuFactory, stock, stock_grid

pytestmark = pytest.mark.django_db

PARIS = (48.8566, 2.3522)
HOLD = Reservation.Kind.CART_HOLD


def soon():
    return timezone.now() + timedelta(minutes=15)


def hold(sku, location, quantity, *, reference, minutes):
    """A cart hold that lapses ``minutes`` from now (negative: lapsed already)."""
    return services.reserve(
        lines=[StockLine(sku.pk, location.pk, quantity)],
        kind=HOLD,
        reference=reference,
        expires_at=timezone.now() + timedelta(minutes=minutes),
    )


def availability(sku) -> dict:
    response = APIClient().get(
        "/api/v1/availability/", {"skus": sku.code, "lat": PARIS[0], "lng": PARIS[1]}
    )
    assert response.status_code == 200
    return response.json()[0]["lines"][0]


def test_a_lapsed_hold_of_another_cart_is_shown_available_and_a_reservation_gets_it():
    sku, store = SkuFactory(), LocationFactory()
    stock(sku, store, 5, safety_stock=1)
    hold(sku, store, 4, reference="cart:gone", minutes=-1)  # lapsed, not cleaned up yet

    shown = availability(sku)
    services.reserve(
        lines=[StockLine(sku.pk, store.pk, 4)], kind=HOLD, reference="cart:new", expires_at=soon()
    )

    assert shown == {"sku": sku.code, "available": 4, "band": "available"}
    assert Reservation.objects.get(reference="cart:gone").status == Reservation.Status.EXPIRED
    assert availability(sku)["available"] == 0


def test_a_live_hold_still_counts_as_reserved():
    sku, store = SkuFactory(), LocationFactory()
    stock(sku, store, 5)
    hold(sku, store, 2, reference="cart:live", minutes=10)
    hold(sku, store, 1, reference="cart:gone", minutes=-1)

    assert availability(sku)["available"] == 3


def test_reading_availability_writes_nothing():
    sku, store = SkuFactory(), LocationFactory()
    stock(sku, store, 3)
    hold(sku, store, 3, reference="cart:gone", minutes=-1)

    availability(sku)

    lapsed = Reservation.objects.get(reference="cart:gone")
    assert lapsed.status == Reservation.Status.ACTIVE
    assert StockLevel.objects.get().reserved == 3


def test_availability_with_lapsed_holds_costs_the_same_three_queries(django_assert_num_queries):
    skus = SkuFactory.create_batch(5)
    stores = [LocationFactory(latitude=48.80 + n / 100) for n in range(4)]
    stock_grid(skus, stores, on_hand=5)
    for n, sku in enumerate(skus):
        hold(sku, stores[n % 4], 5, reference=f"cart:{n}", minutes=-1)
    codes = ",".join(sku.code for sku in skus)

    with django_assert_num_queries(3):
        response = APIClient().get(
            "/api/v1/availability/", {"skus": codes, "lat": PARIS[0], "lng": PARIS[1]}
        )

    assert {line["available"] for store in response.json() for line in store["lines"]} == {5}


def test_the_sellable_units_of_levels_follow_the_one_rule():
    sku, store = SkuFactory(), LocationFactory()
    level = stock(sku, store, 10, safety_stock=2)
    hold(sku, store, 3, reference="cart:live", minutes=10)
    hold(sku, store, 4, reference="cart:gone", minutes=-1)

    sellable = selectors.with_sellable(StockLevel.objects.filter(pk=level.pk)).get().sellable

    assert sellable == 10 - 3 - 2  # the lapsed 4 are not reserved any more


def test_the_sellable_units_are_never_below_zero():
    sku, store = SkuFactory(), LocationFactory()
    level = stock(sku, store, 2, safety_stock=5)

    assert selectors.with_sellable(StockLevel.objects.filter(pk=level.pk)).get().sellable == 0


def test_delivery_allocation_ships_stock_that_only_a_lapsed_hold_kept_back(
    django_assert_max_num_queries,
):
    sku = SkuFactory()
    warehouse = LocationFactory(pickup_enabled=False, ship_from_enabled=True)
    stock(sku, warehouse, 2)
    hold(sku, warehouse, 2, reference="cart:gone", minutes=-1)

    with django_assert_max_num_queries(2):
        shipments = allocate_delivery({sku.pk: 2}, latitude=PARIS[0], longitude=PARIS[1])

    assert shipments == [Shipment(warehouse.pk, {sku.pk: 2})]


def test_delivery_candidates_leave_out_live_holds_but_not_lapsed_ones():
    sku = SkuFactory()
    warehouse = LocationFactory(pickup_enabled=False, ship_from_enabled=True)
    stock(sku, warehouse, 6, safety_stock=1)
    hold(sku, warehouse, 2, reference="cart:live", minutes=10)
    hold(sku, warehouse, 3, reference="cart:gone", minutes=-1)

    (candidate,) = delivery_candidates([sku.pk], None, None)

    assert candidate.available == {sku.pk: 6 - 2 - 1}


def test_the_admin_shows_as_available_what_the_storefront_shows(admin_client):
    sku, store = SkuFactory(), LocationFactory()
    stock(sku, store, 10)
    hold(sku, store, 4, reference="cart:gone", minutes=-1)
    hold(sku, store, 1, reference="cart:live", minutes=10)

    page = admin_client.get("/admin/inventory/stocklevel/").content.decode()

    assert availability(sku)["available"] == 9
    assert '<td class="field-reserved">5</td>' in page  # the row, until the clean-up runs
    assert '<td class="field-available">9</td>' in page
