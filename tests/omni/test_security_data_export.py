"""The data export holds everything about the person, from every app, in a bounded number of
queries (issue 9 #8)."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from rest_framework.test import APIClient

from customers.models import Customer
from customers.notifications import notify
from customers.selectors import customer_export
from customers.services import add_service_note, record_consent
from loyalty import services as loyalty
from orders import services as orders
from orders.models import Order
from tests.customers.factories import (
    CustomerFactory,
    StaffFactory,
    TouchpointFactory,
    customer_token,
    storefront_key,
)
from tests.inventory.factories import LocationFactory, SkuFactory, stock
from tests.loyalty.factories import programme

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(db):
    class Chain:
        store = LocationFactory(code="PAR-RIV", ship_from_enabled=False)
        warehouse = LocationFactory(code="ORL-DC", kind="warehouse", pickup_enabled=False)
        jacket = SkuFactory(code="RAIN-JACKET-M", price="89.00")
        beanie = SkuFactory(code="WOOL-BEANIE", price="19.00")
        staff = StaffFactory()

    programme()
    stock(Chain.jacket, Chain.warehouse, 100)
    stock(Chain.beanie, Chain.warehouse, 100)
    return Chain


ADDRESS = orders.Address(
    name="Léa Martin", line1="3 rue Oberkampf", city="Paris", postcode="75011", country="FR"
)


def a_delivered_order_with_a_return(customer: Customer, chain, n: int) -> Order:
    cart = orders.cart_of(customer=customer)
    for code in ("RAIN-JACKET-M", "WOOL-BEANIE"):
        orders.set_line(cart=cart, sku_code=code, quantity=1, channel="web", device_id="laptop")
    order = orders.checkout(
        cart=cart, fulfilment="delivery", channel="web", idempotency_key=f"k{n}", address=ADDRESS
    ).order
    for shipment in order.shipments.all():
        orders.ship(shipment=shipment, tracking=orders.Tracking("Colissimo", f"8R{n}"))
    orders.mark_delivered(order=order)
    orders.return_items(
        order=order,
        items=[orders.ReturnedItem(order.lines.first().pk, 1, restock=True)],
        location=chain.store,
        idempotency_key=f"return-{n}",
    )
    return order


def a_history(chain, *, orders_placed: int) -> Customer:
    """A member with orders (each with lines, parcels, a payment and a return), a live cart,
    wish lists, points, a card, consents, touchpoints, a note, a message and a kept API
    answer."""
    customer = CustomerFactory(first_name="Léa", email="lea@example.com")
    for n in range(orders_placed):
        a_delivered_order_with_a_return(customer, chain, n)
        TouchpointFactory(customer=customer, sku_code="RAIN-JACKET-M")
        record_consent(
            customer=customer,
            channel="email",
            purpose="marketing",
            granted=bool(n % 2 == 0),
            source_channel="web",
        )
        add_service_note(customer=customer, author=chain.staff, topic="Call", text=f"Call {n}")
        saved_on = orders.create_wish_list(owner=orders.Owner(customer=customer), name=f"L{n}")
        orders.add_to_wish_list(
            owner=orders.Owner(customer=customer),
            list_id=saved_on.public_id,
            sku_code="WOOL-BEANIE",
            channel="web",
        )
        notify(
            customer=customer,
            topic="customers.hello",
            channel="email",
            kind="transactional",
            body=f"Hello {n}",
            idempotency_key=f"hello:{n}",
        )
    cart = orders.cart_of(customer=customer)
    orders.set_line(cart=cart, sku_code="WOOL-BEANIE", quantity=2, channel="ios", device_id="ph")
    loyalty.replace_card(account=loyalty.enrol(customer=customer), reason="Lost")
    client = APIClient()
    client.credentials(
        HTTP_X_API_KEY=storefront_key("web"),
        HTTP_AUTHORIZATION=f"Bearer {customer_token(customer)}",
    )
    client.patch(
        "/api/v1/customers/me",
        {"last_name": "Martin"},
        format="json",
        headers={"Idempotency-Key": "name"},
    )
    customer.refresh_from_db()
    return customer


def test_the_export_lists_the_persons_rows_of_every_app(chain):
    customer = a_history(chain, orders_placed=1)

    document = customer_export(customer, now=timezone.now())

    (order,) = document["orders"]["orders"]
    assert [line["sku"] for line in order["lines"]] == ["RAIN-JACKET-M", "WOOL-BEANIE"]
    assert order["ship_to"]["line1"] == "3 rue Oberkampf"
    assert [step["to_status"] for step in order["timeline"]][-1] == "delivered"
    parcels = [parcel for shipment in order["shipments"] for parcel in shipment["parcels"]]
    assert [parcel["tracking_number"] for parcel in parcels] == ["8R0"]
    assert [(p["amount"], p["refunded"], p["status"]) for p in order["payments"]] == [
        ("108.00", "89.00", "refunded")
    ]
    ((returned,),) = [r["lines"] for r in order["returns"]]
    assert (returned["sku"], returned["quantity"], returned["restocked"]) == (
        "RAIN-JACKET-M",
        1,
        True,
    )
    live = [cart for cart in document["orders"]["carts"] if cart["status"] == "active"]
    assert [(line["sku"], line["device_id"]) for line in live[0]["lines"]] == [
        ("WOOL-BEANIE", "ph")
    ]
    membership = document["loyalty"]
    assert [card["status"] for card in membership["cards"]] == ["blocked", "active"]
    assert {entry["kind"] for entry in membership["points_entries"]} >= {"earn", "reverse"}
    assert membership["points_lots"][0]["points"] > 0
    assert {n["topic"] for n in document["notifications"]} == {
        "orders.placed",
        "orders.parcel_shipped",
        "customers.hello",
    }
    assert [c["granted"] for c in document["consents"]] == [True]
    assert len(document["touchpoints"]) == 1
    assert document["conversations"][0]["messages"][0]["body"] == "Call 0"
    assert {i["kind"] for i in document["identities"]} >= {"email", "loyalty_card"}
    assert [s["channel"] for s in document["sign_ins"]] == ["web"]
    (kept,) = document["kept_api_answers"]
    assert (kept["path"], kept["response_body"]["last_name"]) == ("/api/v1/customers/me", "Martin")
    # Every row pointing at the customer is in a section of its app, none left raw.
    assert document["held_by_other_apps"] == {}


def test_the_export_holds_no_secret_and_no_database_key_of_the_customer(chain):
    customer = a_history(chain, orders_placed=1)

    text = json.dumps(customer_export(customer, now=timezone.now()), cls=DjangoJSONEncoder)

    assert "key_hash" not in text
    assert "guest_token" not in text
    assert "checkout_key" not in text
    assert f'"customer": {customer.pk}' not in text


@pytest.mark.parametrize("orders_placed", [1, 4])
def test_the_export_takes_the_same_number_of_queries_whatever_the_history(
    chain, orders_placed, django_assert_max_num_queries
):
    customer = a_history(chain, orders_placed=orders_placed)

    # 3 for shipment lines, parcels, parcel lines; 3 for personal codes, coupon uses and
    # refused codes; 3 for segments, their history, RFM scores; 1 for the campaigns that
    # reached them; 1 for the lifetime value; 3 for wish lists, their items and events; 1 for
    # stored-value cards (and 1 for their entries when there are some); 1 for the journeys
    # they entered; 2 for service conversations and their messages, 1 for the conversations
    # each order is about
    with django_assert_max_num_queries(40):
        document = customer_export(customer, now=timezone.now())

    assert len(document["orders"]["orders"]) == orders_placed
    assert len(document["orders"]["wish_lists"]) == orders_placed


def test_the_export_api_answers_with_every_apps_sections(chain):
    customer = a_history(chain, orders_placed=1)
    client = APIClient()
    client.credentials(
        HTTP_X_API_KEY=storefront_key("web"),
        HTTP_AUTHORIZATION=f"Bearer {customer_token(customer)}",
    )

    response = client.get("/api/v1/customers/me/export")

    assert response.status_code == 200
    body = response.json()
    assert body["orders"]["orders"][0]["payments"][0]["amount"] == "108.00"
    assert body["loyalty"]["balance"] == customer.loyalty_account.balance
    assert datetime.fromisoformat(body["exported_at"]) > datetime.now(UTC) - timedelta(minutes=1)
