from datetime import timedelta

import pytest
from django.contrib.auth.models import User

from customers.models import Notification
from orders import services

pytestmark = pytest.mark.django_db


def ready_order(customer, clerk):
    cart = services.cart_of(customer=customer)
    services.set_line(cart=cart, sku_code="RAIN-JACKET-M", quantity=1, channel="ios")
    order = services.checkout(
        cart=cart,
        fulfilment="pickup",
        channel="ios",
        idempotency_key="k",
        pickup_store_code="PAR-RIV",
    ).order
    return services.mark_ready_for_pickup(order=order, actor=clerk)


def test_the_customer_is_told_when_the_order_is_placed_and_ready_with_the_code(shop, camille):
    order = ready_order(camille, User.objects.create_user("clerk"))

    sent = Notification.objects.filter(customer=camille).order_by("pk")

    assert [n.topic for n in sent] == ["orders.placed", "orders.ready_for_pickup"]
    ready = sent.last()
    assert (ready.kind, ready.channel, ready.status) == ("transactional", "email", "queued")
    assert order.pickup_code in ready.body
    assert ready.context["pickup_code"] == order.pickup_code


def test_a_reminder_and_an_expiry_notice_go_once_each(shop, camille, time_machine):
    order = ready_order(camille, User.objects.create_user("clerk"))

    time_machine.move_to(order.pickup_expires_at - timedelta(hours=12))
    services.send_pickup_reminders()
    services.send_pickup_reminders()
    time_machine.move_to(order.pickup_expires_at + timedelta(minutes=5))
    services.expire_uncollected_pickups()

    topics = list(Notification.objects.values_list("topic", flat=True).order_by("pk"))
    assert topics == [
        "orders.placed",
        "orders.ready_for_pickup",
        "orders.pickup_reminder",
        "orders.expired",
    ]
