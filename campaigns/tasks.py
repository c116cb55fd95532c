"""Scheduled campaign work; each task is a thin wrapper over a service."""

from celery import shared_task

from campaigns import services
from campaigns.reporting import attribution


@shared_task(name="campaigns.refresh_segments")
def refresh_segments() -> dict[str, int]:
    return services.refresh_scheduled_segments()


@shared_task(name="campaigns.refresh_rfm_scores")
def refresh_rfm_scores() -> int:
    return services.refresh_rfm_scores()


@shared_task(name="campaigns.compute_attribution")
def compute_attribution() -> int:
    """Yesterday's attribution roll-up; returns the orders credited."""
    return attribution.compute_yesterday().orders
