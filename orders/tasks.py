"""Scheduled order work; each task is a thin wrapper over a service."""

from celery import shared_task

from orders import services


@shared_task(name="orders.send_pickup_reminders")
def send_pickup_reminders() -> int:
    return len(services.send_pickup_reminders())


@shared_task(name="orders.expire_uncollected_pickups")
def expire_uncollected_pickups() -> int:
    return len(services.expire_uncollected_pickups())


@shared_task(name="orders.detect_wish_list_events")
def detect_wish_list_events() -> dict[str, int]:
    """Back in stock, price dropped and low stock for saved items, each change recorded once."""
    detected = services.detect_wish_list_events()
    return {
        "back_in_stock": detected.back_in_stock,
        "price_dropped": detected.price_dropped,
        "low_stock": detected.low_stock,
    }
