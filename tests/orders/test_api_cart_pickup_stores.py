"""One call for the pick-up stores near a point that can serve the cart: nearest first, each
with its distance, whether it covers every line and the lines it is short of."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from inventory.models import Location
from orders import services
from tests.api_clients import app_client
from tests.customers.factories import CustomerFactory
from tests.inventory.factories import LocationFactory, SkuFactory, stock, stock_grid
from tests.loyalty.factories import customer

pytestmark = pytest.mark.django_db

PARIS = (48.8566, 2.3522)
URL = "/api/v1/cart/pickup-stores"


def store_at(latitude: float, longitude: float, **fields) -> Location:
    return LocationFactory(
        latitude=Decimal(str(latitude)), longitude=Decimal(str(longitude)), **fields
    )


def pickup_stores(client, cart_token=None, **params):
    headers = {"HTTP_X_CART_TOKEN": cart_token} if cart_token else {}
    return client.get(URL, {"lat": PARIS[0], "lng": PARIS[1], **params}, **headers)


def cart_with(shopper, *lines, store=None):
    cart = services.cart_of(customer=shopper)
    for sku, quantity in lines:
        services.set_line(cart=cart, sku_code=sku.code, quantity=quantity, channel="web")
    if store is not None:
        services.choose_pickup_store(cart=cart, store_code=store.code)
    return cart


@pytest.fixture
def camille(db):
    return customer(first_name="Camille")


@pytest.fixture
def jacket(db):
    return SkuFactory(code="RAIN-JACKET-M")


@pytest.fixture
def beanie(db):
    return SkuFactory(code="WOOL-BEANIE")


def test_stores_are_listed_nearest_first_each_saying_whether_it_covers_the_cart(
    camille, jacket, beanie
):
    near = store_at(48.857, 2.353, code="PAR-HDV")  # jackets only
    middle = store_at(48.86, 2.34, code="PAR-RIV")  # everything
    far = store_at(45.764, 4.836, code="LYS-BEL")  # one beanie short
    store_at(48.857, 2.352, kind=Location.Kind.WAREHOUSE, pickup_enabled=False)
    store_at(48.857, 2.352, is_active=False)
    stock(jacket, near, 5)
    stock(jacket, middle, 2)
    stock(beanie, middle, 3)
    stock(jacket, far, 9)
    stock(beanie, far, 2, safety_stock=1)
    cart_with(camille, (jacket, 2), (beanie, 3))

    response = pickup_stores(app_client("web", camille))

    assert response.status_code == 200
    body = response.json()
    assert [store["code"] for store in body] == ["PAR-HDV", "PAR-RIV", "LYS-BEL"]
    assert body[0]["distance_km"] < body[1]["distance_km"] < body[2]["distance_km"]
    assert body[2]["distance_km"] == pytest.approx(392, abs=3)
    assert [(store["covers_cart"], store["short_lines"]) for store in body] == [
        (False, [{"sku": "WOOL-BEANIE", "wanted": 3, "available": 0}]),
        (True, []),
        (False, [{"sku": "WOOL-BEANIE", "wanted": 3, "available": 1}]),
    ]
    assert body[1]["name"] == middle.name


def test_the_carts_own_hold_counts_as_its_own_at_its_store(camille, jacket):
    store = store_at(48.86, 2.34)
    stock(jacket, store, 2)
    cart_with(camille, (jacket, 2), store=store)  # holds every jacket there

    (answer,) = pickup_stores(app_client("web", camille)).json()

    assert (answer["code"], answer["covers_cart"], answer["short_lines"]) == (
        store.code,
        True,
        [],
    )


def test_another_carts_live_hold_counts_but_its_lapsed_hold_does_not(camille, jacket, time_machine):
    lapsed_at, live_at = store_at(48.86, 2.34), store_at(48.87, 2.34)
    stock(jacket, lapsed_at, 1)
    stock(jacket, live_at, 1)
    cart_with(CustomerFactory(), (jacket, 1), store=lapsed_at)
    time_machine.move_to(timezone.now() + timedelta(hours=1))
    cart_with(CustomerFactory(), (jacket, 1), store=live_at)
    cart_with(camille, (jacket, 1))

    body = pickup_stores(app_client("web", camille)).json()

    assert [(store["code"], store["covers_cart"]) for store in body] == [
        (lapsed_at.code, True),
        (live_at.code, False),
    ]


def test_an_empty_cart_is_covered_everywhere(camille):
    store = store_at(48.86, 2.34)
    services.cart_of(customer=camille)

    body = pickup_stores(app_client("web", camille)).json()

    assert [(s["code"], s["covers_cart"], s["short_lines"]) for s in body] == [
        (store.code, True, [])
    ]


def test_a_guest_asks_with_the_cart_token(jacket):
    store = store_at(48.86, 2.34)
    stock(jacket, store, 1)
    guest = app_client("web")
    token = guest.post(
        "/api/v1/cart/lines", {"sku": jacket.code, "quantity": 2}, format="json"
    ).json()["guest_token"]

    response = pickup_stores(guest, cart_token=token)

    assert response.status_code == 200
    assert response.json()[0]["short_lines"] == [{"sku": jacket.code, "wanted": 2, "available": 1}]


@pytest.mark.parametrize(
    ("client", "cart_token", "status", "code"),
    [
        (APIClient, None, 401, "not_authenticated"),
        (app_client, None, 404, "not_found"),
        (app_client, "made-up", 404, "not_found"),
    ],
)
def test_without_a_storefront_key_or_a_cart_the_call_is_refused(client, cart_token, status, code):
    store_at(48.86, 2.34)

    response = pickup_stores(client(), cart_token)

    assert response.status_code == status
    assert response.json()["error"]["code"] == code


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lat": ""}, "lat"),
        ({"lat": 91}, "lat"),
        ({"lng": "east"}, "lng"),
        ({"lng": -181}, "lng"),
        ({"limit": 0}, "limit"),
        ({"limit": 51}, "limit"),
    ],
)
def test_a_bad_point_or_limit_is_a_validation_error(camille, params, field):
    services.cart_of(customer=camille)

    response = pickup_stores(app_client("web", camille), **params)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["details"]) == [field]


def test_the_list_stops_at_the_limit(camille):
    stores = [store_at(48.86 + offset / 100, 2.35) for offset in range(4)]
    services.cart_of(customer=camille)

    body = pickup_stores(app_client("web", camille), limit=2).json()

    assert [store["code"] for store in body] == [stores[0].code, stores[1].code]


def test_the_call_is_throttled_like_the_public_reads(camille, settings):
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, "public_read.address": "2/minute"}
    store_at(48.86, 2.34)
    services.cart_of(customer=camille)
    client = app_client("web", camille)

    statuses = [pickup_stores(client).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    assert pickup_stores(client).json()["error"]["code"] == "throttled"


@pytest.mark.parametrize(("sku_count", "store_count"), [(1, 2), (12, 20)])
def test_the_answer_costs_the_same_few_queries_whatever_the_cart_and_the_stores(
    camille, django_assert_max_num_queries, sku_count, store_count
):
    skus = SkuFactory.create_batch(sku_count)
    stores = [store_at(48.80 + n / 100, 2.30) for n in range(store_count)]
    stock_grid(skus, stores, on_hand=3)
    cart_with(camille, *[(sku, 2) for sku in skus], store=stores[0])
    client = app_client("web", camille)

    # The key and the customer's token, the cart, its lines, the stores, their stock.
    with django_assert_max_num_queries(6):
        response = pickup_stores(client, limit=store_count)

    body = response.json()
    assert len(body) == store_count
    assert all(store["covers_cart"] for store in body)


def test_the_schema_documents_the_call_with_every_error():
    schema = SchemaGenerator().get_schema(request=None, public=True)

    operation = schema["paths"][URL]["get"]

    assert {"lat", "lng", "limit", "X-Cart-Token"} <= {p["name"] for p in operation["parameters"]}
    for status in ("400", "401", "404", "429"):
        error = operation["responses"][status]["content"]["application/json"]["schema"]
        assert error == {"$ref": "#/components/schemas/Error"}
    assert "200" in operation["responses"]
