"""Scheduled loyalty work; each task is a thin wrapper over a service."""

from celery import shared_task

from loyalty import services


@shared_task(name="loyalty.mature_points")
def mature_points() -> int:
    return services.mature_points()


@shared_task(name="loyalty.expire_points")
def expire_points() -> int:
    return services.expire_points()


@shared_task(name="loyalty.evaluate_tiers")
def evaluate_tiers() -> int:
    return services.evaluate_all_tiers()


@shared_task(name="loyalty.expire_stored_value")
def expire_stored_value() -> int:
    return services.expire_stored_value()
