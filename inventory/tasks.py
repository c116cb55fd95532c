"""Scheduled inventory work; each task is a thin wrapper over a service."""

from celery import shared_task

from inventory import services


@shared_task(name="inventory.expire_cart_holds")
def expire_cart_holds() -> int:
    """Give lapsed cart holds back to every channel."""
    return services.expire_cart_holds()


@shared_task(name="inventory.raise_low_stock_alerts")
def raise_low_stock_alerts() -> dict[str, int]:
    raised, resolved = services.raise_low_stock_alerts()
    return {"raised": raised, "resolved": resolved}
