"""Every call an abuser would repeat has a limit: 429 with Retry-After, documented in the
schema; and bodies built to crash the parser are a plain 400 (issue 9, finding 3 and lows)."""

import pytest
import yaml
from rest_framework.test import APIClient

from tests.customers.factories import CustomerFactory, customer_token, storefront_key

pytestmark = pytest.mark.django_db

LIMITED_CALLS = [
    ("sign_in", "post", "/api/v1/customers/sign-in", {"email": "a@example.com", "password": "x"}),
    ("sign_up", "post", "/api/v1/customers/sign-up", {"email": "a@example.com"}),
    ("sign_up_confirm", "post", "/api/v1/customers/sign-up/confirm", {"token": "t"}),
    ("cart", "post", "/api/v1/cart/lines", {"sku": "NOPE", "quantity": 1}),
    ("cart", "put", "/api/v1/cart/pickup-store", {"store": "NOPE"}),
    ("checkout", "post", "/api/v1/checkout", {"fulfilment": "pickup"}),
    ("quote", "post", "/api/v1/loyalty/quote", {"lines": []}),
    ("events", "post", "/api/v1/events", {"events": []}),
]


def storefront(**extra) -> APIClient:
    client = APIClient(**extra)
    client.credentials(HTTP_X_API_KEY=storefront_key())
    return client


@pytest.mark.parametrize(("scope", "method", "path", "body"), LIMITED_CALLS)
def test_each_call_an_abuser_would_repeat_is_limited_per_address(
    settings, scope, method, path, body
):
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, f"{scope}.address": "1/min"}
    client = storefront(REMOTE_ADDR="203.0.113.5")
    first = getattr(client, method)(path, body, format="json")

    second = getattr(client, method)(path, body, format="json")

    assert first.status_code != 429
    assert second.status_code == 429
    assert second.json()["error"]["code"] == "throttled"
    assert int(second["Retry-After"]) > 0


def test_the_schema_documents_429_on_every_limited_call(client):
    schema = yaml.safe_load(client.get("/api/v1/schema/").content)

    for _, method, path, _ in LIMITED_CALLS:
        assert "429" in schema["paths"][path][method]["responses"], (method, path)


def test_a_signed_in_customers_limit_follows_them_from_address_to_address(settings):
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, "checkout.customer": "1/min"}
    key = storefront_key()
    token = customer_token(CustomerFactory())
    clients = [APIClient(REMOTE_ADDR=f"203.0.113.{n}") for n in (1, 2)]
    for client in clients:
        client.credentials(HTTP_X_API_KEY=key, HTTP_AUTHORIZATION=f"Bearer {token}")

    statuses = [
        client.post("/api/v1/checkout", {}, format="json").status_code for client in clients
    ]

    assert statuses[0] != 429
    assert statuses[1] == 429


def test_guests_have_their_own_lower_limit_on_cart_writes(settings):
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, "cart.guest": "1/min"}
    guest = storefront(REMOTE_ADDR="203.0.113.9")
    member = storefront(REMOTE_ADDR="203.0.113.9")
    member.credentials(
        HTTP_X_API_KEY=storefront_key(),
        HTTP_AUTHORIZATION=f"Bearer {customer_token(CustomerFactory())}",
    )
    line = {"sku": "NOPE", "quantity": 1}
    guest.post("/api/v1/cart/lines", line, format="json")

    assert guest.post("/api/v1/cart/lines", line, format="json").status_code == 429
    assert member.post("/api/v1/cart/lines", line, format="json").status_code != 429


def test_a_deeply_nested_body_is_a_400_not_a_server_error():
    body = "[" * 100_000 + "]" * 100_000

    response = storefront().post(
        "/api/v1/events",
        body,
        content_type="application/json",
        headers={"Idempotency-Key": "deep-1"},
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_a_body_nested_within_the_limit_is_read_as_usual():
    body = '{"events": [{"type": "search", "properties": {"a": {"b": {"c": [1]}}}}]}'

    response = storefront().post("/api/v1/events", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
