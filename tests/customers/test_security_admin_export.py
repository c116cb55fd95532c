"""Exporting customers from the admin is its own permission, is capped, and leaves a record of
who took which customers' data (issue 9 #9)."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client

from customers import services
from customers.models import CustomerExport
from omni.core.errors import InvalidRequest
from tests.customers.factories import CustomerFactory
from tests.inventory.factories import UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/customers/customer/"


def staff_client(*permissions: str) -> tuple[Client, object]:
    user = UserFactory(is_staff=True, permissions=list(permissions))
    client = Client()
    client.force_login(user)
    return client, user


def export(client: Client, customers, *, query: str = "", **extra):
    selection = {"action": "export_selected", ACTION_CHECKBOX_NAME: [c.pk for c in customers]}
    return client.post(f"{CHANGELIST}{query}", {**selection, **extra}, follow=True)


def shown_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_a_user_who_may_only_view_customers_cannot_export_them():
    client, _ = staff_client("customers.view_customer")
    customers = CustomerFactory.create_batch(2)

    response = export(client, customers)

    assert "Content-Disposition" not in response
    assert not CustomerExport.objects.exists()
    listed = client.get(CHANGELIST).content.decode()
    assert "export_selected" not in listed


def test_an_authorised_export_is_recorded_with_who_when_how_many_and_the_selection():
    client, user = staff_client("customers.view_customer", "customers.export_customers")
    dubois = [CustomerFactory(last_name="Dubois"), CustomerFactory(last_name="Dubois")]
    CustomerFactory(last_name="Martin")

    response = export(client, dubois, query="?q=Dubois")

    assert response["Content-Disposition"].startswith("attachment;")
    record = CustomerExport.objects.get()
    assert record.actor == user
    assert record.row_count == 2
    assert sorted(record.customer_public_ids) == sorted(str(c.public_id) for c in dubois)
    assert "q=Dubois" in record.query
    assert record.exported_at is not None


def test_exporting_every_matching_customer_records_the_filter_it_was_chosen_by():
    client, _ = staff_client("customers.view_customer", "customers.export_customers")
    customers = CustomerFactory.create_batch(3, first_seen_channel="ios")

    export(client, customers[:1], query="?first_seen_channel__exact=ios", select_across="1")

    record = CustomerExport.objects.get()
    assert record.row_count == 3
    assert "first_seen_channel__exact=ios" in record.query
    assert "every customer matching" in record.query


def test_an_export_over_the_cap_is_refused_with_a_message_and_nothing_is_exported(settings):
    settings.CUSTOMER_EXPORT_MAX_ROWS = 2
    client, _ = staff_client("customers.view_customer", "customers.export_customers")
    customers = CustomerFactory.create_batch(3)

    response = export(client, customers)

    assert "Content-Disposition" not in response
    assert response.status_code == 200
    assert any(
        "3 customers are selected; an export may hold at most 2" in m
        for m in shown_messages(response)
    )
    assert not CustomerExport.objects.exists()


def test_the_service_refuses_over_the_cap_before_building_anything(settings):
    settings.CUSTOMER_EXPORT_MAX_ROWS = 1
    actor = UserFactory(is_staff=True)
    CustomerFactory.create_batch(2)

    with pytest.raises(InvalidRequest) as refused:
        services.export_customers(customers=CustomerFactory._meta.model.objects.all(), actor=actor)

    assert refused.value.details == {"selected": 2, "limit": 1}
    assert not CustomerExport.objects.exists()


def test_export_records_are_read_only_in_the_admin(admin_client):
    actor = UserFactory(is_staff=True)
    CustomerFactory()
    record, _ = services.export_customers(
        customers=CustomerFactory._meta.model.objects.all(), actor=actor, query="?q=x"
    )
    change_url = f"/admin/customers/customerexport/{record.pk}/change/"

    assert admin_client.get(change_url).status_code == 200
    assert admin_client.get("/admin/customers/customerexport/add/").status_code == 403
    admin_client.post(change_url, {"row_count": "0", "query": "edited"})
    assert (
        admin_client.get(f"/admin/customers/customerexport/{record.pk}/delete/").status_code == 403
    )
    record.refresh_from_db()
    assert (record.row_count, record.query) == (1, "?q=x")
    assert CustomerExport.objects.count() == 1


def test_the_exports_of_one_customer_are_found_by_their_public_id(admin_client):
    actor = UserFactory(is_staff=True)
    camille, hugo = CustomerFactory(), CustomerFactory()
    Customer = CustomerFactory._meta.model
    of_camille, _ = services.export_customers(
        customers=Customer.objects.filter(pk=camille.pk), actor=actor
    )
    services.export_customers(customers=Customer.objects.filter(pk=hugo.pk), actor=actor)

    response = admin_client.get("/admin/customers/customerexport/", {"q": str(camille.public_id)})

    assert list(response.context["cl"].result_list) == [of_camille]
