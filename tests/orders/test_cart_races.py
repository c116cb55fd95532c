"""Two devices changing the same cart at the same moment, on a real PostgreSQL server."""

import pytest

from omni.core.errors import InvalidRequest
from orders import services
from orders.models import CartLine
from tests.concurrency import run_concurrently
from tests.inventory.factories import LocationFactory, SkuFactory, stock
from tests.loyalty.factories import customer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]


def test_the_same_sku_added_from_two_devices_at_once_counts_both():
    sku = SkuFactory(code="RAIN-JACKET-M")
    stock(sku, LocationFactory(code="PAR-RIV"), 10)
    cart = services.cart_of(customer=customer())

    def add_from(device):
        return lambda: services.set_line(
            cart=cart, sku_code=sku.code, quantity=1, channel=device, device_id=device, add=True
        )

    outcome = run_concurrently(
        [add_from("ios"), add_from("web"), add_from("android")], InvalidRequest
    )

    summary = outcome.summary(3)
    assert not outcome.crashed, summary  # no lost update, no duplicate line
    assert (len(outcome.granted), len(outcome.refused)) == (3, 0), summary
    assert CartLine.objects.get(cart=cart).quantity == 3
