"""Export holds everything about a person; erasure anonymises them, keeps the records the
law requires, and is recorded."""

import json

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from customers.models import (
    Consent,
    ConversationMessage,
    Customer,
    ErasureRecord,
    Identity,
    Touchpoint,
)
from customers.selectors import customer_export, may_contact
from customers.services import (
    erase_customer,
    register_erasure_handler,
    unregister_erasure_handler,
)
from orders.models import Order
from tests.customers.factories import (
    ConsentFactory,
    CustomerFactory,
    IdentityFactory,
    ServiceNoteFactory,
    StaffFactory,
    TouchpointFactory,
    customer_token,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    customer = CustomerFactory(
        first_name="Camille", email="camille@example.com", phone="+33612345678"
    )
    IdentityFactory(customer=customer, kind="phone", value="+33612345678")
    ConsentFactory(customer=customer, ip_address="203.0.113.7", user_agent="Safari")
    TouchpointFactory(customer=customer, anonymous_id="web-1", properties={"query": "jacket"})
    ServiceNoteFactory(customer=customer, body="Prefers pick-up at Rivoli.")
    Order.objects.create(number="W-1", customer=customer, channel="web", fulfilment="delivery")
    return customer


def test_the_export_holds_profile_identities_consents_touchpoints_notes_and_other_apps_rows(
    customer,
):
    document = customer_export(customer, now=timezone.now())

    assert document["customer"]["public_id"] == str(customer.public_id)
    assert document["customer"]["email"] == "camille@example.com"
    assert {i["kind"] for i in document["identities"]} == {"email", "phone"}
    assert document["consents"][0]["ip_address"] == "203.0.113.7"
    assert document["touchpoints"][0]["properties"] == {"query": "jacket"}
    assert document["conversations"][0]["messages"][0]["body"] == "Prefers pick-up at Rivoli."
    assert [o["number"] for o in document["orders"]["orders"]] == ["W-1"]


def test_the_export_is_json_and_leaks_no_database_key_of_the_customer_or_secret(customer):
    customer_token(customer)
    customer.password = "pbkdf2_sha256$secret"

    document = customer_export(customer, now=timezone.now())

    text = json.dumps(document, cls=DjangoJSONEncoder)
    assert "pbkdf2" not in text
    assert "key_hash" not in text
    rows = [row for name in ("identities", "consents", "touchpoints") for row in document[name]]
    rows += document["orders"]["orders"]
    assert not [row for row in rows if "customer" in row]


def test_the_export_holds_nobody_else(customer):
    CustomerFactory(email="someone.else@example.com")

    text = json.dumps(customer_export(customer, now=timezone.now()), cls=DjangoJSONEncoder)

    assert "someone.else" not in text


def test_erasure_anonymises_the_profile_and_deletes_identities_notes_and_sign_ins(customer):
    customer_token(customer)

    erase_customer(customer=customer, requested_via="api:web")

    customer.refresh_from_db()
    assert (customer.first_name, customer.email, customer.phone) == ("", "", "")
    assert customer.erased_at is not None
    assert not customer.has_account
    assert not customer.identities.exists()
    assert not customer.conversations.exists()
    assert not ConversationMessage.objects.exists()
    assert not customer.tokens.exists()


def test_erased_touchpoints_stay_as_anonymous_events_without_personal_fields(customer):
    erase_customer(customer=customer, requested_via="api:web")

    touchpoint = Touchpoint.objects.get()
    assert touchpoint.customer is None
    assert (touchpoint.anonymous_id, touchpoint.properties) == ("", {})
    assert touchpoint.sku_code == "RAIN-JACKET-M"


def test_erasure_withdraws_every_consent_and_strips_the_evidence(customer):
    erase_customer(customer=customer, requested_via="api:web")

    assert may_contact(customer, "email", "marketing") is False
    assert not Consent.objects.exclude(ip_address=None).exists()


def test_erasure_keeps_orders_and_records_what_was_kept(customer):
    staff = StaffFactory()

    record = erase_customer(customer=customer, requested_via="admin", actor=staff)

    assert Order.objects.get().customer == customer
    assert record.kept == {"orders.Order": 1}
    assert record.erased["customers.Identity"] == 2
    assert (record.customer_public_id, record.requested_via, record.actor) == (
        customer.public_id,
        "admin",
        staff,
    )


def test_erasing_again_returns_the_first_record(customer):
    first = erase_customer(customer=customer, requested_via="api:web")

    again = erase_customer(customer=customer, requested_via="admin")

    assert again == first
    assert ErasureRecord.objects.count() == 1


def test_an_erasure_handler_lets_another_app_anonymise_rows_it_keeps(customer):
    def forget_order_contacts(*, customer):
        customer.orders.update(number="W-1-ANON")

    register_erasure_handler(forget_order_contacts)
    try:
        erase_customer(customer=customer, requested_via="api:web")
    finally:
        unregister_erasure_handler(forget_order_contacts)

    assert Order.objects.get().number == "W-1-ANON"


def test_an_erased_persons_identities_make_a_new_customer_when_seen_again(customer):
    from customers.services import resolve_customer

    erase_customer(customer=customer, requested_via="api:web")

    resolution = resolve_customer(identities=[("email", "camille@example.com")], cause="t")

    assert resolution.created
    assert Customer.objects.count() == 2
    assert Identity.objects.get().customer == resolution.customer


def test_rows_no_export_section_covers_are_still_exported_raw(customer):
    from customers.selectors import register_export_section, unregister_export_section
    from orders import privacy

    unregister_export_section("orders")
    try:
        document = customer_export(customer, now=timezone.now())
    finally:
        register_export_section("orders", privacy.export_orders, models=privacy.EXPORTED_MODELS)

    assert "orders" not in document
    assert [o["number"] for o in document["held_by_other_apps"]["orders.Order"]] == ["W-1"]


def test_an_export_section_cannot_take_a_name_already_used():
    from customers.selectors import register_export_section

    with pytest.raises(ValueError, match="identities"):
        register_export_section("identities", lambda *, customer: [])
    with pytest.raises(ValueError, match="orders"):
        register_export_section("orders", lambda *, customer: [])
