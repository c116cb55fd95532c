"""Erasure leaves no personal data in any app (issue 9 #7).

A customer who shopped as a guest, signed up, used two devices, consented, ordered for delivery
and for pick-up, returned an item, holds a loyalty card, got messages and was edited by staff
is erased through the API; then every column of every model is searched for what identified
them. Orders, payments and the points ledger stay (the law requires them), without the person.
"""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from rest_framework.test import APIClient

from customers.models import Customer, ErasureRecord, SignUpRequest
from customers.notifications import deliver, notify
from customers.services import (
    add_service_note,
    merge_customers,
    resolve_customer,
    sign_up_token,
)
from loyalty import services as loyalty
from loyalty.models import PointsEntry
from orders import services as orders
from orders.models import Order, OrderLine, Payment
from tests.customers.factories import StaffFactory, storefront_key
from tests.inventory.factories import LocationFactory, SkuFactory, stock
from tests.loyalty.factories import programme

pytestmark = pytest.mark.django_db

EMAIL = "zephyrine.quill@example.org"
PHONE = "+33698765432"
FIRST_NAME, LAST_NAME = "Zéphyrine", "Quillebœuf"
WEB_VISITOR = "web-visitor-zephyrine"
PHONE_DEVICE = "iphone-zephyrine-7"
ADDRESS = {
    "name": f"{FIRST_NAME} {LAST_NAME}",
    "line1": "12 rue des Lilas-Bleus",
    "city": "Montreuil-sur-Orge",
    "postcode": "93199",
    "country": "FR",
}
IP_ADDRESS, USER_AGENT = "203.0.113.77", "ZephyrBrowser/1.0"
# What identified the person, in every form it is stored in (checked without case).
PERSONAL_VALUES = [
    EMAIL,
    "zephyrine",
    FIRST_NAME,
    LAST_NAME,
    PHONE,
    "698765432",
    WEB_VISITOR,
    PHONE_DEVICE,
    ADDRESS["line1"],
    ADDRESS["city"],
    ADDRESS["postcode"],
    IP_ADDRESS,
    USER_AGENT,
]
AN_HOUR_AGO = (datetime.now(UTC) - timedelta(hours=1)).isoformat()


def app(channel: str, key: str, token: str | None = None) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=key)
    if token:
        client.credentials(HTTP_X_API_KEY=key, HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def ok(response, *statuses):
    assert response.status_code in (statuses or (200, 201)), response.content
    return response.json() if response.content else None


@pytest.fixture
def chain(db):
    class Chain:
        store = LocationFactory(code="PAR-RIV", name="Paris Rivoli", ship_from_enabled=False)
        warehouse = LocationFactory(code="ORL-DC", kind="warehouse", pickup_enabled=False)
        jacket = SkuFactory(code="RAIN-JACKET-M", price="89.00")
        beanie = SkuFactory(code="WOOL-BEANIE", price="19.00")
        programme = programme()

    stock(Chain.jacket, Chain.warehouse, 10)
    stock(Chain.beanie, Chain.warehouse, 10)
    stock(Chain.beanie, Chain.store, 10)
    return Chain


def a_life_in_every_app(chain) -> tuple[Customer, str]:
    """Everything the person did, through the API where a storefront would do it."""
    web_key, ios_key = storefront_key("web"), storefront_key("ios")
    staff = StaffFactory()

    # As a guest on the web: events, a cart (one retried call kept), then sign-up.
    visitor = app("web", web_key)
    ok(
        visitor.post(
            "/api/v1/events",
            {
                "events": [
                    {
                        "type": "search",
                        "occurred_at": AN_HOUR_AGO,
                        "anonymous_id": WEB_VISITOR,
                        "url": f"https://shop.example/search?q=jacket&email={EMAIL}",
                        "properties": {"query": f"jacket for {FIRST_NAME}"},
                    }
                ]
            },
            format="json",
        )
    )
    line = {"sku": "WOOL-BEANIE", "quantity": 1, "device_id": WEB_VISITOR}
    guest_token = ok(visitor.post("/api/v1/cart/lines", line, format="json"))["guest_token"]
    jacket = {"sku": "RAIN-JACKET-M", "quantity": 1, "device_id": WEB_VISITOR}
    ok(
        visitor.post(
            "/api/v1/cart/lines",
            jacket,
            format="json",
            headers={"Idempotency-Key": "guest-jacket", "X-Cart-Token": guest_token},
        )
    )
    ok(
        visitor.post(
            "/api/v1/customers/sign-up",
            {
                "email": EMAIL,
                "password": "a-long-customer-password-1",
                "first_name": FIRST_NAME,
                "last_name": LAST_NAME,
                "phone": PHONE,
                "anonymous_id": WEB_VISITOR,
            },
            format="json",
            headers={"Idempotency-Key": "sign-up"},
        ),
        202,
    )
    session = ok(
        visitor.post(
            "/api/v1/customers/sign-up/confirm",
            {
                "token": sign_up_token(SignUpRequest.objects.get(email=EMAIL)),
                "password": "a-long-customer-password-1",
            },
            format="json",
        )
    )
    customer = Customer.objects.get(public_id=session["customer"]["id"])
    web = app("web", web_key, session["token"])

    # Signed in on the phone too: a line, events, then the guest cart joins.
    phone_session = ok(
        app("ios", ios_key).post(
            "/api/v1/customers/sign-in",
            {"email": EMAIL, "password": "a-long-customer-password-1"},
            format="json",
        )
    )
    phone = app("ios", ios_key, phone_session["token"])
    from_phone = {"anonymous_id": PHONE_DEVICE}  # the app's device id becomes an identity
    ok(
        phone.post(
            "/api/v1/cart/lines",
            {"sku": "WOOL-BEANIE", "quantity": 1, "device_id": PHONE_DEVICE},
            format="json",
        )
    )
    ok(
        phone.post(
            "/api/v1/events",
            {"events": [{"type": "product_view", "occurred_at": AN_HOUR_AGO, **from_phone}]},
            format="json",
        )
    )
    ok(
        web.post(
            "/api/v1/cart/merge",
            {"guest_token": guest_token},
            format="json",
            headers={"Idempotency-Key": "merge"},
        )
    )

    # Profile and consents, with the evidence of the request.
    ok(
        web.patch(
            "/api/v1/customers/me",
            {"birthday": "1990-04-01"},
            format="json",
            headers={"Idempotency-Key": "birthday"},
        )
    )
    ok(
        web.patch(
            "/api/v1/customers/me/consents",
            {"consents": [{"channel": "email", "purpose": "marketing", "granted": True}]},
            format="json",
            REMOTE_ADDR=IP_ADDRESS,
            HTTP_USER_AGENT=USER_AGENT,
        )
    )

    # A delivery: shipped, delivered (points), one item returned.
    delivery = ok(
        web.post(
            "/api/v1/checkout",
            {"fulfilment": "delivery", "address": ADDRESS},
            format="json",
            headers={"Idempotency-Key": "checkout-1"},
        )
    )
    order = Order.objects.get(number=delivery["number"])
    for shipment in order.shipments.all():
        orders.ship(shipment=shipment, tracking=orders.Tracking("Colissimo", "8R0001"), actor=staff)
    orders.mark_delivered(order=order, actor=staff)
    orders.return_items(
        order=order,
        items=[orders.ReturnedItem(order.lines.first().pk, 1, restock=False)],
        idempotency_key="return-1",
        actor=staff,
    )

    # A pick-up, cancelled by phone with a note.
    ok(web.post("/api/v1/cart/lines", {"sku": "WOOL-BEANIE", "quantity": 1}, format="json"))
    pickup = ok(
        web.post(
            "/api/v1/checkout",
            {"fulfilment": "pickup", "pickup_store": "PAR-RIV"},
            format="json",
            headers={"Idempotency-Key": "checkout-2"},
        )
    )
    orders.cancel_order(
        order=Order.objects.get(number=pickup["number"]),
        actor=staff,
        note=f"{FIRST_NAME} phoned from {PHONE}",
    )

    # Loyalty: a lost card replaced with a reason naming her.
    account = loyalty.enrol(customer=customer)
    loyalty.replace_card(account=account, reason=f"{FIRST_NAME} lost it at the gym", actor=staff)

    # Staff: a note, a merge with a profile from the till, an edit in the admin.
    add_service_note(
        customer=customer, author=staff, topic="Sizes", text=f"{FIRST_NAME} takes an M"
    )
    till = resolve_customer(identities=[("phone", "+33600000001")], cause="till").customer
    merge_customers(customer=customer, other=till, cause=f"Same person: {EMAIL}", actor=staff)
    customer.refresh_from_db()
    LogEntry.objects.log_actions(
        user_id=staff.pk,
        queryset=[customer],
        action_flag=CHANGE,
        change_message=[
            {"changed": {"fields": ["Phone"]}},
            {"added": {"name": "identity", "object": f"E-mail: {EMAIL}"}},
        ],
    )

    # A message delivered to her address, naming her.
    message = notify(
        customer=customer,
        topic="customers.welcome",
        channel="email",
        kind="transactional",
        subject=f"Welcome {FIRST_NAME}",
        body=f"Hello {FIRST_NAME} {LAST_NAME}, your card is ready.",
        context={"name": FIRST_NAME},
        idempotency_key="welcome:1",
    )
    deliver(notification_id=message.pk)
    return customer, session["token"]


def personal_values_left() -> dict[str, list[str]]:
    """Every personal value still found, per model and column (all columns of all models)."""
    found: dict[str, list[str]] = {}
    for model in apps.get_models(include_auto_created=True):
        columns = [f.attname for f in model._meta.concrete_fields]
        for row in model._base_manager.values(*columns):
            for column, value in row.items():
                if value is None or isinstance(value, int | float | bool):
                    continue
                text = json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False).lower()
                hits = [v for v in PERSONAL_VALUES if v.lower() in text]
                if hits:
                    found.setdefault(f"{model._meta.label}.{column}", []).extend(hits)
    return found


def test_the_scan_finds_the_persons_data_in_every_app_before_erasure(chain):
    a_life_in_every_app(chain)

    apps_holding_it = {name.split(".")[0] for name in personal_values_left()}

    assert {"customers", "orders", "loyalty", "omni", "admin"} <= apps_holding_it


def test_erasure_leaves_no_personal_value_in_any_column_of_any_model(chain):
    customer, token = a_life_in_every_app(chain)
    paid = list(Payment.objects.values_list("amount", flat=True))
    ledger = PointsEntry.objects.count()

    response = APIClient().post(
        "/api/v1/customers/me/erasure",
        HTTP_X_API_KEY=storefront_key("web"),
        HTTP_AUTHORIZATION=f"Bearer {token}",
        headers={"Idempotency-Key": "erase-me"},
    )

    assert response.status_code == 200, response.content
    assert personal_values_left() == {}
    customer.refresh_from_db()
    assert customer.birthday is None
    # What the law requires stays, pointing at the anonymised profile.
    assert Order.objects.filter(customer=customer).count() == 2
    assert OrderLine.objects.filter(order__customer=customer).exists()
    assert list(Payment.objects.values_list("amount", flat=True)) == paid
    assert PointsEntry.objects.count() == ledger
    # The delivery keeps its country (for tax), not the name and street.
    assert list(Order.objects.exclude(ship_to={}).values_list("ship_to", flat=True)) == [
        {"country": "FR"}
    ]
    # The admin's history keeps who changed what, without the names it showed.
    entry = LogEntry.objects.get()
    assert entry.object_repr == f"Erased customer {customer.public_id}"
    assert json.loads(entry.change_message) == [
        {"changed": {"fields": ["Phone"]}},
        {"added": {"name": "identity"}},
    ]
    kept = ErasureRecord.objects.get(customer_public_id=customer.public_id).kept
    assert {"orders.Order", "orders.Cart", "loyalty.Account"} <= set(kept)


def test_every_text_column_that_can_hold_personal_data_is_searched():
    """The scan reads every concrete column of every model, so a new app's rows are covered;
    this only guards the scan itself against reading nothing."""
    text_columns = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models(include_auto_created=True)
        for field in model._meta.concrete_fields
        if isinstance(field, models.CharField | models.TextField | models.JSONField)
    ]

    assert "orders.Order.ship_to" in text_columns
    assert "orders.CartLine.device_id" in text_columns
    assert "customers.Notification.body" in text_columns
