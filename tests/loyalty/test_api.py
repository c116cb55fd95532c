from decimal import Decimal
from io import BytesIO

import pytest
from PIL import Image

from inventory.models import Category
from loyalty import services
from loyalty.models import EarnRule
from loyalty.services import QuoteLine
from tests.api_clients import app_client
from tests.inventory.factories import ProductFactory, SkuFactory
from tests.loyalty.factories import customer, programme

pytestmark = pytest.mark.django_db


@pytest.fixture
def member():
    programme()
    return customer()


def test_my_loyalty_shows_balance_tier_progress_and_card(member):
    services.earn_for_order(
        customer=member,
        reference="o1",
        lines=[QuoteLine(Decimal("120"))],
        channel="web",
        idempotency_key="o1",
    )

    response = app_client("ios", member).get("/api/v1/loyalty/me")

    assert response.status_code == 200
    body = response.json()
    assert (body["balance"], body["available"], body["pending"]) == (120, 0, 120)
    assert body["tier"]["name"] == "Member"
    assert body["next_tier"]["name"] == "Silver"
    assert body["to_next_tier"] == "380.00"
    assert services.is_valid_card_number(body["card_number"])


def test_my_history_is_paginated_newest_first(member, django_assert_max_num_queries):
    for n in range(3):
        services.earn_for_order(
            customer=member,
            reference=f"o{n}",
            lines=[QuoteLine(Decimal(10 + n))],
            channel="web",
            idempotency_key=f"o{n}",
        )
    client = app_client("ios", member)

    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/loyalty/me/history")

    assert response.status_code == 200
    assert [e["reference"] for e in response.json()["results"]] == ["o2", "o1", "o0"]


def test_my_card_qr_code_is_a_png(member):
    response = app_client("ios", member).get("/api/v1/loyalty/me/card.png")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    with Image.open(BytesIO(response.content)) as image:
        assert image.format == "PNG"
        assert image.width == image.height


def test_my_loyalty_needs_a_signed_in_customer(member):
    response = app_client().get("/api/v1/loyalty/me")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_a_quote_uses_the_apps_channel_and_todays_prices(member):
    outerwear = Category.objects.create(code="outerwear", name="Outerwear")
    EarnRule.objects.create(
        programme=services.current_programme(),
        name="Double in the app",
        kind="channel",
        channel="ios",
        multiplier=Decimal("2"),
    )
    sku = SkuFactory(product=ProductFactory(category=outerwear), price=Decimal("45.50"))

    response = app_client("ios").post(
        "/api/v1/loyalty/quote", {"lines": [{"sku": sku.code, "quantity": 2}]}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["points"] == 182


def test_a_quote_for_an_unknown_sku_is_a_clear_400(member):
    response = app_client().post(
        "/api/v1/loyalty/quote", {"lines": [{"sku": "NOPE", "quantity": 1}]}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"unknown_skus": ["NOPE"]}
