"""A warehouse system that sends its ship confirmation twice at once (a retry racing the first
attempt) takes the stock off once, through the real API on a real PostgreSQL server."""

import pytest

from inventory.ledger_check import drifts_between
from inventory.models import StockMovement
from tests.concurrency import run_concurrently
from tests.orders.test_fulfilment_api import delivery_order, shipment_of, token_client, tracking

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]


class NoRefusal(Exception):
    """Refusals come back as HTTP answers; any exception a call raises is a crash."""


def ship_call(client, shipment, **headers):
    return lambda: client.post(
        f"/api/v1/fulfilment/shipments/{shipment.public_id}/ship",
        tracking(),
        format="json",
        **headers,
    )


def test_two_ship_confirmations_at_once_without_a_key_ship_once(shop, camille):
    wms = token_client(shop.warehouse)
    shipment = shipment_of(delivery_order(camille))

    outcome = run_concurrently([ship_call(wms, shipment), ship_call(wms, shipment)], NoRefusal)

    summary = outcome.summary(2)
    assert not outcome.crashed, summary
    assert sorted(r.status_code for r in outcome.granted) == [201, 409], summary
    assert StockMovement.objects.filter(kind="sale").count() == 1
    assert drifts_between(0, 10**12) == []


def test_a_retry_racing_the_first_attempt_with_its_key_gets_the_same_answer(shop, camille):
    wms = token_client(shop.warehouse)
    shipment = shipment_of(delivery_order(camille))
    key = {"HTTP_IDEMPOTENCY_KEY": "ship-6A123"}

    outcome = run_concurrently(
        [ship_call(wms, shipment, **key), ship_call(wms, shipment, **key)], NoRefusal
    )

    summary = outcome.summary(2)
    assert not outcome.crashed, summary
    first, second = outcome.granted
    assert (first.status_code, second.status_code) == (201, 201), summary
    assert first.json() == second.json()
    assert StockMovement.objects.filter(kind="sale").count() == 1
    assert drifts_between(0, 10**12) == []
