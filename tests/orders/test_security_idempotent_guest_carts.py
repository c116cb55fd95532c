"""Idempotency-Key for guests: a kept answer is replayed only to the guest who holds the same
cart token, and no kept answer holds a guest cart token or a bearer token (issue 9 #5)."""

import json

import pytest
from rest_framework.test import APIClient

from customers.models import SignUpRequest
from customers.services import erase_customer, sign_up_token
from omni.models import IdempotencyRecord
from orders.models import Cart
from tests.customers.factories import CustomerFactory, IdentityFactory, storefront_key

pytestmark = pytest.mark.django_db

LINES = "/api/v1/cart/lines"
A_BEANIE = {"sku": "WOOL-BEANIE", "quantity": 1}


@pytest.fixture
def web_key(db) -> str:
    return storefront_key("web")


def guest(web_key: str) -> APIClient:
    """A visitor of the web storefront: the app's key, no customer signed in."""
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=web_key)
    return client


def add(client: APIClient, *, key: str | None = None, cart_token: str | None = None):
    headers = {}
    if key is not None:
        headers["Idempotency-Key"] = key
    if cart_token is not None:
        headers["X-Cart-Token"] = cart_token
    return client.post(LINES, A_BEANIE, format="json", headers=headers)


def replayed(response) -> bool:
    return response.headers.get("Idempotent-Replayed") == "true"


def kept_answers() -> str:
    return json.dumps(
        list(IdempotencyRecord.objects.values("caller", "response_body", "response_headers"))
    )


def test_two_guests_starting_a_cart_with_the_same_key_and_body_each_get_their_own(shop, web_key):
    first = add(guest(web_key), key="first-line")

    second = add(guest(web_key), key="first-line")

    assert (first.status_code, second.status_code) == (201, 201)
    assert not replayed(second)
    assert second.json()["guest_token"] != first.json()["guest_token"]
    assert Cart.objects.count() == 2


def test_guests_with_other_cart_tokens_and_the_same_key_are_not_replayed(shop, web_key):
    lea, zoe = guest(web_key), guest(web_key)
    lea_token = add(lea).json()["guest_token"]
    zoe_token = add(zoe).json()["guest_token"]

    lea_answer = add(lea, key="more", cart_token=lea_token)
    zoe_answer = add(zoe, key="more", cart_token=zoe_token)

    assert not replayed(zoe_answer)
    assert zoe_answer.json()["guest_token"] == zoe_token
    assert lea_answer.json()["guest_token"] == lea_token
    assert [line.quantity for line in Cart.objects.get(guest_token=zoe_token).lines.all()] == [2]
    assert [line.quantity for line in Cart.objects.get(guest_token=lea_token).lines.all()] == [2]


def test_a_guests_retry_with_its_cart_token_is_replayed_and_adds_once(shop, web_key):
    visitor = guest(web_key)
    token = add(visitor).json()["guest_token"]

    first = add(visitor, key="second-beanie", cart_token=token)
    retry = add(visitor, key="second-beanie", cart_token=token)

    assert replayed(retry)
    assert retry.json() == first.json()
    assert retry.json()["guest_token"] == token
    assert [line.quantity for line in Cart.objects.get(guest_token=token).lines.all()] == [2]


def test_no_kept_answer_holds_a_guest_cart_token_or_a_bearer_token(shop, web_key):
    visitor = guest(web_key)
    new_cart = add(visitor, key="first-line").json()["guest_token"]
    add(visitor, key="second-line", cart_token=new_cart)
    visitor.post(
        "/api/v1/customers/sign-up",
        {"email": "lea@example.com", "password": "a-long-customer-password-1"},
        format="json",
        headers={"Idempotency-Key": "sign-up"},
    )
    signed_up = visitor.post(
        "/api/v1/customers/sign-up/confirm",
        {
            "token": sign_up_token(SignUpRequest.objects.get()),
            "password": "a-long-customer-password-1",
        },
        format="json",
        headers={"Idempotency-Key": "confirm"},
    )

    assert signed_up.status_code == 201
    kept = kept_answers()
    assert new_cart not in kept
    assert signed_up.json()["token"] not in kept


def test_erasing_a_customer_drops_a_guests_kept_answer_that_names_their_device(shop, web_key):
    visitor = guest(web_key)
    token = add(visitor).json()["guest_token"]
    visitor.post(
        LINES,
        {"sku": "RAIN-JACKET-M", "quantity": 1, "device_id": "iphone-lea-7"},
        format="json",
        headers={"Idempotency-Key": "from-the-phone", "X-Cart-Token": token},
    )
    lea = CustomerFactory()
    IdentityFactory(customer=lea, kind="device", value="iphone-lea-7")
    assert "iphone-lea-7" in kept_answers()

    erase_customer(customer=lea, requested_via="admin")

    assert "iphone-lea-7" not in kept_answers()
