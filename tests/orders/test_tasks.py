"""Order tasks through a real Celery worker."""

from datetime import timedelta

from django.contrib.auth.models import User
from django.utils import timezone

from customers.models import Notification
from orders import services, tasks
from orders.models import Order
from tests.inventory.factories import LocationFactory, SkuFactory, stock
from tests.loyalty.factories import customer


def test_a_worker_expires_an_uncollected_pick_up(live_celery_worker):
    store = LocationFactory(code="PAR-RIV", pickup_hold_days=2)
    sku = SkuFactory(code="RAIN-JACKET-M")
    stock(sku, store, 1)
    cart = services.cart_of(customer=customer())
    services.set_line(cart=cart, sku_code=sku.code, quantity=1, channel="web")
    order = services.checkout(
        cart=cart,
        fulfilment="pickup",
        channel="web",
        idempotency_key="k",
        pickup_store_code="PAR-RIV",
    ).order
    services.mark_ready_for_pickup(order=order, actor=User.objects.create_user("clerk"))
    # The worker runs in its own process with the real clock: move the deadline instead.
    Order.objects.filter(pk=order.pk).update(pickup_expires_at=timezone.now() - timedelta(hours=1))

    expired = tasks.expire_uncollected_pickups.delay().get(timeout=60)

    assert expired == 1
    assert Order.objects.get(pk=order.pk).status == "expired"


def test_a_worker_reminds_the_customer_a_day_before_a_pick_up_expires(live_celery_worker):
    store = LocationFactory(code="PAR-RIV", pickup_hold_days=2)
    sku = SkuFactory(code="RAIN-JACKET-M")
    stock(sku, store, 1)
    camille = customer()
    cart = services.cart_of(customer=camille)
    services.set_line(cart=cart, sku_code=sku.code, quantity=1, channel="web")
    order = services.checkout(
        cart=cart,
        fulfilment="pickup",
        channel="web",
        idempotency_key="k",
        pickup_store_code="PAR-RIV",
    ).order
    services.mark_ready_for_pickup(order=order, actor=User.objects.create_user("clerk"))
    # The worker runs on the real clock: the deadline moves to within the day instead.
    Order.objects.filter(pk=order.pk).update(pickup_expires_at=timezone.now() + timedelta(hours=6))

    reminded = tasks.send_pickup_reminders.delay().get(timeout=60)

    assert reminded == 1
    assert Order.objects.get(pk=order.pk).pickup_reminder_sent_at is not None
    reminder = Notification.objects.get(customer=camille, topic="orders.pickup_reminder")
    assert reminder.status != Notification.Status.SUPPRESSED
