"""Scheduled order work; each task is a thin wrapper over a service."""

from celery import shared_task

from orders import services


@shared_task(name="orders.send_pickup_reminders")
def send_pickup_reminders() -> int:
    return len(services.send_pickup_reminders())


@shared_task(name="orders.expire_uncollected_pickups")
def expire_uncollected_pickups() -> int:
    return len(services.expire_uncollected_pickups())
