"""Public storefront reads: stores near a point and stock of many SKUs at the nearest stores."""

import math
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from inventory import selectors, services
from inventory.models import Location, Reservation
from omni.core.errors import InvalidRequest
from tests.customers.factories import storefront_key
from tests.inventory.factories import LocationFactory, SkuFactory, stock, stock_grid

pytestmark = pytest.mark.django_db

PARIS = (48.8566, 2.3522)
# Three reads whatever the size: the SKUs, the nearest stores, their stock levels.
AVAILABILITY_QUERIES = 3


@pytest.fixture
def api():
    return APIClient()


def store_at(latitude: float, longitude: float, **fields) -> Location:
    return LocationFactory(
        latitude=Decimal(str(latitude)), longitude=Decimal(str(longitude)), **fields
    )


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lng1, lat2, lng2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def get_stores(api, **params):
    return api.get("/api/v1/stores/", {"lat": PARIS[0], "lng": PARIS[1], **params})


def get_availability(api, skus, **params):
    codes = ",".join(sku if isinstance(sku, str) else sku.code for sku in skus)
    return api.get(
        "/api/v1/availability/", {"skus": codes, "lat": PARIS[0], "lng": PARIS[1], **params}
    )


# --- Stores near a point ---------------------------------------------------------------------


def test_stores_are_listed_nearest_first_with_their_distance(api):
    lyon = store_at(45.7640, 4.8357, code="LYS-BEL")
    rivoli = store_at(48.8600, 2.3400, code="PAR-RIV")
    defense = store_at(48.8920, 2.2380, code="PAR-DEF")

    response = get_stores(api)

    assert response.status_code == 200
    body = response.json()
    assert [store["code"] for store in body] == [rivoli.code, defense.code, lyon.code]
    assert body[2]["distance_km"] == pytest.approx(haversine_km(PARIS, (45.7640, 4.8357)), abs=0.01)
    assert body[0]["distance_km"] < 1.5


def test_stores_leave_out_closed_warehouses_and_places_without_coordinates(api):
    open_store = store_at(48.86, 2.34)
    store_at(48.86, 2.34, is_active=False)
    store_at(48.86, 2.34, kind=Location.Kind.WAREHOUSE, pickup_enabled=False)
    LocationFactory(latitude=None, longitude=None)

    response = get_stores(api)

    assert [store["code"] for store in response.json()] == [open_store.code]


def test_stores_near_can_include_locations_without_pick_up():
    store = store_at(48.86, 2.34)
    warehouse = store_at(48.80, 2.40, kind=Location.Kind.WAREHOUSE, pickup_enabled=False)

    nearby = selectors.stores_near(*PARIS, limit=10, pickup_only=False)

    assert [location.code for location in nearby] == [store.code, warehouse.code]
    assert all(location.distance_km > 0 for location in nearby)


def test_the_store_list_stops_at_the_limit(api):
    for offset in range(4):
        store_at(48.86 + offset / 100, 2.34)

    response = get_stores(api, limit=2)

    assert len(response.json()) == 2


@pytest.mark.parametrize(
    ("params", "field"),
    [({"lat": ""}, "lat"), ({"lat": 91}, "lat"), ({"lng": "east"}, "lng"), ({"limit": 0}, "limit")],
)
def test_a_store_search_with_a_bad_point_or_limit_is_a_validation_error(api, params, field):
    response = get_stores(api, **params)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["details"]) == [field]


# --- Availability at the nearest stores ------------------------------------------------------


def test_availability_is_grouped_per_store_nearest_first_with_a_band_per_sku(api):
    near, far = store_at(48.86, 2.34), store_at(48.90, 2.20)
    plenty, few, none = SkuFactory(), SkuFactory(), SkuFactory()
    stock(plenty, near, 10)
    stock(few, near, 2)
    stock(plenty, far, 4)

    response = get_availability(api, [plenty, few, none], stores=5)

    assert response.status_code == 200
    body = response.json()
    assert [(store["code"], store["name"]) for store in body] == [
        (near.code, near.name),
        (far.code, far.name),
    ]
    assert body[0]["distance_km"] < body[1]["distance_km"]
    assert body[0]["lines"] == [
        {"sku": plenty.code, "available": 10, "band": "available"},
        {"sku": few.code, "available": 2, "band": "low"},
        {"sku": none.code, "available": 0, "band": "out"},
    ]
    assert body[1]["lines"] == [
        {"sku": plenty.code, "available": 4, "band": "available"},
        {"sku": few.code, "available": 0, "band": "out"},
        {"sku": none.code, "available": 0, "band": "out"},
    ]


def test_available_leaves_out_reserved_and_safety_stock_and_is_never_below_zero(api):
    store = store_at(48.86, 2.34)
    held, guarded = SkuFactory(), SkuFactory()
    stock(held, store, 6, safety_stock=1)
    services.reserve(
        lines=[services.StockLine(held.pk, store.pk, 3)],
        kind=Reservation.Kind.ORDER,
        reference="order:1",
    )
    stock(guarded, store, 2, safety_stock=5)

    response = get_availability(api, [held, guarded])

    assert response.json()[0]["lines"] == [
        {"sku": held.code, "available": 2, "band": "low"},
        {"sku": guarded.code, "available": 0, "band": "out"},
    ]


def test_the_low_band_follows_the_low_stock_band_setting(api, settings):
    settings.LOW_STOCK_BAND = 5
    store, sku = store_at(48.86, 2.34), SkuFactory()
    stock(sku, store, 5)

    response = get_availability(api, [sku])

    assert response.json()[0]["lines"][0]["band"] == "low"


def test_only_the_requested_number_of_nearest_pickup_stores_is_answered(api):
    sku = SkuFactory()
    stores = [store_at(48.86 + offset / 100, 2.34) for offset in range(4)]
    store_at(48.8566, 2.3522, pickup_enabled=False)

    response = get_availability(api, [sku], stores=2)

    assert [store["code"] for store in response.json()] == [stores[0].code, stores[1].code]


def test_unknown_and_inactive_sku_codes_are_named_in_a_400():
    store_at(48.86, 2.34)
    known, retired = SkuFactory(), SkuFactory(is_active=False)

    response = get_availability(APIClient(), [known, retired, "NO-SUCH-SKU"])

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["details"] == {"unknown_skus": sorted([retired.code, "NO-SUCH-SKU"])}
    assert "NO-SUCH-SKU" in error["message"]


def test_the_selector_refuses_unknown_sku_codes_too():
    with pytest.raises(InvalidRequest):
        selectors.availability_near(["NOPE"], *PARIS, stores=5)


@pytest.mark.parametrize(
    ("skus", "stores", "field"),
    [(51, 5, "skus"), (1, 21, "stores"), (1, 0, "stores"), (0, 5, "skus")],
)
def test_too_many_skus_or_stores_is_a_validation_error(api, skus, stores, field):
    codes = [f"SKU-{n}" for n in range(skus)]

    response = get_availability(api, codes, stores=stores)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["details"]) == [field]


@pytest.mark.parametrize(("sku_count", "store_count"), [(2, 3), (50, 20)])
def test_availability_costs_the_same_few_queries_for_2_or_50_skus_at_3_or_20_stores(
    api, django_assert_num_queries, sku_count, store_count
):
    skus = SkuFactory.create_batch(sku_count)
    stores = [store_at(48.80 + n / 100, 2.30) for n in range(store_count)]
    stock_grid(skus, stores, on_hand=5)

    with django_assert_num_queries(AVAILABILITY_QUERIES):
        response = get_availability(api, skus, stores=store_count)

    assert response.status_code == 200
    body = response.json()
    assert len(body) == store_count
    assert {len(store["lines"]) for store in body} == {sku_count}


def test_public_reads_are_throttled_per_client_with_the_error_shape(api, settings):
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, "public_read.address": "2/minute"}
    store_at(48.86, 2.34)

    statuses = [get_stores(api).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    throttled = get_stores(api)
    assert throttled.json()["error"]["code"] == "throttled"
    assert int(throttled["Retry-After"]) > 0


def test_sending_the_public_storefront_key_does_not_lift_the_address_limit(settings):
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, "public_read.address": "2/minute"}
    store_at(48.86, 2.34)
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=storefront_key())

    statuses = [get_stores(client).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


def test_a_storefront_apps_reads_share_one_budget_whatever_the_address(settings):
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, "public_read.key": "2/minute"}
    store_at(48.86, 2.34)
    key = storefront_key()
    clients = [APIClient(REMOTE_ADDR=f"203.0.113.{n}") for n in range(3)]
    for client in clients:
        client.credentials(HTTP_X_API_KEY=key)

    statuses = [get_stores(client).status_code for client in clients]

    assert statuses == [200, 200, 429]
