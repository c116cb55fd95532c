import pytest

from inventory.allocation import Candidate, Shipment, allocate, allocate_delivery, distance_km
from omni.core.errors import InsufficientStock
from tests.inventory.factories import LocationFactory, SkuFactory, stock

JACKET, SHOE = 1, 2


def test_one_location_with_every_line_wins_over_a_nearer_one_that_would_split():
    near = Candidate(10, 2.0, {JACKET: 5})
    far_complete = Candidate(20, 300.0, {JACKET: 5, SHOE: 5})

    shipments = allocate({JACKET: 1, SHOE: 1}, [near, far_complete])

    assert shipments == [Shipment(20, {JACKET: 1, SHOE: 1})]


def test_among_complete_locations_the_nearest_ships():
    far = Candidate(10, 120.0, {JACKET: 50})
    near = Candidate(20, 8.0, {JACKET: 2})

    assert allocate({JACKET: 2}, [far, near]) == [Shipment(20, {JACKET: 2})]


def test_at_equal_distance_the_location_with_most_stock_ships():
    thin = Candidate(10, 5.0, {JACKET: 1})
    deep = Candidate(20, 5.0, {JACKET: 40})
    unknown_distance = Candidate(30, None, {JACKET: 100})

    assert allocate({JACKET: 1}, [thin, unknown_distance, deep]) == [Shipment(20, {JACKET: 1})]


def test_an_order_no_location_can_ship_alone_is_split_covering_the_most_first():
    jackets = Candidate(10, 1.0, {JACKET: 3})
    shoes_and_a_jacket = Candidate(20, 50.0, {JACKET: 1, SHOE: 2})
    spare = Candidate(30, 2.0, {SHOE: 1})

    shipments = allocate({JACKET: 4, SHOE: 2}, [jackets, shoes_and_a_jacket, spare])

    assert shipments == [Shipment(10, {JACKET: 3}), Shipment(20, {JACKET: 1, SHOE: 2})]


def test_an_order_all_locations_together_cannot_cover_is_refused():
    with pytest.raises(InsufficientStock):
        allocate({JACKET: 5}, [Candidate(10, 1.0, {JACKET: 2}), Candidate(20, 1.0, {JACKET: 2})])


def test_distance_between_paris_and_lyon_is_about_392_km():
    assert distance_km(48.8566, 2.3522, 45.7640, 4.8357) == pytest.approx(392, abs=3)


@pytest.mark.django_db
def test_delivery_allocation_reads_available_stock_of_ship_from_locations_only(
    django_assert_max_num_queries,
):
    sku = SkuFactory()
    paris = LocationFactory(latitude=48.86, longitude=2.35, ship_from_enabled=True)
    lyon = LocationFactory(latitude=45.76, longitude=4.84, ship_from_enabled=True)
    store_only = LocationFactory(latitude=48.85, longitude=2.34, ship_from_enabled=False)
    stock(sku, paris, 3, safety_stock=2)  # only 1 available
    stock(sku, lyon, 5)
    stock(sku, store_only, 9)

    with django_assert_max_num_queries(2):
        shipments = allocate_delivery({sku.pk: 2}, latitude=48.85, longitude=2.35)

    assert shipments == [Shipment(lyon.pk, {sku.pk: 2})]
