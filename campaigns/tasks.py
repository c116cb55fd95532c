"""Scheduled campaign work; each task is a thin wrapper over a service."""

from celery import shared_task

from campaigns import services
from campaigns.reporting import clv


@shared_task(name="campaigns.refresh_segments")
def refresh_segments() -> dict[str, int]:
    return services.refresh_scheduled_segments()


@shared_task(name="campaigns.refresh_rfm_scores")
def refresh_rfm_scores() -> int:
    return services.refresh_rfm_scores()


@shared_task(name="campaigns.compute_customer_values")
def compute_customer_values() -> dict[str, int]:
    fit = clv.compute_customer_values()
    return {"customers": fit.customers, "repeat_customers": fit.repeat_customers}
