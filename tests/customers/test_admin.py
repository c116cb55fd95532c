"""Service staff find customers by any identity in the admin, and merge, export and erase
with a confirmation page."""

import json

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from customers.models import Customer, CustomerMerge, ErasureRecord, StorefrontKey
from tests.customers.factories import (
    ConsentFactory,
    CustomerFactory,
    IdentityFactory,
    ServiceNoteFactory,
    TouchpointFactory,
)

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/customers/customer/"


@pytest.mark.parametrize(
    "term", ["06 12 34 56 78", "+33612345678", "omni 0042", "CAMILLE@EXAMPLE.COM"]
)
def test_a_customer_is_found_by_any_identity_however_it_is_written(admin_client, term):
    camille = CustomerFactory(first_name="Camille", email="camille@example.com")
    IdentityFactory(customer=camille, kind="phone", value="+33612345678")
    IdentityFactory(customer=camille, kind="loyalty_card", value="OMNI0042")
    CustomerFactory(first_name="Hugo")

    response = admin_client.get(CHANGELIST, {"q": term})

    assert list(response.context["cl"].result_list) == [camille]


def test_the_customer_page_shows_identities_consents_touchpoints_and_notes(admin_client):
    customer = CustomerFactory()
    ConsentFactory(customer=customer, channel="sms")
    TouchpointFactory(customer=customer, sku_code="TRAIL-SHOE-43")
    ServiceNoteFactory(customer=customer, topic="Size exchange")

    response = admin_client.get(f"{CHANGELIST}{customer.pk}/change/")

    page = response.content.decode()
    assert response.status_code == 200
    assert customer.email in page
    assert "SMS" in page
    assert "TRAIL-SHOE-43" in page
    assert "Size exchange" in page


def test_a_note_added_in_the_admin_records_its_author(admin_client, admin_user):
    customer = CustomerFactory(first_name="Léa", email="", with_email_identity=False)
    change_page = admin_client.get(f"{CHANGELIST}{customer.pk}/change/")
    data = {
        key: value
        for key, value in change_page.context["adminform"].form.initial.items()
        if value is not None
    }
    for formset in change_page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name, field in management.fields.items():
            data[f"{management.prefix}-{name}"] = management.initial.get(name, field.initial)
    prefix = next(
        f.formset.prefix
        for f in change_page.context["inline_admin_formsets"]
        if f.opts.verbose_name == "new service note"
    )
    data.update(
        {
            f"{prefix}-0-channel": "phone",
            f"{prefix}-0-subject": "Refund",
            f"{prefix}-0-text": "Done.",
        }
    )

    response = admin_client.post(f"{CHANGELIST}{customer.pk}/change/", data)

    assert response.status_code == 302, response.context["errors"]
    note = customer.conversations.get()
    assert (note.subject, note.owner, note.status) == ("Refund", admin_user, "solved")
    assert note.messages.get().author == admin_user


def test_merging_from_the_admin_asks_for_confirmation_first(admin_client):
    older, newer = CustomerFactory(), CustomerFactory()
    selection = {"action": "merge_selected", ACTION_CHECKBOX_NAME: [older.pk, newer.pk]}

    response = admin_client.post(CHANGELIST, selection)

    assert response.status_code == 200
    assert "Yes, merge them" in response.content.decode()
    assert Customer.objects.count() == 2


def test_confirming_the_merge_merges_and_records_the_staff_member(admin_client, admin_user):
    older, newer = CustomerFactory(), CustomerFactory()

    response = admin_client.post(
        CHANGELIST,
        {"action": "merge_selected", ACTION_CHECKBOX_NAME: [older.pk, newer.pk], "confirm": "yes"},
    )

    assert response.status_code == 302
    assert list(Customer.objects.all()) == [older]
    assert CustomerMerge.objects.get().actor == admin_user


def test_merging_needs_exactly_two_customers(admin_client):
    customers = CustomerFactory.create_batch(3)

    admin_client.post(
        CHANGELIST,
        {
            "action": "merge_selected",
            ACTION_CHECKBOX_NAME: [c.pk for c in customers],
            "confirm": "yes",
        },
    )

    assert Customer.objects.count() == 3


def test_exporting_from_the_admin_downloads_the_json_document(admin_client):
    customer = CustomerFactory(first_name="Chloé")

    response = admin_client.post(
        CHANGELIST, {"action": "export_selected", ACTION_CHECKBOX_NAME: [customer.pk]}
    )

    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content)["customer"]["first_name"] == "Chloé"


def test_erasing_from_the_admin_asks_then_erases(admin_client, admin_user):
    customer = CustomerFactory()
    selection = {"action": "erase_selected", ACTION_CHECKBOX_NAME: [customer.pk]}

    asked = admin_client.post(CHANGELIST, selection)
    done = admin_client.post(CHANGELIST, {**selection, "confirm": "yes"})

    assert "Yes, erase" in asked.content.decode()
    assert done.status_code == 302
    assert ErasureRecord.objects.get().actor == admin_user


def test_a_storefront_key_created_in_the_admin_is_shown_once_and_stored_hashed(admin_client):
    response = admin_client.post(
        "/admin/customers/storefrontkey/add/", {"name": "iOS app", "channel": "ios"}, follow=True
    )

    key = StorefrontKey.objects.get()
    shown = [str(m) for m in response.context["messages"] if "sk_ios_" in str(m)]
    raw = shown[0].rsplit(" ", 1)[-1]
    assert raw.startswith(key.prefix)
    assert raw not in key.key_hash
