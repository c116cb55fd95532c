"""Orders on a database where no loyalty programme is set up yet (``manage.py setup_loyalty``
not run, demo not loaded): the goods still leave, earning nothing; spending points is refused
with a clear error that changes nothing."""

import logging

import pytest
from django.contrib.auth.models import User

from inventory.models import Reservation, StockLevel
from loyalty.models import Account, PointsEntry, Programme
from omni.core.errors import NotConfigured
from orders import services
from orders.models import Order
from tests.api_clients import app_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def unset(shop):
    """The shop, without its loyalty programme."""
    Programme.objects.all().delete()
    return shop


@pytest.fixture
def clerk(db):
    return User.objects.create_user("clerk", is_staff=True)


def pickup_order(buyer, **choices) -> Order:
    cart = services.cart_of(customer=buyer)
    services.set_line(cart=cart, sku_code="RAIN-JACKET-M", quantity=1, channel="ios")
    return services.checkout(
        cart=cart,
        fulfilment="pickup",
        channel="ios",
        idempotency_key="k",
        pickup_store_code="PAR-RIV",
        **choices,
    ).order


def test_a_pick_up_is_handed_over_and_earns_nothing_with_a_warning(unset, camille, clerk, caplog):
    order = services.mark_ready_for_pickup(order=pickup_order(camille), actor=clerk)

    with caplog.at_level(logging.WARNING, logger="loyalty"):
        services.collect_pickup(order=order, code=order.pickup_code, actor=clerk)

    order.refresh_from_db()
    assert order.status == "collected"
    assert order.payments.get().status == "captured"
    assert StockLevel.objects.get(sku=unset.jacket, location=unset.rivoli).on_hand == 2
    assert not Account.objects.exists()
    assert not PointsEntry.objects.exists()
    assert f"{order.number} earns no points" in caplog.text
    assert "setup_loyalty" in caplog.text


def test_an_in_store_sale_to_a_known_customer_completes_and_earns_nothing(unset, camille, clerk):
    cart = services.cart_of(customer=camille)
    services.set_line(cart=cart, sku_code="WOOL-BEANIE", quantity=1, channel="store", clerk=clerk)

    order = services.checkout(
        cart=cart,
        fulfilment="in_store",
        channel="store",
        idempotency_key="till-1",
        clerk=clerk,
        till_store=unset.bastille,
    ).order

    assert order.status == "completed"
    assert not PointsEntry.objects.exists()


def test_paying_with_points_is_refused_clearly_and_changes_nothing(unset, camille):
    with pytest.raises(NotConfigured, match="setup_loyalty"):
        pickup_order(camille, redeem_points=100)

    assert not Order.objects.exists()
    assert not Reservation.objects.filter(kind="order").exists()
    assert StockLevel.objects.get(sku=unset.jacket, location=unset.rivoli).reserved == 0


def test_the_api_answers_503_not_configured_for_points(unset, camille):
    phone = app_client("ios", camille)
    phone.post("/api/v1/cart/lines", {"sku": "RAIN-JACKET-M", "quantity": 1}, format="json")

    response = phone.post(
        "/api/v1/checkout",
        {"fulfilment": "pickup", "pickup_store": "PAR-RIV", "redeem_points": 100},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k",
    )

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "not_configured"
    assert not Order.objects.exists()
