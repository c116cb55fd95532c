"""Missing credentials are a 401 that says how to authenticate, on every storefront call."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/cart"),
        ("post", "/api/v1/cart/lines"),
        ("put", "/api/v1/cart/pickup-store"),
        ("post", "/api/v1/checkout"),
        ("get", "/api/v1/orders"),
    ],
)
def test_storefront_calls_without_credentials_answer_401(method, path):
    response = getattr(APIClient(), method)(path, {}, format="json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json()["error"]["code"] == "not_authenticated"
