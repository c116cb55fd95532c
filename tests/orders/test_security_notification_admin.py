"""Staff who may read the notification outbox never see a pick-up code there, so nobody can hand
an order over without the customer (issue 9 #10)."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client

from customers.models import Notification
from orders import services
from tests.inventory.factories import UserFactory

pytestmark = pytest.mark.django_db

OUTBOX = "/admin/customers/notification/"


def ready_order(customer, clerk):
    cart = services.cart_of(customer=customer)
    services.set_line(cart=cart, sku_code="RAIN-JACKET-M", quantity=1, channel="web")
    order = services.checkout(
        cart=cart,
        fulfilment="pickup",
        channel="web",
        idempotency_key="k",
        pickup_store_code="PAR-RIV",
    ).order
    return services.mark_ready_for_pickup(order=order, actor=clerk)


@pytest.fixture
def viewer() -> Client:
    """A clerk or marketer: may view the outbox, nothing more."""
    client = Client()
    client.force_login(UserFactory(is_staff=True, permissions=["customers.view_notification"]))
    return client


@pytest.fixture
def order_ready_and_reminded(shop, camille, time_machine):
    order = ready_order(camille, User.objects.create_user("clerk"))
    time_machine.move_to(order.pickup_expires_at - timedelta(hours=12))
    services.send_pickup_reminders()
    return order


def pages_of_the_outbox(client: Client, order) -> dict[str, str]:
    pages = {
        "list": client.get(OUTBOX),
        "list searched by the order": client.get(OUTBOX, {"q": order.number}),
    }
    for notification in Notification.objects.filter(topic__startswith="orders."):
        base = f"{OUTBOX}{notification.pk}"
        pages[f"{notification.topic} change"] = client.get(f"{base}/change/")
        pages[f"{notification.topic} history"] = client.get(f"{base}/history/")
    for name, response in pages.items():
        assert response.status_code == 200, name
    return {name: response.content.decode() for name, response in pages.items()}


def test_no_outbox_page_shows_the_pick_up_code_to_staff_who_may_view_it(
    viewer, order_ready_and_reminded
):
    order = order_ready_and_reminded
    assert Notification.objects.filter(body__contains=order.pickup_code).count() == 2

    pages = pages_of_the_outbox(viewer, order)

    leaking = [name for name, page in pages.items() if order.pickup_code in page]
    assert leaking == []


def test_searching_the_outbox_by_the_code_finds_nothing(viewer, order_ready_and_reminded):
    response = viewer.get(OUTBOX, {"q": order_ready_and_reminded.pickup_code})

    assert list(response.context["cl"].result_list) == []


def test_not_even_a_superuser_reads_message_bodies_or_their_data_in_the_outbox(
    admin_client, order_ready_and_reminded
):
    order = order_ready_and_reminded
    ready = Notification.objects.get(topic="orders.ready_for_pickup")

    page = admin_client.get(f"{OUTBOX}{ready.pk}/change/").content.decode()

    assert order.pickup_code not in page
    assert "Your order" not in page  # the body
    assert "is ready at" not in page  # the subject
    assert "pickup_code" in page  # which data it was made of, without the values
    assert ready.recipient in page
