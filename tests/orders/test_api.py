import pytest

from inventory.models import Reservation
from orders.models import Order
from tests.api_clients import app_client
from tests.loyalty.factories import customer

pytestmark = pytest.mark.django_db


def add(client, sku="RAIN-JACKET-M", quantity=1, **headers):
    return client.post(
        "/api/v1/cart/lines", {"sku": sku, "quantity": quantity}, format="json", **headers
    )


def test_a_guest_gets_a_cart_token_and_finds_the_cart_with_it(shop):
    web = app_client("web")

    created = add(web)
    token = created.json()["guest_token"]
    again = web.get("/api/v1/cart", HTTP_X_CART_TOKEN=token)

    assert created.status_code == 201
    assert again.status_code == 200
    assert [line["sku"] for line in again.json()["lines"]] == ["RAIN-JACKET-M"]


def test_my_cart_is_read_in_a_bounded_number_of_queries(
    shop, camille, django_assert_max_num_queries
):
    phone = app_client("ios", camille)
    for code in ("RAIN-JACKET-M", "WOOL-BEANIE"):
        add(phone, code)
    phone.put("/api/v1/cart/pickup-store", {"store": "PAR-RIV"}, format="json")

    with django_assert_max_num_queries(10):
        response = phone.get("/api/v1/cart")

    body = response.json()
    assert (body["pickup_store"], len(body["lines"])) == ("PAR-RIV", 2)
    assert body["hold_expires_at"] is not None


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"sku": "RAIN-JACKET-M", "quantity": 0}, 400, "validation_error"),
        ({"sku": "RAIN-JACKET-M", "quantity": -2}, 400, "validation_error"),
        ({"sku": "NO-SUCH-SKU", "quantity": 1}, 400, "invalid_request"),
    ],
)
def test_bad_lines_get_a_clear_error_and_change_nothing(shop, camille, payload, status, code):
    phone = app_client("ios", camille)

    response = phone.post("/api/v1/cart/lines", payload, format="json")

    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert phone.get("/api/v1/cart").json()["lines"] == []


@pytest.mark.parametrize(
    ("store", "message"), [("NOPE", "Unknown store"), ("ORL-DC", "does not offer pick-up")]
)
def test_an_unknown_or_non_pick_up_store_is_refused(shop, camille, store, message):
    phone = app_client("ios", camille)
    add(phone)

    response = phone.put("/api/v1/cart/pickup-store", {"store": store}, format="json")

    assert response.status_code == 400
    assert message in response.json()["error"]["message"]
    assert not Reservation.objects.exists()


def test_checkout_without_an_idempotency_key_is_refused(shop, camille):
    phone = app_client("ios", camille)
    add(phone)

    response = phone.post(
        "/api/v1/checkout", {"fulfilment": "pickup", "pickup_store": "PAR-RIV"}, format="json"
    )

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["error"]["message"]
    assert not Order.objects.exists()


def test_a_delivery_checkout_needs_an_address(shop, camille):
    phone = app_client("ios", camille)
    add(phone)

    response = phone.post(
        "/api/v1/checkout", {"fulfilment": "delivery"}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )

    assert response.status_code == 400
    assert "address" in response.json()["error"]["details"]


def test_someone_elses_order_is_not_found(shop, camille):
    phone = app_client("ios", camille)
    add(phone)
    number = phone.post(
        "/api/v1/checkout",
        {"fulfilment": "pickup", "pickup_store": "PAR-RIV"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k",
    ).json()["number"]
    stranger = app_client("ios", customer())

    assert stranger.get(f"/api/v1/orders/{number}").status_code == 404
    assert stranger.post(f"/api/v1/orders/{number}/cancel").status_code == 404
    assert Order.objects.get().status == "placed"


def test_my_orders_list_in_bounded_queries(shop, camille, django_assert_max_num_queries):
    phone = app_client("ios", camille)
    for n in range(3):
        add(phone, "WOOL-BEANIE")
        phone.post(
            "/api/v1/checkout",
            {"fulfilment": "pickup", "pickup_store": "PAR-RIV"},
            format="json",
            HTTP_IDEMPOTENCY_KEY=f"k{n}",
        )

    with django_assert_max_num_queries(8):
        response = phone.get("/api/v1/orders")

    assert response.json()["count"] == 3


def test_a_guest_checkout_retried_with_the_same_key_returns_the_same_order(shop):
    web = app_client("web")
    token = add(web, "WOOL-BEANIE").json()["guest_token"]
    body = {"fulfilment": "pickup", "pickup_store": "PAR-BAS"}

    first = web.post(
        "/api/v1/checkout",
        body,
        format="json",
        HTTP_X_CART_TOKEN=token,
        HTTP_IDEMPOTENCY_KEY="guest-k",
    )
    again = web.post(
        "/api/v1/checkout",
        body,
        format="json",
        HTTP_X_CART_TOKEN=token,
        HTTP_IDEMPOTENCY_KEY="guest-k",
    )

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["number"] == again.json()["number"]
    assert Order.objects.get().customer is None


def test_another_shoppers_cart_cannot_be_reached_or_changed(shop, camille):
    guest = app_client("web")
    token = add(guest, "WOOL-BEANIE", 2).json()["guest_token"]
    stranger = app_client("web", customer())

    # A signed-in customer always gets their own cart, whatever cart token they send.
    seen = stranger.get("/api/v1/cart", HTTP_X_CART_TOKEN=token).json()
    changed = stranger.delete("/api/v1/cart/lines/WOOL-BEANIE", HTTP_X_CART_TOKEN=token)

    assert seen["lines"] == []
    assert changed.status_code == 404
    mine = guest.get("/api/v1/cart", HTTP_X_CART_TOKEN=token).json()
    assert [(line["sku"], line["quantity"]) for line in mine["lines"]] == [("WOOL-BEANIE", 2)]
