"""Carriers tell Omni where parcels are through a signed webhook: a `delivered` event delivers
the parcel, and the order (with its points) once its last parcel is (issue 11)."""

import hashlib
import hmac
import json
import time

import pytest
from rest_framework.test import APIClient

from loyalty.models import Account
from orders import services
from orders.models import CarrierEvent, Order, Parcel
from tests.inventory.factories import stock

pytestmark = pytest.mark.django_db

SECRET = "whsec-colissimo-0123456789abcdef"
URL = "/api/v1/carriers/colissimo/events"


@pytest.fixture(autouse=True)
def secrets(settings):
    settings.CARRIER_WEBHOOK_SECRETS = {"colissimo": SECRET, "dhl": "whsec-dhl-0123456789abcdef"}


@pytest.fixture
def shipped(shop, camille) -> Order:
    """Camille's two jackets and a beanie, shipped from the warehouse in two parcels, 6A1 and
    6A2."""
    stock(shop.beanie, shop.warehouse, 10)
    cart = services.cart_of(customer=camille)
    services.set_line(cart=cart, sku_code="RAIN-JACKET-M", quantity=2, channel="web")
    services.set_line(cart=cart, sku_code="WOOL-BEANIE", quantity=1, channel="web")
    order = services.checkout(
        cart=cart,
        fulfilment="delivery",
        channel="web",
        idempotency_key="k",
        address=services.Address("C. Martin", "1 rue de Rivoli", "Paris", "75001", "FR"),
    ).order
    shipment = order.shipments.get()
    jacket = shipment.lines.get(order_line__sku__code="RAIN-JACKET-M")
    services.ship(
        shipment=shipment, tracking=services.Tracking("Colissimo", "6A1"), line_ids=[jacket.pk]
    )
    services.ship(shipment=shipment, tracking=services.Tracking("Colissimo", "6A2"))
    return order


def event(event_id="evt-1", number="6A1", kind="delivered", **extra) -> dict:
    return {
        "event_id": event_id,
        "tracking_number": number,
        "kind": kind,
        "occurred_at": "2026-03-04T09:30:00Z",
        **extra,
    }


def signature(body: bytes, *, secret=SECRET, timestamp=None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def post(payload, *, url=URL, sign=True, client=None, raw: bytes | None = None, **headers):
    body = raw if raw is not None else json.dumps(payload).encode()
    if sign is True:
        headers.setdefault("HTTP_X_OMNI_SIGNATURE", signature(body))
    return (client or APIClient()).post(url, data=body, content_type="application/json", **headers)


def parcel(number) -> Parcel:
    return Parcel.objects.get(tracking_number=number)


def error_code(response) -> str:
    return response.json()["error"]["code"]


def test_a_signed_delivered_event_delivers_the_parcel(shipped):
    response = post(event())

    assert response.status_code == 201
    assert response.json() == {
        "event_id": "evt-1",
        "recorded": True,
        "tracking_number": "6A1",
        "parcel_status": "delivered",
    }
    delivered = parcel("6A1")
    assert delivered.status == "delivered"
    assert delivered.delivered_at.isoformat() == "2026-03-04T09:30:00+00:00"
    shipped.refresh_from_db()
    assert shipped.status == "shipped"  # 6A2 is still on its way


def test_the_order_is_delivered_and_earns_its_points_with_its_last_parcel(shipped, camille):
    post(event("evt-1", "6A1"))

    response = post(event("evt-2", "6A2"))

    assert response.status_code == 201
    shipped.refresh_from_db()
    assert shipped.status == "delivered"
    assert Account.objects.get(customer=camille).pending == 197


def test_an_event_other_than_delivered_is_kept_and_changes_nothing(shipped):
    response = post(event(kind="in_transit"))

    assert response.status_code == 201
    assert response.json()["parcel_status"] == "shipped"
    assert CarrierEvent.objects.get().kind == "in_transit"


def test_a_carrier_retrying_an_event_changes_nothing_twice(shipped, camille):
    post(event("evt-1", "6A1"))
    post(event("evt-2", "6A2"))

    retry = post(event("evt-2", "6A2"))

    assert retry.status_code == 200
    assert retry.json()["recorded"] is False
    assert CarrierEvent.objects.count() == 2
    assert Account.objects.get(customer=camille).pending == 197


def test_the_carrier_is_matched_whatever_its_case(shipped):
    response = post(event(), url="/api/v1/carriers/COLISSIMO/events")

    assert response.status_code == 201
    assert CarrierEvent.objects.get().carrier == "colissimo"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "v1=abc",
        "t=notanumber,v1=abc",
        "t=1700000000",
        "t={now},v1=" + "0" * 64,
        "t={now},v1=zz",
    ],
)
def test_a_missing_or_bad_signature_is_a_401_and_changes_nothing(shipped, header):
    headers = {}
    if header is not None:
        headers["HTTP_X_OMNI_SIGNATURE"] = header.format(now=int(time.time()))

    response = post(event(), sign=False, **headers)

    assert response.status_code == 401
    assert error_code(response) in {"not_authenticated", "authentication_failed"}
    assert parcel("6A1").status == "shipped"
    assert not CarrierEvent.objects.exists()


def test_a_body_changed_after_signing_is_refused(shipped):
    signed = json.dumps(event(kind="in_transit")).encode()

    response = post(
        None,
        raw=json.dumps(event(kind="delivered")).encode(),
        sign=False,
        HTTP_X_OMNI_SIGNATURE=signature(signed),
    )

    assert response.status_code == 401
    assert parcel("6A1").status == "shipped"


def test_another_carriers_secret_does_not_sign_for_this_one(shipped):
    body = json.dumps(event()).encode()

    response = post(
        None,
        raw=body,
        sign=False,
        HTTP_X_OMNI_SIGNATURE=signature(body, secret="whsec-dhl-0123456789abcdef"),
    )

    assert response.status_code == 401


def test_one_of_several_signatures_may_match_while_a_secret_is_rotated(shipped):
    body = json.dumps(event()).encode()
    good = signature(body)
    timestamp, v1 = good.split(",")

    response = post(
        None, raw=body, sign=False, HTTP_X_OMNI_SIGNATURE=f"{timestamp},v1={'0' * 64},{v1}"
    )

    assert response.status_code == 201


@pytest.mark.parametrize("age", [301, -301, 3600])
def test_a_signature_more_than_five_minutes_away_from_now_is_refused_as_a_replay(
    shipped, time_machine, age
):
    time_machine.move_to("2026-03-04 10:00:00+00:00", tick=False)
    body = json.dumps(event()).encode()
    then = int(time.time()) - age

    response = post(
        None, raw=body, sign=False, HTTP_X_OMNI_SIGNATURE=signature(body, timestamp=then)
    )

    assert response.status_code == 401
    assert "5 minutes" in response.json()["error"]["message"]
    assert not CarrierEvent.objects.exists()


def test_a_signature_within_five_minutes_is_accepted(shipped, time_machine):
    time_machine.move_to("2026-03-04 10:00:00+00:00", tick=False)
    body = json.dumps(event()).encode()

    response = post(
        None,
        raw=body,
        sign=False,
        HTTP_X_OMNI_SIGNATURE=signature(body, timestamp=int(time.time()) - 290),
    )

    assert response.status_code == 201


def test_an_unknown_tracking_number_is_a_404(shipped):
    response = post(event(number="NOPE"))

    assert response.status_code == 404
    assert error_code(response) == "not_found"
    assert not CarrierEvent.objects.exists()


def test_a_signed_body_with_bad_fields_is_a_400(shipped):
    response = post({"event_id": "", "tracking_number": "6A1", "kind": "delivered"})

    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    assert {"event_id", "occurred_at"} <= set(response.json()["error"]["details"])


def test_a_signed_body_that_is_not_json_is_a_400(shipped):
    response = post(None, raw=b"not json")

    assert response.status_code == 400


def test_a_carrier_without_a_secret_is_not_configured(shipped, settings):
    settings.CARRIER_WEBHOOK_SECRETS = {}

    response = post(event())

    assert response.status_code == 503
    assert error_code(response) == "not_configured"
    assert parcel("6A1").status == "shipped"


def test_a_body_larger_than_the_bound_is_refused_unread(shipped):
    big = json.dumps(event(note="x" * 70_000)).encode()

    response = post(None, raw=big)

    assert response.status_code == 413
    assert error_code(response) == "payload_too_large"
    assert not CarrierEvent.objects.exists()


def test_the_webhook_is_throttled_per_address(shipped, settings):
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, "carrier_events.address": "1/min"}
    post(event("evt-1"), client=APIClient(REMOTE_ADDR="203.0.113.7"))

    refused = post(event("evt-2"), client=APIClient(REMOTE_ADDR="203.0.113.7"))
    elsewhere = post(event("evt-3"), client=APIClient(REMOTE_ADDR="203.0.113.8"))

    assert refused.status_code == 429
    assert error_code(refused) == "throttled"
    assert elsewhere.status_code == 201


def test_the_schema_documents_the_webhook_and_its_errors():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/carriers/{carrier}/events"]["post"]

    assert {"200", "201"} <= set(operation["responses"])
    for status in ("400", "401", "404", "413", "429", "503"):
        error = operation["responses"][status]["content"]["application/json"]["schema"]
        assert error == {"$ref": "#/components/schemas/Error"}, status
    assert "X-Omni-Signature" in [p["name"] for p in operation["parameters"]]
